//! Fixtures: a workspace (git repo with protected metadata), an outside directory, a credentials
//! file, host services (TCP/UDP/unix/abstract listeners, a victim process holding a secret in its
//! environment), and runners for the helper binary as root or uid 65534.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::ErrorKind;
use std::net::{TcpListener, UdpSocket};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use codex_sandbox_policy::{
    Access, Enforcement, NetworkAccess, PathRule, ProtectedKind, ProtectedPath, SandboxPolicy,
    WritableRoot,
};

pub const PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
pub const NOBODY: u32 = 65534;
pub const SECRET_CONTENT: &str = "sk-live-credential";
pub const ORIGINAL: &str = "original\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User {
    Root,
    Nobody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Bubblewrap,
    Landlock,
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// One temporary world per run.
pub struct Fixture {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub work: PathBuf,
    pub tmp: PathBuf,
    pub outside: PathBuf,
    pub home: PathBuf,
    pub secret: PathBuf,
    pub user: User,
}

impl Fixture {
    pub fn new(user: User) -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix("codex-sandbox-it-")
            .tempdir()
            .unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let work = root.join("work");
        let tmp = root.join("tmp");
        let outside = root.join("outside");
        let home = root.join("home");
        for directory in [&work, &tmp, &outside, &home.join(".codex")] {
            std::fs::create_dir_all(directory).unwrap();
        }
        let secret = home.join(".codex/auth.json");
        std::fs::write(&secret, format!("{{\"token\": \"{SECRET_CONTENT}\"}}\n")).unwrap();
        std::fs::write(outside.join("target.txt"), ORIGINAL).unwrap();
        std::fs::write(home.join(".codex/config.toml"), "model = \"kept\"\n").unwrap();
        std::fs::write(home.join(".codex/auth.json.lock"), "").unwrap();
        std::fs::write(home.join("readable.txt"), "readable\n").unwrap();
        std::fs::create_dir_all(work.join("app")).unwrap();
        std::fs::write(work.join("app/.env"), "TOKEN=env-secret\n").unwrap();
        std::fs::create_dir_all(work.join(".agents")).unwrap();
        std::fs::write(work.join(".agents/AGENTS.md"), "be nice\n").unwrap();
        std::fs::write(work.join("README.md"), "hello\n").unwrap();
        git(&work, &["init", "-q", "."]);
        git(&work, &["add", "README.md"]);
        git(
            &work,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                "init",
            ],
        );
        std::fs::create_dir_all(work.join("pkg")).unwrap();
        git(&work.join("pkg"), &["init", "-q", "."]);
        if user == User::Nobody {
            chown_tree(&root, NOBODY);
        }
        Fixture {
            _dir: dir,
            root,
            work,
            tmp,
            outside,
            home,
            secret,
            user,
        }
    }

    /// `:workspace`-like: read `/`, write the workspace and a private tmp, protected metadata
    /// (`.git`, `.agents`, missing `.codex`, nested `pkg/.git`), `$CODEX_HOME` and the credentials
    /// file denied, a deny glob for `.env` files.
    pub fn workspace_policy(&self, network: NetworkAccess) -> SandboxPolicy {
        let protected = |relative: &str, kind| ProtectedPath {
            path: self.work.join(relative),
            kind,
        };
        let mut policy = self.base_policy(network);
        policy
            .rules
            .push(rule(&self.home.join(".codex"), Access::Deny));
        policy.rules.push(rule(&self.secret, Access::Deny));
        policy.rules.sort_by(|a, b| a.path.cmp(&b.path));
        policy.writable_roots[0].protected = vec![
            protected(".agents", ProtectedKind::Metadata),
            protected(".codex", ProtectedKind::Metadata),
            protected(".git", ProtectedKind::Metadata),
            protected("pkg/.git", ProtectedKind::Metadata),
        ];
        policy.deny_globs = vec![
            codex_sandbox_policy::DenyGlob::parse(&format!("{}/**/*.env", self.work.display()))
                .unwrap(),
        ];
        policy
    }

    /// The workspace and tmp writable without carve-outs (so bubblewrap needs no mount points);
    /// the credentials file (below the readable `/`) is still denied.
    pub fn plain_writable_policy(&self, network: NetworkAccess) -> SandboxPolicy {
        let mut policy = self.base_policy(network);
        policy.rules.push(rule(&self.secret, Access::Deny));
        policy.rules.sort_by(|a, b| a.path.cmp(&b.path));
        policy
    }

    /// What the legacy Landlock backend can run: `/` readable, nothing writable (Landlock cannot
    /// stop metadata changes outside writable roots), the credentials file denied.
    pub fn read_only_policy(&self, network: NetworkAccess) -> SandboxPolicy {
        let mut policy = self.base_policy(network);
        policy.rules = vec![
            rule(Path::new("/"), Access::Read),
            rule(&self.home.join(".codex"), Access::Deny),
            rule(&self.secret, Access::Deny),
        ];
        policy.writable_roots.clear();
        policy
    }

    /// The policy each backend is tested with.
    pub fn policy_for(&self, backend: Backend, network: NetworkAccess) -> SandboxPolicy {
        match backend {
            Backend::Bubblewrap => self.workspace_policy(network),
            Backend::Landlock => self.read_only_policy(network),
        }
    }

    fn base_policy(&self, network: NetworkAccess) -> SandboxPolicy {
        let mut rules = vec![
            rule(Path::new("/"), Access::Read),
            rule(&self.work, Access::Write),
            rule(&self.tmp, Access::Write),
        ];
        rules.sort_by(|a, b| a.path.cmp(&b.path));
        SandboxPolicy {
            profile: "test".to_string(),
            enforcement: Enforcement::Managed,
            cwd: self.work.clone(),
            rules,
            platform_defaults: false,
            deny_globs: Vec::new(),
            glob_scan_max_depth: None,
            writable_roots: vec![
                WritableRoot {
                    root: self.work.clone(),
                    protected: Vec::new(),
                },
                WritableRoot {
                    root: self.tmp.clone(),
                    protected: Vec::new(),
                },
            ],
            network,
            unix_sockets: Vec::new(),
        }
    }

    /// The environment every command gets.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("PATH".to_string(), PATH.to_string()),
            ("HOME".to_string(), self.home.display().to_string()),
            ("TMPDIR".to_string(), self.tmp.display().to_string()),
            ("LANG".to_string(), "C".to_string()),
            ("WORK".to_string(), self.work.display().to_string()),
            ("OUTSIDE".to_string(), self.outside.display().to_string()),
            ("SECRET".to_string(), self.secret.display().to_string()),
            ("ROOT".to_string(), self.root.display().to_string()),
        ]
    }

    /// `sh -c script` through the helper binary (optionally under `setpriv` as uid 65534).
    pub fn helper(
        &self,
        backend: Backend,
        policy: &SandboxPolicy,
        script: &str,
        extra_env: &[(String, String)],
    ) -> Output {
        let helper = env!("CARGO_BIN_EXE_codex-linux-sandbox");
        let mut args: Vec<OsString> = vec![
            "--policy".into(),
            policy.to_json().into(),
            "--cwd".into(),
            self.work.clone().into(),
        ];
        if backend == Backend::Landlock {
            args.push("--use-legacy-landlock".into());
        }
        args.extend(["--".into(), "/bin/sh".into(), "-c".into(), script.into()]);
        let mut command = self.as_user(helper, &args);
        command.envs(self.env()).envs(extra_env.iter().cloned());
        command.output().unwrap()
    }

    pub fn as_user(&self, program: &str, args: &[OsString]) -> Command {
        command_as(self.user, program, args)
    }

    /// Files outside the writable area plus the protected metadata, with their contents.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, String> {
        let mut entries = BTreeMap::new();
        let protected: Vec<PathBuf> = [".git", ".agents", ".codex", "pkg", "app/.env"]
            .iter()
            .map(|relative| self.work.join(relative))
            .collect();
        let mut pending = vec![self.root.clone()];
        while let Some(directory) = pending.pop() {
            let Ok(read) = std::fs::read_dir(&directory) else {
                continue;
            };
            for entry in read.flatten() {
                let path = entry.path();
                let in_work = path.starts_with(&self.work) && path != self.work;
                let keep = !path.starts_with(&self.tmp)
                    && (!in_work || protected.iter().any(|p| path.starts_with(p)));
                if !keep {
                    continue;
                }
                let file_type = entry.file_type().unwrap();
                let metadata = entry.metadata().unwrap();
                let description = if file_type.is_dir() {
                    pending.push(path.clone());
                    format!("dir mode {:o}", metadata.mode())
                } else if file_type.is_symlink() {
                    format!("symlink {}", std::fs::read_link(&path).unwrap().display())
                } else if file_type.is_socket() {
                    "socket".to_string()
                } else if file_type.is_fifo() {
                    format!("fifo mode {:o}", metadata.mode())
                } else {
                    // Contents, mode (setuid bits, chmod) and timestamps (touch) of every file.
                    format!(
                        "{} mode {:o} mtime {}.{}",
                        String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()),
                        metadata.mode(),
                        metadata.mtime(),
                        metadata.mtime_nsec()
                    )
                };
                entries.insert(path, description);
            }
        }
        entries
    }
}

/// `program args` as `user` (uid 65534 through `setpriv`), with an empty environment.
pub fn command_as(user: User, program: &str, args: &[OsString]) -> Command {
    let mut command = match user {
        User::Root => {
            let mut command = Command::new(program);
            command.args(args);
            command
        }
        User::Nobody => {
            let mut command = Command::new("setpriv");
            command
                .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                .arg(program)
                .args(args);
            command
        }
    };
    command.env_clear().stdin(Stdio::null());
    command
}

fn rule(path: &Path, access: Access) -> PathRule {
    PathRule {
        path: path.to_path_buf(),
        access,
    }
}

fn git(directory: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(directory)
        .env("PATH", PATH)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", directory)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

fn chown_tree(root: &Path, uid: u32) {
    let status = Command::new("chown")
        .args(["-R", &format!("{uid}:{uid}")])
        .arg(root)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Host-side services the attacks target. Everything listens on loopback or in the fixture.
pub struct HostServices {
    pub tcp4: TcpListener,
    pub tcp6: Option<TcpListener>,
    pub udp: UdpSocket,
    pub unix: UnixListener,
    pub unix_path: PathBuf,
    pub allowed: UnixListener,
    pub allowed_path: PathBuf,
    pub dgram: UnixDatagram,
    pub dgram_path: PathBuf,
    pub abstract_listener: UnixListener,
    pub abstract_name: String,
    pub victim: Child,
    /// A FIFO outside the writable area with a reader on the host.
    pub fifo_path: PathBuf,
    pub fifo_reader: std::fs::File,
    /// Another terminal of the user (a pty the host holds the master of).
    pub pty_master: std::fs::File,
    pub pty_path: PathBuf,
    /// A SysV message queue of the host (readable by everyone).
    pub msqid: i32,
}

impl HostServices {
    pub fn start(fixture: &Fixture) -> HostServices {
        use std::os::linux::net::SocketAddrExt;
        let tcp4 = TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp6 = TcpListener::bind("[::1]:0").ok();
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let unix_path = fixture.root.join("host.sock");
        let unix = UnixListener::bind(&unix_path).unwrap();
        let allowed_path = fixture.root.join("allowed.sock");
        let allowed = UnixListener::bind(&allowed_path).unwrap();
        let dgram_path = fixture.root.join("dgram.sock");
        let dgram = UnixDatagram::bind(&dgram_path).unwrap();
        for path in [&unix_path, &allowed_path, &dgram_path] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let sequence = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let abstract_name = format!("codex-sandbox-test-{}-{sequence}", std::process::id());
        let address =
            std::os::unix::net::SocketAddr::from_abstract_name(abstract_name.as_bytes()).unwrap();
        let abstract_listener = UnixListener::bind_addr(&address).unwrap();
        for listener in [&unix, &allowed, &abstract_listener] {
            listener.set_nonblocking(true).unwrap();
        }
        tcp4.set_nonblocking(true).unwrap();
        if let Some(tcp6) = &tcp6 {
            tcp6.set_nonblocking(true).unwrap();
        }
        udp.set_nonblocking(true).unwrap();
        dgram.set_nonblocking(true).unwrap();
        let mut victim = fixture.as_user("/bin/sleep", &["600".into()]);
        victim.env("SECRET_TOKEN", "hunter2-victim");
        let victim = victim.spawn().unwrap();
        // Wait until `setpriv` has exec'd `sleep`: while it switches credentials it is not dumpable.
        let comm = format!("/proc/{}/comm", victim.id());
        for _ in 0..500 {
            if std::fs::read_to_string(&comm).is_ok_and(|name| name.trim() == "sleep") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let fifo_path = fixture.root.join("host.fifo");
        let c_path = std::ffi::CString::new(fifo_path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o666) }, 0);
        std::fs::set_permissions(&fifo_path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let fifo_reader = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo_path)
                .unwrap()
        };
        let (pty_master, pty_path) = open_pty(fixture.user);
        // SAFETY: creates a new queue; no pointers involved.
        let msqid = unsafe { libc::msgget(libc::IPC_PRIVATE, libc::IPC_CREAT | 0o644) };
        assert!(msqid >= 0, "msgget: {}", std::io::Error::last_os_error());
        HostServices {
            msqid,
            fifo_path,
            fifo_reader,
            pty_master,
            pty_path,
            tcp4,
            tcp6,
            udp,
            unix,
            unix_path,
            allowed,
            allowed_path,
            dgram,
            dgram_path,
            abstract_listener,
            abstract_name,
            victim,
        }
    }

    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "TCP4_PORT".to_string(),
                self.tcp4.local_addr().unwrap().port().to_string(),
            ),
            (
                "UDP_PORT".to_string(),
                self.udp.local_addr().unwrap().port().to_string(),
            ),
            (
                "HOST_SOCK".to_string(),
                self.unix_path.display().to_string(),
            ),
            (
                "ALLOWED_SOCK".to_string(),
                self.allowed_path.display().to_string(),
            ),
            (
                "DGRAM_SOCK".to_string(),
                self.dgram_path.display().to_string(),
            ),
            ("ABSTRACT_NAME".to_string(), self.abstract_name.clone()),
            ("VICTIM_PID".to_string(), self.victim.id().to_string()),
            (
                "HOST_FIFO".to_string(),
                self.fifo_path.display().to_string(),
            ),
            ("HOST_PTY".to_string(), self.pty_path.display().to_string()),
            ("HOST_MSQID".to_string(), self.msqid.to_string()),
        ];
        if let Some(tcp6) = &self.tcp6 {
            env.push((
                "TCP6_PORT".to_string(),
                tcp6.local_addr().unwrap().port().to_string(),
            ));
        }
        env
    }

    /// Whether any listener saw traffic (a connection or a datagram) since the last call.
    pub fn saw_traffic(&self) -> Vec<&'static str> {
        let mut seen = Vec::new();
        let mut buffer = [0u8; 64];
        let pending = |result: std::io::Result<()>| !matches!(result, Err(ref error) if error.kind() == ErrorKind::WouldBlock);
        if pending(self.tcp4.accept().map(drop)) {
            seen.push("tcp4");
        }
        if let Some(tcp6) = &self.tcp6
            && pending(tcp6.accept().map(drop))
        {
            seen.push("tcp6");
        }
        if pending(self.udp.recv_from(&mut buffer).map(drop)) {
            seen.push("udp");
        }
        if pending(self.unix.accept().map(drop)) {
            seen.push("unix");
        }
        if pending(self.dgram.recv(&mut buffer).map(drop)) {
            seen.push("unix-dgram");
        }
        if pending(self.abstract_listener.accept().map(drop)) {
            seen.push("abstract");
        }
        if std::io::Read::read(&mut &self.fifo_reader, &mut buffer).is_ok_and(|read| read > 0) {
            seen.push("fifo");
        }
        if std::io::Read::read(&mut &self.pty_master, &mut buffer).is_ok_and(|read| read > 0) {
            seen.push("another terminal");
        }
        seen
    }

    pub fn allowed_accepted(&self) -> bool {
        self.allowed.accept().is_ok()
    }

    pub fn victim_alive(&mut self) -> bool {
        self.victim.try_wait().unwrap().is_none()
    }
}

/// A pty pair: the master (non-blocking, kept by the host) and the slave's path, owned by `user`
/// (a terminal of theirs that the sandboxed command must not reach).
fn open_pty(user: User) -> (std::fs::File, PathBuf) {
    use std::os::fd::FromRawFd;
    // SAFETY: posix_openpt/grantpt/unlockpt/ptsname_r on a fresh master descriptor.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK);
        assert!(master >= 0);
        assert_eq!(libc::grantpt(master), 0);
        assert_eq!(libc::unlockpt(master), 0);
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(master, name.as_mut_ptr(), name.len()), 0);
        let path = PathBuf::from(
            std::ffi::CStr::from_ptr(name.as_ptr())
                .to_string_lossy()
                .into_owned(),
        );
        if user == User::Nobody {
            std::os::unix::fs::chown(&path, Some(NOBODY), Some(NOBODY)).unwrap();
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o620)).unwrap();
        // Keep the slave open on the host side too, as a shell on it would.
        let slave = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
        assert!(slave >= 0);
        std::mem::forget(std::fs::File::from_raw_fd(slave));
        (std::fs::File::from_raw_fd(master), path)
    }
}

impl Drop for HostServices {
    fn drop(&mut self) {
        // SAFETY: removes our own queue; a null buffer is allowed for IPC_RMID.
        unsafe { libc::msgctl(self.msqid, libc::IPC_RMID, std::ptr::null_mut()) };
        let _ = self.victim.kill();
        let _ = self.victim.wait();
    }
}
