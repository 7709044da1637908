//! Writing a bundle: redacted, atomically, and readable only by its owner.
//!
//! `kvdiag collect -o FILE` often writes over the bundle of an earlier run. Truncating FILE and
//! writing in place would destroy the old bundle if the process is interrupted (Ctrl-C, a full
//! disk, a killed CI job) half way. So the new bundle goes to a temporary file in the same
//! directory (`.FILE.kvdiag-tmp-<pid>-<random>`; the same directory keeps the rename on one
//! filesystem), is flushed and fsynced, and is then renamed over FILE: a reader sees the old
//! bundle or the new one, never half of one. On any error the temporary file is removed and
//! FILE is untouched. Only a process killed between creating and renaming the temporary file
//! (SIGKILL, power loss) leaves it behind; it is safe to delete.
//!
//! The file is created with mode 0600 on unix. A bundle is redacted, but it is still an
//! inventory of someone's Azure estate (subscription, resource ids, principal ids, role
//! assignments, network rules, who changed what and when): it should not be world-readable
//! just because the umask is permissive. Writing over an existing FILE gives it mode 0600 and
//! the writer as owner; when FILE is a symbolic link, the link is replaced, not its target.

use super::Bundle;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

impl Bundle {
    /// The bundle as `collect` writes it: redacted again (whatever the caller did before), then
    /// pretty-printed JSON with a final newline.
    pub fn to_text(&self) -> io::Result<String> {
        let mut redacted = self.clone();
        super::redact(&mut redacted);
        let mut text = serde_json::to_string_pretty(&redacted).map_err(io::Error::other)?;
        text.push('\n');
        Ok(text)
    }
}

/// Writes `bytes` to `path` atomically with mode 0600 (see the module doc).
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, |file| file.write_all(bytes))
}

/// Runs `write` on a temporary file next to `path`, fsyncs it and renames it over `path`; on
/// any error (from `write` or the file system) the temporary file is removed and `path` keeps
/// its old content.
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let Some(name) = path.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names no file",
        ));
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut prefix = OsString::from(".");
    prefix.push(name);
    prefix.push(format!(".kvdiag-tmp-{}-", std::process::id()));
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).rand_bytes(6);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
    // From here on, dropping `temp` (any `?` below) deletes the temporary file.
    let mut temp = builder.tempfile_in(dir)?;
    write(temp.as_file_mut())?;
    temp.as_file_mut().flush()?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// Makes the rename itself durable. Best effort: some file systems refuse to fsync a directory,
/// and the bundle is already complete under one name or the other.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every entry of `dir` but `keep`: stray temporary files.
    fn strays(dir: &Path, keep: &str) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != keep)
            .collect()
    }

    #[test]
    fn replaces_an_existing_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle.json");
        std::fs::write(&path, "x".repeat(10_000)).unwrap();
        write_file(&path, b"{\"new\":true}\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"new\":true}\n");
        assert!(strays(dir.path(), "bundle.json").is_empty());
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle.json");
        let old = b"{\"old bundle\":1}\n".repeat(100);
        std::fs::write(&path, &old).unwrap();
        let err = write_atomic(&path, |file| {
            let temp = strays(dir.path(), "bundle.json");
            assert!(
                temp.len() == 1 && temp[0].starts_with(".bundle.json.kvdiag-tmp-"),
                "the new bundle goes to a hidden sibling first: {temp:?}"
            );
            file.write_all(b"{\"half of a new bun")?;
            Err(io::Error::other("interrupted"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "interrupted");
        assert_eq!(std::fs::read(&path).unwrap(), old, "old bundle changed");
        assert!(strays(dir.path(), "bundle.json").is_empty());
    }

    #[test]
    fn a_target_that_cannot_be_replaced_is_an_error_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the bundle should go: the rename fails after the write.
        let busy = dir.path().join("bundle.json");
        std::fs::create_dir(&busy).unwrap();
        std::fs::write(busy.join("inside"), "kept").unwrap();
        assert!(write_file(&busy, b"{}").is_err());
        assert_eq!(std::fs::read(busy.join("inside")).unwrap(), b"kept");
        assert!(strays(dir.path(), "bundle.json").is_empty());
        // A directory that does not exist: nothing is created.
        let missing = dir.path().join("no-such-dir/bundle.json");
        assert!(write_file(&missing, b"{}").is_err());
        assert!(!dir.path().join("no-such-dir").exists());
        // No file name at all.
        assert!(write_file(Path::new("/"), b"{}").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let fresh = dir.path().join("fresh.json");
        write_file(&fresh, b"{}").unwrap();
        assert_eq!(mode(&fresh), 0o600);
        let shared = dir.path().join("shared.json");
        std::fs::write(&shared, "old").unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_file(&shared, b"{}").unwrap();
        assert_eq!(
            mode(&shared),
            0o600,
            "an overwritten bundle is narrowed too"
        );
    }

    #[test]
    fn the_text_written_is_redacted_even_if_the_bundle_was_not() {
        // Built without `Bundle::parse`, so nothing has redacted it yet.
        let bundle: Bundle = serde_json::from_value(json!({"kvdiag_bundle": 1,
            "target": {"subscription": "s", "resource_group": "rg", "app": "a"},
            "collected_at": "2026-11-20T10:30:00Z",
            "responses": [{"method": "GET", "service": "arm", "path": "/app", "status": 200,
                "headers": {"authorization": "Bearer T0KEN"},
                "body": {"properties": {"configuration": {"secrets": [{"name": "n", "value": "V4LUE"}]}}}}]}))
        .unwrap();
        let text = bundle.to_text().unwrap();
        assert!(!text.contains("V4LUE") && !text.contains("T0KEN"), "{text}");
        assert!(text.ends_with("}\n"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        write_file(&path, text.as_bytes()).unwrap();
        let loaded = Bundle::load(&path).unwrap();
        assert_eq!(loaded.to_text().unwrap(), text, "load and write agree");
    }
}
