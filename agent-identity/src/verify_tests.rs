use codex_test_support::Rs256Signer;
use serde_json::json;

use super::*;
use crate::PlanType;
use crate::jwt::base64url_encode;

const NOW: i64 = 1_800_000_000;

fn jwks_for(kid: &str) -> Jwks {
    let document = Rs256Signer::test_key().jwks(kid);
    Jwks::parse(document.to_string().as_bytes()).unwrap()
}

fn sign(header: serde_json::Value, claims: serde_json::Value) -> String {
    Rs256Signer::test_key().sign(&header, &claims)
}

fn claims() -> serde_json::Value {
    json!({
        "iss": AGENT_IDENTITY_ISSUER, "aud": AGENT_IDENTITY_AUDIENCE,
        "iat": NOW - 10, "exp": NOW + 3600,
        "agent_runtime_id": "runtime-1", "agent_private_key": "c2VjcmV0",
        "account_id": "org_mine", "chatgpt_user_id": "user-1", "email": "a@example.com",
        "plan_type": "hc", "chatgpt_account_is_fedramp": false
    })
}

fn header() -> serde_json::Value {
    json!({"alg": "RS256", "typ": "JWT", "kid": "key-1"})
}

#[test]
fn decode_agent_identity_jwt_verifies_when_jwks_is_present() {
    let token = sign(header(), claims());
    let verified = verify_agent_identity_jwt(&token, &jwks_for("key-1"), NOW).unwrap();
    assert_eq!(verified.account_id, "org_mine");
    assert_eq!(verified.agent_runtime_id, "runtime-1");
}

#[test]
fn decode_agent_identity_jwt_maps_raw_plan_aliases() {
    let token = sign(header(), claims());
    let verified = verify_agent_identity_jwt(&token, &jwks_for("key-1"), NOW).unwrap();
    assert_eq!(verified.plan_type, PlanType::Enterprise);
}

#[test]
fn decode_agent_identity_jwt_rejects_untrusted_kid() {
    let token = sign(header(), claims());
    let error = verify_agent_identity_jwt(&token, &jwks_for("other"), NOW).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the access token is signed with key `key-1`, which the trusted key set (JWKS) does not list"
    );
}

/// Regression: the token's `kid` reached the terminal unfiltered (escape-sequence injection).
#[test]
fn untrusted_kid_error_prints_escape_sequences() {
    let kid = format!("k\u{1b}]0;owned\u{7}\u{1b}[31m\u{202e}{}", "x".repeat(400));
    let token = sign(json!({"alg": "RS256", "kid": kid}), claims());
    let error = verify_agent_identity_jwt(&token, &jwks_for("key-1"), NOW).unwrap_err();
    assert_eq!(error, AgentIdentityJwtError::UntrustedKid(kid));
    let message = error.to_string();
    assert!(!message.chars().any(char::is_control), "{message:?}");
    assert!(!message.contains('\u{202e}'), "{message:?}");
    assert!(
        message.starts_with("the access token is signed with key `k ]0;owned  [31m xxx"),
        "{message}"
    );
    assert!(
        message.ends_with("x`, which the trusted key set (JWKS) does not list"),
        "{message}"
    );
    assert!(message.len() < 320, "{}", message.len());
}

#[test]
fn decode_agent_identity_jwt_requires_a_kid() {
    let token = sign(json!({"alg": "RS256"}), claims());
    let error = verify_agent_identity_jwt(&token, &jwks_for("key-1"), NOW).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the access token's JWT header does not name its signing key (`kid`)"
    );
}

#[test]
fn decode_agent_identity_jwt_requires_issuer_and_audience() {
    for (field, value) in [
        ("iss", None),
        ("iss", Some(json!("https://evil.example/"))),
        ("aud", None),
        ("aud", Some(json!("someone-else"))),
    ] {
        let mut claims = claims();
        match value {
            Some(value) => claims[field] = value,
            None => {
                claims.as_object_mut().unwrap().remove(field);
            }
        }
        let token = sign(header(), claims);
        let error = verify_agent_identity_jwt(&token, &jwks_for("key-1"), NOW).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the access token is not valid: the `"),
            "{field}: {error}"
        );
    }
}

#[test]
fn rejects_expired_tokens_after_the_leeway() {
    let mut expired = claims();
    expired["exp"] = json!(NOW - 61);
    let token = sign(header(), expired);
    let error = verify_agent_identity_jwt(&token, &jwks_for("key-1"), NOW).unwrap_err();
    assert_eq!(error, AgentIdentityJwtError::Expired(61));
    assert_eq!(
        error.to_string(),
        "the access token expired 61s ago; get a new token"
    );
    assert_eq!(
        precheck_agent_identity_jwt(&token, NOW).unwrap_err(),
        AgentIdentityJwtError::Expired(61)
    );

    let mut within_leeway = claims();
    within_leeway["exp"] = json!(NOW - 30);
    let token = sign(header(), within_leeway);
    assert!(verify_agent_identity_jwt(&token, &jwks_for("key-1"), NOW).is_ok());
}

#[test]
fn rejects_a_tampered_payload_and_other_algorithms() {
    let token = sign(header(), claims());
    let (head, rest) = token.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let mut forged_claims = claims();
    forged_claims["account_id"] = json!("org_other");
    let forged = format!(
        "{head}.{}.{signature}",
        base64url_encode(forged_claims.to_string().as_bytes())
    );
    let error = verify_agent_identity_jwt(&forged, &jwks_for("key-1"), NOW).unwrap_err();
    assert_eq!(
        error,
        AgentIdentityJwtError::Verification("its signature does not match")
    );

    let none = sign(json!({"alg": "none", "kid": "key-1"}), claims());
    let error = verify_agent_identity_jwt(&none, &jwks_for("key-1"), NOW).unwrap_err();
    assert_eq!(
        error,
        AgentIdentityJwtError::Verification("its JWT algorithm is not RS256")
    );
}

#[test]
fn decode_agent_identity_jwt_reads_claims_without_verification() {
    let unsigned = format!(
        "{}.{}.c2ln",
        base64url_encode(b"{\"alg\":\"none\"}"),
        base64url_encode(claims().to_string().as_bytes())
    );
    let decoded = decode_agent_identity_jwt_unverified(&unsigned).unwrap();
    assert_eq!(decoded.email, "a@example.com");
    assert_eq!(
        decode_agent_identity_jwt_unverified("a.b").unwrap_err(),
        AgentIdentityJwtError::Format
    );
    assert_eq!(
        decode_agent_identity_jwt_unverified("e30.***.c2ln").unwrap_err(),
        AgentIdentityJwtError::PayloadEncoding
    );
    assert_eq!(
        decode_agent_identity_jwt_unverified("e30.bm90IGpzb24.c2ln").unwrap_err(),
        AgentIdentityJwtError::PayloadJson
    );
}

#[test]
fn precheck_needs_no_key_and_catches_what_it_can() {
    let token = sign(header(), claims());
    assert_eq!(
        precheck_agent_identity_jwt(&token, NOW).unwrap().account_id,
        "org_mine"
    );
    assert_eq!(
        precheck_agent_identity_jwt("garbage", NOW).unwrap_err(),
        AgentIdentityJwtError::Format
    );
    assert_eq!(
        precheck_agent_identity_jwt("***.e30.c2ln", NOW).unwrap_err(),
        AgentIdentityJwtError::Header
    );
    let no_kid = sign(json!({"alg": "RS256"}), claims());
    assert_eq!(
        precheck_agent_identity_jwt(&no_kid, NOW).unwrap_err(),
        AgentIdentityJwtError::MissingKid
    );
    let huge = "a".repeat(16 * 1024 + 1);
    assert_eq!(
        precheck_agent_identity_jwt(&huge, NOW).unwrap_err(),
        AgentIdentityJwtError::TooLong
    );
    assert_eq!(
        AgentIdentityJwtError::Format.to_string(),
        "the access token is neither a personal access token (`at-…`) nor a JWT (`header.payload.signature`, base64url parts)"
    );
}

#[test]
fn expiry_is_described_in_the_largest_whole_unit() {
    for (seconds, text) in [(61, "61s"), (600, "10m"), (7_200, "2h"), (3 * 86_400, "3d")] {
        assert_eq!(
            AgentIdentityJwtError::Expired(seconds).to_string(),
            format!("the access token expired {text} ago; get a new token")
        );
    }
}
