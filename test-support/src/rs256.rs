//! [`Rs256Signer`]: RS256 JSON Web Tokens signed with a committed, test-only RSA key, and the
//! JWKS document that verifies them.

use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents};
use serde_json::{Value, json};

/// A 2048-bit RSA key in PKCS#8, generated for these tests only (it protects nothing).
const TEST_KEY: &[u8] = include_bytes!("../fixtures/rs256-test-key.pk8");

/// Signs JWTs with the test key.
pub struct Rs256Signer {
    key_pair: RsaKeyPair,
}

impl Rs256Signer {
    /// The signer for the committed test key.
    pub fn test_key() -> Rs256Signer {
        let key_pair = RsaKeyPair::from_pkcs8(TEST_KEY)
            .unwrap_or_else(|error| panic!("the committed test key does not parse: {error}"));
        Rs256Signer { key_pair }
    }

    /// The public key as one JWK (`kty` RSA, `alg` RS256, `use` sig) named `kid`.
    pub fn jwk(&self, kid: &str) -> Value {
        let components: RsaPublicKeyComponents<Vec<u8>> = self.key_pair.public().into();
        json!({
            "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": base64url(&components.n), "e": base64url(&components.e),
        })
    }

    /// A JWKS document (`{"keys": [...]}`) with the public key named `kid`.
    pub fn jwks(&self, kid: &str) -> Value {
        json!({ "keys": [self.jwk(kid)] })
    }

    /// `header.claims.signature`, the signature RS256 over the first two parts whatever the
    /// header says (so tests can lie in the header).
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            base64url(header.to_string().as_bytes()),
            base64url(claims.to_string().as_bytes())
        );
        let mut signature = vec![0; self.key_pair.public().modulus_len()];
        self.key_pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .unwrap_or_else(|error| panic!("RS256 signing failed: {error}"));
        format!("{input}.{}", base64url(&signature))
    }

    /// A token with the header `{"alg": "RS256", "typ": "JWT", "kid": kid}`.
    pub fn sign_with_kid(&self, kid: &str, claims: &Value) -> String {
        self.sign(&json!({"alg": "RS256", "typ": "JWT", "kid": kid}), claims)
    }
}

/// Base64url without padding (RFC 7515 §2), as JWTs and JWKs use it.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let value = chunk.iter().enumerate().fold(0u32, |value, (index, byte)| {
            value | (u32::from(*byte) << (16 - 8 * index))
        });
        for position in 0..=chunk.len() {
            let index = (value >> (18 - 6 * position)) & 0x3f;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use ring::signature::RSA_PKCS1_2048_8192_SHA256;

    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_vectors_without_padding() {
        let cases = [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64url(input.as_bytes()), expected);
        }
        assert_eq!(base64url(&[0xfb, 0xff, 0xbf]), "-_-_");
    }

    fn decode(text: &str) -> Vec<u8> {
        let value = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            _ => 63,
        };
        let mut out = Vec::new();
        for chunk in text.as_bytes().chunks(4) {
            let bits = chunk.iter().enumerate().fold(0u32, |bits, (index, c)| {
                bits | (u32::from(value(*c)) << (18 - 6 * index))
            });
            for index in 0..chunk.len() - 1 {
                out.push((bits >> (16 - 8 * index)) as u8);
            }
        }
        out
    }

    #[test]
    fn signature_verifies_with_the_published_key_and_not_after_tampering() {
        let signer = Rs256Signer::test_key();
        let token = signer.sign_with_kid("key-1", &json!({"sub": "x"}));
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            serde_json::from_slice::<Value>(&decode(parts[0])).unwrap(),
            json!({"alg": "RS256", "typ": "JWT", "kid": "key-1"})
        );
        let jwks = signer.jwks("key-1");
        assert_eq!(jwks["keys"][0]["kid"], "key-1");
        let n = decode(jwks["keys"][0]["n"].as_str().unwrap());
        let e = decode(jwks["keys"][0]["e"].as_str().unwrap());
        let public = ring::signature::RsaPublicKeyComponents { n: &n, e: &e };
        let input = format!("{}.{}", parts[0], parts[1]);
        let signature = decode(parts[2]);
        public
            .verify(&RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &signature)
            .unwrap();
        let tampered = format!("{}.{}", parts[0], base64url(br#"{"sub":"y"}"#));
        assert!(
            public
                .verify(&RSA_PKCS1_2048_8192_SHA256, tampered.as_bytes(), &signature)
                .is_err()
        );
    }
}
