//! CODEX_HOME, configuration layers, `-c` overrides, requirements and permission profiles.

/// True for a feature name `--enable`/`--disable` accepts.
pub fn is_known_feature(name: &str) -> bool {
    name == "use_legacy_landlock"
}
