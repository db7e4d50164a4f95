//! Mount points for missing protected paths in a directory that several users write, like `/tmp`
//! (a `:workspace` writable root whose `.git`, `.codex` and `.agents` are protected even when
//! missing): runs of root and uid 65534 at the same time, through the helper binary.

use std::ffi::OsString;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use codex_sandbox_policy::{
    Access, Enforcement, NetworkAccess, PathRule, ProtectedKind, ProtectedPath, SandboxPolicy,
    WritableRoot,
};

use super::harness::{Fixture, NOBODY, User, command_as, is_root};

/// The mount points' mode (`MOUNT_POINT_MODE` in the crate).
const MOUNT_POINT_MODE: u32 = 0o1555;

/// Inside the sandbox: announce the start, wait for `$GATE`, then check that the protected paths
/// can be neither created nor changed while the shared directory stays writable.
const SCRIPT: &str = r#"
touch "$SHARED/$ME-started"
n=0
while [ ! -e "$SHARED/$GATE" ] && [ $n -lt 1500 ]; do sleep 0.02; n=$((n+1)); done
[ -e "$SHARED/$GATE" ] || exit 9
test -d "$SHARED/.git" || exit 5
mkdir "$SHARED/.git/hooks" 2>/dev/null && exit 6
rmdir "$SHARED/.git" 2>/dev/null && exit 7
mv "$SHARED/.codex" "$SHARED/moved" 2>/dev/null && exit 8
echo ok > "$SHARED/$ME-checked" || exit 10
exit 0
"#;

struct Shared {
    fixture: Fixture,
    shared: PathBuf,
    policy: SandboxPolicy,
}

impl Shared {
    fn new() -> Shared {
        let fixture = Fixture::new(User::Root);
        let shared = fixture.root.join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let rule = |path: &Path, access| PathRule {
            path: path.to_path_buf(),
            access,
        };
        let protected = |name: &str| ProtectedPath {
            path: shared.join(name),
            kind: ProtectedKind::Metadata,
        };
        let policy = SandboxPolicy {
            profile: "test".to_string(),
            enforcement: Enforcement::Managed,
            cwd: shared.clone(),
            rules: vec![
                rule(Path::new("/"), Access::Read),
                rule(&shared, Access::Write),
            ],
            platform_defaults: false,
            deny_globs: Vec::new(),
            glob_scan_max_depth: None,
            writable_roots: vec![WritableRoot {
                root: shared.clone(),
                protected: vec![protected(".codex"), protected(".git")],
            }],
            network: NetworkAccess::Restricted,
            unix_sockets: Vec::new(),
        };
        Shared {
            fixture,
            shared,
            policy,
        }
    }

    /// The helper running `SCRIPT` as `user`, gated on `gate`.
    fn start(&self, user: User, me: &str, gate: &str) -> Child {
        let helper = env!("CARGO_BIN_EXE_codex-linux-sandbox");
        let args: Vec<OsString> = vec![
            "--policy".into(),
            self.policy.to_json().into(),
            "--cwd".into(),
            self.shared.clone().into(),
            "--".into(),
            "/bin/sh".into(),
            "-c".into(),
            SCRIPT.into(),
        ];
        command_as(user, helper, &args)
            .envs(self.fixture.env())
            .env("SHARED", &self.shared)
            .env("ME", me)
            .env("GATE", gate)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn wait_for(&self, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.shared.join(name).exists() {
            assert!(Instant::now() < deadline, "`{name}` never appeared");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `(owner, mode, empty)` of a host entry in the shared directory.
    fn entry(&self, name: &str) -> Option<(u32, u32, bool)> {
        let path = self.shared.join(name);
        let metadata = std::fs::symlink_metadata(&path).ok()?;
        let empty = std::fs::read_dir(&path).unwrap().next().is_none();
        Some((metadata.uid(), metadata.mode() & 0o7777, empty))
    }

    /// `creator` starts and creates the mount points, `joiner` starts while they exist, the
    /// creator finishes first. Both must succeed.
    fn overlap(&self, creator: (User, &str), joiner: (User, &str)) {
        let mut first = self.start(creator.0, creator.1, &format!("{}-started", joiner.1));
        self.wait_for(&format!("{}-started", creator.1));
        let uid = if creator.0 == User::Root { 0 } else { NOBODY };
        assert_eq!(self.entry(".git"), Some((uid, MOUNT_POINT_MODE, true)));
        let mut second = self.start(joiner.0, joiner.1, "go");
        assert_eq!(first.wait().unwrap().code(), Some(0), "{creator:?}");
        assert!(
            self.shared.join(".git").exists(),
            "still held by the second run"
        );
        std::fs::write(self.shared.join("go"), "").unwrap();
        assert_eq!(second.wait().unwrap().code(), Some(0), "{joiner:?}");
        for name in [creator.1, joiner.1] {
            assert!(self.shared.join(format!("{name}-checked")).exists());
        }
        assert!(!self.shared.join("moved").exists());
    }

    /// The names left in the shared directory besides the scripts' own files.
    fn traces(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.shared)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| {
                !name.ends_with("-started") && !name.ends_with("-checked") && name != "go"
            })
            .collect();
        names.sort();
        names
    }
}

/// Regression: a run of another user failed closed (`it is not a plain directory: Permission
/// denied`) while root's mount point for `.git` existed in the shared directory.
#[test]
fn runs_of_two_users_share_mount_points_in_a_sticky_directory() {
    if !is_root() {
        return; // The canary test fails when the suite does not run as root.
    }

    // uid 65534 joins root's mount points. Root finishes first and leaves them to the other run,
    // which cannot remove root's directories in the sticky directory: they stay, empty.
    let world = Shared::new();
    world.overlap((User::Root, "root"), (User::Nobody, "nobody"));
    assert_eq!(world.traces(), [".codex", ".git"]);
    assert_eq!(world.entry(".git"), Some((0, MOUNT_POINT_MODE, true)));
    assert_eq!(world.entry(".codex"), Some((0, MOUNT_POINT_MODE, true)));
    // The next run of their owner shares them too and removes them.
    std::fs::write(world.shared.join("go"), "").unwrap();
    let mut again = world.start(User::Root, "again", "go");
    assert_eq!(again.wait().unwrap().code(), Some(0));
    assert!(world.shared.join("again-checked").exists());
    assert_eq!(world.traces(), Vec::<String>::new());

    // Root joins the mount points of uid 65534 and, finishing last, removes them.
    let world = Shared::new();
    world.overlap((User::Nobody, "nobody"), (User::Root, "root"));
    assert_eq!(world.traces(), Vec::<String>::new());
}

/// Another user's mount point outside a sticky directory (where we could not rely on it) fails
/// closed, and nothing runs.
#[test]
fn another_users_mount_point_outside_a_sticky_directory_fails_closed() {
    if !is_root() {
        return;
    }
    let world = Shared::new();
    std::fs::set_permissions(&world.shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let git = world.shared.join(".git");
    std::fs::create_dir(&git).unwrap();
    std::fs::set_permissions(&git, std::fs::Permissions::from_mode(MOUNT_POINT_MODE)).unwrap();
    std::os::unix::fs::chown(&git, Some(NOBODY), Some(NOBODY)).unwrap();
    std::fs::write(world.shared.join("go"), "").unwrap();
    let output = world
        .start(User::Root, "root", "go")
        .wait_with_output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("another user's (uid 65534) sandbox mount point outside a sticky directory"),
        "{stderr}"
    );
    assert!(!world.shared.join("root-started").exists(), "nothing ran");
    assert_eq!(world.entry(".git"), Some((NOBODY, MOUNT_POINT_MODE, true)));
}
