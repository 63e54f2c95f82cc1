//! Filesystem helpers for the local stores: owner-only directories and files, durable atomic
//! writes (temporary file, fsync, rename, fsync of the directory) and a no-clobber create for
//! secrets that two processes may race to create.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use super::crypto::random_hex;
use super::StoreError;

/// The suffix of temporary files; anything ending with it is debris of an interrupted write.
pub(crate) const TEMP_SUFFIX: &str = ".tmp";

/// Creates `dir` (and its parents) if missing; a directory this creates is owner-only (0700).
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(StoreError::io("create data directory"))
}

/// Refuses a secret file that group or others may read or write.
pub(crate) fn check_private_file(path: &Path, what: &'static str) -> Result<(), StoreError> {
    let meta = fs::metadata(path).map_err(StoreError::io("inspect secret file"))?;
    if !meta.is_file() {
        return Err(StoreError::Malformed { what });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(StoreError::InsecurePermissions { what });
        }
    }
    Ok(())
}

/// Opens a new file that only its owner may read and write (0600); fails if it exists.
pub(crate) fn create_private(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    o.open(path)
}

/// Flushes a directory's entries (a rename or a new file in it) to disk.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(StoreError::io("sync directory"))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes `bytes` to a fresh owner-only temporary file in `dir` and fsyncs it; returns its path.
/// The caller renames or links it into place, or removes it.
pub(crate) fn write_temp(dir: &Path, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    let path = dir.join(format!("{}{TEMP_SUFFIX}", random_hex(16)?));
    let written = create_private(&path).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = fs::remove_file(&path);
        return Err(StoreError::io("write temporary file")(e));
    }
    Ok(path)
}

/// Replaces `dir/name` with `bytes` atomically and durably: after a crash the file holds either
/// the old or the new contents, never a mix.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let temp = write_temp(dir, bytes)?;
    if let Err(e) = fs::rename(&temp, dir.join(name)) {
        let _ = fs::remove_file(&temp);
        return Err(StoreError::io("rename temporary file")(e));
    }
    sync_dir(dir)
}

/// Creates `dir/name` holding `bytes` unless it already exists, atomically (a temporary file
/// hard-linked into place, so a concurrent creator never sees a partial file and never
/// overwrites). Returns whether this call created it.
pub(crate) fn create_atomic_no_clobber(
    dir: &Path,
    name: &str,
    bytes: &[u8],
) -> Result<bool, StoreError> {
    let temp = write_temp(dir, bytes)?;
    let linked = fs::hard_link(&temp, dir.join(name));
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => {
            sync_dir(dir)?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(StoreError::io("create secret file")(e)),
    }
}

/// Reads a whole file of at most `max` bytes (`Ok(None)` when it does not exist).
pub(crate) fn read_bounded(path: &Path, max: u64) -> Result<Option<Vec<u8>>, StoreError> {
    use std::io::Read as _;
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io("open file")(e)),
    };
    let mut buf = Vec::new();
    f.take(max.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(StoreError::io("read file"))?;
    if buf.len() as u64 > max {
        return Err(StoreError::Integrity);
    }
    Ok(Some(buf))
}

/// Removes a file; a missing file is not an error.
pub(crate) fn remove_if_exists(path: &Path) -> Result<bool, StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::io("remove file")(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(dir.path(), "f", b"one").unwrap();
        write_atomic(dir.path(), "f", b"two").unwrap();
        assert_eq!(fs::read(dir.path().join("f")).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_no_clobber_create_keeps_the_first_contents() {
        let dir = tempfile::tempdir().unwrap();
        assert!(create_atomic_no_clobber(dir.path(), "k", b"first").unwrap());
        assert!(!create_atomic_no_clobber(dir.path(), "k", b"second").unwrap());
        assert_eq!(fs::read(dir.path().join("k")).unwrap(), b"first");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn secret_files_are_created_owner_only_and_loose_ones_are_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        create_atomic_no_clobber(dir.path(), "k", b"x").unwrap();
        let path = dir.path().join("k");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        check_private_file(&path, "key").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            check_private_file(&path, "key"),
            Err(StoreError::InsecurePermissions { what: "key" })
        ));
    }

    #[test]
    fn bounded_reads_refuse_oversized_files_and_report_missing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        assert!(read_bounded(&path, 4).unwrap().is_none());
        fs::write(&path, b"12345").unwrap();
        assert!(matches!(read_bounded(&path, 4), Err(StoreError::Integrity)));
        assert_eq!(read_bounded(&path, 5).unwrap().unwrap(), b"12345");
    }
}
