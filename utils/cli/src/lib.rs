//! Parsing of `-c/--config key=value` overrides, compatible with the upstream Codex CLI.
//!
//! - [`parse_override`]: one raw `key=value` string into a dotted key and a TOML value.
//! - [`overrides_table`]: every raw override, in order, folded into one TOML table.
//! - [`prepend_root_overrides`]: root-level `-c` values go before a subcommand's own.

mod config_override;

pub use config_override::OverrideParseError;
pub use config_override::ParsedOverride;
pub use config_override::apply_override;
pub use config_override::overrides_table;
pub use config_override::parse_override;
pub use config_override::parse_override_value;
pub use config_override::prepend_root_overrides;
