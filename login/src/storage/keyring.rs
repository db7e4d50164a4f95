//! OS keyring backends. On Linux: the desktop **Secret Service** (D-Bus
//! `org.freedesktop.secrets`: GNOME Keyring, KWallet, KeePassXC…) when the session bus offers
//! one, which keeps entries on disk; otherwise the kernel key-management facility (keyutils):
//! `user` keys in the **user keyring** (`@u`), shared by every process of the uid, kept in
//! memory only while the uid has a process running (lost at reboot). The kernel key
//! description follows the keyring crate's keyutils convention, `keyring-rs:<account>@<service>`.
//!
//! With a Secret Service, an entry left in the kernel keyring by an earlier version is still
//! read, and moved to the Secret Service at the next save.

use crate::settings::AuthEnvironment;

/// Why the keyring could not be used. The text never contains the stored value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyringError(pub String);

/// Which keyring holds an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyringLocation {
    /// A Secret Service collection (its label); `persistent` is false for an in-memory one.
    SecretService {
        collection: String,
        persistent: bool,
    },
    /// The kernel user keyring; `secret_service` says why the Secret Service was not used
    /// (`None` when it was available but this entry predates it).
    KernelUserKeyring { secret_service: Option<String> },
    /// Another backend (tests), by name.
    Other(String),
}

impl KeyringLocation {
    /// Whether the entry survives a reboot.
    pub fn persists_across_reboots(&self) -> bool {
        match self {
            KeyringLocation::SecretService { persistent, .. } => *persistent,
            KeyringLocation::KernelUserKeyring { .. } | KeyringLocation::Other(_) => false,
        }
    }
}

impl std::fmt::Display for KeyringLocation {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyringLocation::SecretService { collection, .. } => {
                write!(formatter, "the Secret Service keyring `{collection}`")
            }
            KeyringLocation::KernelUserKeyring { .. } => {
                formatter.write_str("the kernel user keyring")
            }
            KeyringLocation::Other(name) => formatter.write_str(name),
        }
    }
}

/// A place to keep one string per (service, account).
pub trait KeyringBackend: Send + Sync {
    fn get(&self, service: &str, account: &str) -> Result<Option<String>, KeyringError>;
    fn set(&self, service: &str, account: &str, value: &str) -> Result<(), KeyringError>;
    /// `Ok(true)` when an entry was removed.
    fn delete(&self, service: &str, account: &str) -> Result<bool, KeyringError>;
    /// Which keyring holds the entry; `None` when there is none.
    fn locate(
        &self,
        service: &str,
        account: &str,
    ) -> Result<Option<KeyringLocation>, KeyringError> {
        Ok(self
            .get(service, account)?
            .map(|_| KeyringLocation::Other("the keyring".to_string())))
    }

    /// The keyring a save would write to now.
    fn destination(&self) -> Result<KeyringLocation, KeyringError> {
        Ok(KeyringLocation::Other("the keyring".to_string()))
    }
}

/// The keyring of this operating system, reached through `environment` (the session bus).
pub fn os_keyring(environment: &AuthEnvironment) -> Box<dyn KeyringBackend> {
    #[cfg(target_os = "linux")]
    {
        Box::new(linux::LinuxKeyring::new(environment))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = environment;
        Box::new(Unsupported)
    }
}

#[cfg(not(target_os = "linux"))]
struct Unsupported;

#[cfg(not(target_os = "linux"))]
impl KeyringBackend for Unsupported {
    fn get(&self, _: &str, _: &str) -> Result<Option<String>, KeyringError> {
        Err(Self::error())
    }
    fn set(&self, _: &str, _: &str, _: &str) -> Result<(), KeyringError> {
        Err(Self::error())
    }
    fn delete(&self, _: &str, _: &str) -> Result<bool, KeyringError> {
        Err(Self::error())
    }
}

#[cfg(not(target_os = "linux"))]
impl Unsupported {
    fn error() -> KeyringError {
        KeyringError("no OS keyring backend is available on this platform".to_string())
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::CString;
    use std::io;

    use super::{KeyringBackend, KeyringError, KeyringLocation};
    use crate::log::login_log;
    use crate::settings::AuthEnvironment;
    use crate::storage::secret_service::{SecretService, SecretServiceError};

    const KEY_SPEC_USER_KEYRING: libc::c_long = -4;
    const KEYCTL_UNLINK: libc::c_long = 9;
    const KEYCTL_SEARCH: libc::c_long = 10;
    const KEYCTL_READ: libc::c_long = 11;
    const KEYCTL_INVALIDATE: libc::c_long = 21;
    /// Largest payload of a `user` key.
    const MAX_PAYLOAD: usize = 32_767;

    pub(super) struct KernelKeyring;

    /// The Secret Service when the session bus has one, else the kernel user keyring.
    pub(super) struct LinuxKeyring {
        bus_address: Option<String>,
        runtime_dir: Option<std::path::PathBuf>,
        kernel: KernelKeyring,
    }

    impl LinuxKeyring {
        pub(super) fn new(environment: &AuthEnvironment) -> LinuxKeyring {
            LinuxKeyring {
                bus_address: environment.session_bus_address.clone(),
                runtime_dir: environment.runtime_dir.clone(),
                kernel: KernelKeyring,
            }
        }

        /// `Ok(Err(reason))` when there is no Secret Service to use.
        fn secret_service(&self) -> Result<Result<SecretService, String>, KeyringError> {
            match SecretService::connect(
                self.bus_address.as_deref(),
                self.runtime_dir.as_deref().map(std::path::Path::as_os_str),
            ) {
                Ok(service) => Ok(Ok(service)),
                Err(SecretServiceError::Unavailable(reason)) => Ok(Err(reason)),
                Err(error) => Err(KeyringError(error.to_string())),
            }
        }

        /// The kernel entry, when the Secret Service is the primary store: a kernel keyring
        /// that cannot be used (a container without keyctl) only means there is none.
        fn kernel_leftover(&self, service: &str, account: &str) -> Option<String> {
            self.kernel.get(service, account).unwrap_or_else(|error| {
                login_log(format_args!("kernel keyring not readable: {error}"));
                None
            })
        }
    }

    fn failed(error: SecretServiceError) -> KeyringError {
        KeyringError(error.to_string())
    }

    impl KeyringBackend for LinuxKeyring {
        fn get(&self, service: &str, account: &str) -> Result<Option<String>, KeyringError> {
            match self.secret_service()? {
                Ok(mut secrets) => match secrets.get(service, account).map_err(failed)? {
                    Some(value) => Ok(Some(value)),
                    None => Ok(self.kernel_leftover(service, account)),
                },
                Err(_) => self.kernel.get(service, account),
            }
        }

        fn set(&self, service: &str, account: &str, value: &str) -> Result<(), KeyringError> {
            match self.secret_service()? {
                Ok(mut secrets) => {
                    secrets.set(service, account, value).map_err(failed)?;
                    if let Err(error) = self.kernel.delete(service, account) {
                        login_log(format_args!("kernel keyring cleanup failed: {error}"));
                    }
                    Ok(())
                }
                Err(reason) => {
                    login_log(format_args!("using the kernel keyring: {reason}"));
                    self.kernel.set(service, account, value)
                }
            }
        }

        fn delete(&self, service: &str, account: &str) -> Result<bool, KeyringError> {
            match self.secret_service()? {
                Ok(mut secrets) => {
                    let removed = secrets.delete(service, account).map_err(failed)?;
                    let from_kernel = self.kernel.delete(service, account).unwrap_or(false);
                    Ok(removed || from_kernel)
                }
                Err(_) => self.kernel.delete(service, account),
            }
        }

        fn locate(
            &self,
            service: &str,
            account: &str,
        ) -> Result<Option<KeyringLocation>, KeyringError> {
            match self.secret_service()? {
                Ok(mut secrets) => {
                    if let Some(item) = secrets.locate(service, account).map_err(failed)? {
                        return Ok(Some(KeyringLocation::SecretService {
                            collection: item.collection,
                            persistent: item.persistent,
                        }));
                    }
                    Ok(self.kernel_leftover(service, account).map(|_| {
                        KeyringLocation::KernelUserKeyring {
                            secret_service: None,
                        }
                    }))
                }
                Err(reason) => Ok(self.kernel.get(service, account)?.map(|_| {
                    KeyringLocation::KernelUserKeyring {
                        secret_service: Some(reason),
                    }
                })),
            }
        }

        fn destination(&self) -> Result<KeyringLocation, KeyringError> {
            match self.secret_service()? {
                Ok(mut secrets) => {
                    let item = secrets.default_collection().map_err(failed)?;
                    Ok(KeyringLocation::SecretService {
                        collection: item.collection,
                        persistent: item.persistent,
                    })
                }
                Err(reason) => Ok(KeyringLocation::KernelUserKeyring {
                    secret_service: Some(reason),
                }),
            }
        }
    }

    fn description(service: &str, account: &str) -> Result<CString, KeyringError> {
        CString::new(format!("keyring-rs:{account}@{service}"))
            .map_err(|_| KeyringError("keyring names cannot contain NUL".to_string()))
    }

    fn os_error(operation: &str) -> KeyringError {
        KeyringError(format!("{operation}: {}", io::Error::last_os_error()))
    }

    /// The serial of the key, `None` when there is none.
    fn search(description: &CString) -> Result<Option<libc::c_long>, KeyringError> {
        let key_type = c"user";
        // SAFETY: keyctl(KEYCTL_SEARCH) reads the two NUL-terminated strings, which outlive the
        // call; destination keyring 0 means "do not link the result anywhere".
        let serial = unsafe {
            libc::syscall(
                libc::SYS_keyctl,
                KEYCTL_SEARCH,
                KEY_SPEC_USER_KEYRING,
                key_type.as_ptr(),
                description.as_ptr(),
                0 as libc::c_long,
            )
        };
        if serial >= 0 {
            return Ok(Some(serial));
        }
        match io::Error::last_os_error().raw_os_error() {
            Some(libc::ENOKEY | libc::EKEYEXPIRED | libc::EKEYREVOKED) => Ok(None),
            _ => Err(os_error("searching the user keyring failed")),
        }
    }

    impl KeyringBackend for KernelKeyring {
        fn get(&self, service: &str, account: &str) -> Result<Option<String>, KeyringError> {
            let description = description(service, account)?;
            let Some(serial) = search(&description)? else {
                return Ok(None);
            };
            let mut buffer = vec![0u8; MAX_PAYLOAD + 1];
            // SAFETY: the kernel writes at most `buffer.len()` bytes into `buffer`.
            let length = unsafe {
                libc::syscall(
                    libc::SYS_keyctl,
                    KEYCTL_READ,
                    serial,
                    buffer.as_mut_ptr(),
                    buffer.len(),
                )
            };
            if length < 0 {
                return match io::Error::last_os_error().raw_os_error() {
                    Some(libc::ENOKEY | libc::EKEYEXPIRED | libc::EKEYREVOKED) => Ok(None),
                    _ => Err(os_error("reading the keyring entry failed")),
                };
            }
            let length = usize::try_from(length).unwrap_or(usize::MAX);
            if length > buffer.len() {
                return Err(KeyringError("the keyring entry is too large".to_string()));
            }
            buffer.truncate(length);
            String::from_utf8(buffer)
                .map(Some)
                .map_err(|_| KeyringError("the keyring entry is not UTF-8".to_string()))
        }

        fn set(&self, service: &str, account: &str, value: &str) -> Result<(), KeyringError> {
            if value.len() > MAX_PAYLOAD {
                return Err(KeyringError(format!(
                    "the value is larger than the {MAX_PAYLOAD}-byte keyring limit"
                )));
            }
            let description = description(service, account)?;
            let key_type = c"user";
            // SAFETY: add_key reads `value.len()` bytes from `value` and the two NUL-terminated
            // strings; all outlive the call. A key with the same type and description in the
            // user keyring is updated in place.
            let serial = unsafe {
                libc::syscall(
                    libc::SYS_add_key,
                    key_type.as_ptr(),
                    description.as_ptr(),
                    value.as_ptr(),
                    value.len(),
                    KEY_SPEC_USER_KEYRING,
                )
            };
            if serial < 0 {
                return Err(os_error("adding the keyring entry failed"));
            }
            Ok(())
        }

        fn delete(&self, service: &str, account: &str) -> Result<bool, KeyringError> {
            let description = description(service, account)?;
            let Some(serial) = search(&description)? else {
                return Ok(false);
            };
            // SAFETY: keyctl with integer arguments only.
            let invalidated =
                unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_INVALIDATE, serial) } == 0;
            if invalidated {
                return Ok(true);
            }
            // SAFETY: keyctl with integer arguments only.
            let unlinked = unsafe {
                libc::syscall(
                    libc::SYS_keyctl,
                    KEYCTL_UNLINK,
                    serial,
                    KEY_SPEC_USER_KEYRING,
                )
            } == 0;
            if unlinked {
                Ok(true)
            } else {
                Err(os_error("removing the keyring entry failed"))
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// Uses the real kernel keyring of the test user; a unique account keeps parallel test
        /// runs apart, and the entry is removed at the end.
        #[test]
        fn kernel_keyring_round_trip() {
            let keyring = KernelKeyring;
            let account = format!(
                "cli|test-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            );
            let service = "Codex Auth Test";
            assert_eq!(keyring.get(service, &account), Ok(None));
            keyring.set(service, &account, "{\"a\":1}").unwrap();
            assert_eq!(
                keyring.get(service, &account).unwrap().as_deref(),
                Some("{\"a\":1}")
            );
            keyring.set(service, &account, "{\"a\":2}").unwrap();
            assert_eq!(
                keyring.get(service, &account).unwrap().as_deref(),
                Some("{\"a\":2}")
            );
            assert_eq!(keyring.delete(service, &account), Ok(true));
            assert_eq!(keyring.get(service, &account), Ok(None));
            assert_eq!(keyring.delete(service, &account), Ok(false));
        }
    }
}
