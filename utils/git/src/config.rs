//! The places git configuration sends the host's next `git` to for code: `core.hooksPath` (a
//! directory of programs `git commit`, `git checkout`… run) and the files `include.path` /
//! `includeIf.<condition>.path` pull more configuration from (which can set `core.fsmonitor`,
//! `core.pager`, filters…). A sandboxed command that may write one of them runs code on the host
//! later, so the sandbox keeps them read-only.
//!
//! Only those keys are read, with a small parser: sections (`[core]`, `[includeIf "gitdir:…"]`,
//! the legacy `[section.sub]`), `key = value` lines, quotes, `#`/`;` comments. Conditions of
//! `includeIf` are not evaluated: every conditional include counts (more protection, never
//! less). Files are read only when they are regular files of at most 1 MiB, includes are
//! followed at most [`MAX_INCLUDE_DEPTH`] deep and [`MAX_CONFIG_FILES`] files in all.

use std::path::{Path, PathBuf};

use crate::files::read_small_regular_file;
use crate::repository::Repository;

/// Largest configuration file that is read.
const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// How deep includes are followed (git itself stops at 10).
pub const MAX_INCLUDE_DEPTH: usize = 10;
/// Most configuration files read for one repository.
pub const MAX_CONFIG_FILES: usize = 64;

/// Where the configuration that applies to a repository points git for code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigPointers {
    /// `core.hooksPath` values, absolute (relative ones against the worktree).
    pub hooks: Vec<PathBuf>,
    /// Included files, absolute (relative ones against the including file's directory), whether
    /// they exist or not.
    pub includes: Vec<PathBuf>,
}

/// Where git's own configuration files are (the environment of the process that runs `git`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigLocations {
    /// `$HOME`, for `~/` in values and `~/.gitconfig`.
    pub home: Option<PathBuf>,
    /// The system and global files (`/etc/gitconfig`, `$XDG_CONFIG_HOME/git/config`,
    /// `~/.gitconfig`, or `GIT_CONFIG_SYSTEM` / `GIT_CONFIG_GLOBAL`).
    pub files: Vec<PathBuf>,
}

impl ConfigLocations {
    /// From this process's environment, as git would find them.
    pub fn from_environment() -> ConfigLocations {
        let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        let home = var("HOME").map(PathBuf::from);
        let mut files = Vec::new();
        if var("GIT_CONFIG_NOSYSTEM").is_none() {
            files.push(
                var("GIT_CONFIG_SYSTEM").map_or_else(|| "/etc/gitconfig".into(), PathBuf::from),
            );
        }
        match var("GIT_CONFIG_GLOBAL") {
            Some(global) => files.push(PathBuf::from(global)),
            None => {
                let xdg = var("XDG_CONFIG_HOME")
                    .map(PathBuf::from)
                    .or_else(|| home.as_ref().map(|home| home.join(".config")));
                files.extend(xdg.map(|xdg| xdg.join("git/config")));
                files.extend(home.as_ref().map(|home| home.join(".gitconfig")));
            }
        }
        ConfigLocations { home, files }
    }

    /// The hooks directories and included files of the system and global files alone: they
    /// apply to every repository, including ones not created yet. A relative `core.hooksPath`
    /// there depends on the repository and is left to [`Repository::config_pointers`].
    pub fn global_pointers(&self) -> ConfigPointers {
        pointers_of(self.files.clone(), None, self)
    }
}

impl Repository {
    /// The hooks directories and included files of every configuration file that applies to
    /// this repository: `locations.files`, `<common dir>/config`, `<git dir>/config.worktree`.
    pub fn config_pointers(&self, locations: &ConfigLocations) -> ConfigPointers {
        let files = locations
            .files
            .iter()
            .cloned()
            .chain([
                self.common_dir.join("config"),
                self.git_dir.join("config.worktree"),
            ])
            .collect();
        pointers_of(files, Some(&self.worktree), locations)
    }
}

/// Read `files` (and what they include); relative hooks paths against `worktree` (dropped
/// without one).
fn pointers_of(
    files: Vec<PathBuf>,
    worktree: Option<&Path>,
    locations: &ConfigLocations,
) -> ConfigPointers {
    let mut pointers = ConfigPointers::default();
    let mut pending: Vec<(PathBuf, usize)> = files.into_iter().map(|file| (file, 0)).collect();
    pending.reverse();
    let mut read = 0usize;
    while let Some((file, depth)) = pending.pop() {
        if read >= MAX_CONFIG_FILES {
            break;
        }
        read += 1;
        let Some(bytes) = read_small_regular_file(&file, MAX_CONFIG_BYTES) else {
            continue;
        };
        let base = file.parent().unwrap_or(Path::new("/"));
        for (key, value) in entries(&String::from_utf8_lossy(&bytes)) {
            match key {
                Key::HooksPath => {
                    let relative = !value.starts_with('~') && !Path::new(&value).is_absolute();
                    let resolved = match worktree {
                        Some(worktree) => resolve(&value, worktree, locations),
                        None if relative => None,
                        None => resolve(&value, base, locations),
                    };
                    pointers.hooks.extend(resolved);
                }
                Key::Include => {
                    if let Some(path) = resolve(&value, base, locations) {
                        if depth + 1 < MAX_INCLUDE_DEPTH {
                            pending.push((path.clone(), depth + 1));
                        }
                        pointers.includes.push(path);
                    }
                }
            }
        }
    }
    for list in [&mut pointers.hooks, &mut pointers.includes] {
        list.sort();
        list.dedup();
    }
    pointers
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    HooksPath,
    Include,
}

/// The `core.hooksPath` and include `path` entries of a configuration text, in order.
fn entries(text: &str) -> Vec<(Key, String)> {
    let mut found = Vec::new();
    // Lowercased section name, and whether it is an include section.
    let mut section = String::new();
    for line in text.lines() {
        let mut rest = line.trim();
        if let Some(header) = rest.strip_prefix('[') {
            let Some(end) = header.find(']') else {
                section.clear();
                continue;
            };
            let name = header[..end].trim();
            // `[section "sub"]` and `[section.sub]`: only the section name matters here.
            let name = name
                .split(|c: char| c == '"' || c.is_whitespace() || c == '.')
                .next()
                .unwrap_or("");
            section = name.to_ascii_lowercase();
            rest = header[end + 1..].trim();
            if rest.is_empty() {
                continue;
            }
        }
        let (key, value) = match rest.split_once('=') {
            Some((key, value)) => (key.trim(), value),
            None => continue,
        };
        let key = key.to_ascii_lowercase();
        let wanted = match (section.as_str(), key.as_str()) {
            ("core", "hookspath") => Key::HooksPath,
            ("include" | "includeif", "path") => Key::Include,
            _ => continue,
        };
        let value = parse_value(value);
        if !value.is_empty() {
            found.push((wanted, value));
        }
    }
    found
}

/// A value: quotes removed, `\"` `\\` `\t` `\n` unescaped, a comment outside quotes cut.
fn parse_value(raw: &str) -> String {
    let mut value = String::new();
    let mut quoted = false;
    let mut chars = raw.trim().chars();
    while let Some(character) = chars.next() {
        match character {
            '"' => quoted = !quoted,
            '\\' => match chars.next() {
                Some('t') => value.push('\t'),
                Some('n') => value.push('\n'),
                Some(other) => value.push(other),
                None => {}
            },
            '#' | ';' if !quoted => break,
            other => value.push(other),
        }
    }
    value.trim_end().to_string()
}

/// A path value as git resolves it: `~/…` in the home, absolute as is, relative against `base`.
/// `~user/…` is not resolved (`None`).
fn resolve(value: &str, base: &Path, locations: &ConfigLocations) -> Option<PathBuf> {
    let path = if let Some(rest) = value.strip_prefix("~/") {
        locations.home.as_ref()?.join(rest)
    } else if value == "~" {
        locations.home.clone()?
    } else if value.starts_with('~') {
        return None;
    } else if Path::new(value).is_absolute() {
        PathBuf::from(value)
    } else {
        base.join(value)
    };
    Some(lexical_normalize(&path))
}

/// `.` and `..` resolved lexically (never above `/`).
fn lexical_normalize(path: &Path) -> PathBuf {
    let mut result = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                result.pop();
            }
            std::path::Component::CurDir => {}
            other => result.push(other),
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_hooks_and_includes_as_git_writes_them() {
        let text = "[core]\n\tbare = false\n\thooksPath = \".husky\" # managed by husky\n\
                    [include]\n\tpath = ../shared.gitconfig\n\
                    [includeIf \"gitdir:~/work/\"]\n\tpath = ~/work.gitconfig ; work\n\
                    [CORE]HOOKSPATH=/abs/hooks\n[remote \"origin\"]\n\tpath = not-an-include\n\
                    [core.sub]\n\thooksPath = legacy\n";
        assert_eq!(
            entries(text),
            vec![
                (Key::HooksPath, ".husky".to_string()),
                (Key::Include, "../shared.gitconfig".to_string()),
                (Key::Include, "~/work.gitconfig".to_string()),
                (Key::HooksPath, "/abs/hooks".to_string()),
                (Key::HooksPath, "legacy".to_string()),
            ]
        );
    }

    #[test]
    fn follows_includes_from_every_applicable_file() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let worktree = base.join("repo");
        std::fs::create_dir_all(worktree.join(".git")).unwrap();
        std::fs::write(worktree.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(
            worktree.join(".git/config"),
            "[core]\n\thooksPath = .githooks\n[include]\n\tpath = ../config/extra\n",
        )
        .unwrap();
        std::fs::create_dir_all(worktree.join("config")).unwrap();
        std::fs::write(
            worktree.join("config/extra"),
            "[includeIf \"onbranch:main\"]\n\tpath = deeper\n",
        )
        .unwrap();
        std::fs::write(base.join("global"), "[core]\n\thooksPath = ~/hooks\n").unwrap();
        let repository = Repository::at(&worktree).unwrap();
        let locations = ConfigLocations {
            home: Some(base.join("home")),
            files: vec![base.join("global"), base.join("missing")],
        };
        assert_eq!(
            repository.config_pointers(&locations),
            ConfigPointers {
                hooks: vec![base.join("home/hooks"), worktree.join(".githooks")],
                includes: vec![
                    worktree.join("config/deeper"),
                    worktree.join("config/extra")
                ],
            }
        );
    }

    #[test]
    fn global_files_apply_without_a_repository() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::fs::write(
            base.join("gitconfig"),
            "[include]\n\tpath = ~/dotfiles/git.conf\n[core]\n\thooksPath = relative\n\thooksPath = /abs/hooks\n",
        )
        .unwrap();
        let locations = ConfigLocations {
            home: Some(base.join("home")),
            files: vec![base.join("gitconfig")],
        };
        assert_eq!(
            locations.global_pointers(),
            ConfigPointers {
                hooks: vec![PathBuf::from("/abs/hooks")],
                includes: vec![base.join("home/dotfiles/git.conf")],
            }
        );
    }

    #[test]
    fn include_cycles_and_fan_out_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let worktree = base.join("repo");
        std::fs::create_dir_all(worktree.join(".git")).unwrap();
        std::fs::write(worktree.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(
            worktree.join(".git/config"),
            "[include]\n\tpath = config\n\tpath = config\n",
        )
        .unwrap();
        let repository = Repository::at(&worktree).unwrap();
        let pointers = repository.config_pointers(&ConfigLocations::default());
        assert_eq!(pointers.includes, vec![worktree.join(".git/config")]);
    }
}
