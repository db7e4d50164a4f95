//! Property tests over random policies (a small hand-rolled generator, fixed seeds):
//!
//! 1. every writable root excludes each of its protected paths with both `literal` and
//!    `subpath`, in every spelling (entry and symlink target);
//! 2. a small evaluator of the generated SBPL (last matching rule wins) agrees with
//!    [`SandboxPolicy::access_for`] on every path of the random tree.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::canonical::fake::FakeFileSystem;
use super::canonical::{carve_out_spellings, resolve};
use super::test_support::PolicyBuilder;
use super::{SeatbeltOptions, plan_with};
use crate::policy::{Access, SandboxPolicy};

/// xorshift64*: deterministic, good enough to shuffle small trees.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const NAMES: &[&str] = &["a", "b", ".git", ".codex"];

/// Every path of the tree below `/u` up to `depth` components (plus `/` and `/u`).
fn universe(depth: usize) -> Vec<PathBuf> {
    let mut all = vec![PathBuf::from("/"), PathBuf::from("/u")];
    let mut frontier = vec![PathBuf::from("/u")];
    for _ in 0..depth {
        let mut next = Vec::new();
        for parent in &frontier {
            for name in NAMES {
                next.push(parent.join(name));
            }
        }
        all.extend(next.iter().cloned());
        frontier = next;
    }
    all
}

fn random_policy(random: &mut Random, candidates: &[PathBuf]) -> SandboxPolicy {
    let mut builder = PolicyBuilder::new("/u/a");
    let mut used: Vec<PathBuf> = Vec::new();
    if random.chance(60) {
        builder = builder.read("/");
        used.push(PathBuf::from("/"));
    }
    for _ in 0..1 + random.below(6) {
        let path = candidates[random.below(candidates.len())].clone();
        if used.contains(&path) {
            continue;
        }
        used.push(path.clone());
        let text = path.to_string_lossy().into_owned();
        builder = match random.below(3) {
            0 => builder.read(&text),
            1 => builder.deny(&text),
            _ => {
                let mut with_root = builder.write(&text);
                for name in [".git", ".codex", ".agents"] {
                    if random.chance(60) {
                        let protected = path.join(name).to_string_lossy().into_owned();
                        with_root = with_root.protect(&text, &protected);
                    }
                }
                with_root
            }
        };
    }
    if random.chance(30) {
        builder = builder.platform_defaults();
    }
    if random.chance(30) {
        builder = builder.network_enabled();
    }
    builder.build()
}

fn random_file_system(random: &mut Random, candidates: &[PathBuf]) -> FakeFileSystem {
    let mut file_system = FakeFileSystem::default();
    for path in candidates {
        if random.chance(40) {
            file_system = file_system.exists(&path.to_string_lossy());
        }
    }
    if random.chance(50) {
        let from = &candidates[random.below(candidates.len())];
        let to = &candidates[random.below(candidates.len())];
        if !to.starts_with(from) {
            file_system = file_system
                .link(&from.to_string_lossy(), &to.to_string_lossy())
                .exists(&to.to_string_lossy());
        }
    }
    file_system
}

#[test]
fn every_writable_root_excludes_its_protected_paths_both_ways() {
    let candidates = universe(2);
    let mut random = Random(0x5EA7_BE17);
    for round in 0..400 {
        let policy = random_policy(&mut random, &candidates);
        let file_system = random_file_system(&mut random, &candidates);
        let command = [OsString::from("true")];
        let plan = plan_with(&policy, &command, &SeatbeltOptions::default(), &file_system).unwrap();
        let profile = Sbpl::parse(plan.profile().unwrap());
        let parameters = parameters(&plan.argv);
        for (index, writable) in policy.writable_roots.iter().enumerate() {
            let (literal, subpath) =
                profile.write_exclusions(&format!("WRITABLE_ROOT_{index}"), &parameters);
            let root = resolve(&file_system, &writable.root);
            for protected in &writable.protected {
                let spellings = carve_out_spellings(&file_system, &protected.path);
                for (position, spelling) in spellings.iter().enumerate() {
                    // The entry itself (position 0) always lies in the root; a symlink target
                    // only matters where it does.
                    if position > 0 && !spelling.starts_with(&root) {
                        continue;
                    }
                    assert!(
                        literal.contains(spelling) && subpath.contains(spelling),
                        "round {round}: root {} lacks `{}` (literal {literal:?}, subpath \
                         {subpath:?})\n{policy:#?}",
                        writable.root.display(),
                        spelling.display()
                    );
                }
            }
        }
    }
}

#[test]
fn generated_profile_agrees_with_the_policy_on_every_path() {
    let candidates = universe(3);
    let rule_candidates = universe(2);
    let mut random = Random(0xC0DE_5EED);
    let file_system = FakeFileSystem::default();
    for round in 0..300 {
        let policy = random_policy(&mut random, &rule_candidates);
        let command = [OsString::from("true")];
        let plan = plan_with(&policy, &command, &SeatbeltOptions::default(), &file_system).unwrap();
        let profile = Sbpl::parse(plan.profile().unwrap());
        let parameters = parameters(&plan.argv);
        for path in &candidates {
            let access = policy.access_for(path);
            let can_read = profile.allows("file-read*", path, &parameters);
            let can_write = profile.allows("file-write*", path, &parameters);
            assert_eq!(
                (can_read, can_write),
                (access.can_read(), access == Access::Write),
                "round {round}: {} is {access:?} in the policy\n{policy:#?}\n{}",
                path.display(),
                plan.profile().unwrap_or_default()
            );
        }
    }
}

fn parameters(argv: &[OsString]) -> HashMap<String, PathBuf> {
    argv.iter()
        .filter_map(|argument| argument.to_str()?.strip_prefix("-D"))
        .filter_map(|definition| definition.split_once('='))
        .map(|(name, value)| (name.to_string(), PathBuf::from(value)))
        .collect()
}

/// Just enough SBPL to evaluate the file rules this module generates.
#[derive(Debug, Clone, PartialEq)]
enum Expression {
    List(Vec<Expression>),
    Symbol(String),
    Text(String),
    Regex(String),
}

struct Sbpl {
    forms: Vec<Expression>,
}

impl Sbpl {
    fn parse(text: &str) -> Self {
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
    fn rules(&self) -> impl Iterator<Item = (bool, Vec<&str>, Vec<&Expression>)> {
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
    fn allows(&self, operation: &str, path: &Path, parameters: &HashMap<String, PathBuf>) -> bool {
        let mut decision = false;
        for (allow, operations, filters) in self.rules() {
            let applies = operations
                .iter()
                .any(|candidate| *candidate == operation || *candidate == "default");
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
    fn write_exclusions(
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

/// Filters this module emits for files. Anything else (regexes, extensions, vnode types) never
/// matches the `/u/…` paths under test.
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
        _ => false,
    }
}
