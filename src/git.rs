//! Reading designs out of git, for design review (`syncopate diff REV:PATH`, the app's Compare with… a revision).
//! Runs the `git` program; a shell module, never imported by the core.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::model::{self, Design};

/// One commit that touched a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The full hash.
    pub hash: String,
    /// The abbreviated hash.
    pub short: String,
    /// The commit date, `YYYY-MM-DD`.
    pub date: String,
    /// The first line of its message.
    pub subject: String,
}

/// Whether `spec` reads as `REV:PATH` rather than a file: it is not an existing file, has a `:` with something
/// on both sides, and is not a Windows drive path (`C:\…`).
pub fn is_revision_spec(spec: &str) -> bool {
    if Path::new(spec).exists() {
        return false;
    }
    let Some((rev, path)) = spec.split_once(':') else {
        return false;
    };
    let drive = rev.len() == 1
        && rev.chars().all(|c| c.is_ascii_alphabetic())
        && (path.starts_with('\\') || path.starts_with('/'));
    !rev.is_empty() && !path.is_empty() && !drive
}

/// Runs git in `dir` and returns its standard output, or a one-line error.
fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run git ({e}); is git installed and on PATH?"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("git failed")
            .trim()
            .to_owned())
    }
}

/// Reads the design at `REV:PATH` from the repository around `dir`, as `git show REV:PATH` run in `dir` would
/// (a path starting with `./` is relative to `dir`, otherwise to the repository's top).
pub fn load_revision(spec: &str, dir: &Path) -> Result<Design, String> {
    let Some((rev, path)) = spec.split_once(':') else {
        return Err(format!("{spec}: expected REV:PATH"));
    };
    if git(dir, &["rev-parse", "--git-dir"]).is_err() {
        return Err(format!(
            "{spec}: {} is not inside a git repository",
            dir.display()
        ));
    }
    if git(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .is_err()
    {
        return Err(format!("{spec}: unknown revision {rev:?}"));
    }
    let text = git(dir, &["show", spec])
        .map_err(|e| format!("{spec}: {path:?} is not in revision {rev:?} ({e})"))?;
    model::load_from_str(&text, spec).map_err(|e| e.to_string())
}

/// A file's folder (`.` for a bare name: `Path::parent` gives an empty path, where git cannot run) and name.
fn folder_and_name(file: &Path) -> Result<(PathBuf, String), String> {
    let dir = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| format!("{}: not a file", file.display()))?;
    Ok((dir, name))
}

/// The last `limit` commits that touched `file`, newest first (empty when it is not in a repository).
pub fn commits_of(file: &Path, limit: usize) -> Result<Vec<Commit>, String> {
    let (dir, name) = folder_and_name(file)?;
    let log = git(
        &dir,
        &[
            "log",
            &format!("-{limit}"),
            "--format=%H%x09%h%x09%ad%x09%s",
            "--date=short",
            "--",
            &name,
        ],
    )?;
    Ok(log
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(4, '\t');
            Some(Commit {
                hash: parts.next()?.to_owned(),
                short: parts.next()?.to_owned(),
                date: parts.next()?.to_owned(),
                subject: parts.next().unwrap_or("").to_owned(),
            })
        })
        .collect())
}

/// Reads `file` as it was at `commit` (a file of the working tree, named relative to its own folder).
pub fn load_file_at(file: &Path, commit: &str) -> Result<Design, String> {
    let (dir, name) = folder_and_name(file)?;
    load_revision(&format!("{commit}:./{name}"), &dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_specs_are_told_from_paths() {
        assert!(is_revision_spec("HEAD~1:samples/a.syncopate"));
        assert!(is_revision_spec("main:./a.syncopate"));
        assert!(!is_revision_spec("C:\\designs\\a.syncopate"));
        assert!(!is_revision_spec("a.syncopate"));
        assert!(!is_revision_spec(":a"));
    }

    #[test]
    fn a_bare_file_name_is_in_the_current_folder() {
        let (dir, name) = folder_and_name(Path::new("shop.syncopate")).unwrap();
        assert_eq!((dir, name.as_str()), (PathBuf::from("."), "shop.syncopate"));
    }
}
