//! The feature registry (`[features]` keys, `--enable`/`--disable` names) and the resolved
//! feature set.

use std::collections::BTreeMap;
use std::fmt;

/// How mature a feature is; printed by `codex features list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureStage {
    UnderDevelopment,
    Experimental,
    Stable,
    Deprecated,
    /// Still accepted in configuration so old files keep loading, but it does nothing.
    Removed,
}

impl fmt::Display for FeatureStage {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            FeatureStage::UnderDevelopment => "under development",
            FeatureStage::Experimental => "experimental",
            FeatureStage::Stable => "stable",
            FeatureStage::Deprecated => "deprecated",
            FeatureStage::Removed => "removed",
        })
    }
}

/// One entry of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureSpec {
    pub name: &'static str,
    pub stage: FeatureStage,
    pub default_enabled: bool,
    pub description: &'static str,
}

/// Every feature this build knows, sorted by name.
pub const FEATURES: &[FeatureSpec] = &[
    FeatureSpec {
        name: "elevated_windows_sandbox",
        stage: FeatureStage::Removed,
        default_enabled: false,
        description: "Removed: use `[windows] sandbox = \"elevated\"`.",
    },
    FeatureSpec {
        name: "experimental_windows_sandbox",
        stage: FeatureStage::Removed,
        default_enabled: false,
        description: "Removed: use `[windows] sandbox = \"unelevated\"`.",
    },
    FeatureSpec {
        name: "network_proxy",
        stage: FeatureStage::Experimental,
        default_enabled: false,
        description: "Route sandboxed network traffic through the managed network proxy.",
    },
    FeatureSpec {
        name: "use_legacy_landlock",
        stage: FeatureStage::Deprecated,
        default_enabled: false,
        description: "Linux: enforce the sandbox with Landlock + seccomp instead of bubblewrap.",
    },
    FeatureSpec {
        name: "use_linux_sandbox_bwrap",
        stage: FeatureStage::Removed,
        default_enabled: false,
        description: "Removed: bubblewrap is the default Linux sandbox.",
    },
];

/// True for a feature name `[features]`, `--enable` and `--disable` accept.
pub fn is_known_feature(name: &str) -> bool {
    feature_spec(name).is_some()
}

pub(crate) fn feature_spec(name: &str) -> Option<&'static FeatureSpec> {
    FEATURES.iter().find(|spec| spec.name == name)
}

/// The effective on/off state of every known feature (after configuration and requirements).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Features {
    enabled: BTreeMap<&'static str, bool>,
}

impl Default for Features {
    fn default() -> Self {
        Features {
            enabled: FEATURES
                .iter()
                .map(|spec| (spec.name, spec.default_enabled))
                .collect(),
        }
    }
}

impl Features {
    /// Whether `name` is on; unknown names are off.
    pub fn enabled(&self, name: &str) -> bool {
        self.enabled.get(name).copied().unwrap_or(false)
    }

    /// Set a known feature; unknown names are ignored (they never reach here unvalidated).
    pub(crate) fn set(&mut self, name: &str, value: bool) {
        if let Some(spec) = feature_spec(name) {
            self.enabled.insert(spec.name, value);
        }
    }

    /// `(spec, enabled)` for every known feature, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&'static FeatureSpec, bool)> + '_ {
        FEATURES.iter().map(|spec| (spec, self.enabled(spec.name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_and_unique() {
        let names: Vec<&str> = FEATURES.iter().map(|spec| spec.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn known_features() {
        assert!(is_known_feature("use_legacy_landlock"));
        assert!(is_known_feature("network_proxy"));
        assert!(!is_known_feature("foo"));
        assert_eq!(
            feature_spec("use_legacy_landlock").map(|spec| spec.stage),
            Some(FeatureStage::Deprecated)
        );
    }

    #[test]
    fn defaults_and_set() {
        let mut features = Features::default();
        assert!(!features.enabled("use_legacy_landlock"));
        features.set("use_legacy_landlock", true);
        features.set("nope", true);
        assert!(features.enabled("use_legacy_landlock"));
        assert!(!features.enabled("nope"));
        assert_eq!(
            FeatureStage::UnderDevelopment.to_string(),
            "under development"
        );
    }
}
