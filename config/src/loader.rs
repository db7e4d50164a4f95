//! [`load_config`]: read every layer, merge, validate, then resolve typed settings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use crate::compile::CompileContext;
use crate::config::Config;
use crate::diagnostics::{ConfigDiagnostic, DiagnosticLocation, SpanPart};
use crate::error::LoadConfigError;
use crate::features::FEATURES;
use crate::format::config_schema;
use crate::layers::{ConfigLayer, FileRole, LayerSource, LayerSummary, load_file_layer};
use crate::login::DEFAULT_CHATGPT_BASE_URL;
use crate::merge::{EmptyTable, get_path, key_path, leaf_paths, merge_tables, set_path};
use crate::project::{TrustDecision, decide_trust, project_layers, project_root};
use crate::requirements::{
    LegacyManagedRequirements, Requirements, RequirementsSource, SystemRequirementsFile,
    load_requirements,
};
use crate::resolve::resolve;
use crate::schema::{IssueKind, Node, resolve_paths, validate};
use crate::selection::SandboxSelection;
use crate::suggestions::key_suggestion;
use crate::types::PermissionSyntax;

/// Whether administrator requirements apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequirementsMode {
    #[default]
    Include,
    /// Skip `requirements.toml` and the requirement reading of `managed_config.toml` (its
    /// values still apply as a config layer). Used by `codex sandbox -P` without
    /// `--include-managed-config`.
    Ignore,
}

/// Inputs of [`load_config`].
#[derive(Debug, Clone)]
pub struct LoaderOptions {
    /// Absolute working directory.
    pub cwd: PathBuf,
    pub codex_home: PathBuf,
    /// Usually [`crate::system_config_dir`].
    pub system_config_dir: PathBuf,
    /// Raw `key=value` strings in order, root first.
    pub raw_overrides: Vec<String>,
    /// `--profile NAME`: layers `$CODEX_HOME/NAME.config.toml` over the user config.
    pub profile: Option<String>,
    /// `--strict-config`: unknown keys are errors.
    pub strict: bool,
    pub requirements: RequirementsMode,
    /// What the command's own flags decide about the sandbox.
    pub sandbox: SandboxSelection,
    /// For commands that never run anything sandboxed (`login`, `config show`, `features`,
    /// completion): a confinement refusal of the compiled policy
    /// ([`PermissionsError::is_confinement_refusal`], e.g. workspace-write started in `~`) is
    /// kept in [`Config::sandbox_refusal`] instead of failing the load. Off by default, so a
    /// command that runs something gets the error.
    pub defer_sandbox_refusals: bool,
}

impl LoaderOptions {
    /// The options every command starts from: the system configuration directory, no `-c`, no
    /// `--profile`, requirements applied, nothing selected by flags.
    pub fn new(cwd: PathBuf, codex_home: PathBuf) -> LoaderOptions {
        LoaderOptions {
            cwd,
            codex_home,
            system_config_dir: crate::home::system_config_dir(),
            raw_overrides: Vec::new(),
            profile: None,
            strict: false,
            requirements: RequirementsMode::Include,
            sandbox: SandboxSelection::default(),
            defer_sandbox_refusals: false,
        }
    }
}

fn defaults_layer() -> ConfigLayer {
    let mut table = Table::new();
    table.insert("cli_auth_credentials_store".into(), "file".into());
    table.insert("chatgpt_base_url".into(), DEFAULT_CHATGPT_BASE_URL.into());
    table.insert(
        "project_root_markers".into(),
        Value::Array(vec![".git".into()]),
    );
    let features: Table = FEATURES
        .iter()
        .map(|spec| (spec.name.to_string(), Value::Boolean(spec.default_enabled)))
        .collect();
    table.insert("features".into(), Value::Table(features));
    let mut shell = Table::new();
    shell.insert("inherit".into(), "all".into());
    shell.insert("ignore_default_excludes".into(), false.into());
    table.insert("shell_environment_policy".into(), Value::Table(shell));
    ConfigLayer::new(LayerSource::Defaults, table)
}

fn valid_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn merge_layers<'a>(layers: impl IntoIterator<Item = &'a ConfigLayer>) -> Table {
    let mut merged = Table::new();
    for layer in layers.into_iter().filter(|layer| layer.enabled()) {
        let empty = if layer.source == LayerSource::SessionFlags {
            EmptyTable::Replace
        } else {
            EmptyTable::Merge
        };
        merge_tables(&mut merged, &layer.table, empty);
    }
    merged
}

/// The highest enabled layer holding `path` (the one whose value won).
pub(crate) fn origin_layer<'a>(
    layers: &'a [ConfigLayer],
    path: &[String],
) -> Option<&'a ConfigLayer> {
    layers
        .iter()
        .rev()
        .filter(|layer| layer.enabled())
        .find(|layer| get_path(&layer.table, path).is_some())
}

pub(crate) fn invalid_at(
    layers: &[ConfigLayer],
    path: &[String],
    message: String,
) -> LoadConfigError {
    match origin_layer(layers, path) {
        Some(layer) => layer.diagnostic(path, SpanPart::Value, message).into(),
        None => ConfigDiagnostic {
            location: DiagnosticLocation::Layer("config".into()),
            message,
        }
        .into(),
    }
}

/// Type errors anywhere, then unknown keys layer by layer, lowest first: with `strict` the first
/// one is an error, otherwise each one becomes a warning naming the key, where it is, and the
/// nearest known key.
fn check_layers(
    schema: &Node,
    layers: &[ConfigLayer],
    merged: &Table,
    strict: bool,
    warnings: &mut Vec<String>,
) -> Result<(), LoadConfigError> {
    for issue in validate(schema, merged) {
        if let IssueKind::Invalid(message) = issue.kind {
            return Err(invalid_at(layers, &issue.path, message));
        }
    }
    for layer in layers.iter().filter(|layer| layer.enabled()) {
        let is_override = layer.source == LayerSource::SessionFlags;
        let mut unknown: Vec<_> = validate(schema, &layer.table)
            .into_iter()
            .filter(|issue| issue.kind == IssueKind::UnknownKey)
            .map(|issue| {
                let location = layer.locate(&issue.path, SpanPart::Key);
                let position = match &location {
                    DiagnosticLocation::File { line, column, .. } => (*line, *column),
                    DiagnosticLocation::Layer(_) => (0, 0),
                };
                (position, location, issue)
            })
            .collect();
        // File order, so the warnings read top to bottom.
        unknown.sort_by_key(|(position, _, _)| *position);
        for (_, location, issue) in unknown {
            let field = issue.dotted_path();
            let suggestion = match issue.path.split_last() {
                Some((key, parent)) => key_suggestion(key, schema.known_fields(parent)),
                None => String::new(),
            };
            if !strict {
                let place = match location {
                    _ if is_override => "-c/--config".to_string(),
                    DiagnosticLocation::File {
                        path, line, column, ..
                    } => format!("{}:{line}:{column}", path.display()),
                    DiagnosticLocation::Layer(name) => name,
                };
                warnings.push(format!(
                    "{place}: unknown configuration field `{field}` is ignored{suggestion}"
                ));
                continue;
            }
            let message = if is_override {
                format!("unknown configuration field `{field}` in -c/--config override{suggestion}")
            } else {
                format!("unknown configuration field `{field}`{suggestion}")
            };
            if is_override {
                return Err(ConfigDiagnostic {
                    location: DiagnosticLocation::Layer(layer.source.display_name()),
                    message,
                }
                .into());
            }
            return Err(layer.diagnostic(&issue.path, SpanPart::Key, message).into());
        }
    }
    Ok(())
}

fn base_dir(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("/"))
}

/// Load the effective configuration (see the crate documentation for the layer order), with
/// what the command's flags select ([`LoaderOptions::sandbox`]) on top.
///
/// `codex sandbox`'s legacy fallback needs a second resolution once the syntax is known (a
/// legacy configuration runs read-only there); no file is read twice for it: the project layers
/// are read again only if the overrides change `project_root_markers` or `[projects]`.
pub fn load_config(options: &LoaderOptions) -> Result<Config, LoadConfigError> {
    let selection = &options.sandbox;
    let mut overrides = codex_utils_cli::overrides_table(&options.raw_overrides)?;
    selection.apply_to_overrides(&mut overrides);
    let mode_chosen = overrides.contains_key("sandbox_mode");
    let mut loader = Loader::read(options)?;
    // With a legacy fallback the first resolution may be replaced, so its refusal waits until
    // it is known whether it stands.
    let provisional = selection.legacy_fallback.is_some();
    let mut config = loader.assemble(
        overrides.clone(),
        options.defer_sandbox_refusals || provisional,
    )?;
    match selection.legacy_fallback {
        Some(fallback)
            if !mode_chosen && config.permission_syntax != PermissionSyntax::Profiles =>
        {
            let configured = config
                .merged
                .get("sandbox_mode")
                .and_then(Value::as_str)
                .map(str::to_string);
            let configured_origin = config.origins.get("sandbox_mode").cloned();
            overrides.insert(
                "sandbox_mode".into(),
                Value::String(fallback.as_str().into()),
            );
            config = loader.assemble(overrides, options.defer_sandbox_refusals)?;
            config.legacy_fallback_applied = true;
            // A requirement that changed the pinned mode keeps its own explanation.
            if !config.adjustments.iter().any(|a| a.key == "sandbox_mode") {
                config.origins.insert(
                    "sandbox_mode".into(),
                    format!(
                        "`codex sandbox` (a legacy `sandbox_mode` configuration runs {fallback} here unless `-c sandbox_mode=…` is given)"
                    ),
                );
            }
            if let (Some(configured), Some(origin)) = (configured, configured_origin)
                && configured != fallback.as_str()
            {
                config.notes.push(format!(
                    "`sandbox_mode = \"{configured}\"` from {origin} does not apply to `codex sandbox`, which runs {fallback}; pass `-c sandbox_mode={configured}` or a permission profile with `-P` to choose"
                ));
            }
        }
        _ => {
            if !mode_chosen
                && config.permission_syntax == PermissionSyntax::Legacy
                && !config.adjustments.iter().any(|a| a.key == "sandbox_mode")
                && let Some(origin) = config.origins.get_mut("sandbox_mode")
            {
                origin.push_str(
                    "; `codex sandbox` ignores it (runs read-only unless `-c sandbox_mode=…` or `-P`)",
                );
            }
        }
    }
    if !options.defer_sandbox_refusals
        && let Some(refusal) = config.sandbox_refusal.take()
    {
        return Err(refusal.into());
    }
    selection.add_unix_sockets(&mut config.sandbox_policy);
    Ok(config)
}

/// The project layers for one `project_root_markers` + `[projects]` combination.
struct ProjectLayers {
    markers: Vec<String>,
    projects: Option<Value>,
    root: PathBuf,
    decision: TrustDecision,
    layers: Vec<ConfigLayer>,
    warnings: Vec<String>,
}

/// What [`load_config`] keeps between resolutions: every file it read.
struct Loader<'a> {
    options: &'a LoaderOptions,
    schema: Node,
    cwd: PathBuf,
    user_file: PathBuf,
    /// Defaults, system, user and `--profile` layers.
    base: Vec<ConfigLayer>,
    project: Option<ProjectLayers>,
    /// The legacy managed config layer and its table (also read as requirements).
    managed: Option<(ConfigLayer, Table)>,
    requirements: Option<Requirements>,
    context: Option<CompileContext>,
}

impl<'a> Loader<'a> {
    /// The layers below the project layers.
    fn read(options: &'a LoaderOptions) -> Result<Loader<'a>, LoadConfigError> {
        let schema = config_schema();
        let cwd = codex_sandbox_policy::normalize(&options.cwd);
        if let Some(name) = &options.profile
            && !valid_profile_name(name)
        {
            return Err(LoadConfigError::InvalidProfileName(name.clone()));
        }

        let system_file = options.system_config_dir.join("config.toml");
        let user_file = options.codex_home.join("config.toml");
        let mut base = vec![defaults_layer()];
        let mut system = load_file_layer(
            LayerSource::System {
                file: system_file.clone(),
            },
            &system_file,
            FileRole::Config,
        )?;
        resolve_paths(&schema, &mut system.table, base_dir(&system_file));
        base.push(system);
        let mut user = load_file_layer(
            LayerSource::User {
                file: user_file.clone(),
                profile: None,
            },
            &user_file,
            FileRole::Config,
        )?;
        resolve_paths(&schema, &mut user.table, base_dir(&user_file));
        if let Some(name) = &options.profile {
            let selects = user.table.get("profile").and_then(Value::as_str) == Some(name.as_str());
            let has_table = user
                .table
                .get("profiles")
                .and_then(Value::as_table)
                .is_some_and(|profiles| profiles.contains_key(name));
            if selects || has_table {
                return Err(LoadConfigError::LegacyProfileSelected {
                    name: name.clone(),
                    path: user_file,
                });
            }
        }
        base.push(user);
        if let Some(name) = &options.profile {
            let file = options.codex_home.join(format!("{name}.config.toml"));
            let mut profile = load_file_layer(
                LayerSource::User {
                    file: file.clone(),
                    profile: Some(name.clone()),
                },
                &file,
                FileRole::Config,
            )?;
            resolve_paths(&schema, &mut profile.table, base_dir(&file));
            base.push(profile);
        }
        Ok(Loader {
            options,
            schema,
            cwd,
            user_file,
            base,
            project: None,
            managed: None,
            requirements: None,
            context: None,
        })
    }

    /// The configuration with the `-c` layer `overrides`.
    /// One resolution; `defer_refusals` keeps a confinement refusal in the result instead of
    /// failing (see [`LoaderOptions::defer_sandbox_refusals`]).
    fn assemble(
        &mut self,
        overrides: Table,
        defer_refusals: bool,
    ) -> Result<Config, LoadConfigError> {
        let options = self.options;
        let schema = &self.schema;
        let cwd = &self.cwd;
        let mut session = ConfigLayer::new(LayerSource::SessionFlags, overrides);
        resolve_paths(schema, &mut session.table, cwd);

        // Project root and trust come from the non-project layers plus `-c`.
        let mut before_projects = self.base.clone();
        before_projects.push(session.clone());
        let base_merged = merge_layers(&before_projects);
        let markers_path = vec!["project_root_markers".to_string()];
        let markers: Vec<String> = match base_merged.get("project_root_markers") {
            Some(Value::Array(items)) if items.iter().all(Value::is_str) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(_) => {
                return Err(invalid_at(
                    &before_projects,
                    &markers_path,
                    "project_root_markers must be an array of strings".into(),
                ));
            }
            None => Vec::new(),
        };
        let projects = base_merged.get("projects").cloned();
        let project = match self.project.take() {
            Some(project) if project.markers == markers && project.projects == projects => project,
            _ => {
                // The project is found, trusted and read by its real path: reached through a
                // symlink, a lexical path would take the root (and its trust) from where the
                // link lives, and the layers from where it points.
                let project_cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.clone());
                let root = project_root(&project_cwd, &markers);
                let decision = decide_trust(
                    projects.as_ref().and_then(Value::as_table),
                    &project_cwd,
                    &root,
                );
                let mut warnings: Vec<String> = decision.warning.iter().cloned().collect();
                let mut layers = Vec::new();
                for mut layer in project_layers(
                    &project_cwd,
                    &root,
                    &options.codex_home,
                    &decision,
                    &self.user_file,
                    &mut warnings,
                )? {
                    if let LayerSource::Project { dot_codex } = &layer.source {
                        let dot_codex = dot_codex.clone();
                        resolve_paths(schema, &mut layer.table, &dot_codex);
                    }
                    layers.push(layer);
                }
                ProjectLayers {
                    markers,
                    projects,
                    root,
                    decision,
                    layers,
                    warnings,
                }
            }
        };
        let project = self.project.insert(project);
        let mut warnings = project.warnings.clone();
        let mut layers = self.base.clone();
        layers.extend(project.layers.iter().cloned());
        layers.push(session);
        let managed_file = options.system_config_dir.join("managed_config.toml");
        let (managed, managed_table) = match self.managed.take() {
            Some(managed) => managed,
            None => {
                let mut managed = load_file_layer(
                    LayerSource::LegacyManagedConfig {
                        file: managed_file.clone(),
                    },
                    &managed_file,
                    FileRole::Config,
                )?;
                resolve_paths(schema, &mut managed.table, base_dir(&managed_file));
                let table = managed.table.clone();
                (managed, table)
            }
        };
        let (managed, managed_table) = self.managed.insert((managed, managed_table));
        layers.push(managed.clone());

        let mut merged = merge_layers(&layers);
        check_layers(schema, &layers, &merged, options.strict, &mut warnings)?;
        if let Some(profile) = merged.get("profile") {
            let name = profile
                .as_str()
                .map_or_else(|| profile.to_string(), str::to_string);
            return Err(LoadConfigError::LegacyProfileKey(name));
        }

        let requirements = match self.requirements.take() {
            Some(requirements) => requirements,
            None => match options.requirements {
                RequirementsMode::Ignore => Requirements::default(),
                RequirementsMode::Include => {
                    let system = SystemRequirementsFile {
                        path: options.system_config_dir.join("requirements.toml"),
                    };
                    let managed = LegacyManagedRequirements {
                        path: managed_file,
                        config: managed_table.clone(),
                    };
                    let sources: [&dyn RequirementsSource; 2] = [&system, &managed];
                    load_requirements(&sources)?
                }
            },
        };
        let requirements = self.requirements.insert(requirements);
        warnings.extend(requirements.warnings.iter().cloned());

        let mut explicit = merge_layers(layers.iter().skip(1));
        options.sandbox.extend_writable_roots(&mut explicit);
        options.sandbox.extend_writable_roots(&mut merged);
        let context = self
            .context
            .get_or_insert_with(|| CompileContext::from_environment(cwd, &options.codex_home));
        let decision = &project.decision;
        let warnings_before = warnings.len();
        let mut sandbox_refusal = None;
        let resolve_with = |context: &CompileContext, warnings: &mut Vec<String>| {
            resolve(
                &explicit,
                &layers,
                decision.trust,
                requirements,
                context,
                warnings,
            )
        };
        let resolved = match resolve_with(context, &mut warnings) {
            Err(LoadConfigError::Permissions(error))
                if defer_refusals && error.is_confinement_refusal() =>
            {
                // The policy is only looked at, never used to run anything: compile it without
                // the refusals and keep the refusal for whoever asks.
                warnings.truncate(warnings_before);
                context.confinement_checks = false;
                let resolved = resolve_with(context, &mut warnings);
                context.confinement_checks = true;
                sandbox_refusal = Some(error);
                resolved?
            }
            other => other?,
        };

        let model = crate::providers::resolve_model_settings(&merged, &layers, &mut warnings)?;
        let mut origins: BTreeMap<String, String> = leaf_paths(&merged)
            .into_iter()
            .filter_map(|path| {
                let layer = origin_layer(&layers, &path)?;
                Some((path.join("."), layer.source.display_name()))
            })
            .collect();
        if resolved.approval_is_default {
            merged.insert(
                "approval_policy".into(),
                crate::types::approval_to_value(resolved.approval_policy),
            );
            origins.insert(
                "approval_policy".into(),
                format!("default (project trust: {})", decision.trust),
            );
        }
        for adjustment in &resolved.adjustments {
            let path = key_path(&adjustment.key);
            let configured_origin = origins.get(&adjustment.key).cloned();
            set_path(&mut merged, &path, adjustment.effective.clone());
            let mut origin = format!("requirements ({})", adjustment.source);
            if let (Some(configured), Some(from)) = (&adjustment.configured, configured_origin) {
                origin.push_str(&format!(
                    "; configured {configured} from {from} is not allowed"
                ));
            }
            origins.insert(adjustment.key.clone(), origin);
        }

        let linux_sandbox = crate::linux_sandbox::resolve(
            &layers,
            resolved.features.enabled("use_legacy_landlock"),
            &mut warnings,
        );
        Ok(Config {
            cwd: cwd.clone(),
            codex_home: options.codex_home.clone(),
            sandbox_policy: resolved.sandbox_policy,
            permission_syntax: resolved.permission_syntax,
            active_permission_profile: resolved.active_permission_profile,
            approval_policy: resolved.approval_policy,
            features: resolved.features,
            linux_sandbox,
            shell_environment_policy: resolved.shell_environment_policy,
            login: resolved.login,
            model,
            warnings,
            project_root: project.root.clone(),
            project_trust: decision.trust,
            layers: layers
                .iter()
                .map(|layer| LayerSummary {
                    source: layer.source.clone(),
                    display_name: layer.source.display_name(),
                    disabled_reason: layer.disabled_reason.clone(),
                })
                .collect(),
            merged,
            origins,
            adjustments: resolved.adjustments,
            notes: Vec::new(),
            legacy_fallback_applied: false,
            sandbox_refusal,
        })
    }
}

#[cfg(test)]
#[path = "loader_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "loader_permission_tests.rs"]
mod permission_tests;

#[cfg(test)]
#[path = "loader_security_tests.rs"]
mod security_tests;
