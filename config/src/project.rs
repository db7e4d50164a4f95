//! Project layers: the project root, trust, and `.codex/config.toml` from root down to cwd.
//!
//! Everything here runs on directories that may be attacker-controlled (a cloned repository, a
//! directory the previous sandboxed command could write): git pointer files are read only when
//! they are regular files of at most 4 KiB, a linked worktree inherits the trust of its main
//! repository only when the main repository confirms it (as git itself does), and the
//! `.codex/config.toml` of an untrusted or unknown project is not read at all.
//!
//! A project layer is configuration that widens what later runs may do (sandbox, approvals,
//! providers, MCP servers, …), and a sandboxed command that may write inside the project could
//! have written it (only `<writable root>/.codex` itself is protected; `sub/.codex` or the
//! `.codex` of a project below a broader writable root is not). So inside a git repository a
//! project layer counts only when git tracks it and its contents are exactly the staged blob:
//! the command cannot change `.git`, so it cannot stage or commit. Anything else is skipped with
//! a warning that says how to vouch for it (`git add`). Known limit: outside any git repository a
//! trusted project's layers are loaded as they are.

use std::path::{Path, PathBuf};

use codex_utils_git::{Index, Repository, TrackedState};
use toml::{Table, Value};

use crate::diagnostics::parse_file;
use crate::error::LoadConfigError;
use crate::layers::{ConfigLayer, FileRole, LayerSource, read_optional, read_regular_file};
use crate::types::ProjectTrust;

/// Keys a project layer may not set (stripped from every project layer).
const PROJECT_DENYLIST: &[&str] = &[
    "apps_mcp_product_sku",
    "chatgpt_base_url",
    "experimental_realtime_webrtc_call_base_url",
    "experimental_realtime_ws_base_url",
    "model_provider",
    "model_providers",
    "notify",
    "openai_base_url",
    "otel",
    "profile",
    "profiles",
];
/// Nested keys a project layer may not set.
/// `features.use_legacy_landlock` chooses the weaker Linux backend (no pid namespace, `stat` on
/// hidden paths): a repository may not pick it for the user.
const PROJECT_NESTED_DENYLIST: &[(&str, &str)] = &[
    ("features", "respect_system_proxy"),
    ("features", "use_legacy_landlock"),
];

/// The first ancestor of `cwd` (itself included) holding one of `markers`; `cwd` when none
/// does or the list is empty. A `.git` directory without `HEAD` (a stray `/tmp/.git`) does not
/// count.
pub(crate) fn project_root(cwd: &Path, markers: &[String]) -> PathBuf {
    for dir in cwd.ancestors() {
        for marker in markers {
            let candidate = dir.join(marker);
            let counts = if marker == ".git" && candidate.is_dir() {
                candidate.join("HEAD").exists()
            } else {
                candidate.exists()
            };
            if counts {
                return dir.to_path_buf();
            }
        }
    }
    cwd.to_path_buf()
}

/// Largest git pointer file (`.git`, `commondir`, `gitdir`) that is read.
const MAX_POINTER_FILE_BYTES: u64 = 4096;

/// The contents of a small git pointer file; `None` when it is missing, not a regular file,
/// larger than [`MAX_POINTER_FILE_BYTES`] or unreadable.
fn read_pointer_file(path: &Path) -> Option<String> {
    read_regular_file(path, MAX_POINTER_FILE_BYTES)
        .ok()
        .flatten()
}

/// The root of the git repository holding `cwd`; a linked worktree resolves to its main
/// repository only when that repository confirms the worktree (see [`linked_worktree_root`]).
pub(crate) fn git_repo_root(cwd: &Path) -> Option<PathBuf> {
    let dir = cwd.ancestors().find(|dir| dir.join(".git").exists())?;
    let git = dir.join(".git");
    if git.is_file() {
        return linked_worktree_root(dir, &git);
    }
    Some(dir.to_path_buf())
}

/// The main repository of the linked worktree at `dir` whose `.git` is the pointer file
/// `git_file`, checked like git does: `gitdir: <path>` names an existing directory
/// `<common>/worktrees/<name>` (after canonicalisation), `<gitdir>/commondir` names `<common>`,
/// and `<gitdir>/gitdir` points back at this very `.git` file. Anyone can write a `.git` file
/// and a `commondir` naming a trusted repository; only that repository's own administrative
/// files can confirm the link. `None` (no trust inheritance) otherwise, e.g. for submodules.
fn linked_worktree_root(dir: &Path, git_file: &Path) -> Option<PathBuf> {
    let pointer = read_pointer_file(git_file)?;
    let target = pointer.trim().strip_prefix("gitdir:")?.trim();
    if target.is_empty() {
        return None;
    }
    let gitdir = dir.join(target).canonicalize().ok()?;
    if !gitdir.is_dir() {
        return None;
    }
    let common = read_pointer_file(&gitdir.join("commondir"))?;
    let common = gitdir.join(common.trim()).canonicalize().ok()?;
    let worktrees = common.join("worktrees").canonicalize().ok()?;
    if gitdir.parent() != Some(worktrees.as_path()) {
        return None;
    }
    let back = read_pointer_file(&gitdir.join("gitdir"))?;
    let back = gitdir.join(back.trim()).canonicalize().ok()?;
    if back != git_file.canonicalize().ok()? {
        return None;
    }
    common.parent().map(Path::to_path_buf)
}

/// The trust decision and the `[projects]` key it came from (the project root when none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TrustDecision {
    pub trust: ProjectTrust,
    pub key: String,
    /// A `trusted` entry that names this project through a symlink, which does not count.
    pub warning: Option<String>,
}

/// Look the project up in `[projects]` by its real path: the canonical `cwd`, then the project
/// root, then the git repository root (`cwd` and `root` are canonicalised here too). Keys are
/// compared as written (lexically normalised), never by following a link: a symlinked checkout
/// neither inherits the trust of the path it is reached by nor loses an entry of its real path,
/// and a symlink a sandboxed command could repoint cannot make another directory look trusted.
/// Following links can only take trust away: an `untrusted` key that resolves to a candidate
/// counts, a `trusted` one only yields a warning naming the real path to write instead.
pub(crate) fn decide_trust(projects: Option<&Table>, cwd: &Path, root: &Path) -> TrustDecision {
    let real = |path: &Path| {
        path.canonicalize()
            .unwrap_or_else(|_| codex_sandbox_policy::normalize(path))
    };
    let cwd = real(cwd);
    let mut candidates: Vec<PathBuf> = vec![cwd.clone(), real(root)];
    if let Some(repo) = git_repo_root(&cwd) {
        candidates.push(real(&repo));
    }
    candidates.dedup();
    let entries: Vec<(&String, Option<&str>)> = projects
        .into_iter()
        .flatten()
        .map(|(key, entry)| {
            let level = entry.get("trust_level").and_then(Value::as_str);
            (key, level)
        })
        .collect();
    let mut warning = None;
    for candidate in &candidates {
        let key = candidate.to_string_lossy().into_owned();
        let literal = entries.iter().find_map(|(written, level)| {
            (Path::new(written.as_str()).is_absolute()
                && codex_sandbox_policy::normalize(Path::new(written.as_str())) == *candidate)
                .then_some(*level)
                .flatten()
        });
        let through_link = |wanted: &str| {
            entries.iter().find(|(written, level)| {
                *level == Some(wanted)
                    && Path::new(written.as_str()).is_absolute()
                    && codex_sandbox_policy::normalize(Path::new(written.as_str())) != *candidate
                    && Path::new(written.as_str()).canonicalize().ok().as_ref() == Some(candidate)
            })
        };
        if literal == Some("untrusted") || through_link("untrusted").is_some() {
            return TrustDecision {
                trust: ProjectTrust::Untrusted,
                key,
                warning,
            };
        }
        if literal == Some("trusted") {
            return TrustDecision {
                trust: ProjectTrust::Trusted,
                key,
                warning,
            };
        }
        if warning.is_none()
            && let Some((written, _)) = through_link("trusted")
        {
            warning = Some(format!(
                "`[projects.\"{written}\"]` reaches this project through a symlink and is not used: trust is looked up by the real path; add `[projects.\"{key}\"]` with `trust_level = \"trusted\"` to trust it"
            ));
        }
    }
    TrustDecision {
        trust: ProjectTrust::Unknown,
        key: real(root).to_string_lossy().into_owned(),
        warning,
    }
}

/// Project layers from `root` down to `cwd` (root first), each enabled only when trusted, with
/// denylisted keys stripped. Warnings for stripped keys are pushed for trusted layers.
pub(crate) fn project_layers(
    cwd: &Path,
    root: &Path,
    codex_home: &Path,
    decision: &TrustDecision,
    user_config: &Path,
    warnings: &mut Vec<String>,
) -> Result<Vec<ConfigLayer>, LoadConfigError> {
    let codex_home = codex_home
        .canonicalize()
        .unwrap_or_else(|_| codex_home.to_path_buf());
    let mut dirs: Vec<&Path> = cwd
        .ancestors()
        .take_while(|dir| dir.starts_with(root))
        .collect();
    dirs.reverse();
    let trusted = decision.trust == ProjectTrust::Trusted;
    let disabled_reason = match decision.trust {
        ProjectTrust::Trusted => None,
        ProjectTrust::Untrusted => Some(format!(
            "{} is marked as untrusted in {}. To load project-local config, hooks, and exec policies, mark it trusted.",
            decision.key,
            user_config.display()
        )),
        ProjectTrust::Unknown => Some(format!(
            "To load project-local config, hooks, and exec policies, add {} as a trusted project in {}.",
            decision.key,
            user_config.display()
        )),
    };
    let mut layers = Vec::new();
    let mut repositories = RepositoryCache::default();
    let mut skipped_untrusted: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        let dot_codex = dir.join(".codex");
        if !dot_codex.is_dir() {
            continue;
        }
        let same_as_home = dot_codex
            .canonicalize()
            .is_ok_and(|canonical| canonical == codex_home);
        if same_as_home {
            continue;
        }
        let path = dot_codex.join("config.toml");
        let mut layer = ConfigLayer::new(
            LayerSource::Project {
                dot_codex: dot_codex.clone(),
            },
            Table::new(),
        );
        layer.disabled_reason = disabled_reason.clone();
        if !trusted {
            // Nothing of an untrusted layer is used: do not even open the file (a FIFO or a
            // huge file there must not hang or exhaust the session).
            if std::fs::symlink_metadata(&path).is_ok() {
                skipped_untrusted.push(path);
            }
            layers.push(layer);
            continue;
        }
        if let Some(text) = read_optional(&path, FileRole::ProjectConfig)? {
            if let Some(reason) = unvouched(&path, text.as_bytes(), &mut repositories) {
                warnings.push(format!(
                    "skipping project configuration `{}`: {reason}",
                    path.display()
                ));
                layer.disabled_reason = Some(reason);
                layers.push(layer);
                continue;
            }
            let (table, file) = parse_file(&path, text)?;
            layer.table = table;
            layer.file = Some(file);
        }
        let stripped = strip_denylisted(&mut layer.table);
        if trusted && !stripped.is_empty() {
            warnings.push(format!(
                "Ignored unsupported project-local config keys in {}: {}. If you want these settings to apply, manually set them in your user-level config.toml.",
                path.display(),
                stripped.join(", ")
            ));
        }
        layers.push(layer);
    }
    // Once, however many layers were skipped, with what to write to trust the project.
    if let Some(first) = skipped_untrusted.first() {
        let files = match skipped_untrusted.len() {
            1 => format!("`{}`", first.display()),
            count => format!("`{}` and {} more", first.display(), count - 1),
        };
        let key = toml::Value::String(decision.key.clone());
        let how = match decision.trust {
            ProjectTrust::Untrusted => format!(
                "the project is marked untrusted; set `trust_level = \"trusted\"` under `[projects.{key}]` in `{}` to load it",
                user_config.display()
            ),
            _ => format!(
                "the project is not trusted; add `[projects.{key}]` with `trust_level = \"trusted\"` to `{}` to load it",
                user_config.display()
            ),
        };
        warnings.push(format!("skipping project configuration {files}: {how}"));
    }
    Ok(layers)
}

/// Repositories and their indexes, read once per load.
#[derive(Default)]
struct RepositoryCache {
    entries: Vec<(Repository, Result<Index, String>)>,
}

/// Why a project layer inside a git repository cannot be trusted: unless git tracks it and its
/// contents are exactly the staged blob, a sandboxed command could have written it (it cannot
/// change `.git`, so it cannot stage or commit). `None` when it is vouched for, or outside any
/// repository (see the module docs).
fn unvouched(path: &Path, contents: &[u8], cache: &mut RepositoryCache) -> Option<String> {
    let directory = path.parent()?.parent()?;
    let repository = Repository::discover(directory)?;
    let position = match cache
        .entries
        .iter()
        .position(|(known, _)| *known == repository)
    {
        Some(position) => position,
        None => {
            let index = repository.index().map_err(|error| error.to_string());
            cache.entries.push((repository, index));
            cache.entries.len() - 1
        }
    };
    let (repository, index) = &cache.entries[position];
    let relative = path
        .strip_prefix(&repository.worktree)
        .unwrap_or(path)
        .display()
        .to_string();
    let how = format!(
        "review it, then `git add {relative}` (a sandboxed command cannot stage or commit) to use it"
    );
    let index = match index {
        Ok(index) => index,
        Err(error) => {
            return Some(format!(
                "its git status cannot be checked ({error}), so a sandboxed command could have written it; {how}"
            ));
        }
    };
    match repository.tracked_state(index, path, contents) {
        TrackedState::Unmodified => None,
        TrackedState::Modified => Some(format!(
            "it differs from the version staged in git, so a sandboxed command could have written it; {how}"
        )),
        TrackedState::Untracked => Some(format!(
            "git does not track it, so a sandboxed command could have written it; {how}"
        )),
        TrackedState::Unknown(error) => {
            Some(format!("its git status cannot be checked ({error}); {how}"))
        }
    }
}

/// Remove denylisted keys; returns the dotted names removed, sorted.
fn strip_denylisted(table: &mut Table) -> Vec<String> {
    let mut stripped = Vec::new();
    for key in PROJECT_DENYLIST {
        if table.remove(*key).is_some() {
            stripped.push((*key).to_string());
        }
    }
    for (parent, child) in PROJECT_NESTED_DENYLIST {
        if let Some(Value::Table(inner)) = table.get_mut(*parent)
            && inner.remove(*child).is_some()
        {
            stripped.push(format!("{parent}.{child}"));
        }
    }
    stripped.sort();
    stripped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_root_uses_markers_and_ignores_git_without_head() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let cwd = base.join("repo/a/b");
        std::fs::create_dir_all(&cwd).unwrap();
        let markers = vec![".git".to_string()];
        assert_eq!(project_root(&cwd, &markers), cwd);
        std::fs::create_dir_all(base.join("repo/.git")).unwrap();
        assert_eq!(project_root(&cwd, &markers), cwd, "no HEAD: not a repo");
        std::fs::write(base.join("repo/.git/HEAD"), "ref: refs/heads/main\n").unwrap();
        assert_eq!(project_root(&cwd, &markers), base.join("repo"));
        std::fs::write(base.join("repo/a/.hg"), "").unwrap();
        assert_eq!(
            project_root(&cwd, &[".hg".to_string()]),
            base.join("repo/a")
        );
        assert_eq!(project_root(&cwd, &[]), cwd);
    }

    #[test]
    fn linked_worktree_resolves_to_main_repository() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let gitdir = base.join("main/.git/worktrees/wt");
        std::fs::create_dir_all(&gitdir).unwrap();
        std::fs::write(gitdir.join("commondir"), "../..\n").unwrap();
        std::fs::write(
            gitdir.join("gitdir"),
            format!("{}\n", base.join("wt/.git").display()),
        )
        .unwrap();
        std::fs::create_dir_all(base.join("wt/sub")).unwrap();
        std::fs::write(
            base.join("wt/.git"),
            format!("gitdir: {}\n", gitdir.display()),
        )
        .unwrap();
        assert_eq!(git_repo_root(&base.join("wt/sub")), Some(base.join("main")));
        // Relative `gitdir:` pointers work too.
        std::fs::write(base.join("wt/.git"), "gitdir: ../main/.git/worktrees/wt\n").unwrap();
        assert_eq!(git_repo_root(&base.join("wt")), Some(base.join("main")));
    }

    /// Regression: an attacker-written `.git` file and `commondir` naming a
    /// trusted repository made an untrusted directory inherit its trust.
    #[test]
    fn forged_worktree_pointer_does_not_inherit_trust() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(base.join("trusted/.git/worktrees/real")).unwrap();
        std::fs::create_dir_all(base.join("real")).unwrap();
        std::fs::write(
            base.join("trusted/.git/worktrees/real/gitdir"),
            format!("{}\n", base.join("real/.git").display()),
        )
        .unwrap();
        std::fs::write(
            base.join("trusted/.git/worktrees/real/commondir"),
            "../..\n",
        )
        .unwrap();
        std::fs::write(
            base.join("real/.git"),
            "gitdir: ../trusted/.git/worktrees/real\n",
        )
        .unwrap();
        let projects: Table = toml::from_str(&format!(
            "[\"{}\"]\ntrust_level = \"trusted\"\n",
            base.join("trusted").display()
        ))
        .unwrap();
        let evil = base.join("evil");
        std::fs::create_dir_all(evil.join("fake")).unwrap();
        // 1. A private gitdir whose commondir names the trusted repository.
        std::fs::write(
            evil.join("fake/commondir"),
            format!("{}\n", base.join("trusted/.git").display()),
        )
        .unwrap();
        std::fs::write(
            evil.join("fake/gitdir"),
            format!("{}\n", evil.join(".git").display()),
        )
        .unwrap();
        std::fs::write(evil.join(".git"), "gitdir: fake\n").unwrap();
        assert_eq!(git_repo_root(&evil), None);
        assert_eq!(
            decide_trust(Some(&projects), &evil, &evil).trust,
            ProjectTrust::Unknown
        );
        // 2. Pointing at the real worktree's gitdir: it points back elsewhere.
        std::fs::write(
            evil.join(".git"),
            "gitdir: ../trusted/.git/worktrees/real\n",
        )
        .unwrap();
        assert_eq!(git_repo_root(&evil), None);
        assert_eq!(
            decide_trust(Some(&projects), &evil, &evil).trust,
            ProjectTrust::Unknown
        );
        // The genuine worktree still inherits.
        assert_eq!(
            decide_trust(Some(&projects), &base.join("real"), &base.join("real")).trust,
            ProjectTrust::Trusted
        );
    }

    /// Regression: a FIFO `commondir` hung the loader.
    #[cfg(unix)]
    #[test]
    fn fifo_pointer_files_do_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(base.join("evil/x")).unwrap();
        std::fs::write(base.join("evil/.git"), "gitdir: x\n").unwrap();
        let fifo = base.join("evil/x/commondir");
        let path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `path` is a valid NUL-terminated string.
        assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
        let (sender, receiver) = std::sync::mpsc::channel();
        let evil = base.join("evil");
        std::thread::spawn(move || {
            let _ = sender.send(git_repo_root(&evil));
        });
        let root = receiver
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("git_repo_root blocked on a FIFO");
        assert_eq!(root, None);
        assert_eq!(read_pointer_file(&fifo), None);
        let big = base.join("big");
        std::fs::write(&big, "x".repeat(MAX_POINTER_FILE_BYTES as usize + 1)).unwrap();
        assert_eq!(read_pointer_file(&big), None);
    }

    #[test]
    fn trust_lookup_order() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let cwd = base.join("repo/sub");
        std::fs::create_dir_all(&cwd).unwrap();
        let root = base.join("repo");
        let projects: Table = toml::from_str(&format!(
            "[\"{}\"]\ntrust_level = \"untrusted\"\n[\"{}\"]\ntrust_level = \"trusted\"\n",
            root.display(),
            cwd.display()
        ))
        .unwrap();
        let decision = decide_trust(Some(&projects), &cwd, &root);
        assert_eq!(decision.trust, ProjectTrust::Trusted);
        assert_eq!(decision.key, cwd.to_string_lossy());
        let decision = decide_trust(Some(&projects), &base.join("repo"), &root);
        assert_eq!(decision.trust, ProjectTrust::Untrusted);
        let decision = decide_trust(None, &cwd, &root);
        assert_eq!(decision.trust, ProjectTrust::Unknown);
        assert_eq!(decision.key, root.to_string_lossy());
    }

    #[test]
    fn denylist_is_stripped_and_sorted() {
        let mut table: Table =
            toml::from_str("notify = []\nmodel = 'x'\nprofile = 'p'\n[features]\nrespect_system_proxy = true\nnetwork_proxy = true").unwrap();
        assert_eq!(
            strip_denylisted(&mut table),
            vec!["features.respect_system_proxy", "notify", "profile"]
        );
        let expected: Table =
            toml::from_str("model = 'x'\n[features]\nnetwork_proxy = true").unwrap();
        assert_eq!(table, expected);
    }

    /// Red-team finding: a trusted project's `[features] use_legacy_landlock = true` switched
    /// every run in it to the weaker backend.
    #[test]
    fn a_project_layer_cannot_choose_the_landlock_backend() {
        let mut table: Table =
            toml::from_str("[features]\nuse_legacy_landlock = true\nnetwork_proxy = true").unwrap();
        assert_eq!(
            strip_denylisted(&mut table),
            vec!["features.use_legacy_landlock"]
        );
        let expected: Table = toml::from_str("[features]\nnetwork_proxy = true").unwrap();
        assert_eq!(table, expected);
    }
}
