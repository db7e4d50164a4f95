//! `-c key=value` parsing.
//!
//! Each raw string is split at the first `=`; key and value are trimmed. The value is parsed as
//! a TOML value; when that fails it is taken as a literal string with surrounding `"`/`'`
//! characters stripped (so `-c model=o3` is the string `o3`). Dotted keys reach into tables.

use toml::Table;
use toml::Value;

/// Legacy top-level spellings that now live under `[features]`.
const KEY_ALIASES: &[(&str, &str)] = &[
    ("use_legacy_landlock", "features.use_legacy_landlock"),
    (
        "use_linux_sandbox_bwrap",
        "features.use_linux_sandbox_bwrap",
    ),
];

/// A raw override that could not be parsed. The texts match the upstream CLI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideParseError {
    #[error("Invalid override (missing '='): {raw}")]
    MissingEquals { raw: String },
    #[error("Empty key in override: {raw}")]
    EmptyKey { raw: String },
}

/// One parsed override: a dotted key (aliases already canonicalised) and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedOverride {
    pub key: String,
    pub value: Value,
}

impl ParsedOverride {
    /// The dotted key split into its segments (no quoting: a segment cannot contain a dot).
    pub fn segments(&self) -> Vec<&str> {
        self.key.split('.').collect()
    }
}

/// Parse one raw `key=value` string.
pub fn parse_override(raw: &str) -> Result<ParsedOverride, OverrideParseError> {
    let Some((key, value)) = raw.split_once('=') else {
        return Err(OverrideParseError::MissingEquals {
            raw: raw.to_string(),
        });
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(OverrideParseError::EmptyKey {
            raw: raw.to_string(),
        });
    }
    let key = KEY_ALIASES
        .iter()
        .find(|(alias, _)| *alias == key)
        .map_or(key, |(_, canonical)| canonical);
    Ok(ParsedOverride {
        key: key.to_string(),
        value: parse_override_value(value),
    })
}

/// The value half of an override: a TOML value if it parses as one, else a literal string with
/// every leading and trailing `"`/`'` removed.
pub fn parse_override_value(value: &str) -> Value {
    let value = value.trim();
    let document = format!("_x_ = {value}");
    if let Ok(mut table) = toml::from_str::<Table>(&document)
        && let Some(parsed) = table.remove("_x_")
    {
        return parsed;
    }
    Value::String(value.trim_matches(|c| c == '"' || c == '\'').to_string())
}

/// Set `key` (dotted) to `value` inside `table`: missing intermediate tables are created, a
/// non-table found on the way is replaced by a table, the leaf is inserted or replaced.
pub fn apply_override(table: &mut Table, key: &str, value: Value) {
    let mut segments: Vec<&str> = key.split('.').collect();
    let Some(leaf) = segments.pop() else {
        return;
    };
    let mut current = table;
    for segment in segments {
        let entry = current
            .entry(segment.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        current = match entry {
            Value::Table(inner) => inner,
            _ => return,
        };
    }
    current.insert(leaf.to_string(), value);
}

/// Fold raw overrides (in order; later ones win) into one table.
pub fn overrides_table<S: AsRef<str>>(raw: &[S]) -> Result<Table, OverrideParseError> {
    let mut table = Table::new();
    for raw in raw {
        let parsed = parse_override(raw.as_ref())?;
        apply_override(&mut table, &parsed.key, parsed.value);
    }
    Ok(table)
}

/// Root-level overrides are placed before a subcommand's own, so the subcommand's win.
pub fn prepend_root_overrides(root: &[String], subcommand: &[String]) -> Vec<String> {
    root.iter().chain(subcommand).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(raw: &str) -> Value {
        parse_override(raw).unwrap().value
    }

    #[test]
    fn parses_basic_scalar() {
        assert_eq!(value("x=42"), Value::Integer(42));
    }

    #[test]
    fn parses_bool() {
        assert_eq!(value("x=true"), Value::Boolean(true));
        assert_eq!(value("x=false"), Value::Boolean(false));
    }

    #[test]
    fn unquoted_string_falls_back_to_literal() {
        assert_eq!(value("model=o3"), Value::String("o3".into()));
        assert_eq!(
            value("model=hello world"),
            Value::String("hello world".into())
        );
    }

    #[test]
    fn quoted_strings_and_surrounding_quotes() {
        assert_eq!(value(r#"x="true""#), Value::String("true".into()));
        assert_eq!(value("x='lit'"), Value::String("lit".into()));
        // Not valid TOML: every leading/trailing quote character is stripped.
        assert_eq!(value(r#"x="'mixed"#), Value::String("mixed".into()));
    }

    #[test]
    fn parses_array_and_inline_table() {
        assert_eq!(
            value("x=[1, 2, 3]"),
            Value::Array(vec![1.into(), 2.into(), 3.into()])
        );
        let Value::Table(table) = value("x={a = 1, b = 2}") else {
            panic!("expected a table");
        };
        assert_eq!(table.get("a"), Some(&Value::Integer(1)));
        assert_eq!(table.get("b"), Some(&Value::Integer(2)));
    }

    #[test]
    fn splits_at_first_equals_and_trims() {
        let parsed = parse_override("  a.b  =  x=y ").unwrap();
        assert_eq!(parsed.key, "a.b");
        assert_eq!(parsed.value, Value::String("x=y".into()));
        assert_eq!(parsed.segments(), vec!["a", "b"]);
    }

    #[test]
    fn errors_match_upstream_texts() {
        assert_eq!(
            parse_override("novalue").unwrap_err().to_string(),
            "Invalid override (missing '='): novalue"
        );
        assert_eq!(
            parse_override(" =1").unwrap_err().to_string(),
            "Empty key in override:  =1"
        );
    }

    #[test]
    fn canonicalizes_use_legacy_landlock_alias() {
        assert_eq!(
            parse_override("use_legacy_landlock=true").unwrap().key,
            "features.use_legacy_landlock"
        );
        assert_eq!(
            parse_override("use_linux_sandbox_bwrap=true").unwrap().key,
            "features.use_linux_sandbox_bwrap"
        );
    }

    #[test]
    fn dotted_keys_create_tables_and_replace_non_tables() {
        let table = overrides_table(&["a=1", "a.b.c=2", "a.b.d='x'", "e.f=[1]"]).unwrap();
        let expected: Table = toml::from_str("e = { f = [1] }\n[a.b]\nc = 2\nd = 'x'\n").unwrap();
        assert_eq!(table, expected);
    }

    #[test]
    fn later_overrides_win() {
        let table = overrides_table(&["model=a", "model=b"]).unwrap();
        assert_eq!(table.get("model"), Some(&Value::String("b".into())));
    }

    #[test]
    fn empty_table_value_is_kept() {
        let table = overrides_table(&["mcp_servers={}"]).unwrap();
        assert_eq!(table.get("mcp_servers"), Some(&Value::Table(Table::new())));
    }

    #[test]
    fn prepends_root_overrides() {
        let merged = prepend_root_overrides(&["a=1".into()], &["a=2".into(), "b=3".into()]);
        assert_eq!(merged, vec!["a=1", "a=2", "b=3"]);
        let table = overrides_table(&merged).unwrap();
        assert_eq!(table.get("a"), Some(&Value::Integer(2)));
    }
}
