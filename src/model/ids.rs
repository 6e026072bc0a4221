//! Identifiers of the things in a design.
//!
//! Each kind of id is its own type so that a service id can never be passed where an edge id is expected.
//! They serialize as plain JSON strings.

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// Wraps a string as an id without checking it; [`crate::model::validate`] checks ids.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

string_id!(
    /// A service id: 1-63 characters of `a-z`, `0-9` and `-`, starting with a letter, so that it is a valid
    /// DNS label in every export.
    ServiceId
);
string_id!(
    /// An edge (call) id, unique in the design; defaults to `"<from>-<to>"`.
    EdgeId
);
string_id!(
    /// A flow id, unique in the design.
    FlowId
);

/// Longest service id: a DNS label holds at most 63 characters.
pub const MAX_SERVICE_ID_LEN: usize = 63;

/// Longest id of a broker or database: they are deployed as Kubernetes StatefulSets, whose pods carry the label
/// `controller-revision-hash: <name>-<10-character hash>`, and a label value holds at most 63 characters.
pub const MAX_STATEFUL_SERVICE_ID_LEN: usize = 52;

/// Longest id a service of this kind may have.
pub fn max_service_id_len(kind: super::design::ServiceKind) -> usize {
    match kind {
        super::design::ServiceKind::Broker | super::design::ServiceKind::Database => {
            MAX_STATEFUL_SERVICE_ID_LEN
        }
        _ => MAX_SERVICE_ID_LEN,
    }
}

/// Longest edge or flow id. These never become DNS names, so the limit only keeps them readable.
pub const MAX_OTHER_ID_LEN: usize = 128;

/// Why a service id is not acceptable, or `None` when it is.
pub fn service_id_problem(id: &str) -> Option<String> {
    if id.is_empty() {
        return Some("a service id must not be empty".to_owned());
    }
    if id.len() > MAX_SERVICE_ID_LEN {
        return Some(format!(
            "service id \"{}\" is {} characters long; at most {MAX_SERVICE_ID_LEN} are allowed (it becomes a DNS name)",
            escape_for_message(id),
            id.chars().count()
        ));
    }
    let starts_with_letter = id.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let all_allowed = id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !starts_with_letter || !all_allowed {
        return Some(format!(
            "service id \"{}\" must use only a-z, 0-9 and '-' and start with a letter (it becomes a DNS name)",
            escape_for_message(id)
        ));
    }
    if id.ends_with('-') {
        return Some(format!(
            "service id \"{}\" must end with a letter or digit (it becomes a DNS name, which Kubernetes refuses \
             with a trailing '-')",
            escape_for_message(id)
        ));
    }
    None
}

/// Why an edge or flow id is not acceptable, or `None` when it is.
pub fn other_id_problem(what: &str, id: &str) -> Option<String> {
    if id.trim().is_empty() {
        return Some(format!("a {what} id must not be empty"));
    }
    if id.chars().count() > MAX_OTHER_ID_LEN {
        return Some(format!(
            "{what} id is {} characters long; at most {MAX_OTHER_ID_LEN} are allowed",
            id.chars().count()
        ));
    }
    if id.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Some(format!(
            "{what} id \"{}\" must not contain spaces or control characters",
            escape_for_message(id)
        ));
    }
    None
}

/// Makes user text safe to quote in a one-line message: control characters are escaped, and very long text is
/// shortened.
pub fn escape_for_message(text: &str) -> String {
    const MAX_CHARS: usize = 80;
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == MAX_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The characters of a DNS label made of any text: lower case letters and digits, every run of anything else as
/// one `-`, none at either end; empty when the text has no letter or digit. Not yet cut to a length.
pub fn dns_label_chars(text: &str) -> String {
    let mut label = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            label.push(c);
        } else if !label.is_empty() && !label.ends_with('-') {
            label.push('-');
        }
    }
    while label.ends_with('-') {
        label.pop();
    }
    label
}

/// Turns any text into a valid service id (for new services and importers), e.g. `"Order Service"` becomes
/// `"order-service"`.
pub fn slugify_service_id(text: &str) -> String {
    let mut slug = dns_label_chars(text);
    if !slug.starts_with(|c: char| c.is_ascii_lowercase()) {
        slug.insert_str(0, "s-");
    }
    slug.truncate(MAX_SERVICE_ID_LEN);
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// The longest file name stem made for an id, in bytes (ids may be long; file systems allow 255 bytes a name, and the
/// folder's path adds to it on Windows).
const MAX_FILE_STEM_BYTES: usize = 80;

/// Names Windows reserves for devices, whatever the extension (`con.mmd` cannot be created there).
const WINDOWS_DEVICE_NAMES: [&str; 22] = [
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// A file name stem (the name before its extension) for an id of free text, safe on Linux, macOS and Windows: a flow
/// or call id may hold `/`, `..`, `:`, `*` or any other character but white space, and written as it is it would
/// name a file in another folder or one Windows cannot create. Letters and digits (of any script), `-`, `_` and `.`
/// are kept, anything else becomes `_`; dots at either end, a Windows device name and overlong ids are made safe.
/// An id that had to change gets 8 hex digits of its hash, so two ids that change alike stay apart; an id that is
/// already a fine name keeps it. Deterministic.
pub fn portable_file_stem(id: &str) -> String {
    let mut stem: String = id
        .chars()
        .map(|c| {
            let kept = c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.')
                || (!c.is_ascii() && c.is_alphanumeric());
            if kept { c } else { '_' }
        })
        .collect();
    // A leading dot hides the file; Windows drops trailing dots.
    stem = stem.trim_matches('.').to_owned();
    if stem.is_empty() {
        stem.push('_');
    }
    let device = stem
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if WINDOWS_DEVICE_NAMES.contains(&device.as_str()) {
        stem.insert(0, '_');
    }
    if stem.len() > MAX_FILE_STEM_BYTES {
        let mut cut = MAX_FILE_STEM_BYTES;
        while !stem.is_char_boundary(cut) {
            cut -= 1;
        }
        stem.truncate(cut);
    }
    if stem == id {
        stem
    } else {
        format!("{stem}-{:08x}", fnv1a_32(id))
    }
}

/// File name stems for several ids written to one folder ([`portable_file_stem`] each), distinct even where the
/// file system ignores case (macOS and Windows by default): names that differ only in case get their id's hash
/// too, and any name still taken a number.
pub fn portable_file_stems<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let ids: Vec<&str> = ids.into_iter().collect();
    let mut stems: Vec<String> = ids.iter().map(|id| portable_file_stem(id)).collect();
    let mut alike = std::collections::HashMap::<String, usize>::new();
    for stem in &stems {
        *alike.entry(stem.to_lowercase()).or_default() += 1;
    }
    for (stem, id) in stems.iter_mut().zip(&ids) {
        let twins = alike.get(&stem.to_lowercase()).is_some_and(|&n| n > 1);
        if twins && stem.as_str() == *id {
            *stem = format!("{stem}-{:08x}", fnv1a_32(id));
        }
    }
    let mut taken = std::collections::HashSet::new();
    for stem in &mut stems {
        let base = stem.clone();
        let mut n = 2;
        while !taken.insert(stem.to_lowercase()) {
            *stem = format!("{base}-{n}");
            n += 1;
        }
    }
    stems
}

/// 32-bit FNV-1a of a text: a stable hash (the standard library's may change between releases).
fn fnv1a_32(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |hash, b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_ids_follow_dns_label_rules() {
        assert!(service_id_problem("orders").is_none());
        assert!(service_id_problem("a1-b2").is_none());
        assert!(service_id_problem(&"a".repeat(63)).is_none());
        assert!(service_id_problem("").is_some());
        assert!(service_id_problem("1abc").is_some());
        assert!(service_id_problem("-abc").is_some());
        assert!(service_id_problem("Orders").is_some());
        assert!(service_id_problem("or_ders").is_some());
        assert!(service_id_problem("orders-").is_some());
        assert!(service_id_problem(&"a".repeat(64)).is_some());
    }

    #[test]
    fn slugify_always_gives_a_valid_service_id() {
        for text in [
            "Order Service",
            "123",
            "",
            "--",
            "Ünïcode Ñame",
            &"x".repeat(200),
            "a--b",
        ] {
            let slug = slugify_service_id(text);
            assert_eq!(service_id_problem(&slug), None, "{text:?} -> {slug:?}");
        }
        assert_eq!(slugify_service_id("Order Service"), "order-service");
    }

    #[test]
    fn messages_escape_control_characters() {
        assert_eq!(escape_for_message("a\nb"), "a\\nb");
    }

    #[test]
    fn file_stems_are_safe_and_distinct() {
        assert_eq!(portable_file_stem("place-order"), "place-order");
        assert_eq!(portable_file_stem("v1.2_ok"), "v1.2_ok");
        assert_eq!(portable_file_stem("日本"), "日本");
        for id in [
            "../up", "a/b", "a\\b", "x:y", ".hidden", "con", "CON.txt", "nul", "..", "\u{2028}",
            "a b",
        ] {
            let stem = portable_file_stem(id);
            assert!(
                !stem.starts_with('.') && !stem.ends_with('.'),
                "{id:?} -> {stem:?}"
            );
            assert!(
                stem.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.')),
                "{id:?} -> {stem:?}"
            );
            let device = stem.split('.').next().unwrap().to_ascii_lowercase();
            assert!(
                !WINDOWS_DEVICE_NAMES.contains(&device.as_str()),
                "{id:?} -> {stem:?}"
            );
        }
        assert_ne!(portable_file_stem("a/b"), portable_file_stem("a:b"));
        assert!(portable_file_stem(&"é".repeat(300)).len() <= MAX_FILE_STEM_BYTES + 9);
        let stems = portable_file_stems(["Pay", "pay", "a/b", "a_b", "other"]);
        let lower: std::collections::HashSet<String> =
            stems.iter().map(|s| s.to_lowercase()).collect();
        assert_eq!(lower.len(), 5, "{stems:?}");
        assert_eq!(stems[3], "a_b");
        assert_eq!(stems[4], "other");
    }
}
