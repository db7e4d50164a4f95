//! Rollout files: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl`, one JSON
//! record per line (`{"timestamp","type","payload"}`), `session_meta` first, appended and
//! written with one `write` per line. Directories are 0700 and files 0600 whatever the umask
//! (permissions are set explicitly after creation). `$CODEX_HOME` is hidden from every sandbox,
//! so no tool command can read or rewrite them.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use codex_model_client::ResponseItem;
use serde_json::{Value, json};

use crate::clock::Instant;

/// Largest rollout read back for `resume`.
const MAX_ROLLOUT_BYTES: u64 = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    #[error("cannot write the session file `{}`: {error}", path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot read the session file `{}`: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("no saved session found with id `{0}`; list them under `$CODEX_HOME/sessions`")]
    NotFound(String),
    #[error("no saved session found for `{}`; pass `--all` to pick the newest one anywhere", .0.display())]
    NoneForCwd(PathBuf),
    #[error("`{}` is not a session file: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
}

/// An open rollout file.
#[derive(Debug)]
pub struct RolloutWriter {
    path: PathBuf,
    file: File,
}

/// Create `dir` and its missing parents with mode 0700.
fn create_private_dirs(dir: &Path) -> std::io::Result<()> {
    let mut missing = Vec::new();
    for ancestor in dir.ancestors() {
        if ancestor.exists() {
            break;
        }
        missing.push(ancestor);
    }
    for path in missing.into_iter().rev() {
        match std::fs::create_dir(path) {
            Ok(()) => crate::private_files::make_dir_private(path)?,
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

impl RolloutWriter {
    /// A new file for session `id` under `codex_home`, started now.
    pub fn create(
        codex_home: &Path,
        id: &str,
        started: Instant,
    ) -> Result<RolloutWriter, RolloutError> {
        let (year, month, day, stamp) = started.rollout_parts();
        let dir = codex_home.join("sessions").join(year).join(month).join(day);
        let path = dir.join(format!("rollout-{stamp}-{id}.jsonl"));
        let write_error = |path: &Path, error| RolloutError::Write {
            path: path.to_path_buf(),
            error,
        };
        create_private_dirs(&dir).map_err(|error| write_error(&dir, error))?;
        let file = crate::private_files::create_private(&path)
            .map_err(|error| write_error(&path, error))?;
        Ok(RolloutWriter { path, file })
    }

    /// Append to an existing file (resume).
    pub fn append_to(path: &Path) -> Result<RolloutWriter, RolloutError> {
        let file =
            crate::private_files::open_append(path).map_err(|error| RolloutError::Write {
                path: path.to_path_buf(),
                error,
            })?;
        Ok(RolloutWriter {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// One record: `{"timestamp","type","payload"}` and a newline, in one write.
    pub fn record(&mut self, kind: &str, payload: Value) -> Result<(), RolloutError> {
        let line = json!({
            "timestamp": Instant::now().rfc3339(),
            "type": kind,
            "payload": payload,
        });
        let mut bytes = line.to_string().into_bytes();
        bytes.push(b'\n');
        self.file
            .write_all(&bytes)
            .and_then(|()| self.file.flush())
            .map_err(|error| RolloutError::Write {
                path: self.path.clone(),
                error,
            })
    }

    pub fn record_item(&mut self, item: &ResponseItem) -> Result<(), RolloutError> {
        let payload = serde_json::to_value(item).unwrap_or(Value::Null);
        self.record("response_item", payload)
    }
}

/// A session read back for `resume`.
#[derive(Debug, Clone)]
pub struct SavedSession {
    pub path: PathBuf,
    pub id: String,
    /// The working directory of the last turn (else the session's).
    pub cwd: Option<PathBuf>,
    pub history: Vec<ResponseItem>,
}

/// Every rollout file under `$CODEX_HOME/sessions`, newest name first.
fn rollout_files(codex_home: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && depth < 3 {
                walk(&path, depth + 1, out);
            } else if kind.is_file()
                && path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with("rollout-") && name.ends_with(".jsonl"))
            {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&codex_home.join("sessions"), 0, &mut files);
    files.sort_by(|a, b| b.file_name().cmp(&a.file_name()));
    files
}

/// Read a rollout file: the id from `session_meta`, the history from `response_item` lines, the
/// last `turn_context` cwd.
pub fn read_session(path: &Path) -> Result<SavedSession, RolloutError> {
    let read_error = |error| RolloutError::Read {
        path: path.to_path_buf(),
        error,
    };
    let file = crate::private_files::open_read(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    if !metadata.is_file() || metadata.len() > MAX_ROLLOUT_BYTES {
        return Err(RolloutError::Invalid {
            path: path.to_path_buf(),
            reason: "not a regular file of a readable size".into(),
        });
    }
    let mut session = SavedSession {
        path: path.to_path_buf(),
        id: String::new(),
        cwd: None,
        history: Vec::new(),
    };
    for line in BufReader::new(file).lines() {
        let line = line.map_err(read_error)?;
        let Ok(record) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let payload = &record["payload"];
        match record["type"].as_str() {
            Some("session_meta") => {
                session.id = payload["id"].as_str().unwrap_or_default().to_string();
                if session.cwd.is_none() {
                    session.cwd = payload["cwd"].as_str().map(PathBuf::from);
                }
            }
            Some("turn_context") => {
                if let Some(cwd) = payload["cwd"].as_str() {
                    session.cwd = Some(PathBuf::from(cwd));
                }
            }
            Some("response_item") => {
                if let Ok(item) = serde_json::from_value::<ResponseItem>(payload.clone()) {
                    session.history.push(item);
                }
            }
            _ => {}
        }
    }
    if session.id.is_empty() {
        return Err(RolloutError::Invalid {
            path: path.to_path_buf(),
            reason: "no `session_meta` record".into(),
        });
    }
    Ok(session)
}

/// The session with id `id`.
pub fn find_session(codex_home: &Path, id: &str) -> Result<SavedSession, RolloutError> {
    let suffix = format!("-{}.jsonl", id.to_ascii_lowercase());
    rollout_files(codex_home)
        .into_iter()
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.to_ascii_lowercase().ends_with(&suffix))
        })
        .find_map(|path| read_session(&path).ok())
        .ok_or_else(|| RolloutError::NotFound(id.to_string()))
}

/// The newest session whose last working directory is `cwd` (any, when `cwd` is `None`).
pub fn find_last_session(
    codex_home: &Path,
    cwd: Option<&Path>,
) -> Result<SavedSession, RolloutError> {
    rollout_files(codex_home)
        .into_iter()
        .filter_map(|path| read_session(&path).ok())
        .find(|session| match cwd {
            None => true,
            Some(cwd) => session.cwd.as_deref() == Some(cwd),
        })
        .ok_or_else(|| match cwd {
            Some(cwd) => RolloutError::NoneForCwd(cwd.to_path_buf()),
            None => RolloutError::NotFound("--last".into()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn files_are_private_whatever_the_umask_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir(&home).unwrap();
        // SAFETY: umask only changes this process's file creation mask; the test restores it.
        let previous = unsafe { libc::umask(0o000) };
        let mut writer = RolloutWriter::create(
            &home,
            "0199a213-81c0-7800-8aa1-bbab2a035a53",
            Instant(1_709_210_096_789),
        )
        .unwrap();
        // SAFETY: see above.
        unsafe { libc::umask(previous) };
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(writer.path()), 0o600);
        assert_eq!(mode(&home.join("sessions")), 0o700);
        assert_eq!(mode(&home.join("sessions/2024/02/29")), 0o700);
        assert!(writer.path().ends_with("sessions/2024/02/29/rollout-2024-02-29T12-34-56-0199a213-81c0-7800-8aa1-bbab2a035a53.jsonl"));
        writer
            .record(
                "session_meta",
                json!({"id": "0199a213-81c0-7800-8aa1-bbab2a035a53", "cwd": "/w"}),
            )
            .unwrap();
        writer
            .record_item(&ResponseItem::text_message("user", "hi"))
            .unwrap();
        writer
            .record("turn_context", json!({"cwd": "/w2"}))
            .unwrap();
        let session = find_session(&home, "0199A213-81C0-7800-8AA1-BBAB2A035A53").unwrap();
        assert_eq!(
            session.history,
            vec![ResponseItem::text_message("user", "hi")]
        );
        assert_eq!(session.cwd.as_deref(), Some(Path::new("/w2")));
        assert!(find_last_session(&home, Some(Path::new("/w2"))).is_ok());
        assert!(matches!(
            find_last_session(&home, Some(Path::new("/w"))),
            Err(RolloutError::NoneForCwd(_))
        ));
        assert!(find_last_session(&home, None).is_ok());
        assert!(matches!(
            find_session(&home, "nope"),
            Err(RolloutError::NotFound(_))
        ));
    }
}
