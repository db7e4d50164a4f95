//! The desktop Secret Service (`org.freedesktop.secrets` on the session bus: GNOME Keyring,
//! KWallet, KeePassXC…), which keeps entries on disk, so they survive a reboot.
//!
//! Items carry the attributes the `keyring` crate uses (`service`, `username`, `target`), so
//! entries written by upstream's CLI are found and the other way round; they are created in
//! the `default` collection. The `plain` session algorithm is used: the secret travels
//! unencrypted over the unix socket to a daemon of the same user, as with any local client
//! that does not negotiate encryption. A locked collection or item is unlocked through the
//! service's own prompt (a desktop dialog), waited for up to two minutes.

use std::time::Duration;

use crate::dbus::{BusError, Connection, Message, Value, session_bus_addresses};

const SERVICE: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE_INTERFACE: &str = "org.freedesktop.Secret.Service";
const COLLECTION_INTERFACE: &str = "org.freedesktop.Secret.Collection";
const ITEM_INTERFACE: &str = "org.freedesktop.Secret.Item";
const PROMPT_INTERFACE: &str = "org.freedesktop.Secret.Prompt";
const PROPERTIES_INTERFACE: &str = "org.freedesktop.DBus.Properties";
/// gnome-keyring's in-memory collection (lost when the daemon stops).
const SESSION_COLLECTION: &str = "/org/freedesktop/secrets/collection/session";
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const PROMPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Error names that mean "there is no Secret Service on this bus".
const NOT_PROVIDED: &[&str] = &[
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
    "org.freedesktop.DBus.Error.Spawn.ChildExited",
    "org.freedesktop.DBus.Error.Spawn.ExecFailed",
    "org.freedesktop.DBus.Error.Spawn.ServiceNotFound",
    "org.freedesktop.DBus.Error.Spawn.FileInvalid",
    "org.freedesktop.DBus.Error.Spawn.Failed",
    "org.freedesktop.DBus.Error.TimedOut",
];

/// Why the Secret Service could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SecretServiceError {
    /// No session bus, or no Secret Service on it: use another store.
    #[error("{0}")]
    Unavailable(String),
    /// The service is there but the operation failed.
    #[error("the Secret Service failed: {0}")]
    Failed(String),
}

impl From<BusError> for SecretServiceError {
    fn from(error: BusError) -> Self {
        SecretServiceError::Failed(error.to_string())
    }
}

/// Where an entry lives in the Secret Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecretServiceItem {
    /// The collection's label (its object path when it has none).
    pub collection: String,
    /// False for gnome-keyring's in-memory `session` collection.
    pub persistent: bool,
}

/// A connection to the Secret Service with an open `plain` session.
pub(crate) struct SecretService {
    connection: Connection,
    session: String,
}

impl SecretService {
    /// Connect through the session bus named by `bus_address` (`DBUS_SESSION_BUS_ADDRESS`) or
    /// found in `runtime_dir` (`XDG_RUNTIME_DIR`).
    pub fn connect(
        bus_address: Option<&str>,
        runtime_dir: Option<&std::ffi::OsStr>,
    ) -> Result<SecretService, SecretServiceError> {
        let unavailable = |error: BusError| SecretServiceError::Unavailable(error.to_string());
        let addresses = session_bus_addresses(bus_address, runtime_dir).map_err(unavailable)?;
        let mut connection = Connection::open(&addresses, CALL_TIMEOUT).map_err(unavailable)?;
        let reply = connection
            .call(service_call(
                "OpenSession",
                vec![Value::str("plain"), Value::variant(Value::str(""))],
            ))
            .map_err(|error| match &error {
                BusError::Remote { name, .. } if NOT_PROVIDED.contains(&name.as_str()) => {
                    SecretServiceError::Unavailable(format!(
                        "`{SERVICE}` is not on the session bus"
                    ))
                }
                _ => SecretServiceError::from(error),
            })?;
        let session = path_at(&reply, 1)?;
        Ok(SecretService {
            connection,
            session,
        })
    }

    fn call(
        &mut self,
        path: &str,
        interface: &str,
        member: &str,
        body: Vec<Value>,
    ) -> Result<Vec<Value>, SecretServiceError> {
        Ok(self
            .connection
            .call(Message::method_call(SERVICE, path, interface, member, body))?)
    }

    /// Unlocked and locked items with these attributes, sorted by path.
    fn search(
        &mut self,
        service: &str,
        account: &str,
    ) -> Result<(Vec<String>, Vec<String>), SecretServiceError> {
        let reply = self.call(
            SERVICE_PATH,
            SERVICE_INTERFACE,
            "SearchItems",
            vec![Value::string_dict(&[
                ("service", service),
                ("username", account),
            ])],
        )?;
        Ok((paths_at(&reply, 0)?, paths_at(&reply, 1)?))
    }

    /// Every matching item, unlocked (through the service's prompt when needed).
    fn unlocked_items(
        &mut self,
        service: &str,
        account: &str,
    ) -> Result<Vec<String>, SecretServiceError> {
        let (mut unlocked, locked) = self.search(service, account)?;
        if !locked.is_empty() {
            unlocked.extend(self.unlock(&locked)?);
        }
        unlocked.sort();
        unlocked.dedup();
        Ok(unlocked)
    }

    fn unlock(&mut self, objects: &[String]) -> Result<Vec<String>, SecretServiceError> {
        let list = Value::Array {
            element: "o".to_string(),
            items: objects.iter().map(|path| Value::path(path)).collect(),
        };
        let reply = self.call(SERVICE_PATH, SERVICE_INTERFACE, "Unlock", vec![list])?;
        let mut unlocked = paths_at(&reply, 0)?;
        let prompt = path_at(&reply, 1)?;
        if prompt != "/" {
            let result = self.prompt(&prompt)?;
            if let Some(items) = result.as_array() {
                unlocked.extend(items.iter().filter_map(Value::as_str).map(str::to_string));
            }
        }
        if unlocked.len() < objects.len() {
            return Err(SecretServiceError::Failed(
                "the keyring stayed locked; unlock it (e.g. in Seahorse) and try again".into(),
            ));
        }
        Ok(unlocked)
    }

    /// Show the service's prompt and wait for `Completed`; its result when not dismissed.
    fn prompt(&mut self, prompt: &str) -> Result<Value, SecretServiceError> {
        self.connection.add_match(&format!(
            "type='signal',sender='{SERVICE}',interface='{PROMPT_INTERFACE}',member='Completed',path='{prompt}'"
        ))?;
        self.call(prompt, PROMPT_INTERFACE, "Prompt", vec![Value::str("")])?;
        let signal = self
            .connection
            .wait_for_signal(PROMPT_TIMEOUT, |message| {
                message.path.as_deref() == Some(prompt)
                    && message.interface.as_deref() == Some(PROMPT_INTERFACE)
                    && message.member.as_deref() == Some("Completed")
            })
            .map_err(|error| match error {
                BusError::Timeout(_) => SecretServiceError::Failed(
                    "nobody answered the keyring prompt within 2 minutes".into(),
                ),
                other => other.into(),
            })?;
        match signal.body.as_slice() {
            [Value::Bool(false), result] => Ok(result.unwrap_variant().clone()),
            [Value::Bool(true), _] => Err(SecretServiceError::Failed(
                "the keyring prompt was dismissed".into(),
            )),
            _ => Err(SecretServiceError::Failed(
                "unexpected prompt completion".into(),
            )),
        }
    }

    fn read_secret(&mut self, item: &str) -> Result<String, SecretServiceError> {
        let session = Value::path(&self.session);
        let reply = self.call(item, ITEM_INTERFACE, "GetSecret", vec![session])?;
        let fields = reply.first().and_then(Value::as_struct).unwrap_or_default();
        let Some(Value::Bytes(value)) = fields.get(2) else {
            return Err(SecretServiceError::Failed("malformed secret".into()));
        };
        String::from_utf8(value.clone())
            .map_err(|_| SecretServiceError::Failed("the stored secret is not UTF-8".into()))
    }

    fn secret(&self, value: &str) -> Value {
        Value::Struct(vec![
            Value::path(&self.session),
            Value::Bytes(Vec::new()),
            Value::Bytes(value.as_bytes().to_vec()),
            Value::str("text/plain"),
        ])
    }

    /// The entry's value; with several matching items, the first by path.
    pub fn get(
        &mut self,
        service: &str,
        account: &str,
    ) -> Result<Option<String>, SecretServiceError> {
        match self.unlocked_items(service, account)?.first() {
            Some(item) => self.read_secret(&item.clone()).map(Some),
            None => Ok(None),
        }
    }

    /// Replace the entry: one existing item gets the new value; otherwise the matching items
    /// are removed and one is created in the default collection.
    pub fn set(
        &mut self,
        service: &str,
        account: &str,
        value: &str,
    ) -> Result<(), SecretServiceError> {
        let items = self.unlocked_items(service, account)?;
        if let [item] = items.as_slice() {
            let secret = self.secret(value);
            self.call(item, ITEM_INTERFACE, "SetSecret", vec![secret])?;
            return Ok(());
        }
        for item in &items {
            self.delete_item(item)?;
        }
        let collection = self.default_collection_path()?;
        self.unlock(std::slice::from_ref(&collection))?;
        let label = format!("Codex CLI credentials ({account})");
        let attributes = Value::string_dict(&[
            ("service", service),
            ("username", account),
            ("target", "default"),
            ("application", "codex"),
        ]);
        let properties = Value::Array {
            element: "{sv}".to_string(),
            items: vec![
                Value::DictEntry(
                    Box::new(Value::str("org.freedesktop.Secret.Item.Label")),
                    Box::new(Value::variant(Value::str(&label))),
                ),
                Value::DictEntry(
                    Box::new(Value::str("org.freedesktop.Secret.Item.Attributes")),
                    Box::new(Value::variant(attributes)),
                ),
            ],
        };
        let secret = self.secret(value);
        let reply = self.call(
            &collection,
            COLLECTION_INTERFACE,
            "CreateItem",
            vec![properties, secret, Value::Bool(true)],
        )?;
        let prompt = path_at(&reply, 1)?;
        if path_at(&reply, 0)? == "/" && prompt != "/" {
            self.prompt(&prompt)?;
        }
        Ok(())
    }

    fn delete_item(&mut self, item: &str) -> Result<(), SecretServiceError> {
        let reply = self.call(item, ITEM_INTERFACE, "Delete", Vec::new())?;
        let prompt = path_at(&reply, 0)?;
        if prompt != "/" {
            self.prompt(&prompt)?;
        }
        Ok(())
    }

    /// Remove every matching item; `Ok(true)` when there was one.
    pub fn delete(&mut self, service: &str, account: &str) -> Result<bool, SecretServiceError> {
        let items = self.unlocked_items(service, account)?;
        for item in &items {
            self.delete_item(item)?;
        }
        Ok(!items.is_empty())
    }

    /// Which collection holds the entry, if any (locked items count; nothing is unlocked).
    pub fn locate(
        &mut self,
        service: &str,
        account: &str,
    ) -> Result<Option<SecretServiceItem>, SecretServiceError> {
        let (unlocked, locked) = self.search(service, account)?;
        let mut items: Vec<String> = unlocked.into_iter().chain(locked).collect();
        items.sort();
        let Some(item) = items.first() else {
            return Ok(None);
        };
        // Items live below their collection: `/org/freedesktop/secrets/collection/<c>/<i>`.
        let collection = item
            .rsplit_once('/')
            .map_or(item.as_str(), |(parent, _)| parent)
            .to_string();
        Ok(Some(self.describe_collection(collection)))
    }

    /// The collection a new entry is created in (the `default` alias), as [`Self::locate`]
    /// describes it. Nothing is unlocked or created.
    pub fn default_collection(&mut self) -> Result<SecretServiceItem, SecretServiceError> {
        let collection = self.default_collection_path()?;
        Ok(self.describe_collection(collection))
    }

    /// The object path of the `default` alias.
    fn default_collection_path(&mut self) -> Result<String, SecretServiceError> {
        let reply = self.call(
            SERVICE_PATH,
            SERVICE_INTERFACE,
            "ReadAlias",
            vec![Value::str("default")],
        )?;
        let collection = path_at(&reply, 0)?;
        if collection == "/" {
            return Err(SecretServiceError::Failed(
                "there is no default keyring; create one (e.g. in Seahorse) or set `cli_auth_credentials_store = \"file\"`".into(),
            ));
        }
        Ok(collection)
    }

    /// The collection's label (its object path when it has none) and whether it is kept on disk.
    fn describe_collection(&mut self, collection: String) -> SecretServiceItem {
        let reply = self.call(
            &collection,
            PROPERTIES_INTERFACE,
            "Get",
            vec![Value::str(COLLECTION_INTERFACE), Value::str("Label")],
        );
        let label = match reply {
            Ok(values) => values
                .first()
                .map(Value::unwrap_variant)
                .and_then(Value::as_str)
                .filter(|label| !label.is_empty())
                .map(str::to_string),
            Err(_) => None,
        };
        SecretServiceItem {
            persistent: collection != SESSION_COLLECTION,
            collection: label.unwrap_or(collection),
        }
    }
}

fn service_call(member: &str, body: Vec<Value>) -> Message {
    Message::method_call(SERVICE, SERVICE_PATH, SERVICE_INTERFACE, member, body)
}

fn path_at(reply: &[Value], index: usize) -> Result<String, SecretServiceError> {
    match reply.get(index) {
        Some(Value::ObjectPath(path)) => Ok(path.clone()),
        _ => Err(SecretServiceError::Failed(
            "unexpected reply from the Secret Service".into(),
        )),
    }
}

fn paths_at(reply: &[Value], index: usize) -> Result<Vec<String>, SecretServiceError> {
    let items = reply.get(index).and_then(Value::as_array).ok_or_else(|| {
        SecretServiceError::Failed("unexpected reply from the Secret Service".into())
    })?;
    Ok(items
        .iter()
        .filter_map(|item| match item {
            Value::ObjectPath(path) => Some(path.clone()),
            _ => None,
        })
        .collect())
}
