//! Splitting a compact JWT (`header.payload.signature`) and base64url helpers.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Why a string is not a well-formed compact JWT. Callers map these to their own messages
/// (`invalid ID token format`, `invalid agent identity JWT format`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwtFormatError {
    #[error("a JWT has exactly three non-empty dot-separated parts")]
    Shape,
    #[error("the JWT header is not valid base64url")]
    HeaderEncoding,
    #[error("the JWT payload is not valid base64url")]
    PayloadEncoding,
    #[error("the JWT signature is not valid base64url")]
    SignatureEncoding,
}

/// The three decoded parts of a compact JWT. `signing_input` is `header.payload` exactly as
/// received, which is what the signature covers.
pub struct RawJwt<'a> {
    pub header: Vec<u8>,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
    pub signing_input: &'a str,
}

impl<'a> RawJwt<'a> {
    /// Split and decode `token`. Surrounding whitespace is not trimmed: a token is either exactly
    /// a JWT or it is not.
    pub fn parse(token: &'a str) -> Result<RawJwt<'a>, JwtFormatError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtFormatError::Shape);
        };
        if header.is_empty() || payload.is_empty() || signature.is_empty() {
            return Err(JwtFormatError::Shape);
        }
        let signing_input = &token[..header.len() + 1 + payload.len()];
        Ok(RawJwt {
            header: base64url_decode(header).ok_or(JwtFormatError::HeaderEncoding)?,
            payload: base64url_decode(payload).ok_or(JwtFormatError::PayloadEncoding)?,
            signature: base64url_decode(signature).ok_or(JwtFormatError::SignatureEncoding)?,
            signing_input,
        })
    }
}

/// Decode base64url without padding (trailing `=` is tolerated). `None` when invalid.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// Encode as base64url without padding.
pub fn base64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_three_parts_and_keeps_the_signing_input() {
        let token = format!(
            "{}.{}.{}",
            base64url_encode(br#"{"alg":"RS256"}"#),
            base64url_encode(br#"{"sub":"x"}"#),
            base64url_encode(b"sig")
        );
        let jwt = RawJwt::parse(&token).unwrap();
        assert_eq!(jwt.header, br#"{"alg":"RS256"}"#);
        assert_eq!(jwt.payload, br#"{"sub":"x"}"#);
        assert_eq!(jwt.signature, b"sig");
        assert_eq!(
            jwt.signing_input,
            token.rsplit_once('.').map(|(head, _)| head).unwrap()
        );
    }

    #[test]
    fn rejects_wrong_shapes() {
        for token in ["", "a", "a.b", "a.b.c.d", "a..c", ".b.c", "a.b.", "a.b.c "] {
            let result = RawJwt::parse(token).map(|_| ());
            assert!(result.is_err(), "{token:?} should be rejected");
        }
        assert_eq!(RawJwt::parse("a.b").err(), Some(JwtFormatError::Shape));
        assert_eq!(
            RawJwt::parse("e30.!!!.c2ln").err(),
            Some(JwtFormatError::PayloadEncoding)
        );
    }
}
