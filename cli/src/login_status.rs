//! `codex login status [--json]`: which credentials a command would use and where they are
//! kept. Text goes to stderr (as upstream); `--json` prints one object on stdout.

use std::process::ExitCode;

use codex_login::{
    ApiKeyEnv, AuthManager, CodexAuth, CredentialLocation, CredentialSource, CredentialsStore,
    KeyringLocation, LoadAuthError, mask_api_key,
};
use serde_json::{Value, json};

/// Stable names of `cli_auth_credentials_store` values.
pub fn mode_name(mode: CredentialsStore) -> &'static str {
    match mode {
        CredentialsStore::File => "file",
        CredentialsStore::Keyring => "keyring",
        CredentialsStore::Auto => "auto",
        CredentialsStore::Ephemeral => "ephemeral",
    }
}

/// The line after the status line for the keyring-backed stores (the file store keeps
/// upstream's single line): where the credentials are and whether they survive a reboot.
fn location_line(location: &CredentialLocation) -> String {
    let persistence = if location.persists_across_reboots() {
        "persists across reboots".to_string()
    } else {
        match location {
            CredentialLocation::Keyring(KeyringLocation::KernelUserKeyring {
                secret_service: Some(reason),
            }) => format!("lost at reboot; Secret Service not used: {reason}"),
            _ => "lost at reboot".to_string(),
        }
    };
    format!("Stored in {location} ({persistence})")
}

/// The `store` object of `login status --json` (also in `codex doctor --json`).
pub fn location_json(mode: CredentialsStore, location: Option<&CredentialLocation>) -> Value {
    let (kind, path, keyring) = match location {
        None => (Value::Null, Value::Null, Value::Null),
        Some(CredentialLocation::File(path)) => {
            (json!("file"), json!(path.to_string_lossy()), Value::Null)
        }
        Some(CredentialLocation::Memory) => (json!("memory"), Value::Null, Value::Null),
        Some(CredentialLocation::Keyring(keyring)) => match keyring {
            KeyringLocation::SecretService { collection, .. } => {
                (json!("secret_service"), Value::Null, json!(collection))
            }
            KeyringLocation::KernelUserKeyring { .. } => {
                (json!("kernel_keyring"), Value::Null, Value::Null)
            }
            KeyringLocation::Other(name) => (json!("other"), Value::Null, json!(name)),
        },
    };
    json!({
        "mode": mode_name(mode),
        "location": kind,
        "path": path,
        "collection": keyring,
        "persists_across_reboots": location.map(CredentialLocation::persists_across_reboots),
    })
}

fn auth_json(auth: &CodexAuth) -> Value {
    let api_key = match auth {
        CodexAuth::ApiKey { key, .. } => json!(mask_api_key(key)),
        _ => Value::Null,
    };
    let email = match auth {
        CodexAuth::Chatgpt { id_token, .. } => json!(id_token.email),
        CodexAuth::PersonalAccessToken { metadata, .. } => json!(metadata.email),
        _ => Value::Null,
    };
    json!({
        "method": auth.kind_name(),
        "source": match auth.source() {
            CredentialSource::Environment => "environment",
            CredentialSource::Store => "store",
        },
        "api_key": api_key,
        "email": email,
        "workspace": auth.account_id(),
    })
}

pub fn run(manager: &AuthManager, json: bool) -> ExitCode {
    let mode = manager.settings().store_mode;
    let resolved = manager.resolve(ApiKeyEnv::Disabled);
    let location = match &resolved {
        Ok(Some(auth)) if auth.source() == CredentialSource::Environment => None,
        Ok(_) => manager.store().locate().ok().flatten(),
        Err(_) => None,
    };
    let (code, text, error) = match &resolved {
        Ok(Some(auth)) => (0, auth.status_line(), None),
        Ok(None) => (1, "Not logged in".to_string(), None),
        Err(error @ LoadAuthError::MissingApiKey) => {
            let text = format!("Unexpected error retrieving API key: {error}");
            (1, text.clone(), Some(text))
        }
        Err(error) => {
            let text = format!("Error checking login status: {error}");
            (1, text.clone(), Some(text))
        }
    };
    eprintln!("{text}");
    if let Some(location) = &location
        && mode != CredentialsStore::File
        && code == 0
    {
        eprintln!("{}", location_line(location));
    }
    if json {
        let mut value = match &resolved {
            Ok(Some(auth)) => auth_json(auth),
            _ => {
                json!({"method": null, "source": null, "api_key": null, "email": null, "workspace": null})
            }
        };
        if let Value::Object(map) = &mut value {
            map.insert("logged_in".into(), json!(code == 0));
            map.insert("store".into(), location_json(mode, location.as_ref()));
            map.insert("error".into(), json!(error));
        }
        if crate::output::line(&value).is_err() {
            return ExitCode::from(crate::output::STDOUT_CLOSED_EXIT);
        }
    }
    ExitCode::from(code)
}
