//! Nothing in `/proc` or `/sys` is writable inside the sandbox, as root (uid 0 inside is uid 0
//! outside: sysctls check the uid, not capabilities) or as another user, for both backends.
//! The control shows the walk finds writable entries without the sandbox.

use codex_sandbox_policy::NetworkAccess;

use super::harness::{Backend, Fixture, User, is_root};

/// Prints every regular file under `/proc` (except process directories) and `/sys` that can be
/// opened for writing; nothing is written.
const WALK: &str = r#"/usr/bin/python3 -c '
import os, stat
def walk(top, skip_processes):
    for directory, subdirectories, files in os.walk(top):
        if directory == top and skip_processes:
            subdirectories[:] = [d for d in subdirectories if not d.isdigit()]
        for name in files:
            path = os.path.join(directory, name)
            try:
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    continue
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY))
                print(path)
            except OSError:
                pass
walk("/proc", True)
walk("/sys", False)
'"#;

fn writable_entries(backend: Option<Backend>, user: User) -> Vec<String> {
    let fixture = Fixture::new(user);
    let output = match backend {
        Some(backend) => {
            let policy = fixture.policy_for(backend, NetworkAccess::Restricted);
            fixture.helper(backend, &policy, WALK, &[])
        }
        None => fixture
            .as_user("/bin/sh", &["-c".into(), WALK.into()])
            .output()
            .unwrap(),
    };
    assert!(
        output.status.success(),
        "{backend:?} {user:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn check(backend: Backend, user: User) {
    if !is_root() {
        panic!("the /proc walk needs root (to also run as uid 65534); the canary says so too");
    }
    if user == User::Root {
        let control = writable_entries(None, user);
        assert!(
            control
                .iter()
                .any(|path| path == "/proc/sys/kernel/core_pattern"),
            "the control walk must find writable sysctls: {control:?}"
        );
    }
    let found = writable_entries(Some(backend), user);
    assert!(
        found.is_empty(),
        "{backend:?} as {user:?}: writable in the sandbox: {found:?}"
    );
}

#[test]
fn bubblewrap_leaves_nothing_writable_in_proc_and_sys_as_root() {
    check(Backend::Bubblewrap, User::Root);
}

#[test]
fn bubblewrap_leaves_nothing_writable_in_proc_and_sys_as_nobody() {
    check(Backend::Bubblewrap, User::Nobody);
}

#[test]
fn landlock_leaves_nothing_writable_in_proc_and_sys_as_root() {
    check(Backend::Landlock, User::Root);
}

#[test]
fn landlock_leaves_nothing_writable_in_proc_and_sys_as_nobody() {
    check(Backend::Landlock, User::Nobody);
}
