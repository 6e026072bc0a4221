//! Small JSON files the app keeps in the platform's data directory (the recent files list, the theme): read at
//! start, rewritten whole when they change. Losing one loses a convenience, never work, so failures are quiet.

use std::path::Path;

/// The value kept in `dir/name`, or `None` when there is no directory (tests), no file, or it does not parse.
pub fn read<T: serde::de::DeserializeOwned>(dir: Option<&Path>, name: &str) -> Option<T> {
    let text = std::fs::read_to_string(dir?.join(name)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Writes `value` to `dir/name` atomically, creating the directory; nothing without a directory.
pub fn write<T: serde::Serialize + ?Sized>(dir: Option<&Path>, name: &str, value: &T) {
    let Some(dir) = dir else {
        return;
    };
    if let Ok(text) = serde_json::to_string_pretty(value)
        && std::fs::create_dir_all(dir).is_ok()
    {
        let _ = crate::model::file::write_atomically(&dir.join(name), text.as_bytes());
    }
}
