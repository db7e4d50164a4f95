//! The git index (`.git/index`, signature `DIRC`, versions 2, 3 and 4).
//!
//! Only what security decisions need is kept: each entry's path, mode, stage and object id.
//! Malformed input is an error, never a panic; sizes are bounded. A split index (the `link`
//! extension: most entries live in a `sharedindex.*` file) is reported as an error, since the
//! entries read would be incomplete.

use std::path::Path;

use crate::object::ObjectFormat;

/// Largest index that is read (a repository with a few hundred thousand files stays below).
pub const MAX_INDEX_BYTES: u64 = 256 << 20;

/// File mode of a gitlink (a submodule commit) entry.
const GITLINK_MODE: u32 = 0o160000;

/// One index entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// Relative to the worktree, `/`-separated, as stored (not necessarily UTF-8).
    pub path: Vec<u8>,
    pub mode: u32,
    /// 0 normally; 1–3 during a merge conflict.
    pub stage: u8,
    pub id: Vec<u8>,
}

impl IndexEntry {
    pub fn is_gitlink(&self) -> bool {
        self.mode == GITLINK_MODE
    }

    /// A regular (non-executable or executable) file.
    pub fn is_regular_file(&self) -> bool {
        self.mode == 0o100644 || self.mode == 0o100755
    }
}

/// The entries of an index, sorted by path (as git keeps them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Index {
    pub entries: Vec<IndexEntry>,
}

/// Reading the index failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IndexError {
    #[error("cannot read the index `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error("the index is malformed: {0}")]
    Malformed(&'static str),
    #[error("index version {0} is not supported")]
    UnsupportedVersion(u32),
    #[error("the index is split (`core.splitIndex`); its entries are not all in one file")]
    Split,
}

impl Index {
    /// Read `<git_dir>/index`. A missing index is an empty one (a fresh repository).
    pub fn read(git_dir: &Path, format: ObjectFormat) -> Result<Index, IndexError> {
        let path = git_dir.join("index");
        let read_error = |reason: String| IndexError::Read {
            path: path.display().to_string(),
            reason,
        };
        let metadata = match std::fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Index::default());
            }
            Err(error) => return Err(read_error(error.to_string())),
        };
        if !metadata.is_file() {
            return Err(read_error("not a regular file".into()));
        }
        if metadata.len() > MAX_INDEX_BYTES {
            return Err(read_error(format!(
                "larger than {} MiB",
                MAX_INDEX_BYTES >> 20
            )));
        }
        let bytes = crate::files::read_small_regular_file(&path, MAX_INDEX_BYTES)
            .ok_or_else(|| read_error("not a readable regular file".into()))?;
        Index::parse(&bytes, format)
    }

    /// Parse index bytes.
    pub fn parse(bytes: &[u8], format: ObjectFormat) -> Result<Index, IndexError> {
        let mut reader = Reader { bytes, position: 0 };
        if reader.take(4)? != b"DIRC" {
            return Err(IndexError::Malformed("missing the `DIRC` signature"));
        }
        let version = reader.u32()?;
        if !(2..=4).contains(&version) {
            return Err(IndexError::UnsupportedVersion(version));
        }
        let count = reader.u32()? as usize;
        // Every entry takes at least 62 bytes: a count beyond that is a lie, not an allocation.
        if count > bytes.len() / 62 {
            return Err(IndexError::Malformed("more entries than bytes"));
        }
        let id_length = format.id_length();
        let mut entries = Vec::with_capacity(count);
        let mut previous: Vec<u8> = Vec::new();
        for _ in 0..count {
            let start = reader.position;
            // ctime, mtime, dev, ino
            reader.take(24)?;
            let mode = reader.u32()?;
            // uid, gid, size
            reader.take(12)?;
            let id = reader.take(id_length)?.to_vec();
            let flags = reader.u16()?;
            let stage = ((flags >> 12) & 0x3) as u8;
            if flags & 0x4000 != 0 {
                if version < 3 {
                    return Err(IndexError::Malformed("extended flags before version 3"));
                }
                reader.take(2)?;
            }
            let path = if version == 4 {
                let strip = reader.offset_varint()?;
                if strip > previous.len() {
                    return Err(IndexError::Malformed(
                        "path prefix longer than the previous path",
                    ));
                }
                let suffix = reader.until_nul()?;
                let mut path = previous[..previous.len() - strip].to_vec();
                path.extend_from_slice(suffix);
                path
            } else {
                let path = reader.until_nul()?.to_vec();
                // Entries are padded with 1–8 NUL bytes to a multiple of 8.
                let length = reader.position - start;
                let padded = length.div_ceil(8) * 8;
                reader.take(padded - length)?;
                path
            };
            previous.clone_from(&path);
            entries.push(IndexEntry {
                path,
                mode,
                stage,
                id,
            });
        }
        // Extensions follow until the trailing checksum; only `link` matters.
        let trailer = bytes.len().saturating_sub(id_length);
        while reader.position + 8 <= trailer {
            let signature = reader.take(4)?;
            let size = reader.u32()? as usize;
            if signature == b"link" {
                return Err(IndexError::Split);
            }
            if reader.position + size > trailer {
                return Err(IndexError::Malformed("extension runs past the end"));
            }
            reader.take(size)?;
        }
        Ok(Index { entries })
    }

    /// The stage-0 entry at `path` (relative, `/`-separated).
    pub fn find(&self, path: &[u8]) -> Option<&IndexEntry> {
        self.entries
            .iter()
            .find(|entry| entry.stage == 0 && entry.path == path)
    }

    /// Paths of every gitlink (submodule) entry.
    pub fn gitlinks(&self) -> impl Iterator<Item = &[u8]> {
        self.entries
            .iter()
            .filter(|entry| entry.is_gitlink())
            .map(|entry| entry.path.as_slice())
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, length: usize) -> Result<&'a [u8], IndexError> {
        let end = self
            .position
            .checked_add(length)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(IndexError::Malformed("truncated"))?;
        let slice = &self.bytes[self.position..end];
        self.position = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, IndexError> {
        let bytes = self.take(4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn u16(&mut self) -> Result<u16, IndexError> {
        let bytes = self.take(2)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn until_nul(&mut self) -> Result<&'a [u8], IndexError> {
        let rest = &self.bytes[self.position..];
        let length = rest
            .iter()
            .position(|byte| *byte == 0)
            .ok_or(IndexError::Malformed("unterminated path"))?;
        let path = &rest[..length];
        self.position += length + 1;
        Ok(path)
    }

    /// git's "offset" varint (index v4 path prefix lengths).
    fn offset_varint(&mut self) -> Result<usize, IndexError> {
        let mut byte = self.take(1)?[0];
        let mut value = usize::from(byte & 0x7f);
        while byte & 0x80 != 0 {
            byte = self.take(1)?[0];
            value = value
                .checked_add(1)
                .and_then(|value| value.checked_mul(128))
                .and_then(|value| value.checked_add(usize::from(byte & 0x7f)))
                .ok_or(IndexError::Malformed("varint overflow"))?;
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(directory: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args(args)
            .current_dir(directory)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", directory)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("git must be installed to run this test");
        assert!(status.success(), "git {args:?}");
    }

    /// A repository with files, a nested path, and a gitlink, in each index version.
    #[test]
    fn reads_what_git_writes_in_every_version() {
        for version in ["2", "3", "4"] {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path();
            git(root, &["init", "-q", "."]);
            std::fs::write(root.join("a.txt"), "hello\n").unwrap();
            std::fs::create_dir_all(root.join("dir/sub")).unwrap();
            std::fs::write(root.join("dir/sub/b.txt"), "b\n").unwrap();
            git(root, &["add", "a.txt", "dir"]);
            git(
                root,
                &[
                    "update-index",
                    "--add",
                    "--cacheinfo",
                    "160000,a3ff4301665010aa1e376801f7a2de0b2f3db46c,vendor/lib",
                ],
            );
            if version == "3" {
                // An intent-to-add entry carries extended flags (version 3).
                std::fs::write(root.join("later.txt"), "x\n").unwrap();
                git(root, &["add", "-N", "later.txt"]);
            }
            git(root, &["update-index", "--index-version", version]);
            let index = Index::read(&root.join(".git"), ObjectFormat::Sha1).unwrap();
            let paths: Vec<&[u8]> = index.entries.iter().map(|e| e.path.as_slice()).collect();
            let mut expected: Vec<&[u8]> = vec![b"a.txt", b"dir/sub/b.txt", b"vendor/lib"];
            if version == "3" {
                expected.insert(2, b"later.txt");
            }
            assert_eq!(paths, expected, "version {version}");
            assert_eq!(
                index.gitlinks().collect::<Vec<_>>(),
                vec![&b"vendor/lib"[..]]
            );
            let entry = index.find(b"a.txt").unwrap();
            assert!(entry.is_regular_file());
            assert_eq!(entry.id, crate::blob_id(b"hello\n", ObjectFormat::Sha1));
        }
    }

    #[test]
    fn a_missing_index_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Index::read(dir.path(), ObjectFormat::Sha1).unwrap(),
            Index::default()
        );
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let header = |count: u32, version: u32| {
            let mut bytes = b"DIRC".to_vec();
            bytes.extend_from_slice(&version.to_be_bytes());
            bytes.extend_from_slice(&count.to_be_bytes());
            bytes
        };
        assert!(Index::parse(b"", ObjectFormat::Sha1).is_err());
        assert!(Index::parse(b"DIRX\0\0\0\x02\0\0\0\0", ObjectFormat::Sha1).is_err());
        assert_eq!(
            Index::parse(&header(0, 5), ObjectFormat::Sha1),
            Err(IndexError::UnsupportedVersion(5))
        );
        assert!(Index::parse(&header(u32::MAX, 2), ObjectFormat::Sha1).is_err());
        for _ in 0..2000 {
            let mut bytes = header((next() % 4) as u32, 2 + (next() % 3) as u32);
            let length = (next() % 300) as usize;
            bytes.extend((0..length).map(|_| next() as u8));
            let _ = Index::parse(&bytes, ObjectFormat::Sha1);
        }
    }

    #[test]
    fn a_split_index_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "."]);
        std::fs::write(root.join("a.txt"), "hello\n").unwrap();
        git(root, &["add", "a.txt"]);
        git(root, &["update-index", "--split-index"]);
        assert_eq!(
            Index::read(&root.join(".git"), ObjectFormat::Sha1),
            Err(IndexError::Split)
        );
    }
}
