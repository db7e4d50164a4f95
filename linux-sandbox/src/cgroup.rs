//! A pids cgroup per run: the process limit that also binds root, and the way to end the whole
//! tree when the run ends.
//!
//! `RLIMIT_NPROC` does not bind uid 0 of the initial user namespace, so as root a fork bomb is
//! bounded only by a pids cgroup. At plan time [`probe`] finds where one can be created (no
//! side effects): a child of codex's own cgroup v2 directory when it is writable and has `pids`
//! in `cgroup.subtree_control` (or is the hierarchy's root, where the controller can be enabled);
//! else the cgroup v1 `pids` hierarchy (with the v1 freezer, when mounted, to end the tree). At
//! run time [`RunCgroup::create`] makes `codex-sandbox.<pid>.<n>` with `pids.max`, the stage
//! joins it (it writes `0` to the `cgroup.procs` descriptor it was given) before executing the
//! command, and when the run ends, is cancelled or times out, [`RunCgroup::kill_all`] ends
//! everything in it (`cgroup.kill`; else freeze, SIGKILL every listed pid, thaw, until empty)
//! and the directory is removed, also on errors (`Drop`). If codex itself is killed with SIGKILL
//! the (then empty) directory stays behind: the next run removes such leftovers of dead codex
//! processes.

use std::fs;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::error::{PlanSandboxError, RunSandboxError};
use crate::request::ProcessLimit;

/// The prefix of every run's cgroup directory (`codex-sandbox.<pid>.<n>`).
const PREFIX: &str = "codex-sandbox.";
/// How long to wait for a freeze, for the tasks to leave, and for `rmdir` (each): a bound so a
/// wedged task (uninterruptible sleep) cannot hang codex; what is left is cleaned up later.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the process limit of a run can hold, decided at plan time (no side effects).
pub(crate) fn probe(
    max_processes: Option<u64>,
    require: bool,
) -> Result<ProcessLimit, PlanSandboxError> {
    if max_processes.is_none() {
        return Ok(ProcessLimit::None);
    }
    let proc_cgroup = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    if let Some(parent) = v2_parent(&proc_cgroup, &mountinfo) {
        return Ok(ProcessLimit::CgroupV2 { parent });
    }
    if let Some(parent) = v1_directory(&proc_cgroup, &mountinfo, "pids") {
        let freezer = v1_directory(&proc_cgroup, &mountinfo, "freezer");
        return Ok(ProcessLimit::CgroupV1 { parent, freezer });
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(ProcessLimit::Rlimit);
    }
    if require {
        return Err(PlanSandboxError::ProcessLimitUnavailable);
    }
    Ok(ProcessLimit::None)
}

/// codex's own cgroup v2 directory, when a child with the pids controller can be made there.
fn v2_parent(proc_cgroup: &str, mountinfo: &str) -> Option<PathBuf> {
    let own = own_cgroup(proc_cgroup, None)?;
    let (root, mount_point) = find_mount(mountinfo, "cgroup2", None)?;
    let directory = below_mount(&root, &mount_point, &own)?;
    if !crate::paths::host_writable(&directory) {
        return None;
    }
    let has_pids = |file: &str| {
        fs::read_to_string(directory.join(file))
            .is_ok_and(|text| text.split_whitespace().any(|name| name == "pids"))
    };
    // The root of the hierarchy (it alone has no `cgroup.type`; a cgroup namespace's root does)
    // may have processes and enabled controllers at once; any other cgroup with processes (codex
    // is in it) cannot enable one for its children.
    let is_root = !directory.join("cgroup.type").exists();
    (has_pids("cgroup.subtree_control") || (is_root && has_pids("cgroup.controllers")))
        .then_some(directory)
}

/// codex's own directory in the v1 hierarchy of `controller`, when it is writable.
fn v1_directory(proc_cgroup: &str, mountinfo: &str, controller: &str) -> Option<PathBuf> {
    let own = own_cgroup(proc_cgroup, Some(controller))?;
    let (root, mount_point) = find_mount(mountinfo, "cgroup", Some(controller))?;
    let directory = below_mount(&root, &mount_point, &own)?;
    crate::paths::host_writable(&directory).then_some(directory)
}

/// The cgroup path in `/proc/self/cgroup` for `controller` (v1), or the v2 one (`0::/path`).
fn own_cgroup(proc_cgroup: &str, controller: Option<&str>) -> Option<String> {
    proc_cgroup.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (id, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let matches = match controller {
            None => id == "0" && controllers.is_empty(),
            Some(name) => controllers.split(',').any(|listed| listed == name),
        };
        matches.then(|| path.to_string())
    })
}

/// `(root, mount point)` of the first mount of `fstype` (with `controller` among its super
/// options, for v1) in `/proc/self/mountinfo`.
fn find_mount(
    mountinfo: &str,
    fstype: &str,
    controller: Option<&str>,
) -> Option<(String, PathBuf)> {
    mountinfo.lines().find_map(|line| {
        let (mount, filesystem) = line.split_once(" - ")?;
        let mount: Vec<&str> = mount.split(' ').collect();
        let filesystem: Vec<&str> = filesystem.split(' ').collect();
        if mount.len() < 5 || filesystem.len() < 3 || filesystem[0] != fstype {
            return None;
        }
        if let Some(name) = controller
            && !filesystem[2].split(',').any(|option| option == name)
        {
            return None;
        }
        Some((unescape(mount[3]), PathBuf::from(unescape(mount[4]))))
    })
}

/// Undo mountinfo's octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'\\'
            && let Some(digits) = field.get(index + 1..index + 4)
            && let Ok(value) = u8::from_str_radix(digits, 8)
        {
            out.push(value);
            index += 4;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where cgroup `path` is below a mount of the hierarchy whose root is `root`.
fn below_mount(root: &str, mount_point: &Path, path: &str) -> Option<PathBuf> {
    let relative = if root == "/" {
        path
    } else {
        let rest = path.strip_prefix(root)?;
        if !rest.is_empty() && !rest.starts_with('/') {
            return None;
        }
        rest
    };
    let relative = relative.trim_start_matches('/');
    if relative.split('/').any(|part| part == "..") {
        return None;
    }
    Some(if relative.is_empty() {
        mount_point.to_path_buf()
    } else {
        mount_point.join(relative)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// The cgroup of one run (and its v1 freezer twin); removed when dropped.
pub(crate) struct RunCgroup {
    version: Version,
    directory: PathBuf,
    freezer: Option<PathBuf>,
    /// `cgroup.procs` of each, opened for the stage to join through.
    procs: OwnedFd,
    freezer_procs: Option<OwnedFd>,
    /// Whether [`RunCgroup::kill_all`] signals v1 members itself. Off when a pid namespace
    /// ends the tree (bubblewrap): without a freezer a listed pid could exit and be reused by
    /// a host process before the signal, so there it only waits for the members to go.
    signal_members: bool,
}

fn cgroup_error(context: &'static str, path: &Path, source: io::Error) -> RunSandboxError {
    RunSandboxError::Cgroup {
        context,
        path: path.to_path_buf(),
        source,
    }
}

impl RunCgroup {
    /// Create the run's cgroup as planned (`None` when the plan has none).
    pub(crate) fn create(
        limit: &ProcessLimit,
        max_processes: Option<u64>,
        signal_members: bool,
    ) -> Result<Option<RunCgroup>, RunSandboxError> {
        let (version, parent, freezer_parent) = match limit {
            ProcessLimit::CgroupV2 { parent } => (Version::V2, parent, None),
            ProcessLimit::CgroupV1 { parent, freezer } => (Version::V1, parent, freezer.as_ref()),
            ProcessLimit::Rlimit | ProcessLimit::None => return Ok(None),
        };
        let Some(max) = max_processes else {
            return Ok(None);
        };
        remove_stale(parent);
        if let Some(freezer) = freezer_parent {
            remove_stale(freezer);
        }
        if version == Version::V2 {
            enable_pids(parent)?;
        }
        let name = unique_name();
        let directory = parent.join(&name);
        fs::create_dir(&directory)
            .map_err(|error| cgroup_error("creating the cgroup", &directory, error))?;
        // From here on `Drop` removes what exists.
        let mut cgroup = RunCgroup {
            version,
            procs: open_procs(&directory).inspect_err(|_| {
                let _ = fs::remove_dir(&directory);
            })?,
            directory,
            freezer: None,
            freezer_procs: None,
            signal_members,
        };
        write_file(&cgroup.directory.join("pids.max"), &max.to_string())
            .map_err(|error| cgroup_error("setting `pids.max`", &cgroup.directory, error))?;
        if let Some(freezer_parent) = freezer_parent {
            let freezer = freezer_parent.join(&name);
            fs::create_dir(&freezer)
                .map_err(|error| cgroup_error("creating the freezer cgroup", &freezer, error))?;
            cgroup.freezer = Some(freezer.clone());
            cgroup.freezer_procs = Some(open_procs(&freezer)?);
        }
        Ok(Some(cgroup))
    }

    /// `(descriptor, number in the stage)` for each `cgroup.procs` the stage joins.
    pub(crate) fn join_descriptors(&self) -> Vec<(RawFd, i32)> {
        let mut mappings = vec![(self.procs.as_raw_fd(), crate::request::CGROUP_FD)];
        if let Some(fd) = &self.freezer_procs {
            mappings.push((fd.as_raw_fd(), crate::request::FREEZER_FD));
        }
        mappings
    }

    /// Move `pid` (bwrap, just spawned) into the cgroup from here, so the task migration (which
    /// can wait for an RCU grace period) overlaps bwrap's own set-up instead of delaying the
    /// command. Best effort: whatever bwrap started before the move is not in it, and the stage
    /// joins itself when it finds it is not a member ([`is_member`]).
    pub(crate) fn adopt(&self, pid: i32) {
        let text = pid.to_string();
        for fd in std::iter::once(&self.procs).chain(self.freezer_procs.as_ref()) {
            // SAFETY: writes from a valid buffer to a descriptor we own.
            unsafe { libc::write(fd.as_raw_fd(), text.as_ptr().cast(), text.len()) };
        }
    }

    /// Kill every process in the cgroup and wait (bounded) until it is empty.
    pub(crate) fn kill_all(&self) {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        if self.version == Version::V2 && self.directory.join("cgroup.kill").exists() {
            // The kernel kills every member and blocks forks into the cgroup meanwhile.
            let _ = write_file(&self.directory.join("cgroup.kill"), "1");
        } else if !self.signal_members {
            // The pid namespace is ending the tree: wait (bounded) until it is gone.
            let mut pause = Duration::from_micros(200);
            while !self.members().is_empty() && Instant::now() <= deadline {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            return;
        } else if !self.members().is_empty() {
            // Frozen members cannot fork, exit or be reaped: the list is complete and its pids
            // cannot be reused while we signal them. The SIGKILLs take effect on thaw.
            let frozen = self.freeze(true, deadline);
            for pid in self.members() {
                // SAFETY: kill has no memory effects; `pid` is a (frozen) member.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            if frozen {
                self.freeze(false, deadline);
            }
        }
        // Without a freezer (or if a freeze did not finish) loop until nothing is left; every
        // signalled member can no longer fork.
        let mut pause = Duration::from_micros(200);
        loop {
            let members = self.members();
            if members.is_empty() || Instant::now() > deadline {
                return;
            }
            for pid in members {
                // SAFETY: kill has no memory effects; `pid` was just listed as a member.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// The pids in the cgroup (thread-group leaders, in codex's pid namespace).
    fn members(&self) -> Vec<i32> {
        fs::read_to_string(self.directory.join("cgroup.procs"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|pid| pid.parse().ok())
            .collect()
    }

    /// Freeze (or thaw) and wait until the kernel says so; false when there is no freezer or
    /// it did not settle in time.
    fn freeze(&self, frozen: bool, deadline: Instant) -> bool {
        let (file, value) = match (self.version, &self.freezer) {
            (Version::V2, _) => (
                self.directory.join("cgroup.freeze"),
                if frozen { "1" } else { "0" },
            ),
            (Version::V1, Some(freezer)) => (
                freezer.join("freezer.state"),
                if frozen { "FROZEN" } else { "THAWED" },
            ),
            (Version::V1, None) => return false,
        };
        let settled = || match self.version {
            Version::V2 => {
                let expected = if frozen { "frozen 1" } else { "frozen 0" };
                fs::read_to_string(self.directory.join("cgroup.events"))
                    .is_ok_and(|events| events.lines().any(|line| line == expected))
            }
            Version::V1 => fs::read_to_string(&file).is_ok_and(|state| state.trim() == value),
        };
        if write_file(&file, value).is_err() {
            return false;
        }
        let mut pause = Duration::from_micros(100);
        while !settled() {
            if Instant::now() > deadline {
                return false;
            }
            // A v1 freeze still FREEZING is pushed on by writing again.
            if self.version == Version::V1 {
                let _ = write_file(&file, value);
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
        true
    }

    /// The directories of this run (the freezer twin last).
    fn directories(&self) -> impl Iterator<Item = &Path> {
        std::iter::once(self.directory.as_path()).chain(self.freezer.as_deref())
    }
}

impl Drop for RunCgroup {
    fn drop(&mut self) {
        self.kill_all();
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        for directory in self.directories() {
            // Exiting members may hold it for a moment after the list is empty.
            while let Err(error) = fs::remove_dir(directory) {
                if error.raw_os_error() != Some(libc::EBUSY) || Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

fn unique_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{PREFIX}{}.{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The codex pid in a run's directory name.
fn owner_of(name: &str) -> Option<i32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, sequence) = rest.split_once('.')?;
    sequence.parse::<u32>().ok()?;
    pid.parse().ok()
}

/// Remove the empty cgroups of codex processes that no longer exist (left by a SIGKILL of
/// codex). One that still has members stays (`rmdir` refuses).
fn remove_stale(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name.to_str().and_then(owner_of) else {
            continue;
        };
        // SAFETY: signal 0 only checks that the process exists.
        let gone = unsafe { libc::kill(owner, 0) } != 0
            && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = fs::remove_dir(entry.path());
        }
    }
}

/// Make sure `pids` is enabled for the children of a v2 directory.
fn enable_pids(parent: &Path) -> Result<(), RunSandboxError> {
    let control = parent.join("cgroup.subtree_control");
    let enabled = fs::read_to_string(&control)
        .is_ok_and(|text| text.split_whitespace().any(|name| name == "pids"));
    if enabled {
        return Ok(());
    }
    write_file(&control, "+pids")
        .map_err(|error| cgroup_error("enabling the pids controller", parent, error))
}

fn open_procs(directory: &Path) -> Result<OwnedFd, RunSandboxError> {
    let path = directory.join("cgroup.procs");
    let error = |source| cgroup_error("opening `cgroup.procs`", &path, source);
    // std opens with O_CLOEXEC.
    let file = fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(error)?;
    codex_sandbox_process::high(OwnedFd::from(file)).map_err(error)
}

/// One `write` of `value` (cgroup files take a whole value per write).
fn write_file(path: &Path, value: &str) -> io::Result<()> {
    use std::io::Write;
    fs::OpenOptions::new()
        .write(true)
        .open(path)?
        .write_all(value.as_bytes())
}

/// The stage's side: move this process into the cgroup behind `fd` (its `cgroup.procs`).
/// Whether this process already is in the cgroup whose `cgroup.procs` is open on `fd`: its
/// directory (`/proc/self/fd/<fd>`) ends with one of the paths in `/proc/self/cgroup` (run
/// cgroups have unique names, `codex-sandbox.<pid>.<n>`).
pub(crate) fn is_member(fd: RawFd) -> bool {
    let Ok(procs) = fs::read_link(format!("/proc/self/fd/{fd}")) else {
        return false;
    };
    let Some(directory) = procs.parent() else {
        return false;
    };
    let Ok(memberships) = fs::read_to_string("/proc/self/cgroup") else {
        return false;
    };
    memberships.lines().any(|line| line_names(line, directory))
}

/// Whether one `/proc/self/cgroup` line (`id:controllers:path`) is the run cgroup `directory`.
/// The pids and freezer twins share a name, so a v1 line must also name the hierarchy the
/// directory lies in (`…/pids/codex-sandbox.…` for `N:pids:/codex-sandbox.…`).
fn line_names(line: &str, directory: &Path) -> bool {
    let mut fields = line.splitn(3, ':');
    let (Some(_), Some(controllers), Some(path)) = (fields.next(), fields.next(), fields.next())
    else {
        return false;
    };
    let relative = Path::new(path.trim_start_matches('/'));
    let named = relative
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with(PREFIX));
    if !named || !directory.ends_with(relative) {
        return false;
    }
    if controllers.is_empty() {
        return true;
    }
    // The hierarchy's mount point: `directory` without `relative`.
    let mount = directory
        .ancestors()
        .nth(relative.components().count())
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .unwrap_or("");
    let mounted: Vec<&str> = mount.split(',').collect();
    controllers
        .split(',')
        .any(|controller| mounted.contains(&controller))
}

pub(crate) fn join(fd: RawFd) -> io::Result<()> {
    // SAFETY: writes two bytes from a valid buffer to a descriptor we were given.
    let written = unsafe { libc::write(fd, b"0".as_ptr().cast(), 1) };
    if written != 1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_names_the_hierarchy_of_twins_with_one_name() {
        let pids = Path::new("/sys/fs/cgroup/pids/codex-sandbox.7.0");
        let freezer = Path::new("/sys/fs/cgroup/freezer/codex-sandbox.7.0");
        let line = "8:pids:/codex-sandbox.7.0";
        assert!(line_names(line, pids));
        assert!(
            !line_names(line, freezer),
            "the freezer twin is not joined yet"
        );
        assert!(line_names("6:freezer:/codex-sandbox.7.0", freezer));
        assert!(!line_names("8:pids:/", pids));
        assert!(!line_names(
            "8:pids:/other",
            Path::new("/sys/fs/cgroup/pids/other")
        ));
        let v2 = Path::new("/sys/fs/cgroup/user.slice/codex-sandbox.7.0");
        assert!(line_names("0::/user.slice/codex-sandbox.7.0", v2));
        assert!(!line_names("0::/user.slice", v2));
    }

    const MOUNTINFO: &str = "\
25 30 0:23 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
33 25 0:29 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
34 25 0:30 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
35 25 0:31 / /sys/fs/cgroup/cpu\\040x rw,relatime - cgroup cgroup rw,cpu,cpuacct
36 25 0:32 /ctr /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
";

    #[test]
    fn finds_the_hierarchies_and_codex_in_them() {
        let proc_cgroup = "8:pids:/\n6:freezer:/a\n1:cpu,cpuacct:/b\n0::/ctr/app.scope\n";
        assert_eq!(own_cgroup(proc_cgroup, Some("pids")).as_deref(), Some("/"));
        assert_eq!(
            own_cgroup(proc_cgroup, Some("cpuacct")).as_deref(),
            Some("/b")
        );
        assert_eq!(
            own_cgroup(proc_cgroup, None).as_deref(),
            Some("/ctr/app.scope")
        );
        assert_eq!(own_cgroup("0::/\n", Some("pids")), None);
        assert_eq!(
            find_mount(MOUNTINFO, "cgroup", Some("pids")),
            Some(("/".to_string(), PathBuf::from("/sys/fs/cgroup/pids")))
        );
        assert_eq!(
            find_mount(MOUNTINFO, "cgroup", Some("cpuacct")),
            Some(("/".to_string(), PathBuf::from("/sys/fs/cgroup/cpu x")))
        );
        assert_eq!(find_mount(MOUNTINFO, "cgroup", Some("memory")), None);
        let (root, mount_point) = find_mount(MOUNTINFO, "cgroup2", None).unwrap();
        assert_eq!(
            below_mount(&root, &mount_point, "/ctr/app.scope"),
            Some(PathBuf::from("/sys/fs/cgroup/unified/app.scope"))
        );
        assert_eq!(
            below_mount(&root, &mount_point, "/ctr"),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        // Outside what the mount shows (or a sibling that shares the prefix): unusable.
        assert_eq!(below_mount(&root, &mount_point, "/other"), None);
        assert_eq!(below_mount(&root, &mount_point, "/ctrl/x"), None);
        assert_eq!(
            below_mount("/", Path::new("/sys/fs/cgroup/pids"), "/"),
            Some(PathBuf::from("/sys/fs/cgroup/pids"))
        );
    }

    #[test]
    fn only_names_of_dead_codex_processes_are_stale() {
        assert_eq!(owner_of("codex-sandbox.123.0"), Some(123));
        assert_eq!(owner_of("codex-sandbox.123"), None);
        assert_eq!(owner_of("codex-sandbox.x.1"), None);
        assert_eq!(owner_of("user.slice"), None);
        assert!(unique_name().starts_with(&format!("{PREFIX}{}.", std::process::id())));
    }
}
