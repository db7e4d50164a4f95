//! Bounded reads of small files in directories an attacker may control.

use std::io::Read;
use std::path::Path;

/// The contents of `path` when it is a regular file (symlinks followed) of at most `limit`
/// bytes. The type is checked before opening, so a FIFO is never opened (opening one blocks),
/// and again on the opened file.
pub fn read_small_regular_file(path: &Path, limit: u64) -> Option<Vec<u8>> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() || metadata.len() > limit {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    let opened = file.metadata().ok()?;
    if !opened.is_file() || opened.len() > limit {
        return None;
    }
    let mut contents = Vec::with_capacity(usize::try_from(opened.len()).ok()?);
    file.take(limit + 1).read_to_end(&mut contents).ok()?;
    (contents.len() as u64 <= limit).then_some(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_small_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "abc").unwrap();
        assert_eq!(
            read_small_regular_file(&file, 3).as_deref(),
            Some(&b"abc"[..])
        );
        assert_eq!(read_small_regular_file(&file, 2), None);
        assert_eq!(read_small_regular_file(dir.path(), 100), None);
        assert_eq!(
            read_small_regular_file(&dir.path().join("missing"), 100),
            None
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_never_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo must be available to run this test");
        assert!(status.success());
        assert_eq!(read_small_regular_file(&fifo, 100), None);
    }
}
