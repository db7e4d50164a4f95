//! The attack matrix. Every probe exits 0 iff the attack succeeded. For each attack:
//! - control: the same probe without a sandbox must succeed (so the probe can detect success);
//! - sandboxed: the probe must fail, the sandbox must have started (marker line), and nothing
//!   may change on the host (snapshot of everything outside the writable area plus the protected
//!   metadata, listener traffic, the victim process still alive).
//!
//! Run with `--nocapture` to print the per-backend table.

use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;

use codex_sandbox_policy::NetworkAccess;

use super::harness::{Backend, Fixture, HostServices, User, is_root};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    /// Run the probe unsandboxed first; it must succeed.
    Required,
    /// Like `Required`, but only meaningful as root (as another user the host refuses it too).
    RequiredAsRoot,
    /// As root, run this script unsandboxed first (a harmless form of the attack, e.g. opening a
    /// sysctl for writing without writing); it must succeed. Not run as another user (the host
    /// refuses it too).
    ProbeAsRoot(&'static str),
    /// Never run unsandboxed (it would change the host, e.g. a real mount).
    Skip,
}

/// Opens `$1` for writing without writing anything (exit 0 iff it could be opened).
macro_rules! open_for_writing {
    ($path:literal) => {
        concat!(
            "/usr/bin/python3 -c 'import os\nos.close(os.open(\"",
            $path,
            "\", os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY))'"
        )
    };
}

struct Attack {
    name: &'static str,
    script: &'static str,
    control: Control,
    /// Needs carve-outs or deny masks: the Landlock backend refuses such policies instead.
    bubblewrap_only: bool,
}

macro_rules! py {
    ($body:literal) => {
        concat!("/usr/bin/python3 -c '", $body, "'")
    };
}

const ATTACKS: &[Attack] = &[
    Attack {
        name: "write outside writable roots",
        script: r#"echo pwned > "$OUTSIDE/new.txt""#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "overwrite a file outside",
        script: r#"echo pwned > "$OUTSIDE/target.txt""#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "write through a new symlink to a directory",
        script: r#"ln -s "$OUTSIDE" "$WORK/escape" && echo pwned > "$WORK/escape/via-link.txt""#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "write through a new symlink to a file",
        script: r#"ln -s "$OUTSIDE/target.txt" "$WORK/t" && echo pwned >> "$WORK/t""#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "hard link an outside file into the workspace",
        script: r#"ln "$OUTSIDE/target.txt" "$WORK/hl" && echo pwned >> "$WORK/hl""#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "rename the workspace",
        script: r#"mv "$WORK" "$WORK-moved""#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "write .git/config",
        script: r#"printf '[core]\n\tfsmonitor = evil\n' >> "$WORK/.git/config""#,
        control: Control::Required,
        bubblewrap_only: true,
    },
    Attack {
        name: "create .git/hooks/pre-commit",
        script: r#"echo evil > "$WORK/.git/hooks/pre-commit""#,
        control: Control::Required,
        bubblewrap_only: true,
    },
    Attack {
        name: "git config core.hooksPath",
        script: r#"git -C "$WORK" config core.hooksPath /tmp/evil"#,
        control: Control::Required,
        bubblewrap_only: true,
    },
    Attack {
        name: "rename .git away",
        script: r#"mv "$WORK/.git" "$WORK/git-moved""#,
        control: Control::Required,
        bubblewrap_only: true,
    },
    Attack {
        name: "rename the parent of a nested .git",
        script: r#"mv "$WORK/pkg" "$WORK/pkg-moved" && mkdir -p "$WORK/pkg/.git/hooks""#,
        control: Control::Required,
        bubblewrap_only: true,
    },
    Attack {
        name: "create .codex/config.toml",
        script: r#"mkdir -p "$WORK/.codex" && echo 'sandbox_mode = "danger-full-access"' > "$WORK/.codex/config.toml""#,
        control: Control::Required,
        bubblewrap_only: true,
    },
    Attack {
        name: "write .agents/*",
        script: r#"echo evil > "$WORK/.agents/evil.md""#,
        control: Control::Required,
        bubblewrap_only: true,
    },
    Attack {
        name: "delete .agents",
        script: r#"rm -rf "$WORK/.agents" && ! test -e "$WORK/.agents""#,
        control: Control::Required,
        bubblewrap_only: true,
    },
    Attack {
        name: "read the denied credentials file",
        script: r#"grep -q sk-live "$SECRET""#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "read the configuration in CODEX_HOME",
        script: r#"grep -q kept "$HOME/.codex/config.toml""#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "lock the credentials (flock auth.json.lock stalls codex login)",
        script: r#"flock -n "$HOME/.codex/auth.json.lock" true"#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "read a deny-glob match (*.env)",
        script: r#"grep -q TOKEN "$WORK/app/.env""#,
        control: Control::Required,
        bubblewrap_only: true,
    },
    Attack {
        name: "unmount the credentials mask",
        script: py!(
            "import ctypes,os,sys\nlibc=ctypes.CDLL(None,use_errno=True)\nlibc.umount2(os.environ[\"SECRET\"].encode(),2)\nsys.exit(0 if b\"sk-live\" in open(os.environ[\"SECRET\"],\"rb\").read() else 1)"
        ),
        control: Control::Skip,
        bubblewrap_only: true,
    },
    Attack {
        name: "mount a tmpfs",
        script: py!(
            "import ctypes,os,sys\nlibc=ctypes.CDLL(None,use_errno=True)\nd=os.environ[\"WORK\"]+\"/m\"\nos.makedirs(d,exist_ok=True)\nsys.exit(0 if libc.mount(b\"none\",d.encode(),b\"tmpfs\",0,None)==0 else 1)"
        ),
        control: Control::Skip,
        bubblewrap_only: false,
    },
    Attack {
        name: "remount / read-write",
        script: py!(
            "import ctypes,sys\nlibc=ctypes.CDLL(None,use_errno=True)\nsys.exit(0 if libc.mount(None,b\"/\",None,32|4096,None)==0 else 1)"
        ),
        control: Control::Skip,
        bubblewrap_only: false,
    },
    Attack {
        name: "nested user namespace (unshare -U)",
        script: "unshare -U true",
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "nested user namespace (unshare syscall)",
        script: py!(
            "import ctypes,sys\nlibc=ctypes.CDLL(None,use_errno=True)\nsys.exit(0 if libc.unshare(0x10000000)==0 else 1)"
        ),
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "TCP to a host loopback listener",
        script: py!(
            "import socket,os\ns=socket.socket(socket.AF_INET,socket.SOCK_STREAM)\ns.settimeout(3)\ns.connect((\"127.0.0.1\",int(os.environ[\"TCP4_PORT\"])))"
        ),
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "TCP over IPv6 to a host listener",
        script: py!(
            "import socket,os\ns=socket.socket(socket.AF_INET6,socket.SOCK_STREAM)\ns.settimeout(3)\ns.connect((\"::1\",int(os.environ[\"TCP6_PORT\"])))"
        ),
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "UDP/DNS query to a host resolver",
        script: py!(
            "import socket,os\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.sendto(b\"\\x12\\x34query\",(\"127.0.0.1\",int(os.environ[\"UDP_PORT\"])))"
        ),
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "connect to a host unix socket",
        script: py!(
            "import socket,os\ns=socket.socket(socket.AF_UNIX)\ns.connect(os.environ[\"HOST_SOCK\"])"
        ),
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "datagram to a host unix socket (sendto)",
        script: py!(
            "import socket,os\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.sendto(b\"x\",os.environ[\"DGRAM_SOCK\"])"
        ),
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "datagram to a host unix socket (socketpair+sendmsg)",
        script: py!(
            "import socket,os\na,b=socket.socketpair(socket.AF_UNIX,socket.SOCK_DGRAM)\na.sendmsg([b\"x\"],[],0,os.environ[\"DGRAM_SOCK\"])"
        ),
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "connect to a host abstract unix socket",
        script: py!(
            "import socket,os\ns=socket.socket(socket.AF_UNIX)\ns.connect(\"\\0\"+os.environ[\"ABSTRACT_NAME\"])"
        ),
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "signal an outside process",
        script: r#"kill -TERM "$VICTIM_PID""#,
        control: Control::Skip,
        bubblewrap_only: false,
    },
    Attack {
        name: "probe an outside process (kill -0)",
        script: r#"kill -0 "$VICTIM_PID""#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "ptrace an outside process",
        script: py!(
            "import ctypes,os,sys\nlibc=ctypes.CDLL(None,use_errno=True)\npid=int(os.environ[\"VICTIM_PID\"])\nif libc.ptrace(16,pid,None,None)!=0: sys.exit(1)\nos.waitpid(pid,0)\nlibc.ptrace(17,pid,None,None)"
        ),
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "lower an outside process's limits (prlimit: RLIMIT_CPU gets it killed)",
        script: r#"prlimit --pid "$VICTIM_PID" --core=0:0"#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "renice an outside process",
        script: r#"renice -n 19 -p "$VICTIM_PID" >/dev/null"#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "pin an outside process to a CPU (sched_setaffinity)",
        script: r#"taskset -p 1 "$VICTIM_PID" >/dev/null"#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "reach a host SysV message queue",
        script: py!(
            "import ctypes,os,sys\nlibc=ctypes.CDLL(None,use_errno=True)\nbuf=ctypes.create_string_buffer(256)\nsys.exit(0 if libc.msgctl(int(os.environ[\"HOST_MSQID\"]),2,buf)==0 else 1)"
        ),
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "read /proc/<pid>/environ of an outside process",
        script: r#"grep -q hunter2 "/proc/$VICTIM_PID/environ""#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "io_uring_setup",
        script: py!(
            "import ctypes,sys\nlibc=ctypes.CDLL(None,use_errno=True)\np=ctypes.create_string_buffer(120)\nsys.exit(0 if libc.syscall(425,4,p)>=0 else 1)"
        ),
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "TIOCSTI terminal injection",
        script: TIOCSTI_PROBE_LOW,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "TIOCSTI with high bits set (CVE-2019-10063)",
        script: TIOCSTI_PROBE_HIGH,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "write through an inherited directory fd",
        script: r#"echo pwned > /proc/self/fd/7/inherited.txt"#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "write a sysctl (kernel.core_pattern: host root via a crash)",
        script: r#"echo '|/bin/sh -c id>/tmp/codex-sandbox-pwned' > /proc/sys/kernel/core_pattern"#,
        control: Control::ProbeAsRoot(open_for_writing!("/proc/sys/kernel/core_pattern")),
        bubblewrap_only: false,
    },
    Attack {
        name: "open the host hostname sysctl for writing",
        script: open_for_writing!("/proc/sys/kernel/hostname"),
        control: Control::ProbeAsRoot(open_for_writing!("/proc/sys/kernel/hostname")),
        bubblewrap_only: false,
    },
    Attack {
        name: "open a PSI trigger (/proc/pressure/memory) for writing",
        script: open_for_writing!("/proc/pressure/memory"),
        control: Control::ProbeAsRoot(open_for_writing!("/proc/pressure/memory")),
        bubblewrap_only: false,
    },
    Attack {
        name: "sethostname",
        script: py!("import socket\nsocket.sethostname(\"codex-pwned\")"),
        control: Control::Skip,
        bubblewrap_only: false,
    },
    Attack {
        name: "datagram to a host unix socket (SOCK_RAW is a datagram socket)",
        script: py!(
            "import socket,os\ns=socket.socket(socket.AF_UNIX,socket.SOCK_RAW)\ns.sendto(b\"x\",os.environ[\"DGRAM_SOCK\"])"
        ),
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "datagram with the type's flag bits set (SOCK_DGRAM|SOCK_CLOEXEC)",
        script: py!(
            "import socket,os\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM|socket.SOCK_CLOEXEC)\ns.sendto(b\"x\",os.environ[\"DGRAM_SOCK\"])"
        ),
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "leave a setuid binary (chmod 4755)",
        script: r#"cp /bin/true "$WORK/x" && chmod 4755 "$WORK/x"; test -u "$WORK/x""#,
        control: Control::Required,
        bubblewrap_only: true,
    },
    Attack {
        name: "leave a setgid binary (chmod g+s)",
        script: r#"cp /bin/true "$WORK/x" && chmod g+s "$WORK/x"; test -g "$WORK/x""#,
        control: Control::Required,
        bubblewrap_only: true,
    },
    Attack {
        name: "leave a setuid binary (install -m 4755)",
        script: r#"install -m 4755 /bin/true "$WORK/x"; test -u "$WORK/x""#,
        control: Control::Required,
        bubblewrap_only: true,
    },
    Attack {
        name: "copy a setuid binary with its mode (cp -a /bin/su)",
        script: r#"cp -a /bin/su "$WORK/su" 2>/dev/null; test -u "$WORK/su""#,
        control: Control::RequiredAsRoot,
        bubblewrap_only: true,
    },
    Attack {
        name: "create a file with a setuid mode (open O_CREAT 04755)",
        script: py!(
            "import os,stat,sys\np=os.environ[\"WORK\"]+\"/x\"\nos.umask(0)\nos.close(os.open(p,os.O_CREAT|os.O_WRONLY,0o4755))\nsys.exit(0 if os.stat(p).st_mode & stat.S_ISUID else 1)"
        ),
        control: Control::Required,
        bubblewrap_only: true,
    },
    Attack {
        name: "open a host device outside the allowed few (as the raw disks and consoles)",
        script: py!("import os\nos.close(os.open(\"/dev/cpu_dma_latency\", os.O_RDONLY))"),
        control: Control::RequiredAsRoot,
        bubblewrap_only: false,
    },
    Attack {
        name: "rewrite a file given read-only on stdin (through /proc/self/fd/0)",
        script: r#"echo pwned > /proc/self/fd/0"#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "chmod a host file outside the writable roots",
        script: r#"chmod 600 "$OUTSIDE/target.txt""#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "change a host file's timestamps (touch -d)",
        script: r#"touch -d @0 "$OUTSIDE/target.txt""#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "set an extended attribute on a host file",
        script: py!(
            "import os\nos.setxattr(os.environ[\"OUTSIDE\"]+\"/target.txt\",\"user.codex\",b\"pwned\")"
        ),
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "write into a host FIFO (a read-only mount does not stop it)",
        script: r#"echo pwned > "$HOST_FIFO""#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "write to another terminal of the user (/dev/pts)",
        script: r#"echo pwned > "$HOST_PTY""#,
        control: Control::Required,
        bubblewrap_only: false,
    },
    Attack {
        name: "read another terminal of the user (/dev/pts)",
        script: r#"timeout 1 head -c1 "$HOST_PTY" >/dev/null"#,
        control: Control::Skip,
        bubblewrap_only: false,
    },
];

const TIOCSTI_PROBE_LOW: &str = py!(
    "import ctypes,os,sys,pty\nlibc=ctypes.CDLL(None,use_errno=True)\nm,s=pty.openpty()\npid=os.fork()\nif pid==0:\n    os.setsid()\n    libc.ioctl(s,ctypes.c_ulong(0x540E),0)\n    os._exit(0 if libc.ioctl(s,ctypes.c_ulong(0x5412),ctypes.c_char_p(b\"x\"))==0 else 1)\n_,st=os.waitpid(pid,0)\nsys.exit(os.waitstatus_to_exitcode(st))"
);
const TIOCSTI_PROBE_HIGH: &str = py!(
    "import ctypes,os,sys,pty\nlibc=ctypes.CDLL(None,use_errno=True)\nm,s=pty.openpty()\npid=os.fork()\nif pid==0:\n    os.setsid()\n    libc.ioctl(s,ctypes.c_ulong(0x540E),0)\n    os._exit(0 if libc.ioctl(s,ctypes.c_ulong(0x5412|(1<<32)),ctypes.c_char_p(b\"x\"))==0 else 1)\n_,st=os.waitpid(pid,0)\nsys.exit(os.waitstatus_to_exitcode(st))"
);

const STARTED: &str = "SANDBOX-STARTED";

/// Run `script` with an `O_PATH` descriptor of the outside directory on fd 7 (never close-on-exec
/// in the launched process), as a careless caller might leak one.
fn with_inherited_fd(fixture: &Fixture, command: &mut std::process::Command) -> std::fs::File {
    let outside = std::fs::File::open(&fixture.outside).unwrap();
    let fd = outside.as_raw_fd();
    // SAFETY: dup2 is async-signal-safe; it runs in the child before exec.
    unsafe {
        command.pre_exec(move || {
            if libc::dup2(fd, 7) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    outside
}

/// Host kernel settings an escaped command could change (restored after a failed test).
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostState {
    core_pattern: String,
    hostname: String,
}

impl HostState {
    fn read() -> HostState {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        HostState {
            core_pattern: read("/proc/sys/kernel/core_pattern"),
            hostname: read("/proc/sys/kernel/hostname"),
        }
    }

    fn restore_if_changed(&self, now: &HostState) {
        if self.core_pattern != now.core_pattern {
            let _ = std::fs::write("/proc/sys/kernel/core_pattern", &self.core_pattern);
        }
        if self.hostname != now.hostname {
            let _ = std::fs::write("/proc/sys/kernel/hostname", &self.hostname);
        }
    }
}

fn run_probe(
    fixture: &Fixture,
    services: &HostServices,
    backend: Option<Backend>,
    name: &str,
    script: &str,
) -> std::process::Output {
    let script = format!("echo {STARTED}; {script}");
    let env = services.env();
    let policy = fixture.policy_for(
        backend.unwrap_or(Backend::Bubblewrap),
        NetworkAccess::Restricted,
    );
    let mut command = match backend {
        Some(backend) => {
            let helper = env!("CARGO_BIN_EXE_codex-linux-sandbox");
            let mut args: Vec<std::ffi::OsString> = vec![
                "--policy".into(),
                policy.to_json().into(),
                "--cwd".into(),
                fixture.work.clone().into(),
            ];
            if backend == Backend::Landlock {
                args.push("--use-legacy-landlock".into());
            }
            args.extend([
                "--".into(),
                "/bin/sh".into(),
                "-c".into(),
                script.clone().into(),
            ]);
            fixture.as_user(helper, &args)
        }
        None => {
            let mut command = fixture.as_user("/bin/sh", &["-c".into(), script.clone().into()]);
            command.current_dir(&fixture.work);
            command
        }
    };
    command.envs(fixture.env()).envs(env);
    let _keep = name
        .contains("inherited")
        .then(|| with_inherited_fd(fixture, &mut command));
    if name.contains("stdin") {
        // Opened read-only, as `cmd < file` does.
        command.stdin(std::fs::File::open(fixture.outside.join("target.txt")).unwrap());
    }
    command.output().unwrap()
}

struct Row {
    name: &'static str,
    control: &'static str,
    result: String,
}

fn matrix(backend: Backend, user: User) {
    if !is_root() {
        eprintln!("skipping: the attack matrix needs root (to also run as uid 65534)");
        return;
    }
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for attack in ATTACKS {
        if backend == Backend::Landlock && attack.bubblewrap_only {
            rows.push(Row {
                name: attack.name,
                control: "-",
                result: "n/a: policy refused".to_string(),
            });
            continue;
        }
        let control_script = match attack.control {
            Control::Required => Some(attack.script),
            Control::RequiredAsRoot if user == User::Root => Some(attack.script),
            Control::ProbeAsRoot(script) if user == User::Root => Some(script),
            Control::RequiredAsRoot | Control::ProbeAsRoot(_) | Control::Skip => None,
        };
        let control = if let Some(script) = control_script {
            let fixture = Fixture::new(user);
            let services = HostServices::start(&fixture);
            let output = run_probe(&fixture, &services, None, attack.name, script);
            if !output.status.success() {
                failures.push(format!(
                    "{}: the unsandboxed control did not succeed: {}",
                    attack.name,
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            if output.status.success() {
                "succeeds"
            } else {
                "FAILS"
            }
        } else {
            "not run"
        };
        let fixture = Fixture::new(user);
        let mut services = HostServices::start(&fixture);
        let before = fixture.snapshot();
        let host_before = HostState::read();
        let output = run_probe(
            &fixture,
            &services,
            Some(backend),
            attack.name,
            attack.script,
        );
        let host_after = HostState::read();
        host_before.restore_if_changed(&host_after);
        let after = fixture.snapshot();
        let traffic = services.saw_traffic();
        let started = String::from_utf8_lossy(&output.stdout).contains(STARTED);
        let mut problems = Vec::new();
        if !started {
            problems.push(format!(
                "sandbox did not start: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        if output.status.success() {
            problems.push("attack succeeded".to_string());
        }
        if before != after {
            let changed: Vec<_> = after
                .iter()
                .filter(|(path, value)| before.get(*path) != Some(*value))
                .map(|(path, _)| path.display().to_string())
                .chain(
                    before
                        .keys()
                        .filter(|path| !after.contains_key(*path))
                        .map(|path| format!("removed {}", path.display())),
                )
                .collect();
            problems.push(format!("host changed: {changed:?}"));
        }
        if !traffic.is_empty() {
            problems.push(format!("host listeners saw traffic: {traffic:?}"));
        }
        if !services.victim_alive() {
            problems.push("the outside process died".to_string());
        }
        if host_before != host_after {
            problems.push(format!(
                "host kernel state changed: {host_before:?} -> {host_after:?}"
            ));
        }
        let result = if problems.is_empty() {
            "blocked, no trace".to_string()
        } else {
            format!("FAILED: {}", problems.join("; "))
        };
        if !problems.is_empty() {
            failures.push(format!("{}: {}", attack.name, problems.join("; ")));
        }
        rows.push(Row {
            name: attack.name,
            control,
            result,
        });
    }
    eprintln!(
        "\n### {backend:?} as {user:?}\n| attack | unsandboxed control | sandboxed |\n|---|---|---|"
    );
    for row in &rows {
        eprintln!("| {} | {} | {} |", row.name, row.control, row.result);
    }
    assert!(
        failures.is_empty(),
        "{backend:?} as {user:?}:\n{}",
        failures.join("\n")
    );
}

#[test]
fn bubblewrap_blocks_every_attack_as_root() {
    matrix(Backend::Bubblewrap, User::Root);
}

#[test]
fn bubblewrap_blocks_every_attack_as_nobody() {
    matrix(Backend::Bubblewrap, User::Nobody);
}

#[test]
fn landlock_blocks_every_applicable_attack_as_root() {
    matrix(Backend::Landlock, User::Root);
}

#[test]
fn landlock_blocks_every_applicable_attack_as_nobody() {
    matrix(Backend::Landlock, User::Nobody);
}

#[test]
fn landlock_refuses_policies_with_carve_outs_and_says_what() {
    let fixture = Fixture::new(User::Root);
    let policy = fixture.workspace_policy(NetworkAccess::Restricted);
    let output = fixture.helper(Backend::Landlock, &policy, "echo should-not-run", &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr,
        format!(
            "error: the legacy Landlock backend cannot enforce this policy: cannot keep `{0}/.agents` read-only inside the writable root `{0}` (and 3 more protected paths): Landlock has no carve-outs inside a granted path\n\nhint: use the default bubblewrap backend (drop `use_legacy_landlock`), or relax the permission profile\n",
            fixture.work.display()
        )
    );
}

/// The two layers each matter: a read-only bind mount does not stop writing into a host FIFO
/// (bubblewrap alone lets it through: `--no-landlock-layer`), the Landlock layer inside does.
#[test]
fn the_landlock_layer_stops_what_bubblewrap_alone_lets_through() {
    if !is_root() {
        panic!("the attack matrix needs root (to also run as uid 65534)");
    }
    for user in [User::Root, User::Nobody] {
        let fixture = Fixture::new(user);
        let services = HostServices::start(&fixture);
        let policy = fixture.workspace_policy(NetworkAccess::Restricted);
        let script = format!("echo {STARTED}; echo pwned > \"$HOST_FIFO\"");
        let helper = env!("CARGO_BIN_EXE_codex-linux-sandbox");
        let run = |layer: bool| {
            let mut args: Vec<std::ffi::OsString> = vec![
                "--policy".into(),
                policy.to_json().into(),
                "--cwd".into(),
                fixture.work.clone().into(),
            ];
            if !layer {
                args.push("--no-landlock-layer".into());
            }
            args.extend([
                "--".into(),
                "/bin/sh".into(),
                "-c".into(),
                script.clone().into(),
            ]);
            let mut command = fixture.as_user(helper, &args);
            command.envs(fixture.env()).envs(services.env());
            command.output().unwrap()
        };
        let alone = run(false);
        assert!(
            alone.status.success(),
            "{user:?}: bubblewrap alone let the write through"
        );
        assert_eq!(services.saw_traffic(), vec!["fifo"], "{user:?}");
        let layered = run(true);
        assert!(
            String::from_utf8_lossy(&layered.stdout).contains(STARTED),
            "{user:?}: {}",
            String::from_utf8_lossy(&layered.stderr)
        );
        assert!(
            !layered.status.success(),
            "{user:?}: the second layer did not stop it"
        );
        assert!(services.saw_traffic().is_empty(), "{user:?}");
    }
}

/// A directory on stdin is a way around the mounts (`/proc/self/fd/0/<name>` resolves in the
/// host's directory): the sandbox refuses to start, for both backends and both users, where
/// the same read works unsandboxed.
#[test]
fn a_directory_on_a_standard_descriptor_is_refused() {
    if !is_root() {
        panic!("this test needs root (to also run as uid 65534)");
    }
    let script = "cat /proc/self/fd/0/auth.json";
    for user in [User::Root, User::Nobody] {
        let fixture = Fixture::new(user);
        let codex_home = fixture.secret.parent().unwrap().to_path_buf();
        let mut control = fixture.as_user("/bin/sh", &["-c".into(), script.into()]);
        control.stdin(std::fs::File::open(&codex_home).unwrap());
        let output = control.output().unwrap();
        assert!(
            String::from_utf8_lossy(&output.stdout).contains(super::harness::SECRET_CONTENT),
            "{user:?}: the control could not read through the directory"
        );
        for backend in [Backend::Bubblewrap, Backend::Landlock] {
            let policy = fixture.policy_for(backend, NetworkAccess::Restricted);
            let mut args: Vec<std::ffi::OsString> = vec![
                "--policy".into(),
                policy.to_json().into(),
                "--cwd".into(),
                fixture.work.clone().into(),
            ];
            if backend == Backend::Landlock {
                args.push("--use-legacy-landlock".into());
            }
            args.extend(["--".into(), "/bin/sh".into(), "-c".into(), script.into()]);
            let mut command = fixture.as_user(env!("CARGO_BIN_EXE_codex-linux-sandbox"), &args);
            command
                .envs(fixture.env())
                .stdin(std::fs::File::open(&codex_home).unwrap());
            let output = command.output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{backend:?} {user:?}: {stdout}");
            assert!(
                !stdout.contains(super::harness::SECRET_CONTENT),
                "{backend:?} {user:?}: {stdout}"
            );
            assert!(
                stderr.contains("stdin is a directory"),
                "{backend:?} {user:?}: {stderr}"
            );
        }
    }
}

/// A denied path outside the writable roots stays unreadable after the host replaces it during
/// the run (`rm -rf ~/.codex && codex login`, an editor saving a denied file by rename): the
/// kernel detaches bubblewrap's mask from the old file, the Landlock layer's rules do not name
/// it. Shown live with bubblewrap alone (`--no-landlock-layer`), as root and as uid 65534.
#[test]
fn a_denied_path_replaced_by_the_host_stays_hidden() {
    use codex_sandbox_policy::{Access, PathRule};
    if !is_root() {
        panic!("this test needs root (to also run as uid 65534)");
    }
    let script = r#"echo > "$WORK/ready"; while [ ! -e "$WORK/go" ]; do sleep 0.02; done; cat "$HOME/.codex/auth.json" "$HOME/denied.txt" 2>&1; true"#;
    for user in [User::Root, User::Nobody] {
        for layer in [true, false] {
            let fixture = Fixture::new(user);
            std::fs::write(fixture.home.join("denied.txt"), "OLD\n").unwrap();
            let mut policy = fixture.workspace_policy(NetworkAccess::Restricted);
            policy.rules.push(PathRule {
                path: fixture.home.join("denied.txt"),
                access: Access::Deny,
            });
            policy.rules.sort_by(|a, b| a.path.cmp(&b.path));
            let mut args: Vec<std::ffi::OsString> = vec![
                "--policy".into(),
                policy.to_json().into(),
                "--cwd".into(),
                fixture.work.clone().into(),
            ];
            if !layer {
                args.push("--no-landlock-layer".into());
            }
            args.extend(["--".into(), "/bin/sh".into(), "-c".into(), script.into()]);
            let mut command = fixture.as_user(env!("CARGO_BIN_EXE_codex-linux-sandbox"), &args);
            command
                .envs(fixture.env())
                .stdout(std::process::Stdio::piped());
            let child = command.spawn().unwrap();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while !fixture.work.join("ready").exists() {
                assert!(std::time::Instant::now() < deadline, "never started");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            // The host replaces both while the command runs.
            let codex_home = fixture.home.join(".codex");
            std::fs::rename(&codex_home, fixture.home.join(".codex-old")).unwrap();
            std::fs::create_dir(&codex_home).unwrap();
            std::fs::write(codex_home.join("auth.json"), "NEW-CREDENTIALS\n").unwrap();
            let replacement = fixture.home.join("denied.txt.new");
            std::fs::write(&replacement, "NEW-DENIED\n").unwrap();
            std::fs::rename(&replacement, fixture.home.join("denied.txt")).unwrap();
            if user == User::Nobody {
                for path in [&codex_home, &codex_home.join("auth.json")] {
                    std::os::unix::fs::chown(path, Some(65534), Some(65534)).unwrap();
                }
                std::os::unix::fs::chown(fixture.home.join("denied.txt"), Some(65534), Some(65534))
                    .unwrap();
            }
            std::fs::write(fixture.work.join("go"), "").unwrap();
            let output = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            if layer {
                assert!(
                    !stdout.contains("NEW-CREDENTIALS") && !stdout.contains("NEW-DENIED"),
                    "{user:?}: read after the host replaced them: {stdout}"
                );
            } else {
                // The control: bubblewrap's masks alone detach.
                assert!(
                    stdout.contains("NEW-CREDENTIALS") && stdout.contains("NEW-DENIED"),
                    "{user:?}: bubblewrap alone: {stdout}"
                );
            }
        }
    }
}
