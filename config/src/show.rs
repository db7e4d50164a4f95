//! `codex config show [--origins]` rendering.

use std::fmt::Write as _;

use toml::{Table, Value};

use crate::config::Config;

pub(crate) fn render_toml(config: &Config, with_origins: bool) -> String {
    let mut out = String::new();
    if with_origins {
        out.push_str("# Layers, lowest precedence first:\n");
        for layer in &config.layers {
            match &layer.disabled_reason {
                None => {
                    let _ = writeln!(out, "#   {}", layer.display_name);
                }
                Some(reason) => {
                    let _ = writeln!(out, "#   {} [disabled: {reason}]", layer.display_name);
                }
            }
        }
        out.push('\n');
    }
    let origins = with_origins.then_some(config);
    render_table(
        &mut out,
        &config.merged_for_display(),
        &mut Vec::new(),
        origins,
    );
    out
}

fn render_table(
    out: &mut String,
    table: &Table,
    prefix: &mut Vec<String>,
    origins: Option<&Config>,
) {
    let is_leaf = |value: &Value| match value {
        Value::Table(inner) => inner.is_empty(),
        _ => true,
    };
    let leaves: Vec<(&String, &Value)> = table.iter().filter(|(_, v)| is_leaf(v)).collect();
    if !leaves.is_empty() {
        if !prefix.is_empty() {
            if !out.is_empty() && !out.ends_with("\n\n") {
                out.push('\n');
            }
            let header: Vec<String> = prefix.iter().map(|key| format_key(key)).collect();
            let _ = writeln!(out, "[{}]", header.join("."));
        }
        for (key, value) in leaves {
            let _ = write!(out, "{} = {value}", format_key(key));
            if let Some(config) = origins {
                let mut dotted = prefix.clone();
                dotted.push(key.clone());
                if let Some(origin) = config.origins.get(&dotted.join(".")) {
                    let _ = write!(out, "  # from {origin}");
                }
            }
            out.push('\n');
        }
    }
    for (key, value) in table {
        if let Value::Table(inner) = value
            && !inner.is_empty()
        {
            prefix.push(key.clone());
            render_table(out, inner, prefix, origins);
            prefix.pop();
        }
    }
}

fn format_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_string()
    } else {
        Value::String(key.to_string()).to_string()
    }
}
