//! `codex config show [--origins]` and `codex features list` (owned by the configuration work).

use std::process::ExitCode;

use codex_config::Config;

use crate::options::SharedOptions;

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub shared: SharedOptions,

    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print the effective merged configuration as TOML.
    Show(ConfigShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct ConfigShowArgs {
    #[command(flatten)]
    pub shared: SharedOptions,

    /// Annotate every value with the layer it came from and list the layers.
    #[arg(long)]
    pub origins: bool,

    /// Print one JSON object (configuration, origins, layers, warnings) instead of TOML.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {
    #[command(flatten)]
    pub shared: SharedOptions,

    #[command(subcommand)]
    pub command: FeaturesCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum FeaturesCommand {
    /// List known features with their stage and effective state.
    List(FeaturesListArgs),
}

#[derive(Debug, clap::Args)]
pub struct FeaturesListArgs {
    #[command(flatten)]
    pub shared: SharedOptions,

    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Load the configuration for the current directory and print its warnings.
fn load(shared: &SharedOptions) -> anyhow::Result<Config> {
    let mut options = shared.loader_options(std::env::current_dir()?)?;
    // Showing the configuration runs nothing; what a sandboxed run would refuse is named.
    options.defer_sandbox_refusals = true;
    let config = codex_config::load_config(&options)?;
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    if let Some(refusal) = &config.sandbox_refusal {
        let reason = refusal.to_string();
        let reason = reason.split("\n\n").next().unwrap_or_default();
        eprintln!("note: a command run with this configuration here is refused: {reason}");
    }
    Ok(config)
}

pub fn run_config(root: SharedOptions, args: ConfigArgs) -> anyhow::Result<ExitCode> {
    let shared = root.merge(args.shared);
    match args.command {
        ConfigCommand::Show(show) => {
            let config = load(&shared.merge(show.shared))?;
            if show.json {
                crate::output::line(crate::config_json::config_show(&config))?;
            } else {
                crate::output::write(&config.render_toml(show.origins))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_features(root: SharedOptions, args: FeaturesArgs) -> anyhow::Result<ExitCode> {
    let shared = root.merge(args.shared);
    match args.command {
        FeaturesCommand::List(list) => {
            let config = load(&shared.merge(list.shared))?;
            if list.json {
                crate::output::line(crate::config_json::features_list(&config))?;
            } else {
                crate::output::write(&features_table(&config))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `name  stage  enabled` rows sorted by name, columns padded to the widest entry.
fn features_table(config: &Config) -> String {
    let rows: Vec<(String, String, bool)> = config
        .features
        .iter()
        .map(|(spec, enabled)| (spec.name.to_string(), spec.stage.to_string(), enabled))
        .collect();
    let name_width = rows.iter().map(|row| row.0.len()).max().unwrap_or(0);
    let stage_width = rows.iter().map(|row| row.1.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(name, stage, enabled)| {
            format!("{name:<name_width$}  {stage:<stage_width$}  {enabled}\n")
        })
        .collect()
}
