//! Just enough of an SBPL evaluator to decide what a generated profile allows for a path:
//! the last matching rule wins, filters `literal`, `subpath`, `regex` (through
//! [`regex_matcher`]), `require-all`, `require-any`, `require-not`, and operations with a
//! trailing `*` cover every operation they prefix (`file-write*` covers `file-write-unlink`).

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::regex_matcher;

/// The `-D` parameters of an argv.
pub(crate) fn parameters(argv: &[OsString]) -> HashMap<String, PathBuf> {
    argv.iter()
        .filter_map(|argument| argument.to_str()?.strip_prefix("-D"))
        .filter_map(|definition| definition.split_once('='))
        .map(|(name, value)| (name.to_string(), PathBuf::from(value)))
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expression {
    List(Vec<Expression>),
    Symbol(String),
    Text(String),
    Regex(String),
}

pub(crate) struct Sbpl {
    forms: Vec<Expression>,
}

impl Sbpl {
    pub(crate) fn parse(text: &str) -> Self {
        let characters: Vec<char> = text.chars().collect();
        let mut index = 0;
        let mut stack: Vec<Vec<Expression>> = vec![Vec::new()];
        while index < characters.len() {
            match characters[index] {
                ';' => {
                    while index < characters.len() && characters[index] != '\n' {
                        index += 1;
                    }
                }
                '(' => {
                    stack.push(Vec::new());
                    index += 1;
                }
                ')' => {
                    let list = stack.pop().unwrap();
                    stack.last_mut().unwrap().push(Expression::List(list));
                    index += 1;
                }
                '"' | '#' => {
                    let is_regex = characters[index] == '#';
                    index += if is_regex { 2 } else { 1 };
                    let start = index;
                    while characters[index] != '"' {
                        index += 1;
                    }
                    let body: String = characters[start..index].iter().collect();
                    stack.last_mut().unwrap().push(if is_regex {
                        Expression::Regex(body)
                    } else {
                        Expression::Text(body)
                    });
                    index += 1;
                }
                space if space.is_whitespace() => index += 1,
                _ => {
                    let start = index;
                    while index < characters.len()
                        && !characters[index].is_whitespace()
                        && !matches!(characters[index], '(' | ')')
                    {
                        index += 1;
                    }
                    let symbol: String = characters[start..index].iter().collect();
                    stack.last_mut().unwrap().push(Expression::Symbol(symbol));
                }
            }
        }
        assert_eq!(stack.len(), 1, "unbalanced parentheses");
        Self {
            forms: stack.pop().unwrap(),
        }
    }

    /// Rules as (allow?, operations, filters).
    pub(crate) fn rules(&self) -> impl Iterator<Item = (bool, Vec<&str>, Vec<&Expression>)> {
        self.forms.iter().filter_map(|form| {
            let Expression::List(items) = form else {
                return None;
            };
            let allow = match items.first()? {
                Expression::Symbol(head) if head == "allow" => true,
                Expression::Symbol(head) if head == "deny" => false,
                _ => return None,
            };
            let operations = items[1..]
                .iter()
                .map_while(|item| match item {
                    Expression::Symbol(symbol) => Some(symbol.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>();
            let filters = items[1 + operations.len()..].iter().collect();
            Some((allow, operations, filters))
        })
    }

    /// The decision for `operation` on `path`: the last matching rule wins.
    pub(crate) fn allows(
        &self,
        operation: &str,
        path: &Path,
        parameters: &HashMap<String, PathBuf>,
    ) -> bool {
        let mut decision = false;
        for (allow, operations, filters) in self.rules() {
            let applies = operations.iter().any(|candidate| {
                *candidate == operation
                    || *candidate == "default"
                    || candidate
                        .strip_suffix('*')
                        .is_some_and(|prefix| operation.starts_with(prefix))
            });
            let matches = filters.is_empty()
                || filters
                    .iter()
                    .any(|filter| evaluate(filter, path, parameters));
            if applies && matches {
                decision = allow;
            }
        }
        decision
    }

    /// The parameter values excluded (as `literal`, as `subpath`) from the write rule of `root`.
    pub(crate) fn write_exclusions(
        &self,
        root: &str,
        parameters: &HashMap<String, PathBuf>,
    ) -> (Vec<PathBuf>, Vec<PathBuf>) {
        let root_filter = Expression::List(vec![
            Expression::Symbol("subpath".to_string()),
            Expression::List(vec![
                Expression::Symbol("param".to_string()),
                Expression::Text(root.to_string()),
            ]),
        ]);
        let mut literal = Vec::new();
        let mut subpath = Vec::new();
        for (allow, operations, filters) in self.rules() {
            if !allow || operations != ["file-write*"] {
                continue;
            }
            let Some(Expression::List(items)) = filters.first().copied() else {
                continue;
            };
            if !items.contains(&root_filter) {
                continue;
            }
            for item in items {
                let Expression::List(not) = item else {
                    continue;
                };
                let [Expression::Symbol(head), Expression::List(inner)] = not.as_slice() else {
                    continue;
                };
                if head != "require-not" {
                    continue;
                }
                if let [Expression::Symbol(kind), parameter] = inner.as_slice() {
                    let value = parameter_value(parameter, parameters);
                    match kind.as_str() {
                        "literal" => literal.extend(value),
                        "subpath" => subpath.extend(value),
                        _ => {}
                    }
                }
            }
        }
        (literal, subpath)
    }
}

fn parameter_value(
    expression: &Expression,
    parameters: &HashMap<String, PathBuf>,
) -> Option<PathBuf> {
    match expression {
        Expression::Text(text) => Some(PathBuf::from(text)),
        Expression::List(items) => match items.as_slice() {
            [Expression::Symbol(head), Expression::Text(name)] if head == "param" => Some(
                parameters
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| panic!("parameter `{name}` is used but never defined")),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// Filters this module emits for files. Anything else (extensions, vnode types) never matches
/// the `/u/…` paths under test.
fn evaluate(filter: &Expression, path: &Path, parameters: &HashMap<String, PathBuf>) -> bool {
    let Expression::List(items) = filter else {
        return false;
    };
    let Some(Expression::Symbol(head)) = items.first() else {
        return false;
    };
    let arguments = &items[1..];
    match head.as_str() {
        "subpath" => arguments
            .first()
            .and_then(|argument| parameter_value(argument, parameters))
            .is_some_and(|root| path.starts_with(root)),
        "literal" => arguments
            .first()
            .and_then(|argument| parameter_value(argument, parameters))
            .is_some_and(|literal| path == literal),
        "require-all" => arguments
            .iter()
            .all(|argument| evaluate(argument, path, parameters)),
        "require-any" => arguments
            .iter()
            .any(|argument| evaluate(argument, path, parameters)),
        "require-not" => !arguments
            .first()
            .is_some_and(|argument| evaluate(argument, path, parameters)),
        "regex" => match arguments.first() {
            Some(Expression::Regex(regex)) => {
                regex_matcher::is_match(regex, &path.to_string_lossy())
            }
            _ => false,
        },
        _ => false,
    }
}
