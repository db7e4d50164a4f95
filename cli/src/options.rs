//! Options shared by the root command and every subcommand (`-c`, `--enable`, `--disable`,
//! `-p/--profile`, `--strict-config`). Root values come first, so a subcommand's values win.

use std::path::PathBuf;

use codex_config::LoaderOptions;

use crate::exit::CliError;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct SharedOptions {
    /// Override a configuration value: `key=value`, the value parsed as TOML (else taken as a
    /// string); dotted keys reach into tables. Repeatable; later values win.
    #[arg(short = 'c', long = "config", value_name = "key=value")]
    pub config: Vec<String>,

    /// Enable a feature flag (same as `-c features.<FEATURE>=true`). Repeatable.
    #[arg(long = "enable", value_name = "FEATURE")]
    pub enable: Vec<String>,

    /// Disable a feature flag (same as `-c features.<FEATURE>=false`). Repeatable.
    #[arg(long = "disable", value_name = "FEATURE")]
    pub disable: Vec<String>,

    /// Layer `$CODEX_HOME/<NAME>.config.toml` on top of the user configuration.
    #[arg(short = 'p', long = "profile", value_name = "NAME")]
    pub profile: Option<String>,

    /// Fail on unknown configuration keys instead of ignoring them.
    #[arg(long = "strict-config")]
    pub strict_config: bool,
}

impl SharedOptions {
    /// Root options followed by a subcommand's: lists concatenate (root first), a subcommand's
    /// `--profile` replaces the root's, `--strict-config` from either level applies.
    pub fn merge(mut self, sub: SharedOptions) -> SharedOptions {
        self.config.extend(sub.config);
        self.enable.extend(sub.enable);
        self.disable.extend(sub.disable);
        if sub.profile.is_some() {
            self.profile = sub.profile;
        }
        self.strict_config |= sub.strict_config;
        self
    }

    /// The raw `-c` strings in application order: every `-c`, then `--enable`/`--disable` as
    /// `features.<name>=true|false`. An unknown feature name is an error.
    pub fn raw_overrides(&self) -> Result<Vec<String>, CliError> {
        let mut raw = self.config.clone();
        for (names, value) in [(&self.enable, true), (&self.disable, false)] {
            for name in names {
                if !codex_config::is_known_feature(name) {
                    let known = codex_config::FEATURES.iter().map(|spec| spec.name);
                    let nearest = codex_utils_fuzzy_match::nearest(name, known);
                    let suggestion = codex_utils_fuzzy_match::did_you_mean(&nearest)
                        .map(|text| format!("; {text}"))
                        .unwrap_or_default();
                    return Err(
                        CliError::new(format!("Unknown feature flag: {name}{suggestion}"))
                            .with_hint("`codex features list` shows every feature"),
                    );
                }
                raw.push(format!("features.{name}={value}"));
            }
        }
        Ok(raw)
    }

    /// What every CLI command loads its configuration with: `$CODEX_HOME` found, `-c` /
    /// `--enable` / `--disable`, `--profile` and `--strict-config` applied, requirements
    /// included, nothing selected by command flags yet.
    pub fn loader_options(&self, cwd: PathBuf) -> anyhow::Result<LoaderOptions> {
        let raw_overrides = self.raw_overrides()?;
        let mut options = LoaderOptions::new(cwd, codex_config::find_codex_home()?);
        options.raw_overrides = raw_overrides;
        options.profile = self.profile.clone();
        options.strict = self.strict_config;
        Ok(options)
    }
}
