//! Policy paths that reach their target through a chain of symlinks, one of which the sandboxed
//! command could re-point (`outside/ro/link -> tmp/inner -> outside/real`, `tmp` writable).
//!
//! The attack: a run re-points `tmp/inner` (its directory is writable) to `$HOME`; the next run
//! with the same policy would bind `$HOME` writable in place of `outside/real`. The first link of
//! the chain lies in a read-only directory, so a check that only looks at the links spelled in the
//! policy path accepted it; the shared rule follows the chain and refuses the path.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use codex_sandbox_policy::{Access, NetworkAccess, PathRule, SandboxPolicy, WritableRoot};

use super::harness::{Backend, Fixture, NOBODY, User};

struct Chain {
    fixture: Fixture,
    /// `outside/ro/link`, the path the policy makes writable.
    link: PathBuf,
    /// `tmp/inner`, the middle link, in a writable directory.
    inner: PathBuf,
    /// `outside/real`, where the chain ends today.
    real: PathBuf,
}

impl Chain {
    fn new(user: User) -> Chain {
        let fixture = Fixture::new(user);
        let real = fixture.outside.join("real");
        let read_only = fixture.outside.join("ro");
        std::fs::create_dir(&real).unwrap();
        std::fs::create_dir(&read_only).unwrap();
        let inner = fixture.tmp.join("inner");
        let link = read_only.join("link");
        std::os::unix::fs::symlink(&real, &inner).unwrap();
        std::os::unix::fs::symlink(&inner, &link).unwrap();
        if user == User::Nobody {
            chown(&[&real, &read_only, &inner, &link]);
        }
        Chain {
            fixture,
            link,
            inner,
            real,
        }
    }

    /// The plain writable policy, plus `path` writable.
    fn policy_writing(&self, path: &Path) -> SandboxPolicy {
        let mut policy = self
            .fixture
            .plain_writable_policy(NetworkAccess::Restricted);
        policy.rules.push(PathRule {
            path: path.to_path_buf(),
            access: Access::Write,
        });
        policy.rules.sort_by(|a, b| a.path.cmp(&b.path));
        policy.writable_roots.push(WritableRoot {
            root: path.to_path_buf(),
            protected: Vec::new(),
        });
        policy
    }
}

/// Give each path itself (a link, not its target) to uid 65534.
fn chown(paths: &[&Path]) {
    for path in paths {
        std::os::unix::fs::lchown(path, Some(NOBODY), Some(NOBODY)).unwrap();
    }
}

fn writable_path_through_a_chain_with_a_replaceable_middle_link_is_refused(user: User) {
    let chain = Chain::new(user);
    let fixture = &chain.fixture;

    // Control 1: the sandboxed command can re-point the middle link (its directory is writable).
    let plain = fixture.plain_writable_policy(NetworkAccess::Restricted);
    let output = fixture.helper(
        Backend::Bubblewrap,
        &plain,
        "ln -sfn \"$HOME\" \"$TMP_INNER\"",
        &[("TMP_INNER".to_string(), chain.inner.display().to_string())],
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(std::fs::read_link(&chain.inner).unwrap(), fixture.home);
    // Put the chain back as the attack found it.
    std::fs::remove_file(&chain.inner).unwrap();
    std::os::unix::fs::symlink(&chain.real, &chain.inner).unwrap();
    if user == User::Nobody {
        chown(&[&chain.inner]);
    }

    // Control 2: a writable path through a link in a read-only directory only is accepted, and
    // the write lands in the link's target.
    let direct = fixture.outside.join("ro/direct");
    std::os::unix::fs::symlink(&chain.real, &direct).unwrap();
    let output = fixture.helper(
        Backend::Bubblewrap,
        &chain.policy_writing(&direct),
        "echo written > \"$DIRECT/file\"",
        &[("DIRECT".to_string(), direct.display().to_string())],
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        std::fs::read_to_string(chain.real.join("file")).unwrap(),
        "written\n"
    );
    std::fs::remove_file(chain.real.join("file")).unwrap();

    // The chain: refused before anything runs, naming the middle link.
    let before = fixture.snapshot();
    let output = fixture.helper(
        Backend::Bubblewrap,
        &chain.policy_writing(&chain.link),
        "touch \"$ROOT/ran\"; echo written > \"$LINK/file\"",
        &[("LINK".to_string(), chain.link.display().to_string())],
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.lines().next().unwrap_or_default(),
        format!(
            "error: cannot enforce sandbox writable path {} because it crosses writable symlink {}",
            chain.link.display(),
            chain.inner.display()
        ),
        "{stderr}"
    );
    assert!(!fixture.root.join("ran").exists());
    assert!(!chain.real.join("file").exists());
    assert_eq!(fixture.snapshot(), before);
    assert_eq!(std::fs::read_link(&chain.inner).unwrap(), chain.real);
}

#[test]
fn writable_path_through_a_chain_with_a_replaceable_middle_link_is_refused_as_root() {
    writable_path_through_a_chain_with_a_replaceable_middle_link_is_refused(User::Root);
}

#[test]
fn writable_path_through_a_chain_with_a_replaceable_middle_link_is_refused_as_nobody() {
    writable_path_through_a_chain_with_a_replaceable_middle_link_is_refused(User::Nobody);
}

/// The same rule through the in-process planner, for a denied path (the other role).
#[test]
fn denied_path_through_a_chain_with_a_replaceable_middle_link_is_refused_by_plan() {
    let chain = Chain::new(User::Root);
    let mut policy = chain
        .fixture
        .plain_writable_policy(NetworkAccess::Restricted);
    policy.rules.push(PathRule {
        path: chain.link.clone(),
        access: Access::Deny,
    });
    policy.rules.sort_by(|a, b| a.path.cmp(&b.path));
    let command: Vec<OsString> = vec!["/bin/true".into()];
    let options = codex_linux_sandbox::LinuxOptions {
        stage_executable: Some(env!("CARGO_BIN_EXE_codex-linux-sandbox").into()),
        ..codex_linux_sandbox::LinuxOptions::default()
    };
    let request = codex_linux_sandbox::SandboxRequest {
        policy: &policy,
        command: &command,
        cwd: &chain.fixture.work,
        env: &[],
        backend: codex_linux_sandbox::LinuxBackend::Bubblewrap,
        run_mode: codex_linux_sandbox::RunMode::SpawnAndWait,
        options: &options,
    };
    let error = codex_linux_sandbox::plan(&request).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cannot enforce sandbox deny-read path {} because it crosses writable symlink {}",
            chain.link.display(),
            chain.inner.display()
        )
    );
}
