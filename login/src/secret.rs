//! `Secret`: a string that never prints. No `Display`; `Debug` shows `<redacted>`.

use serde::{Deserialize, Serialize};

/// A credential (API key, token, code verifier…). Read it with [`Secret::expose`] only where it
/// is sent over the wire or stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret value, for the wire or the store. Never format it into messages or logs.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Replace every occurrence of this secret in `text` with `<redacted>`.
    pub fn redact_in(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_string();
        }
        text.replace(&self.0, "<redacted>")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("sk-very-secret");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(Secret(<redacted>))");
    }

    #[test]
    fn serializes_transparently_and_redacts_text() {
        let secret = Secret::new("tok-123456");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"tok-123456\"");
        assert_eq!(
            secret.redact_in("bad token tok-123456 here"),
            "bad token <redacted> here"
        );
    }
}
