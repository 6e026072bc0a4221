//! Reading and writing `.syncopate` files.
//!
//! Loading is strict: the text must be UTF-8 JSON, tagged `"type": "syncopate"`, of a version this build reads,
//! with no unknown fields, and semantically valid. Every failure becomes one [`LoadError`] that names the file,
//! where in it, and what was expected. Saving writes pretty JSON atomically, so a crash mid-save leaves the
//! previous file whole.

use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::design::{Design, FILE_TYPE, FORMAT_VERSION};
use super::validate::{Problem, validate};

/// Largest design file loaded. A 1,000-service design is about 1 MB; anything this big is not a design.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Why a design could not be loaded: which file, where in it, what was wrong. Displays as one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file (or other source) it came from.
    pub source: String,
    /// Where in the file: a JSON path like `edges[3].timeout_ms`, or empty for the file as a whole.
    pub location: String,
    /// What is wrong and what was expected.
    pub message: String,
    /// Further problems found besides this one (semantic validation reports them all).
    pub more: Vec<Problem>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.source)?;
        if !self.location.is_empty() {
            write!(f, "{}: ", self.location)?;
        }
        f.write_str(&self.message)?;
        match self.more.len() {
            0 => Ok(()),
            1 => write!(f, " (and 1 more problem)"),
            n => write!(f, " (and {n} more problems)"),
        }
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    fn whole_file(source: &str, message: impl Into<String>) -> Self {
        Self {
            source: source.to_owned(),
            location: String::new(),
            message: message.into(),
            more: Vec::new(),
        }
    }

    /// Every problem as `path: message`, this one first.
    pub fn all_problems(&self) -> Vec<String> {
        let first = if self.location.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.location, self.message)
        };
        std::iter::once(first)
            .chain(self.more.iter().map(ToString::to_string))
            .collect()
    }
}

/// Why a design could not be saved.
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot save: {reason}")]
pub struct SaveError {
    /// The file that was to be written.
    pub path: PathBuf,
    /// What the operating system said.
    pub reason: String,
}

/// The two fields read before anything else, so that a newer file is told apart from a broken one.
#[derive(Deserialize)]
struct Header {
    #[serde(rename = "type")]
    file_type: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
}

/// Parses and validates a design from text. `source` names where the text came from, for messages.
pub fn load_from_str(text: &str, source: &str) -> Result<Design, LoadError> {
    // Some Windows editors start UTF-8 files with a byte-order mark, which JSON parsers reject.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_header(text, source)?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let mut design: Design = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let location = match e.path().to_string().as_str() {
            "." => String::new(),
            path => path.to_owned(),
        };
        LoadError {
            source: source.to_owned(),
            location,
            message: friendly_serde_message(&e.into_inner().to_string()),
            more: Vec::new(),
        }
    })?;
    deserializer
        .end()
        .map_err(|e| LoadError::whole_file(source, e.to_string()))?;
    design.fill_default_ids();
    let mut problems = validate(&design).into_iter();
    if let Some(first) = problems.next() {
        return Err(LoadError {
            source: source.to_owned(),
            location: first.path,
            message: first.message,
            more: problems.collect(),
        });
    }
    Ok(design)
}

fn check_header(text: &str, source: &str) -> Result<(), LoadError> {
    let first = text.trim_start().chars().next();
    if first != Some('{') {
        let message = match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => "expected a JSON object (a Syncopate design) but the file holds another kind of JSON value".to_owned(),
            Err(e) => format!("not valid JSON: {e}"),
        };
        return Err(LoadError::whole_file(source, message));
    }
    let header: Header = serde_json::from_str(text).map_err(|e| {
        let message = if e.classify() == serde_json::error::Category::Data {
            format!("expected a JSON object (a Syncopate design), {e}")
        } else {
            format!("not valid JSON: {e}")
        };
        LoadError::whole_file(source, message)
    })?;
    if header.file_type.as_ref().and_then(|t| t.as_str()) != Some(FILE_TYPE) {
        return Err(LoadError {
            source: source.to_owned(),
            location: "type".to_owned(),
            message: format!("not a Syncopate design: expected \"type\": \"{FILE_TYPE}\""),
            more: Vec::new(),
        });
    }
    let version_error = |message: String| LoadError {
        source: source.to_owned(),
        location: "version".to_owned(),
        message,
        more: Vec::new(),
    };
    match header.version {
        None => Err(version_error(format!(
            "missing: expected \"version\": {FORMAT_VERSION}"
        ))),
        Some(version) => match version.as_u64() {
            Some(v) if v == u64::from(FORMAT_VERSION) => Ok(()),
            Some(v) if v > u64::from(FORMAT_VERSION) => Err(version_error(format!(
                "this design was made by a newer Syncopate (file format version {v}; this build reads up to version {FORMAT_VERSION}); update Syncopate to open it"
            ))),
            _ => Err(version_error(format!(
                "expected a format version from 1 to {FORMAT_VERSION}, found {version}"
            ))),
        },
    }
}

/// Rewrites serde's type names into words people use.
fn friendly_serde_message(message: &str) -> String {
    message
        .replace("expected f64", "expected a number")
        .replace("expected f32", "expected a number")
        .replace("expected u16", "expected a port number from 1 to 65535")
        .replace("expected u32", "expected a whole number of 0 or more")
        .replace("expected u64", "expected a whole number of 0 or more")
        .replace("expected i32", "expected a whole number")
        .replace("expected a boolean", "expected true or false")
}

/// Reads, parses and validates a design file.
pub fn load_file(path: &Path) -> Result<Design, LoadError> {
    let source = path.display().to_string();
    let read_error =
        |e: std::io::Error| LoadError::whole_file(&source, format!("cannot read: {e}"));
    let file = fs::File::open(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    if size > MAX_FILE_BYTES {
        return Err(LoadError::whole_file(
            &source,
            format!(
                "the file is {:.1} MiB; designs larger than {} MiB are not loaded",
                size as f64 / (1024.0 * 1024.0),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // The take() guards against files that grow while being read (or lie about their size, like /dev/zero).
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::whole_file(
            &source,
            format!(
                "the file is larger than {} MiB; it is not loaded",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    load_from_bytes(&bytes, &source)
}

/// Parses and validates a design from the bytes of a file (which must be UTF-8). `source` names where they came
/// from, for messages.
pub fn load_from_bytes(bytes: &[u8], source: &str) -> Result<Design, LoadError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        LoadError::whole_file(
            source,
            format!(
                "not UTF-8 text (invalid byte at offset {}); a design is a JSON text file",
                e.valid_up_to()
            ),
        )
    })?;
    load_from_str(text, source)
}

/// The design as pretty-printed JSON with a stable key order and a final newline. Arrays of plain values (positions,
/// rate steps, flow lists) stay on one line so files read and diff well.
pub fn to_json_pretty(design: &Design) -> String {
    // Serializing plain data with string keys cannot fail: there are no maps with non-string keys and no custom
    // serializers that return errors.
    let value = serde_json::to_value(design)
        .unwrap_or_else(|e| unreachable!("serializing a design to JSON failed: {e}"));
    let mut text = String::new();
    write_pretty(&value, 0, &mut text);
    text.push('\n');
    text
}

/// Writes `value` indented by two spaces a level, keeping arrays of scalars (and short arrays of those) inline.
fn write_pretty(value: &serde_json::Value, depth: usize, out: &mut String) {
    use serde_json::Value;
    let indent = |depth: usize, out: &mut String| out.extend(std::iter::repeat_n("  ", depth));
    match value {
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Array(items) if is_inline(value) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_pretty(item, depth, out);
            }
            out.push(']');
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                indent(depth + 1, out);
                write_pretty(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            indent(depth, out);
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("{\n");
            for (i, (key, item)) in map.iter().enumerate() {
                indent(depth + 1, out);
                out.push_str(&Value::String(key.clone()).to_string());
                out.push_str(": ");
                write_pretty(item, depth + 1, out);
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            indent(depth, out);
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Whether an array is written on one line: it holds only scalars, or only small arrays of scalars.
fn is_inline(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    let scalar = |v: &Value| !matches!(v, Value::Array(_) | Value::Object(_));
    match value {
        Value::Array(items) => {
            items.iter().all(scalar)
                || (items.len() <= 8
                    && items
                        .iter()
                        .all(|i| matches!(i, Value::Array(inner) if inner.len() <= 4 && inner.iter().all(scalar))))
        }
        _ => false,
    }
}

/// Writes `contents` to `path` atomically: into a temporary file in the same folder, flushed to disk, then renamed
/// over the target. Readers see either the old file or the new one, never a mix. An existing file's permissions
/// are kept.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), SaveError> {
    let fail = |reason: String| SaveError {
        path: path.to_owned(),
        reason,
    };
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let existing_permissions = fs::metadata(path).ok().map(|m| m.permissions());
    let mut temp = tempfile::Builder::new()
        .prefix(".syncopate-save-")
        .tempfile_in(&folder)
        .map_err(|e| fail(format!("cannot create a file in {}: {e}", folder.display())))?;
    temp.write_all(contents)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| fail(e.to_string()))?;
    // A temporary file is created private (0600); the design file gets the old file's permissions, or the usual
    // ones for a new document.
    if let Some(permissions) = existing_permissions.or_else(new_file_permissions) {
        temp.as_file()
            .set_permissions(permissions)
            .map_err(|e| fail(e.to_string()))?;
    }
    temp.persist(path).map_err(|e| fail(e.error.to_string()))?;
    sync_folder(&folder);
    Ok(())
}

#[cfg(unix)]
fn new_file_permissions() -> Option<fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn new_file_permissions() -> Option<fs::Permissions> {
    // Windows temporary files are already ordinary writable files.
    None
}

/// Makes the rename durable: on Unix a rename is only on disk once its folder is flushed. Best effort, since some
/// file systems refuse to open folders.
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = folder;
}

/// Saves a design to `path` atomically as pretty JSON.
pub fn save_file(path: &Path, design: &Design) -> Result<(), SaveError> {
    write_atomically(path, to_json_pretty(design).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"type":"syncopate","version":1,"name":"x","services":[{"id":"a"}],"edges":[],"flows":[]}"#;

    #[test]
    fn minimal_design_loads() {
        let design = load_from_str(MINIMAL, "t").unwrap();
        assert_eq!(design.services.len(), 1);
        assert_eq!(design.services[0].concurrency, 8);
    }

    #[test]
    fn errors_display_as_one_line() {
        let err = load_from_str("{", "f.syncopate").unwrap_err();
        let line = err.to_string();
        assert!(!line.contains('\n'), "{line}");
        assert!(line.starts_with("f.syncopate: "), "{line}");
    }

    #[test]
    fn atomic_write_replaces_and_keeps_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.syncopate");
        write_atomically(&path, b"old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        write_atomically(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files are left behind");
    }
}
