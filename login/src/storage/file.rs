//! `$CODEX_HOME/auth.json`.

use std::fs::OpenOptions;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::AuthStoreError;
use crate::auth_file::AuthDotJson;
use crate::fs_atomic::{open_private_file, remove_file_if_exists, write_private_atomically};

pub(crate) const AUTH_FILE_NAME: &str = "auth.json";

pub(crate) fn auth_file_path(codex_home: &Path) -> PathBuf {
    codex_home.join(AUTH_FILE_NAME)
}

/// `Ok(None)` when the file does not exist; a file that does not parse is an error naming it.
/// A symbolic link, a non-regular file or another user's file is refused (a `Read` error).
pub(crate) fn load(path: &Path) -> Result<Option<AuthDotJson>, AuthStoreError> {
    let text = match read_private(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(AuthStoreError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    parse(&text)
        .map(Some)
        .map_err(|detail| AuthStoreError::Malformed {
            path: path.to_path_buf(),
            detail,
        })
}

fn read_private(path: &Path) -> io::Result<String> {
    let mut file = open_private_file(path, OpenOptions::new().read(true))?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(text)
}

pub(crate) fn save(path: &Path, auth: &AuthDotJson) -> Result<(), AuthStoreError> {
    let text = auth
        .to_pretty_json()
        .map_err(|error| AuthStoreError::Serialize(error.to_string()))?;
    write_private_atomically(path, text.as_bytes()).map_err(|source| AuthStoreError::Write {
        path: path.to_path_buf(),
        source,
    })
}

pub(crate) fn delete(path: &Path) -> Result<bool, AuthStoreError> {
    remove_file_if_exists(path).map_err(|source| AuthStoreError::Remove {
        path: path.to_path_buf(),
        source,
    })
}

/// Parse a stored document. The error text says where the problem is but never quotes values,
/// which may be credentials.
pub(crate) fn parse(text: &str) -> Result<AuthDotJson, String> {
    serde_json::from_str(text).map_err(|error| describe_json_error(&error))
}

pub(crate) fn describe_json_error(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let message = error.to_string();
    let what = match error.classify() {
        Category::Syntax => "invalid JSON".to_string(),
        Category::Eof => "unexpected end of file".to_string(),
        Category::Io => "read error".to_string(),
        Category::Data => {
            const SAFE: [&str; 3] = ["missing field", "unknown auth_mode", "expected an RFC 3339"];
            match SAFE.iter().find(|prefix| message.starts_with(*prefix)) {
                Some(_) => message
                    .split(" at line ")
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                None => "a value has the wrong type".to_string(),
            }
        }
    };
    if error.line() == 0 {
        what
    } else {
        format!("{what} at line {} column {}", error.line(), error.column())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn file_storage_save_load_delete() {
        let dir = tempfile::tempdir().unwrap();
        let path = auth_file_path(dir.path());
        assert!(load(&path).unwrap().is_none());
        let document = AuthDotJson::api_key(Secret::new("sk-test"));
        save(&path, &document).unwrap();
        assert_eq!(load(&path).unwrap(), Some(document));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("\n  \"OPENAI_API_KEY\": \"sk-test\""),
            "{text}"
        );
        assert!(delete(&path).unwrap());
        assert!(!path.exists());
        assert!(!delete(&path).unwrap());
    }

    #[test]
    fn malformed_file_error_names_the_file_and_never_quotes_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = auth_file_path(dir.path());
        std::fs::write(
            &path,
            r#"{"OPENAI_API_KEY": 12, "tokens": "sk-leaked-secret"}"#,
        )
        .unwrap();
        let error = load(&path).unwrap_err().to_string();
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains("line 1"), "{error}");
        assert!(!error.contains("sk-leaked-secret"), "{error}");
        std::fs::write(&path, "{not json").unwrap();
        let error = load(&path).unwrap_err().to_string();
        assert!(error.contains("invalid JSON at line 1 column 2"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{not json");
    }

    /// Regression: auth.json was read through a symbolic link (and from a FIFO, which blocked).
    #[cfg(unix)]
    #[test]
    fn auth_json_load_follows_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere.json");
        save(&elsewhere, &AuthDotJson::api_key(Secret::new("sk-planted"))).unwrap();
        let path = auth_file_path(dir.path());
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        let error = load(&path).unwrap_err();
        assert!(matches!(error, AuthStoreError::Read { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            format!(
                "failed to read `{}`: it is a symbolic link (refusing to follow it; replace it with a regular file)",
                path.display()
            )
        );
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        assert_eq!(
            load(&path).unwrap_err().to_string(),
            format!(
                "failed to read `{}`: it is not a regular file",
                path.display()
            )
        );
    }

    #[test]
    fn missing_fields_are_named() {
        let detail = parse(r#"{"tokens":{"access_token":"a","refresh_token":"b"}}"#).unwrap_err();
        assert!(detail.starts_with("missing field `id_token`"), "{detail}");
    }
}
