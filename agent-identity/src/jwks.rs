//! JWKS documents (RFC 7517) and where the agent-identity JWKS lives.

use serde::Deserialize;

use crate::jwt::base64url_decode;
use crate::text::printable;

/// The RSA signing keys of a JWKS document, by `kid`. Keys that are not RSA signing keys, or that
/// declare an algorithm other than RS256, are ignored.
#[derive(Debug, Clone, Default)]
pub struct Jwks {
    keys: Vec<RsaJwk>,
}

#[derive(Debug, Clone)]
pub(crate) struct RsaJwk {
    pub(crate) kid: String,
    /// Big-endian modulus, without leading zero bytes.
    pub(crate) modulus: Vec<u8>,
    /// Big-endian public exponent, without leading zero bytes.
    pub(crate) exponent: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ParseJwksError {
    #[error("the JWKS document is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The `kid` is the document's: it is filtered for the terminal when displayed.
    #[error("JWKS key `{}` has an invalid `{field}` value", printable(.kid))]
    KeyMaterial { kid: String, field: &'static str },
}

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<JwkDocument>,
}

#[derive(Deserialize)]
struct JwkDocument {
    kty: String,
    kid: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    alg: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

impl Jwks {
    /// Parse a JWKS JSON document.
    pub fn parse(bytes: &[u8]) -> Result<Jwks, ParseJwksError> {
        let document: JwksDocument = serde_json::from_slice(bytes)?;
        let mut keys = Vec::new();
        for key in document.keys {
            let usable = key.kty == "RSA"
                && key.usage.as_deref().is_none_or(|usage| usage == "sig")
                && key.alg.as_deref().is_none_or(|alg| alg == "RS256");
            let (true, Some(kid), Some(n), Some(e)) = (usable, key.kid, key.n, key.e) else {
                continue;
            };
            let decode = |field: &'static str, text: &str| {
                base64url_decode(text)
                    .map(strip_leading_zeros)
                    .filter(|bytes| !bytes.is_empty())
                    .ok_or_else(|| ParseJwksError::KeyMaterial {
                        kid: kid.clone(),
                        field,
                    })
            };
            let modulus = decode("n", &n)?;
            let exponent = decode("e", &e)?;
            keys.push(RsaJwk {
                kid,
                modulus,
                exponent,
            });
        }
        Ok(Jwks { keys })
    }

    pub(crate) fn key(&self, kid: &str) -> Option<&RsaJwk> {
        self.keys.iter().find(|key| key.kid == kid)
    }

    /// The `kid`s of the usable keys, in document order.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|key| key.kid.as_str())
    }
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|byte| **byte == 0).count();
    bytes.drain(..zeros);
    bytes
}

/// The JWKS URL for a ChatGPT base URL: the "codex API base" plus `/agent-identities/jwks`.
/// A base ending in `/api/codex` or `/backend-api/codex` is used as is, `/backend-api` gets
/// `/codex`, anything else gets `/api/codex`. Trailing slashes are ignored.
pub fn agent_identity_jwks_url(chatgpt_base_url: &str) -> String {
    let base = chatgpt_base_url.trim_end_matches('/');
    let codex_base = if base.ends_with("/api/codex") || base.ends_with("/backend-api/codex") {
        base.to_string()
    } else if base.ends_with("/backend-api") {
        format!("{base}/codex")
    } else {
        format!("{base}/api/codex")
    };
    format!("{codex_base}/agent-identities/jwks")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_identity_jwks_url_follows_the_codex_api_base() {
        assert_eq!(
            agent_identity_jwks_url("https://chatgpt.com/backend-api"),
            "https://chatgpt.com/backend-api/codex/agent-identities/jwks"
        );
        assert_eq!(
            agent_identity_jwks_url("https://chatgpt.com/backend-api/"),
            "https://chatgpt.com/backend-api/codex/agent-identities/jwks"
        );
        assert_eq!(
            agent_identity_jwks_url("http://127.0.0.1:9/backend-api/codex"),
            "http://127.0.0.1:9/backend-api/codex/agent-identities/jwks"
        );
        assert_eq!(
            agent_identity_jwks_url("http://127.0.0.1:9/api/codex"),
            "http://127.0.0.1:9/api/codex/agent-identities/jwks"
        );
        assert_eq!(
            agent_identity_jwks_url("http://127.0.0.1:9"),
            "http://127.0.0.1:9/api/codex/agent-identities/jwks"
        );
    }

    #[test]
    fn parse_keeps_only_rsa_signing_keys() {
        let document = br#"{"keys":[
            {"kty":"RSA","kid":"a","n":"AAEC","e":"AQAB","alg":"RS256","use":"sig"},
            {"kty":"EC","kid":"b","crv":"P-256","x":"AA","y":"AA"},
            {"kty":"RSA","kid":"c","n":"AQ","e":"AQAB","alg":"RS512"},
            {"kty":"RSA","kid":"d","n":"AQ","e":"AQAB","use":"enc"},
            {"kty":"RSA","n":"AQ","e":"AQAB"}
        ]}"#;
        let jwks = Jwks::parse(document).unwrap();
        assert_eq!(jwks.kids().collect::<Vec<_>>(), vec!["a"]);
        let key = jwks.key("a").unwrap();
        assert_eq!(key.modulus, vec![1, 2]);
        assert_eq!(key.exponent, vec![1, 0, 1]);
    }

    #[test]
    fn parse_rejects_bad_key_material_and_bad_json() {
        let bad = br#"{"keys":[{"kty":"RSA","kid":"a","n":"!!","e":"AQAB"}]}"#;
        assert!(matches!(
            Jwks::parse(bad),
            Err(ParseJwksError::KeyMaterial { field: "n", .. })
        ));
        assert!(matches!(
            Jwks::parse(b"not json"),
            Err(ParseJwksError::Json(_))
        ));
    }

    /// Regression: a `kid` from the JWKS document reached the terminal unfiltered.
    #[test]
    fn key_material_error_prints_escape_sequences() {
        let kid = format!("a\u{1b}[2J\u{1b}]8;;http://evil\u{7}{}", "k".repeat(400));
        let document =
            serde_json::json!({"keys": [{"kty": "RSA", "kid": kid, "n": "!!", "e": "AQAB"}]});
        let message = Jwks::parse(document.to_string().as_bytes())
            .unwrap_err()
            .to_string();
        assert!(!message.chars().any(char::is_control), "{message:?}");
        assert!(
            message.starts_with("JWKS key `a [2J ]8;;http://evil kkk"),
            "{message}"
        );
        assert!(
            message.ends_with("k` has an invalid `n` value"),
            "{message}"
        );
        assert!(message.len() < 260, "{}", message.len());
    }
}
