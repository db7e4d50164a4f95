//! JSON Schema (draft-07) for `config.toml`, generated from the format description.

use serde_json::{Map, Value, json};

use crate::format::config_schema;
use crate::schema::{Kind, Node};

/// The JSON Schema of `config.toml`, pretty-printed with sorted keys and a trailing newline.
/// The committed copy is `config/schema/config.schema.json`.
pub fn config_json_schema() -> String {
    let mut root = match node_schema(&config_schema()) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    root.insert(
        "$schema".into(),
        json!("http://json-schema.org/draft-07/schema#"),
    );
    root.insert("title".into(), json!("Codex config.toml"));
    let mut text = serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default();
    text.push('\n');
    text
}

fn node_schema(node: &Node) -> Value {
    let mut schema = match &node.kind {
        Kind::Any => Map::new(),
        Kind::Bool => object(json!({ "type": "boolean" })),
        Kind::String | Kind::Path => object(json!({ "type": "string" })),
        Kind::Integer { minimum } => {
            let mut map = object(json!({ "type": "integer" }));
            if let Some(minimum) = minimum {
                map.insert("minimum".into(), json!(minimum));
            }
            map
        }
        Kind::Enum(values) => object(json!({ "type": "string", "enum": values })),
        Kind::Array(item) => object(json!({ "type": "array", "items": node_schema(item) })),
        Kind::Table { fields, additional } => {
            let properties: Map<String, Value> = fields
                .iter()
                .map(|(name, child)| ((*name).to_string(), node_schema(child)))
                .collect();
            let mut map = object(json!({ "type": "object" }));
            if !properties.is_empty() {
                map.insert("properties".into(), Value::Object(properties));
            }
            map.insert(
                "additionalProperties".into(),
                additional
                    .as_deref()
                    .map_or(Value::Bool(false), node_schema),
            );
            map
        }
        Kind::AnyOf(options) => object(json!({
            "anyOf": options.iter().map(node_schema).collect::<Vec<_>>()
        })),
    };
    if let Some(description) = node.description {
        schema.insert("description".into(), json!(description));
    }
    Value::Object(schema)
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMITTED: &str = include_str!("../schema/config.schema.json");

    /// Regenerate with `CODEX_WRITE_CONFIG_SCHEMA=1 cargo test -p codex-config schema`.
    #[test]
    fn config_schema_matches_fixture() {
        let generated = config_json_schema();
        if std::env::var_os("CODEX_WRITE_CONFIG_SCHEMA").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/config.schema.json");
            std::fs::write(path, &generated).unwrap();
            return;
        }
        assert_eq!(
            COMMITTED.replace("\r\n", "\n"),
            generated,
            "config/schema/config.schema.json is stale; regenerate it with \
             CODEX_WRITE_CONFIG_SCHEMA=1 cargo test -p codex-config schema"
        );
    }

    #[test]
    fn schema_shape() {
        let schema: Value = serde_json::from_str(&config_json_schema()).unwrap();
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(
            schema["properties"]["sandbox_mode"]["enum"],
            json!(["read-only", "workspace-write", "danger-full-access"])
        );
        assert_eq!(
            schema["properties"]["features"]["properties"]["use_legacy_landlock"]["type"],
            json!("boolean")
        );
        assert_eq!(
            schema["properties"]["permissions"]["additionalProperties"]["properties"]["filesystem"]
                ["properties"]["glob_scan_max_depth"]["minimum"],
            json!(1)
        );
    }
}
