//! A small description of the configuration file format. One tree drives three things: type
//! checking, unknown-key detection (`--strict-config`) and relative path resolution; it also
//! generates the JSON Schema (see `json_schema`).

use std::path::Path;

use toml::{Table, Value};

use crate::paths::resolve_user_path;

/// One node of the format description.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Kind,
    pub description: Option<&'static str>,
    /// Replaces the generic type error text for this node.
    pub type_error: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// Accepted without checking (keys of the upstream format this build does not interpret).
    Any,
    Bool,
    String,
    /// A string holding a path; relative values resolve against the defining file's directory.
    Path,
    Integer {
        minimum: Option<i64>,
    },
    Enum(&'static [&'static str]),
    Array(Box<Node>),
    /// A table with known fields; `additional` describes every other key (a map), `None` makes
    /// other keys unknown.
    Table {
        fields: Vec<(&'static str, Node)>,
        additional: Option<Box<Node>>,
    },
    /// The first alternative whose shape matches the value applies.
    AnyOf(Vec<Node>),
}

impl Node {
    pub fn new(kind: Kind) -> Node {
        Node {
            kind,
            description: None,
            type_error: None,
        }
    }

    pub fn describe(mut self, description: &'static str) -> Node {
        self.description = Some(description);
        self
    }

    pub fn type_error(mut self, message: &'static str) -> Node {
        self.type_error = Some(message);
        self
    }

    pub fn field(&self, name: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Table { fields, additional } => fields
                .iter()
                .find(|(field, _)| *field == name)
                .map(|(_, node)| node)
                .or(additional.as_deref()),
            _ => None,
        }
    }

    /// The named fields of the table at `path` below this node (map entries are followed
    /// through their value node); empty when `path` does not lead to a table with fields.
    pub fn known_fields(&self, path: &[String]) -> Vec<&'static str> {
        let mut node = self;
        for segment in path {
            match node.field(segment) {
                Some(child) => node = child,
                None => return Vec::new(),
            }
        }
        let table = match &node.kind {
            Kind::AnyOf(options) => options
                .iter()
                .find(|option| matches!(option.kind, Kind::Table { .. })),
            _ => Some(node),
        };
        match table.map(|node| &node.kind) {
            Some(Kind::Table { fields, .. }) => fields.iter().map(|(name, _)| *name).collect(),
            _ => Vec::new(),
        }
    }

    fn expected(&self) -> String {
        match &self.kind {
            Kind::Any => "any value".to_string(),
            Kind::Bool => "a boolean".to_string(),
            Kind::String | Kind::Path => "a string".to_string(),
            Kind::Integer { .. } => "an integer".to_string(),
            Kind::Enum(values) => format!(
                "one of {}",
                values
                    .iter()
                    .map(|value| format!("`{value}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Kind::Array(_) => "an array".to_string(),
            Kind::Table { .. } => "a table".to_string(),
            Kind::AnyOf(options) => options
                .iter()
                .map(Node::expected)
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }

    /// Whether `value` has this node's outer shape (used to pick an `AnyOf` branch).
    fn shape_matches(&self, value: &Value) -> bool {
        match (&self.kind, value) {
            (Kind::Any, _)
            | (Kind::Bool, Value::Boolean(_))
            | (Kind::String | Kind::Path | Kind::Enum(_), Value::String(_))
            | (Kind::Integer { .. }, Value::Integer(_))
            | (Kind::Array(_), Value::Array(_))
            | (Kind::Table { .. }, Value::Table(_)) => true,
            (Kind::AnyOf(options), value) => options.iter().any(|node| node.shape_matches(value)),
            _ => false,
        }
    }
}

/// Shorthands for building trees.
pub(crate) mod build {
    use super::{Kind, Node};

    pub fn any() -> Node {
        Node::new(Kind::Any)
    }
    pub fn boolean() -> Node {
        Node::new(Kind::Bool)
    }
    pub fn string() -> Node {
        Node::new(Kind::String)
    }
    pub fn path() -> Node {
        Node::new(Kind::Path)
    }
    pub fn integer(minimum: Option<i64>) -> Node {
        Node::new(Kind::Integer { minimum })
    }
    pub fn one_of(values: &'static [&'static str]) -> Node {
        Node::new(Kind::Enum(values))
    }
    pub fn array(item: Node) -> Node {
        Node::new(Kind::Array(Box::new(item)))
    }
    pub fn table(fields: Vec<(&'static str, Node)>) -> Node {
        Node::new(Kind::Table {
            fields,
            additional: None,
        })
    }
    pub fn map(value: Node) -> Node {
        Node::new(Kind::Table {
            fields: Vec::new(),
            additional: Some(Box::new(value)),
        })
    }
    pub fn table_with_map(fields: Vec<(&'static str, Node)>, value: Node) -> Node {
        Node::new(Kind::Table {
            fields,
            additional: Some(Box::new(value)),
        })
    }
    pub fn any_of(options: Vec<Node>) -> Node {
        Node::new(Kind::AnyOf(options))
    }
}

/// What is wrong at a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IssueKind {
    /// A key the format does not define (an error only with `--strict-config`).
    UnknownKey,
    /// A value of the wrong type or out of range (always an error).
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Issue {
    pub path: Vec<String>,
    pub kind: IssueKind,
}

impl Issue {
    pub fn dotted_path(&self) -> String {
        self.path.join(".")
    }
}

/// Check `table` against `node` (a table node); issues come in key order, depth first.
pub(crate) fn validate(node: &Node, table: &Table) -> Vec<Issue> {
    let mut issues = Vec::new();
    validate_table(node, table, &mut Vec::new(), &mut issues);
    issues
}

fn validate_table(node: &Node, table: &Table, path: &mut Vec<String>, issues: &mut Vec<Issue>) {
    for (key, value) in table {
        path.push(key.clone());
        match node.field(key) {
            Some(child) => validate_value(child, value, path, issues),
            None => issues.push(Issue {
                path: path.clone(),
                kind: IssueKind::UnknownKey,
            }),
        }
        path.pop();
    }
}

fn validate_value(node: &Node, value: &Value, path: &mut Vec<String>, issues: &mut Vec<Issue>) {
    let invalid = |message: String, issues: &mut Vec<Issue>, path: &[String]| {
        issues.push(Issue {
            path: path.to_vec(),
            kind: IssueKind::Invalid(message),
        });
    };
    if !node.shape_matches(value) {
        let key = path.join(".");
        let message = node.type_error.map_or_else(
            || {
                format!(
                    "invalid type for `{key}`: expected {}, found {}",
                    node.expected(),
                    value.type_str()
                )
            },
            str::to_string,
        );
        invalid(message, issues, path);
        return;
    }
    match (&node.kind, value) {
        (Kind::Enum(values), Value::String(text)) if !values.contains(&text.as_str()) => {
            let key = path.join(".");
            invalid(
                format!(
                    "invalid value `{text}` for `{key}`: expected {}",
                    node.expected()
                ),
                issues,
                path,
            );
        }
        (
            Kind::Integer {
                minimum: Some(minimum),
            },
            Value::Integer(number),
        ) if number < minimum => {
            let name = path.last().cloned().unwrap_or_default();
            invalid(format!("{name} must be at least {minimum}"), issues, path);
        }
        (Kind::Array(item), Value::Array(values)) => {
            for (index, value) in values.iter().enumerate() {
                if !item.shape_matches(value) {
                    let key = path.join(".");
                    let message = node.type_error.map_or_else(
                        || {
                            format!(
                                "invalid type for `{key}[{index}]`: expected {}, found {}",
                                item.expected(),
                                value.type_str()
                            )
                        },
                        str::to_string,
                    );
                    invalid(message, issues, path);
                    return;
                }
                validate_value(item, value, path, issues);
            }
        }
        (Kind::Table { .. }, Value::Table(table)) => validate_table(node, table, path, issues),
        (Kind::AnyOf(options), value) => {
            if let Some(option) = options.iter().find(|option| option.shape_matches(value)) {
                validate_value(option, value, path, issues);
            }
        }
        _ => {}
    }
}

/// Resolve every relative `Path` value in `table` against `base` (`~/` expands to the home
/// directory). Values of the wrong type are left for validation to report.
pub(crate) fn resolve_paths(node: &Node, table: &mut Table, base: &Path) {
    for (key, value) in table.iter_mut() {
        if let Some(child) = node.field(key) {
            resolve_value(child, value, base);
        }
    }
}

fn resolve_value(node: &Node, value: &mut Value, base: &Path) {
    match (&node.kind, value) {
        (Kind::Path, Value::String(text)) => {
            *text = resolve_user_path(text, base).to_string_lossy().into_owned();
        }
        (Kind::Array(item), Value::Array(values)) => {
            for value in values {
                resolve_value(item, value, base);
            }
        }
        (Kind::Table { .. }, Value::Table(table)) => resolve_paths(node, table, base),
        (Kind::AnyOf(options), value) => {
            if let Some(option) = options.iter().find(|option| option.shape_matches(value)) {
                resolve_value(option, value, base);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    fn sample() -> Node {
        table(vec![
            ("mode", one_of(&["a", "b"])),
            ("depth", integer(Some(1))),
            ("roots", array(path())),
            (
                "markers",
                array(string()).type_error("markers must be an array of strings"),
            ),
            (
                "map",
                map(any_of(vec![boolean(), table(vec![("x", boolean())])])),
            ),
        ])
    }

    fn issues(text: &str) -> Vec<(String, IssueKind)> {
        let table: Table = toml::from_str(text).unwrap();
        validate(&sample(), &table)
            .into_iter()
            .map(|issue| (issue.dotted_path(), issue.kind))
            .collect()
    }

    #[test]
    fn reports_types_enums_ranges_and_unknown_keys() {
        assert_eq!(
            issues(
                "mode = 'c'\ndepth = 0\nroots = [1]\nmarkers = 'x'\nextra = 1\nmap = { k = 1, j = { x = true, y = 2 } }"
            ),
            vec![
                (
                    "depth".into(),
                    IssueKind::Invalid("depth must be at least 1".into())
                ),
                ("extra".into(), IssueKind::UnknownKey),
                ("map.j.y".into(), IssueKind::UnknownKey),
                (
                    "map.k".into(),
                    IssueKind::Invalid(
                        "invalid type for `map.k`: expected a boolean or a table, found integer"
                            .into()
                    )
                ),
                (
                    "markers".into(),
                    IssueKind::Invalid("markers must be an array of strings".into())
                ),
                (
                    "mode".into(),
                    IssueKind::Invalid(
                        "invalid value `c` for `mode`: expected one of `a`, `b`".into()
                    )
                ),
                (
                    "roots".into(),
                    IssueKind::Invalid(
                        "invalid type for `roots[0]`: expected a string, found integer".into()
                    )
                ),
            ]
        );
        assert!(issues("mode = 'a'\ndepth = 3\nroots = ['x']").is_empty());
    }

    #[test]
    fn resolves_relative_paths_only() {
        let mut table: Table =
            toml::from_str("roots = ['rel', '/abs', 'a/../b']\nmode = 'rel'").unwrap();
        resolve_paths(&sample(), &mut table, Path::new("/base"));
        let expected: Table =
            toml::from_str("roots = ['/base/rel', '/abs', '/base/b']\nmode = 'rel'").unwrap();
        assert_eq!(table, expected);
    }
}
