//! Access-token JWTs: splitting and decoding JWTs, the agent-identity claim set, the plan
//! taxonomy, and RS256 verification against a JWKS document.
//!
//! This crate does no I/O: callers fetch the JWKS (see [`agent_identity_jwks_url`]) and pass the
//! bytes in, so the whole verification path is a pure function that is tested offline.

mod claims;
mod jwks;
mod jwt;
mod plan;
mod text;
mod verify;

pub use claims::AgentIdentityClaims;
pub use claims::Audience;
pub use jwks::Jwks;
pub use jwks::ParseJwksError;
pub use jwks::agent_identity_jwks_url;
pub use jwt::JwtFormatError;
pub use jwt::RawJwt;
pub use jwt::base64url_decode;
pub use jwt::base64url_encode;
pub use plan::PlanType;
pub use text::printable;
pub use verify::AGENT_IDENTITY_AUDIENCE;
pub use verify::AGENT_IDENTITY_ISSUER;
pub use verify::AgentIdentityJwtError;
pub use verify::decode_agent_identity_jwt_unverified;
pub use verify::precheck_agent_identity_jwt;
pub use verify::verify_agent_identity_jwt;
