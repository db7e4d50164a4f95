//! `cli_auth_credentials_store = "keyring"` against a real Secret Service: a private
//! `dbus-daemon` (no service activation, so nothing else can answer) and
//! `gnome-keyring-daemon`, both started by the test with their own HOME. The test does not skip
//! when they are missing: the canary fails with what to install (`scripts/test` installs them).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::suite::common::{TestEnv, code, run, stderr, stdout, with_stdin};

const STORE: &str = "cli_auth_credentials_store=\"keyring\"";
const PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
const PASSWORD: &str = "test-keyring-password";

fn which(program: &str) -> Option<PathBuf> {
    PATH.split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file())
}

/// The programs this suite needs; the canary names the missing ones.
fn required_programs() -> Vec<(&'static str, Option<PathBuf>)> {
    ["dbus-daemon", "dbus-send", "gnome-keyring-daemon"]
        .into_iter()
        .map(|program| (program, which(program)))
        .collect()
}

#[test]
fn canary_secret_service_programs_are_installed() {
    let missing: Vec<&str> = required_programs()
        .into_iter()
        .filter(|(_, path)| path.is_none())
        .map(|(program, _)| program)
        .collect();
    assert!(
        missing.is_empty(),
        "the Secret Service tests need {missing:?}: apt-get install dbus-daemon dbus-bin gnome-keyring (scripts/test does this as root)"
    );
}

fn program(name: &str) -> PathBuf {
    which(name).unwrap_or_else(|| panic!("`{name}` is missing; see the canary test"))
}

/// A session bus, and optionally a Secret Service on it, for one test's HOME. Killed on drop.
struct SessionBus {
    address: String,
    children: Vec<Child>,
}

impl SessionBus {
    fn start(env: &TestEnv, with_keyring: bool) -> SessionBus {
        let runtime = env.root().join("run");
        std::fs::create_dir_all(&runtime).unwrap();
        let socket = runtime.join("bus");
        let _ = std::fs::remove_file(&socket);
        let config = env.write(
            "bus.conf",
            &format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig><type>session</type><listen>unix:path={}</listen><auth>EXTERNAL</auth>\
                 <policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\
                 <allow eavesdrop=\"true\"/><allow own=\"*\"/></policy>\
                 </busconfig>\n",
                socket.display()
            ),
        );
        let mut bus = Command::new(program("dbus-daemon"))
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile", "--print-address=1"])
            .env_clear()
            .env("PATH", PATH)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let mut session = SessionBus {
            address: line.trim().to_string(),
            children: vec![bus],
        };
        assert!(session.address.starts_with("unix:"), "{line:?}");
        if with_keyring {
            let mut keyring = Command::new(program("gnome-keyring-daemon"))
                .args(["--foreground", "--unlock", "--components=secrets"])
                .env_clear()
                .env("PATH", PATH)
                .env("HOME", env.home())
                .env("XDG_DATA_HOME", env.home().join(".local/share"))
                .env("XDG_RUNTIME_DIR", &runtime)
                .env("DBUS_SESSION_BUS_ADDRESS", &session.address)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            keyring
                .stdin
                .take()
                .unwrap()
                .write_all(PASSWORD.as_bytes())
                .unwrap();
            session.children.push(keyring);
            session.wait_for_name("org.freedesktop.secrets");
        }
        session
    }

    /// Poll (bounded) until `name` has an owner on the bus.
    fn wait_for_name(&self, name: &str) {
        for _ in 0..400 {
            let output = Command::new(program("dbus-send"))
                .args([
                    &format!("--bus={}", self.address),
                    "--print-reply",
                    "--reply-timeout=2000",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    &format!("string:{name}"),
                ])
                .env_clear()
                .output()
                .unwrap();
            if String::from_utf8_lossy(&output.stdout).contains("boolean true") {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("`{name}` never appeared on the test bus");
    }

    /// `codex` on this bus.
    fn codex<const N: usize>(&self, env: &TestEnv, args: [&str; N]) -> Command {
        let mut command = env.codex(args);
        command.env("DBUS_SESSION_BUS_ADDRESS", &self.address);
        command
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn report(output: &Output) -> String {
    format!("exit {}\n{}", code(output), stderr(output))
}

/// Saved in the Secret Service (not the kernel keyring, not a file), still there after the
/// daemon and the bus are restarted (what a reboot does), removed by logout.
#[test]
fn keyring_store_uses_the_secret_service_and_survives_a_restart() {
    let env = TestEnv::new();
    let bus = SessionBus::start(&env, true);
    let output = with_stdin(
        bus.codex(&env, ["-c", STORE, "login", "--with-api-key"]),
        "sk-secret-service-12345",
    );
    insta::assert_snapshot!(report(&output), @r"
    exit 0
    Reading API key from stdin...
    API key saved. Authentication is checked when you send a request.
    ");
    assert!(!env.codex_home().join("auth.json").exists());

    let output = run(bus.codex(&env, ["-c", STORE, "login", "status"]));
    insta::assert_snapshot!(report(&output), @r"
    exit 0
    Logged in using an API key - sk-secre***12345
    Stored in the Secret Service keyring `Login` (persists across reboots)
    ");

    // Without the bus the kernel keyring is used, and it holds nothing for this home.
    let output = run(env.codex(["-c", STORE, "login", "status"]));
    insta::assert_snapshot!(report(&output), @r"
    exit 1
    Not logged in
    ");

    drop(bus);
    let bus = SessionBus::start(&env, true);
    let output = run(bus.codex(&env, ["-c", STORE, "login", "status", "--json"]));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    insta::assert_snapshot!(stdout(&output), @r#"{"api_key":"sk-secre***12345","email":null,"error":null,"logged_in":true,"method":"api_key","source":"store","store":{"collection":"Login","location":"secret_service","mode":"keyring","path":null,"persists_across_reboots":true},"workspace":null}"#);

    let output = run(bus.codex(&env, ["-c", STORE, "logout"]));
    insta::assert_snapshot!(report(&output), @r"
    exit 0
    Successfully logged out
    ");
    let output = run(bus.codex(&env, ["-c", STORE, "login", "status"]));
    insta::assert_snapshot!(report(&output), @r"
    exit 1
    Not logged in
    ");
}

/// A session bus without a Secret Service: the kernel user keyring, and status says so.
#[test]
fn without_a_secret_service_the_kernel_keyring_is_used_and_named() {
    let env = TestEnv::new();
    let bus = SessionBus::start(&env, false);
    let output = with_stdin(
        bus.codex(&env, ["-c", STORE, "login", "--with-api-key"]),
        "sk-kernel-keyring-67890",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = run(bus.codex(&env, ["-c", STORE, "login", "status"]));
    insta::assert_snapshot!(report(&output), @r"
    exit 0
    Logged in using an API key - sk-kerne***67890
    Stored in the kernel user keyring (lost at reboot; Secret Service not used: `org.freedesktop.secrets` is not on the session bus)
    ");
    let output = run(env.codex(["-c", STORE, "login", "status"]));
    insta::assert_snapshot!(report(&output), @r"
    exit 0
    Logged in using an API key - sk-kerne***67890
    Stored in the kernel user keyring (lost at reboot; Secret Service not used: no session bus (`DBUS_SESSION_BUS_ADDRESS` is not set))
    ");
    let output = run(bus.codex(&env, ["-c", STORE, "logout"]));
    assert_eq!(stderr(&output), "Successfully logged out\n");
}

/// `codex doctor` names the keyring a sign-in would be kept in and whether it survives a
/// reboot, then the one that holds the credentials.
#[test]
fn doctor_names_the_keyring_and_whether_it_persists() {
    let env = TestEnv::new();
    let line = |output: &Output| -> String {
        let out = stdout(output);
        let mut lines = out
            .lines()
            .skip_while(|line| !line.contains(" credential store "));
        let mut text = String::new();
        if let Some(first) = lines.next() {
            text.push_str(first);
            text.push('\n');
        }
        for line in lines.take_while(|line| line.starts_with("        ")) {
            text.push_str(line);
            text.push('\n');
        }
        text
    };
    let bus = SessionBus::start(&env, true);
    let output = run(bus.codex(&env, ["-c", STORE, "doctor"]));
    insta::assert_snapshot!(line(&output), @"  ok    credential store    keyring: a sign-in would be kept in the Secret Service keyring `Login` (persists across reboots)");
    let output = with_stdin(
        bus.codex(&env, ["-c", STORE, "login", "--with-api-key"]),
        "sk-doctor-keyring-24680",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = run(bus.codex(&env, ["-c", STORE, "doctor"]));
    insta::assert_snapshot!(line(&output), @"  ok    credential store    keyring: held in the Secret Service keyring `Login` (persists across reboots)");
    assert!(!stdout(&output).contains("24680"));
    let output = run(bus.codex(&env, ["-c", STORE, "logout"]));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    drop(bus);

    let bus = SessionBus::start(&env, false);
    let output = run(bus.codex(&env, ["-c", STORE, "doctor"]));
    insta::assert_snapshot!(line(&output), @r#"
      warn  credential store    keyring: a sign-in would be kept in the kernel user keyring (lost at reboot)
                                Secret Service not used: `org.freedesktop.secrets` is not on the session bus
                                hint: run a Secret Service (e.g. GNOME Keyring) on the session bus, or set `cli_auth_credentials_store = "file"`
    "#);
}
