//! `--json` shapes of `codex config show` and `codex features list` (documented in the README
//! under "Machine-readable output"; keys are only ever added).

use codex_config::{Config, FeatureStage, LayerSource};
use serde_json::{Map, Value, json};

/// A TOML value as JSON: datetimes become their TOML text, everything else maps directly.
fn toml_to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(text) => json!(text),
        toml::Value::Integer(number) => json!(number),
        toml::Value::Float(number) => json!(number),
        toml::Value::Boolean(flag) => json!(flag),
        toml::Value::Datetime(datetime) => json!(datetime.to_string()),
        toml::Value::Array(items) => Value::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .iter()
                .map(|(key, value)| (key.clone(), toml_to_json(value)))
                .collect(),
        ),
    }
}

/// One layer of `config show --json` (also in `codex doctor --json`).
pub fn layer_json(source: &LayerSource, name: &str, disabled: Option<&String>) -> Value {
    let (kind, path) = match source {
        LayerSource::Defaults => ("default", None),
        LayerSource::System { file } => ("system", Some(file.clone())),
        LayerSource::User {
            file,
            profile: None,
        } => ("user", Some(file.clone())),
        LayerSource::User {
            file,
            profile: Some(_),
        } => ("profile", Some(file.clone())),
        LayerSource::Project { dot_codex } => ("project", Some(dot_codex.join("config.toml"))),
        LayerSource::SessionFlags => ("session_flags", None),
        LayerSource::LegacyManagedConfig { file } => ("legacy_managed_config", Some(file.clone())),
    };
    json!({
        "kind": kind,
        "name": name,
        "path": path.map(|path| path.to_string_lossy().into_owned()),
        "enabled": disabled.is_none(),
        "disabled_reason": disabled,
    })
}

/// `{"config": {…} (secrets redacted), "origins": {"key": "layer"}, "layers": [...], "warnings": [...]}`.
pub fn config_show(config: &Config) -> Value {
    let origins: Map<String, Value> = config
        .origins
        .iter()
        .map(|(key, origin)| (key.clone(), json!(origin)))
        .collect();
    let layers: Vec<Value> = config
        .layers
        .iter()
        .map(|layer| {
            layer_json(
                &layer.source,
                &layer.display_name,
                layer.disabled_reason.as_ref(),
            )
        })
        .collect();
    json!({
        "config": toml_to_json(&toml::Value::Table(config.merged_for_display())),
        "origins": origins,
        "layers": layers,
        "warnings": config.warnings,
    })
}

fn stage_name(stage: FeatureStage) -> &'static str {
    match stage {
        FeatureStage::UnderDevelopment => "under_development",
        FeatureStage::Experimental => "experimental",
        FeatureStage::Stable => "stable",
        FeatureStage::Deprecated => "deprecated",
        FeatureStage::Removed => "removed",
    }
}

/// `{"features": [{"name", "stage", "enabled", "default_enabled", "description"}]}`, sorted
/// by name.
pub fn features_list(config: &Config) -> Value {
    let features: Vec<Value> = config
        .features
        .iter()
        .map(|(spec, enabled)| {
            json!({
                "name": spec.name,
                "stage": stage_name(spec.stage),
                "enabled": enabled,
                "default_enabled": spec.default_enabled,
                "description": spec.description,
            })
        })
        .collect();
    json!({ "features": features })
}
