//! Where credentials live: the file, the OS keyring, both (`auto`), or process memory
//! (`ephemeral`), selected by `cli_auth_credentials_store`.

mod file;
mod keyring;
#[cfg(target_os = "linux")]
mod secret_service;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub(crate) use file::describe_json_error;
pub use keyring::{KeyringBackend, KeyringError, KeyringLocation, os_keyring};

use crate::auth_file::AuthDotJson;
use crate::fs_atomic::FileLock;
use crate::log::login_log;
use crate::settings::CredentialsStore;

/// The keyring service name.
pub const KEYRING_SERVICE: &str = "Codex Auth";
const LOCK_FILE_NAME: &str = "auth.json.lock";
/// Longer than the slowest request made while holding the lock (a 60 s refresh).
const LOCK_TIMEOUT: Duration = Duration::from_secs(90);

static EPHEMERAL: Mutex<Option<HashMap<String, AuthDotJson>>> = Mutex::new(None);

#[derive(Debug, thiserror::Error)]
pub enum AuthStoreError {
    #[error("failed to read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "`{path}` is not a valid auth file ({detail}); fix it or run `codex logout` to remove it"
    )]
    Malformed { path: PathBuf, detail: String },
    #[error("failed to write `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to remove `{path}`: {source}")]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to serialize credentials: {0}")]
    Serialize(String),
    #[error("failed to lock `{path}`: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to load CLI auth from keyring: {0}")]
    KeyringLoad(KeyringError),
    #[error("failed to deserialize CLI auth from keyring: {0}")]
    KeyringDeserialize(String),
    #[error("failed to write OAuth tokens to keyring: {0}")]
    KeyringSave(KeyringError),
    #[error("failed to delete auth from keyring: {0}")]
    KeyringDelete(KeyringError),
}

impl AuthStoreError {
    /// Credentials exist but cannot be used as they are (unreadable, refused or malformed): the
    /// user has to look at them, so they must not be deleted or replaced behind their back.
    pub(crate) fn is_unusable_document(&self) -> bool {
        matches!(
            self,
            AuthStoreError::Read { .. }
                | AuthStoreError::Malformed { .. }
                | AuthStoreError::KeyringDeserialize(_)
        )
    }
}

/// Where stored credentials are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialLocation {
    File(PathBuf),
    Keyring(KeyringLocation),
    /// Process memory (`ephemeral`).
    Memory,
}

impl CredentialLocation {
    /// Whether the credentials survive a reboot.
    pub fn persists_across_reboots(&self) -> bool {
        match self {
            CredentialLocation::File(_) => true,
            CredentialLocation::Keyring(keyring) => keyring.persists_across_reboots(),
            CredentialLocation::Memory => false,
        }
    }
}

impl std::fmt::Display for CredentialLocation {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialLocation::File(path) => write!(formatter, "`{}`", path.display()),
            CredentialLocation::Keyring(keyring) => keyring.fmt(formatter),
            CredentialLocation::Memory => formatter.write_str("process memory"),
        }
    }
}

/// Proof that the caller holds the credential lock (writers are serialised across processes).
pub struct StoreLock {
    _lock: Option<FileLock>,
}

/// The configured credential store for one CODEX_HOME.
pub struct AuthStore {
    mode: CredentialsStore,
    codex_home: PathBuf,
    keyring: Arc<dyn KeyringBackend>,
}

impl std::fmt::Debug for AuthStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthStore")
            .field("mode", &self.mode)
            .field("codex_home", &self.codex_home)
            .finish_non_exhaustive()
    }
}

impl AuthStore {
    /// A store with the OS keyring reached through the process environment.
    pub fn new(mode: CredentialsStore, codex_home: PathBuf) -> AuthStore {
        let environment = crate::settings::AuthEnvironment::from_process();
        AuthStore::with_keyring(mode, codex_home, Arc::from(os_keyring(&environment)))
    }

    /// A store with a specific keyring backend (tests use an in-memory one).
    pub fn with_keyring(
        mode: CredentialsStore,
        codex_home: PathBuf,
        keyring: Arc<dyn KeyringBackend>,
    ) -> AuthStore {
        AuthStore {
            mode,
            codex_home,
            keyring,
        }
    }

    pub fn mode(&self) -> CredentialsStore {
        self.mode
    }

    pub fn auth_file(&self) -> PathBuf {
        file::auth_file_path(&self.codex_home)
    }

    /// The keyring account (and ephemeral key): `cli|` + 16 hex chars of SHA-256 of the
    /// canonical CODEX_HOME (the path as given when it cannot be canonicalised).
    pub fn store_key(&self) -> String {
        store_key(&self.codex_home)
    }

    /// Serialise writers: held across load-modify-save sequences.
    pub fn lock(&self) -> Result<StoreLock, AuthStoreError> {
        if self.mode == CredentialsStore::Ephemeral {
            return Ok(StoreLock { _lock: None });
        }
        let path = self.codex_home.join(LOCK_FILE_NAME);
        FileLock::acquire(&path, LOCK_TIMEOUT)
            .map(|lock| StoreLock { _lock: Some(lock) })
            .map_err(|source| AuthStoreError::Lock { path, source })
    }

    /// Where the credentials [`AuthStore::load`] returns are kept; `None` when nothing is.
    pub fn locate(&self) -> Result<Option<CredentialLocation>, AuthStoreError> {
        let file = || {
            let path = self.auth_file();
            path.exists().then_some(CredentialLocation::File(path))
        };
        let keyring = || {
            self.keyring
                .locate(KEYRING_SERVICE, &self.store_key())
                .map(|found| found.map(CredentialLocation::Keyring))
        };
        match self.mode {
            CredentialsStore::File => Ok(file()),
            CredentialsStore::Keyring => keyring().map_err(AuthStoreError::KeyringLoad),
            CredentialsStore::Auto => match keyring() {
                Ok(Some(found)) => Ok(Some(found)),
                Ok(None) | Err(_) => Ok(file()),
            },
            CredentialsStore::Ephemeral => Ok(ephemeral(|map| {
                map.contains_key(&self.store_key())
                    .then_some(CredentialLocation::Memory)
            })),
        }
    }

    /// Where the next [`AuthStore::save`] would keep the credentials (`auto`: the keyring when
    /// it can be reached, else the file).
    pub fn destination(&self) -> Result<CredentialLocation, AuthStoreError> {
        match self.mode {
            CredentialsStore::File => Ok(CredentialLocation::File(self.auth_file())),
            CredentialsStore::Keyring => self
                .keyring
                .destination()
                .map(CredentialLocation::Keyring)
                .map_err(AuthStoreError::KeyringLoad),
            CredentialsStore::Auto => Ok(self.keyring.destination().map_or_else(
                |_| CredentialLocation::File(self.auth_file()),
                CredentialLocation::Keyring,
            )),
            CredentialsStore::Ephemeral => Ok(CredentialLocation::Memory),
        }
    }

    pub fn load(&self) -> Result<Option<AuthDotJson>, AuthStoreError> {
        match self.mode {
            CredentialsStore::File => file::load(&self.auth_file()),
            CredentialsStore::Keyring => self.load_keyring(),
            CredentialsStore::Auto => match self.load_keyring() {
                Ok(Some(auth)) => Ok(Some(auth)),
                Ok(None) => file::load(&self.auth_file()),
                Err(error) => {
                    login_log(format_args!("keyring unavailable, using the file: {error}"));
                    file::load(&self.auth_file())
                }
            },
            CredentialsStore::Ephemeral => Ok(ephemeral(|map| map.get(&self.store_key()).cloned())),
        }
    }

    pub fn save(&self, auth: &AuthDotJson, _lock: &StoreLock) -> Result<(), AuthStoreError> {
        match self.mode {
            CredentialsStore::File => file::save(&self.auth_file(), auth),
            CredentialsStore::Keyring => self.save_keyring(auth),
            CredentialsStore::Auto => match self.save_keyring(auth) {
                Ok(()) => Ok(()),
                Err(error) => {
                    login_log(format_args!("keyring save failed, using the file: {error}"));
                    file::save(&self.auth_file(), auth)
                }
            },
            CredentialsStore::Ephemeral => {
                ephemeral(|map| map.insert(self.store_key(), auth.clone()));
                Ok(())
            }
        }
    }

    /// Remove the credentials; `Ok(true)` when something was removed. Keyring modes remove the
    /// fallback file too.
    pub fn delete(&self, _lock: &StoreLock) -> Result<bool, AuthStoreError> {
        match self.mode {
            CredentialsStore::File => file::delete(&self.auth_file()),
            CredentialsStore::Keyring => {
                let from_keyring = self
                    .keyring
                    .delete(KEYRING_SERVICE, &self.store_key())
                    .map_err(AuthStoreError::KeyringDelete)?;
                Ok(file::delete(&self.auth_file())? || from_keyring)
            }
            CredentialsStore::Auto => {
                let from_keyring = match self.keyring.delete(KEYRING_SERVICE, &self.store_key()) {
                    Ok(removed) => removed,
                    Err(error) => {
                        login_log(format_args!("keyring delete failed: {error}"));
                        false
                    }
                };
                Ok(file::delete(&self.auth_file())? || from_keyring)
            }
            CredentialsStore::Ephemeral => {
                Ok(ephemeral(|map| map.remove(&self.store_key())).is_some())
            }
        }
    }

    /// Remove the credentials from every store (logout): the configured one first (its errors
    /// are returned), then the others, best effort.
    pub fn delete_everywhere(&self, lock: &StoreLock) -> Result<bool, AuthStoreError> {
        let configured = self.delete(lock);
        let mut removed = false;
        for mode in [
            CredentialsStore::Ephemeral,
            CredentialsStore::File,
            CredentialsStore::Auto,
        ] {
            if mode == self.mode {
                continue;
            }
            let other = AuthStore {
                mode,
                codex_home: self.codex_home.clone(),
                keyring: Arc::clone(&self.keyring),
            };
            match other.delete(lock) {
                Ok(true) => removed = true,
                Ok(false) => {}
                Err(error) => login_log(format_args!("cleanup of another store failed: {error}")),
            }
        }
        Ok(configured? || removed)
    }

    /// Before a login clears the credentials: every document [`AuthStore::delete_everywhere`]
    /// would remove (the configured store, `auth.json`, the keyring entry) must be usable;
    /// otherwise the error naming it is returned and nothing is removed.
    pub(crate) fn check_replaceable_everywhere(
        &self,
        _lock: &StoreLock,
    ) -> Result<(), AuthStoreError> {
        let loads = [
            self.load(),
            file::load(&self.auth_file()),
            self.load_keyring(),
        ];
        for load in loads {
            if let Err(error) = load
                && error.is_unusable_document()
            {
                return Err(error);
            }
        }
        Ok(())
    }

    fn load_keyring(&self) -> Result<Option<AuthDotJson>, AuthStoreError> {
        let Some(text) = self
            .keyring
            .get(KEYRING_SERVICE, &self.store_key())
            .map_err(AuthStoreError::KeyringLoad)?
        else {
            return Ok(None);
        };
        file::parse(&text)
            .map(Some)
            .map_err(AuthStoreError::KeyringDeserialize)
    }

    fn save_keyring(&self, auth: &AuthDotJson) -> Result<(), AuthStoreError> {
        let text = serde_json::to_string(auth)
            .map_err(|error| AuthStoreError::Serialize(error.to_string()))?;
        self.keyring
            .set(KEYRING_SERVICE, &self.store_key(), &text)
            .map_err(AuthStoreError::KeyringSave)?;
        if let Err(error) = file::delete(&self.auth_file()) {
            login_log(format_args!(
                "could not remove the fallback auth file: {error}"
            ));
        }
        Ok(())
    }
}

fn ephemeral<T>(action: impl FnOnce(&mut HashMap<String, AuthDotJson>) -> T) -> T {
    let mut guard = EPHEMERAL.lock().unwrap_or_else(PoisonError::into_inner);
    action(guard.get_or_insert_with(HashMap::new))
}

/// `cli|<first 16 hex chars of sha256(path)>`.
pub fn store_key(codex_home: &Path) -> String {
    let path = codex_home
        .canonicalize()
        .unwrap_or_else(|_| codex_home.to_path_buf());
    let digest = ring::digest::digest(&ring::digest::SHA256, path.to_string_lossy().as_bytes());
    let hex: String = digest.as_ref()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("cli|{hex}")
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
