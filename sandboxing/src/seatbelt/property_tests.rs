//! Property tests over random policies (a small hand-rolled generator, fixed seeds):
//!
//! 1. every writable root excludes each of its protected paths with both `literal` and
//!    `subpath`, in every spelling (entry and symlink target);
//! 2. a small evaluator of the generated SBPL (last matching rule wins, regexes included) agrees
//!    with [`SandboxPolicy::access_for`] on every path of the random tree, except that `.codex`
//!    and `.agents` at any depth below a writable root are never writable;
//! 3. no ancestor of a carve-out inside a writable area (nor a writable root) can be removed,
//!    renamed or created, while every other writable entry still can;
//! 4. a plan is refused for crossing a writable symlink only when the symlink really is
//!    replaceable under the policy.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::canonical::fake::FakeFileSystem;
use super::canonical::{Canonicalize, carve_out_spellings, resolve};
use super::sbpl_evaluator::{Sbpl, parameters};
use super::test_support::PolicyBuilder;
use super::{SeatbeltOptions, SeatbeltPlanError, plan_with};
use codex_sandbox_policy::{Access, SandboxPolicy};

fn options() -> SeatbeltOptions {
    SeatbeltOptions {
        cwd: PathBuf::from("/u/a"),
        ..SeatbeltOptions::default()
    }
}

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

const NAMES: &[&str] = &["a", "b", ".git", ".codex", ".agents"];

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
    let mut planned = 0;
    for round in 0..400 {
        let policy = random_policy(&mut random, &candidates);
        let file_system = random_file_system(&mut random, &candidates);
        let command = [OsString::from("true")];
        let plan = match plan_with(&policy, &command, &options(), &file_system) {
            Ok(plan) => plan,
            // Checked by `refusals_name_a_symlink_the_command_could_replace`.
            Err(SeatbeltPlanError::CrossesWritableSymlink { .. }) => continue,
            Err(error) => panic!("round {round}: {error}"),
        };
        planned += 1;
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
    assert!(
        planned > 200,
        "only {planned} of 400 random policies could be planned"
    );
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
        let plan = plan_with(&policy, &command, &options(), &file_system).unwrap();
        let profile = Sbpl::parse(plan.profile().unwrap());
        let parameters = parameters(&plan.argv);
        for path in &candidates {
            let access = policy.access_for(path);
            let can_read = profile.allows("file-read*", path, &parameters);
            let can_write = profile.allows("file-write*", path, &parameters);
            let expected_write = access == Access::Write && !has_nested_metadata(&policy, path);
            assert_eq!(
                (can_read, can_write),
                (access.can_read(), expected_write),
                "round {round}: {} is {access:?} in the policy\n{policy:#?}\n{}",
                path.display(),
                plan.profile().unwrap_or_default()
            );
        }
    }
}

/// `.codex` or `.agents` as a component strictly below some writable root.
fn has_nested_metadata(policy: &SandboxPolicy, path: &Path) -> bool {
    policy.writable_roots.iter().any(|writable| {
        path.strip_prefix(&writable.root).is_ok_and(|below| {
            below.components().any(|component| {
                matches!(component.as_os_str().to_str(), Some(".codex" | ".agents"))
            })
        })
    })
}

#[test]
fn carve_out_ancestors_are_pinned_and_nothing_else_is() {
    let candidates = universe(3);
    let rule_candidates = universe(2);
    let mut random = Random(0x0A11_CE55);
    let file_system = FakeFileSystem::default();
    let mut guarded_seen = 0;
    for round in 0..300 {
        let policy = random_policy(&mut random, &rule_candidates);
        let command = [OsString::from("true")];
        let plan = plan_with(&policy, &command, &options(), &file_system).unwrap();
        let profile = Sbpl::parse(plan.profile().unwrap());
        let parameters = parameters(&plan.argv);
        // Carve-outs: rule paths that are not writable although a writable root encloses them,
        // and protected paths.
        let carve_outs: Vec<&Path> = policy
            .rules
            .iter()
            .filter(|rule| rule.access != Access::Write)
            .map(|rule| rule.path.as_path())
            .chain(
                policy
                    .writable_roots
                    .iter()
                    .flat_map(|root| root.protected.iter().map(|p| p.path.as_path())),
            )
            .collect();
        let roots: Vec<&Path> = policy
            .writable_roots
            .iter()
            .map(|root| root.root.as_path())
            .collect();
        for path in &candidates {
            if path == Path::new("/") || policy.access_for(path) != Access::Write {
                continue;
            }
            let pinned = roots.contains(&path.as_path())
                || carve_outs
                    .iter()
                    .any(|carve_out| carve_out != path && carve_out.starts_with(path));
            for operation in ["file-write-unlink", "file-write-create"] {
                let allowed = profile.allows(operation, path, &parameters);
                let expected = !pinned && !has_nested_metadata(&policy, path);
                assert_eq!(
                    allowed,
                    expected,
                    "round {round}: {operation} on {} (pinned: {pinned})\n{policy:#?}\n{}",
                    path.display(),
                    plan.profile().unwrap_or_default()
                );
            }
            if pinned {
                guarded_seen += 1;
            }
        }
    }
    assert!(
        guarded_seen > 100,
        "only {guarded_seen} pinned paths were checked"
    );
}

#[test]
fn refusals_name_a_symlink_the_command_could_replace() {
    let candidates = universe(2);
    let mut random = Random(0x51AB_0001);
    let mut planted = 0;
    let mut refused = 0;
    for round in 0..600 {
        let policy = random_policy(&mut random, &candidates);
        // Most rounds plant one link strictly above a policy path (a rule or a protected path),
        // where it matters; the others use a fully random layout.
        let policy_paths: Vec<&Path> = policy
            .rules
            .iter()
            .map(|rule| rule.path.as_path())
            .chain(
                policy
                    .writable_roots
                    .iter()
                    .flat_map(|root| root.protected.iter().map(|p| p.path.as_path())),
            )
            .collect();
        let above_policy_paths: Vec<&PathBuf> = candidates
            .iter()
            .filter(|path| {
                path.parent().is_some_and(|parent| parent != Path::new("/"))
                    && policy_paths
                        .iter()
                        .any(|policy_path| policy_path != path && policy_path.starts_with(path))
            })
            .collect();
        // Half of those inside a writable area, to see enough refusals.
        let writable_above: Vec<&PathBuf> = above_policy_paths
            .iter()
            .copied()
            .filter(|path| policy.access_for(path) == Access::Write)
            .collect();
        let pool = if !writable_above.is_empty() && random.chance(50) {
            writable_above
        } else {
            above_policy_paths
        };
        let (file_system, link) = if !pool.is_empty() && random.chance(80) {
            let from = pool[random.below(pool.len())];
            let to = &candidates[random.below(candidates.len())];
            if to.starts_with(from) || from.starts_with(to) {
                continue;
            }
            let file_system = FakeFileSystem::default()
                .link(&from.to_string_lossy(), &to.to_string_lossy())
                .exists(&to.to_string_lossy());
            (file_system, Some(from.clone()))
        } else {
            (random_file_system(&mut random, &candidates), None)
        };
        let command = [OsString::from("true")];
        let outcome = plan_with(&policy, &command, &options(), &file_system);
        if let Some(from) = &link {
            // A single link above a policy path: refused exactly when the policy lets the
            // command replace it (write access, not protected), not counting a writable root at
            // the link itself (a root's own entry lies in its parent).
            planted += 1;
            let mut others = policy.clone();
            others.rules.retain(|rule| &rule.path != from);
            others.writable_roots.retain(|root| &root.root != from);
            let replaceable = others.access_for(from) == Access::Write;
            assert_eq!(
                matches!(
                    outcome,
                    Err(SeatbeltPlanError::CrossesWritableSymlink { .. })
                ),
                replaceable,
                "round {round}: link at {} (replaceable: {replaceable}) gave {outcome:?}\n{policy:#?}",
                from.display()
            );
        }
        match outcome {
            Ok(_) => {}
            Err(SeatbeltPlanError::CrossesWritableSymlink { symlink, path, .. }) => {
                refused += 1;
                // The named entry is a symlink, it lies below the canonical form of a writable
                // root, and no protected path of the policy covers it.
                assert!(
                    file_system.read_link(&symlink).is_some(),
                    "round {round}: {} (for {}) is not a symlink",
                    symlink.display(),
                    path.display()
                );
                let below_root = policy.writable_roots.iter().any(|writable| {
                    let root = resolve(&file_system, &writable.root);
                    symlink != root && symlink.starts_with(&root)
                });
                let protected = policy
                    .writable_roots
                    .iter()
                    .flat_map(|writable| writable.protected.iter())
                    .flat_map(|protected| carve_out_spellings(&file_system, &protected.path))
                    .any(|spelling| symlink.starts_with(spelling));
                assert!(
                    below_root && !protected,
                    "round {round}: {} is not replaceable\n{policy:#?}",
                    symlink.display()
                );
            }
            Err(error) => panic!("round {round}: {error}"),
        }
    }
    assert!(planted > 200, "only {planted} planted links");
    assert!(refused > 12, "only {refused} refusals");
}
