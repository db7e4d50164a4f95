//! Secrets in the merged configuration, hidden wherever it is shown (`codex config show`, its
//! `--json` form, `Debug`).
//!
//! A value is a secret when its key says so (`experimental_bearer_token`, `*token`, `*secret*`,
//! `*password*`, `*api_key*`, `authorization`) or when it sits in a table of literal header values
//! or environment values (`http_headers`, `env`). Keys that only *name* an environment variable
//! (`env_key`, `env_http_headers`, `*_env_var`) hold no secret and are shown.

use toml::{Table, Value};

/// What a secret is shown as.
pub const REDACTED: &str = "<redacted>";

/// Tables whose every value is a secret (literal HTTP header values, environment values of MCP
/// servers).
const SECRET_TABLES: &[&str] = &["http_headers", "env"];

fn names_an_env_var(key: &str) -> bool {
    key.starts_with("env_") || key.ends_with("_env_var") || key.ends_with("_env")
}

/// Whether the value under `key` is a secret by its name.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    if names_an_env_var(&key) {
        return false;
    }
    key.ends_with("token")
        || key.contains("secret")
        || key.contains("password")
        || key.contains("api_key")
        || key.contains("apikey")
        || key == "authorization"
}

/// `table` with every secret replaced by [`REDACTED`]; structure and every other value kept.
pub(crate) fn redacted(table: &Table) -> Table {
    table
        .iter()
        .map(|(key, value)| {
            let value = if SECRET_TABLES.contains(&key.as_str()) || is_secret_key(key) {
                redact_all(value)
            } else {
                match value {
                    Value::Table(inner) => Value::Table(redacted(inner)),
                    Value::Array(items) => {
                        Value::Array(items.iter().map(redact_in_array).collect())
                    }
                    other => other.clone(),
                }
            };
            (key.clone(), value)
        })
        .collect()
}

fn redact_in_array(value: &Value) -> Value {
    match value {
        Value::Table(inner) => Value::Table(redacted(inner)),
        Value::Array(items) => Value::Array(items.iter().map(redact_in_array).collect()),
        other => other.clone(),
    }
}

/// Every scalar below `value` replaced (tables keep their keys: which headers are set is no
/// secret).
fn redact_all(value: &Value) -> Value {
    match value {
        Value::Table(inner) => Value::Table(
            inner
                .iter()
                .map(|(key, value)| (key.clone(), redact_all(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_all).collect()),
        _ => Value::String(REDACTED.to_string()),
    }
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
