use std::collections::HashMap;
use std::sync::Mutex;

use super::*;
use crate::secret::Secret;

/// An in-memory keyring that can be told to fail.
#[derive(Default)]
struct MemoryKeyring {
    entries: Mutex<HashMap<(String, String), String>>,
    failing: bool,
}

impl MemoryKeyring {
    fn failing() -> MemoryKeyring {
        MemoryKeyring {
            failing: true,
            ..MemoryKeyring::default()
        }
    }

    fn check(&self) -> Result<(), KeyringError> {
        if self.failing {
            Err(KeyringError("keyring is locked".to_string()))
        } else {
            Ok(())
        }
    }
}

impl KeyringBackend for MemoryKeyring {
    fn get(&self, service: &str, account: &str) -> Result<Option<String>, KeyringError> {
        self.check()?;
        let entries = self.entries.lock().unwrap();
        Ok(entries.get(&(service.into(), account.into())).cloned())
    }
    fn set(&self, service: &str, account: &str, value: &str) -> Result<(), KeyringError> {
        self.check()?;
        let mut entries = self.entries.lock().unwrap();
        entries.insert((service.into(), account.into()), value.into());
        Ok(())
    }
    fn delete(&self, service: &str, account: &str) -> Result<bool, KeyringError> {
        self.check()?;
        let mut entries = self.entries.lock().unwrap();
        Ok(entries.remove(&(service.into(), account.into())).is_some())
    }
}

fn store(mode: CredentialsStore, home: &Path, keyring: Arc<MemoryKeyring>) -> AuthStore {
    AuthStore::with_keyring(mode, home.to_path_buf(), keyring)
}

fn key(value: &str) -> AuthDotJson {
    AuthDotJson::api_key(Secret::new(value))
}

#[test]
fn keyring_auth_storage_compute_store_key_for_home_directory() {
    assert_eq!(store_key(Path::new("~/.codex")), "cli|940db7b1d0e4eb40");
}

#[test]
fn ephemeral_storage_save_load_delete_is_in_memory_only() {
    let home = tempfile::tempdir().unwrap();
    let store = store(CredentialsStore::Ephemeral, home.path(), Arc::default());
    let lock = store.lock().unwrap();
    store.save(&key("sk-eph"), &lock).unwrap();
    assert_eq!(store.load().unwrap(), Some(key("sk-eph")));
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
    assert!(store.delete(&lock).unwrap());
    assert_eq!(store.load().unwrap(), None);
}

#[test]
fn keyring_auth_storage_save_persists_and_removes_fallback_file() {
    let home = tempfile::tempdir().unwrap();
    let keyring = Arc::new(MemoryKeyring::default());
    let store = store(CredentialsStore::Keyring, home.path(), keyring.clone());
    std::fs::write(store.auth_file(), "{}").unwrap();
    let lock = store.lock().unwrap();
    store.save(&key("sk-ring"), &lock).unwrap();
    assert!(!store.auth_file().exists());
    let stored = keyring
        .get(KEYRING_SERVICE, &store.store_key())
        .unwrap()
        .unwrap();
    assert_eq!(
        stored,
        r#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-ring"}"#
    );
    assert_eq!(store.load().unwrap(), Some(key("sk-ring")));
}

#[test]
fn keyring_auth_storage_delete_removes_keyring_and_file() {
    let home = tempfile::tempdir().unwrap();
    let keyring = Arc::new(MemoryKeyring::default());
    let store = store(CredentialsStore::Keyring, home.path(), keyring.clone());
    let lock = store.lock().unwrap();
    store.save(&key("sk-ring"), &lock).unwrap();
    std::fs::write(store.auth_file(), "{}").unwrap();
    assert!(store.delete(&lock).unwrap());
    assert!(!store.auth_file().exists());
    assert_eq!(
        keyring.get(KEYRING_SERVICE, &store.store_key()).unwrap(),
        None
    );
}

#[test]
fn keyring_errors_are_reported_in_keyring_mode() {
    let home = tempfile::tempdir().unwrap();
    let store = store(
        CredentialsStore::Keyring,
        home.path(),
        Arc::new(MemoryKeyring::failing()),
    );
    let error = store.load().unwrap_err().to_string();
    assert_eq!(
        error,
        "failed to load CLI auth from keyring: keyring is locked"
    );
    let lock = store.lock().unwrap();
    let error = store.save(&key("sk"), &lock).unwrap_err().to_string();
    assert_eq!(
        error,
        "failed to write OAuth tokens to keyring: keyring is locked"
    );
}

#[test]
fn keyring_value_that_does_not_parse_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    let keyring = Arc::new(MemoryKeyring::default());
    let store = store(CredentialsStore::Keyring, home.path(), keyring.clone());
    keyring
        .set(KEYRING_SERVICE, &store.store_key(), "{oops")
        .unwrap();
    let error = store.load().unwrap_err().to_string();
    assert!(
        error.starts_with("failed to deserialize CLI auth from keyring: invalid JSON"),
        "{error}"
    );
}

#[test]
fn auto_auth_storage_load_prefers_keyring_value() {
    let home = tempfile::tempdir().unwrap();
    let keyring = Arc::new(MemoryKeyring::default());
    let auto = store(CredentialsStore::Auto, home.path(), keyring.clone());
    keyring
        .set(
            KEYRING_SERVICE,
            &auto.store_key(),
            &serde_json::to_string(&key("sk-ring")).unwrap(),
        )
        .unwrap();
    std::fs::write(
        auto.auth_file(),
        serde_json::to_string(&key("sk-file")).unwrap(),
    )
    .unwrap();
    assert_eq!(auto.load().unwrap(), Some(key("sk-ring")));
}

#[test]
fn auto_auth_storage_load_uses_file_when_keyring_empty_or_failing() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("auth.json"),
        serde_json::to_string(&key("sk-file")).unwrap(),
    )
    .unwrap();
    let empty = store(CredentialsStore::Auto, home.path(), Arc::default());
    assert_eq!(empty.load().unwrap(), Some(key("sk-file")));
    let failing = store(
        CredentialsStore::Auto,
        home.path(),
        Arc::new(MemoryKeyring::failing()),
    );
    assert_eq!(failing.load().unwrap(), Some(key("sk-file")));
}

#[test]
fn auto_auth_storage_save_prefers_keyring_and_falls_back_on_errors() {
    let home = tempfile::tempdir().unwrap();
    let keyring = Arc::new(MemoryKeyring::default());
    let auto = store(CredentialsStore::Auto, home.path(), keyring.clone());
    std::fs::write(auto.auth_file(), "{}").unwrap();
    let lock = auto.lock().unwrap();
    auto.save(&key("sk-ring"), &lock).unwrap();
    assert!(!auto.auth_file().exists());
    assert!(
        keyring
            .get(KEYRING_SERVICE, &auto.store_key())
            .unwrap()
            .is_some()
    );

    let failing = store(
        CredentialsStore::Auto,
        home.path(),
        Arc::new(MemoryKeyring::failing()),
    );
    failing.save(&key("sk-file"), &lock).unwrap();
    assert!(failing.auth_file().exists());
    assert_eq!(failing.load().unwrap(), Some(key("sk-file")));
}

#[test]
fn auto_auth_storage_delete_removes_keyring_and_file() {
    let home = tempfile::tempdir().unwrap();
    let keyring = Arc::new(MemoryKeyring::default());
    let auto = store(CredentialsStore::Auto, home.path(), keyring.clone());
    let lock = auto.lock().unwrap();
    auto.save(&key("sk-ring"), &lock).unwrap();
    std::fs::write(auto.auth_file(), "{}").unwrap();
    assert!(auto.delete(&lock).unwrap());
    assert!(!auto.auth_file().exists());
    assert_eq!(
        keyring.get(KEYRING_SERVICE, &auto.store_key()).unwrap(),
        None
    );
    assert!(!auto.delete(&lock).unwrap());
}

#[test]
fn delete_everywhere_clears_stores_other_than_the_configured_one() {
    let home = tempfile::tempdir().unwrap();
    let keyring = Arc::new(MemoryKeyring::default());
    let in_keyring = store(CredentialsStore::Keyring, home.path(), keyring.clone());
    let lock = in_keyring.lock().unwrap();
    in_keyring.save(&key("sk-ring"), &lock).unwrap();
    let file = store(CredentialsStore::File, home.path(), keyring.clone());
    assert!(file.delete_everywhere(&lock).unwrap());
    assert_eq!(in_keyring.load().unwrap(), None);
    assert!(!file.delete_everywhere(&lock).unwrap());
}

/// The real kernel keyring through the store: what `cli_auth_credentials_store = "keyring"` does.
#[cfg(target_os = "linux")]
#[test]
fn keyring_store_with_the_kernel_keyring() {
    let home = tempfile::tempdir().unwrap();
    let store = AuthStore::new(CredentialsStore::Keyring, home.path().to_path_buf());
    let lock = store.lock().unwrap();
    store.save(&key("sk-kernel"), &lock).unwrap();
    assert!(!store.auth_file().exists());
    let again = AuthStore::new(CredentialsStore::Keyring, home.path().to_path_buf());
    assert_eq!(again.load().unwrap(), Some(key("sk-kernel")));
    assert!(again.delete(&lock).unwrap());
    assert_eq!(store.load().unwrap(), None);
}

fn manager_over(store: AuthStore) -> crate::AuthManager {
    let settings = crate::AuthSettings::new(
        PathBuf::from("/nonexistent"),
        crate::AuthEnvironment::default(),
    );
    crate::AuthManager::with_store(settings, store)
}

/// Regression (keyring side): the pre-login clear deleted a keyring entry that does not parse.
#[test]
fn pre_login_clear_deletes_malformed_keyring_entry() {
    let home = tempfile::tempdir().unwrap();
    let keyring = Arc::new(MemoryKeyring::default());
    let auto = store(CredentialsStore::Auto, home.path(), keyring.clone());
    let account = auto.store_key();
    keyring.set(KEYRING_SERVICE, &account, "{oops").unwrap();
    let error = manager_over(auto).clear_before_login().unwrap_err();
    assert!(
        matches!(error, AuthStoreError::KeyringDeserialize(_)),
        "{error:?}"
    );
    assert_eq!(
        keyring.get(KEYRING_SERVICE, &account).unwrap().as_deref(),
        Some("{oops")
    );
}

/// Regression (other stores): with the ephemeral store configured, the pre-login clear still
/// removes auth.json as "another store", so a malformed one must stop it too.
#[test]
fn pre_login_clear_deletes_malformed_auth_json_of_another_store() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("auth.json");
    std::fs::write(&path, "{oops").unwrap();
    let ephemeral = store(CredentialsStore::Ephemeral, home.path(), Arc::default());
    let error = manager_over(ephemeral).clear_before_login().unwrap_err();
    assert!(
        matches!(error, AuthStoreError::Malformed { .. }),
        "{error:?}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{oops");
    // Parseable credentials are cleared as before.
    std::fs::write(&path, serde_json::to_string(&key("sk-file")).unwrap()).unwrap();
    let file = store(CredentialsStore::File, home.path(), Arc::default());
    manager_over(file).clear_before_login().unwrap();
    assert!(!path.exists());
}

/// Regression (store level): `auth.json.lock` was created/opened through a symbolic link.
#[cfg(unix)]
#[test]
fn store_lock_follows_symlink() {
    let home = tempfile::tempdir().unwrap();
    let victim = home.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    let lock_path = home.path().join("auth.json.lock");
    std::os::unix::fs::symlink(&victim, &lock_path).unwrap();
    let file = store(CredentialsStore::File, home.path(), Arc::default());
    let error = file.lock().err().unwrap();
    assert_eq!(
        error.to_string(),
        format!(
            "failed to lock `{}`: it is a symbolic link (refusing to follow it; replace it with a regular file)",
            lock_path.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
}
