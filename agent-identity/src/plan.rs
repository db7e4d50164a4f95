//! The ChatGPT plan taxonomy shared by id_token claims and agent-identity claims.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A ChatGPT plan. Unknown or missing values map to [`PlanType::Unknown`], never to an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanType {
    Free,
    Go,
    Plus,
    Pro,
    ProLite,
    Team,
    SelfServeBusinessUsageBased,
    Business,
    EnterpriseCbpUsageBased,
    Enterprise,
    Edu,
    /// A value this build does not know; the raw text is kept for display.
    Unknown(String),
}

impl PlanType {
    /// Map a raw claim value (`hc` is an alias of `enterprise`); matching ignores ASCII case.
    pub fn from_raw(raw: &str) -> PlanType {
        match raw.to_ascii_lowercase().as_str() {
            "free" => PlanType::Free,
            "go" => PlanType::Go,
            "plus" => PlanType::Plus,
            "pro" => PlanType::Pro,
            "prolite" => PlanType::ProLite,
            "team" => PlanType::Team,
            "self_serve_business_usage_based" => PlanType::SelfServeBusinessUsageBased,
            "business" => PlanType::Business,
            "enterprise_cbp_usage_based" => PlanType::EnterpriseCbpUsageBased,
            "enterprise" | "hc" => PlanType::Enterprise,
            "edu" => PlanType::Edu,
            _ => PlanType::Unknown(raw.to_string()),
        }
    }

    /// The canonical wire name (`unknown` values keep their raw text).
    pub fn as_str(&self) -> &str {
        match self {
            PlanType::Free => "free",
            PlanType::Go => "go",
            PlanType::Plus => "plus",
            PlanType::Pro => "pro",
            PlanType::ProLite => "prolite",
            PlanType::Team => "team",
            PlanType::SelfServeBusinessUsageBased => "self_serve_business_usage_based",
            PlanType::Business => "business",
            PlanType::EnterpriseCbpUsageBased => "enterprise_cbp_usage_based",
            PlanType::Enterprise => "enterprise",
            PlanType::Edu => "edu",
            PlanType::Unknown(raw) => raw,
        }
    }
}

impl Serialize for PlanType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PlanType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Ok(PlanType::from_raw(&raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_type_maps_known_plans_and_aliases() {
        assert_eq!(PlanType::from_raw("pro"), PlanType::Pro);
        assert_eq!(PlanType::from_raw("hc"), PlanType::Enterprise);
        assert_eq!(
            PlanType::from_raw("self_serve_business_usage_based"),
            PlanType::SelfServeBusinessUsageBased
        );
        assert_eq!(
            PlanType::from_raw("enterprise_cbp_usage_based"),
            PlanType::EnterpriseCbpUsageBased
        );
    }

    #[test]
    fn plan_type_maps_unknown_to_unknown() {
        assert_eq!(
            PlanType::from_raw("mystery"),
            PlanType::Unknown("mystery".to_string())
        );
        let parsed: PlanType = serde_json::from_str("\"galaxy\"").unwrap();
        assert_eq!(parsed.as_str(), "galaxy");
    }
}
