//! The stage's command line (built by the planner, parsed by the stage). Internal: the flag
//! comes first so the stage is recognised before anything else runs.
//!
//! ```text
//! <exe> --codex-sandbox-stage [--landlock-abi N] [--read P]… [--list P]… [--write P]…
//!       [--device P]… [--restrict-tcp] [--scope] [--unix-socket P]… [--grant-terminals]
//!       [--max-processes N] [--close-fd N] [--status-fd N] [--lifeline-fd N] [--reaper PID]
//!       [--seccomp-fd N] [--cgroup-fd N]…
//!       [--drop-capabilities] -- COMMAND…
//! ```

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use crate::request::LandlockRuleset;

/// The first argument that makes a binary run the stage.
pub const STAGE_FLAG: &str = "--codex-sandbox-stage";

/// Everything the stage does before it executes the command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StageArgs {
    pub landlock: Option<LandlockRuleset>,
    /// Grant the files behind descriptors 0–2 (the command's own terminal, pipes, files).
    pub grant_terminals: bool,
    pub max_processes: Option<u64>,
    /// The descriptor the stage was executed through (closed before the command runs).
    pub close_fd: Option<i32>,
    /// Where failures are reported (close-on-exec, so a started command closes it).
    pub status_fd: Option<i32>,
    /// The read end of a pipe only the supervising codex holds open: at end of file, codex is
    /// gone and the command must not start (bubblewrap may have been started too early to get
    /// its parent-death signal armed).
    pub lifeline_fd: Option<i32>,
    /// Supervise the command as a subreaper; the value is the pid of the codex process (the
    /// stage exits when it dies).
    pub reaper: Option<i32>,
    /// Install this seccomp program (Landlock backend; bubblewrap installs its own).
    pub seccomp_fd: Option<i32>,
    /// `cgroup.procs` of the run's cgroups: the stage joins them before the command runs.
    pub cgroup_fds: Vec<i32>,
    pub drop_capabilities: bool,
    pub command: Vec<OsString>,
}

impl StageArgs {
    /// The arguments after the executable, starting with [`STAGE_FLAG`].
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![STAGE_FLAG.into()];
        let mut flag = |name: &str, value: Option<OsString>| {
            args.push(name.into());
            args.extend(value);
        };
        if let Some(ruleset) = &self.landlock {
            flag("--landlock-abi", Some(ruleset.abi.to_string().into()));
            for (name, paths) in [
                ("--read", &ruleset.readable),
                ("--list", &ruleset.listable),
                ("--write", &ruleset.writable),
                ("--device", &ruleset.devices),
            ] {
                for path in paths {
                    flag(name, Some(path.clone().into_os_string()));
                }
            }
            if ruleset.restrict_tcp {
                flag("--restrict-tcp", None);
            }
            if ruleset.scope {
                flag("--scope", None);
            }
            for socket in ruleset.allowed_unix_sockets.iter().flatten() {
                flag("--unix-socket", Some(socket.clone().into_os_string()));
            }
        }
        if self.grant_terminals {
            flag("--grant-terminals", None);
        }
        let numbers = [
            (
                "--max-processes",
                self.max_processes.map(|value| value.to_string()),
            ),
            ("--close-fd", self.close_fd.map(|value| value.to_string())),
            ("--status-fd", self.status_fd.map(|value| value.to_string())),
            (
                "--lifeline-fd",
                self.lifeline_fd.map(|value| value.to_string()),
            ),
            ("--reaper", self.reaper.map(|value| value.to_string())),
            (
                "--seccomp-fd",
                self.seccomp_fd.map(|value| value.to_string()),
            ),
        ];
        for (name, value) in numbers {
            if let Some(value) = value {
                flag(name, Some(value.into()));
            }
        }
        for fd in &self.cgroup_fds {
            flag("--cgroup-fd", Some(fd.to_string().into()));
        }
        if self.drop_capabilities {
            flag("--drop-capabilities", None);
        }
        args.push("--".into());
        args.extend(self.command.iter().cloned());
        args
    }

    /// Parse the arguments after [`STAGE_FLAG`].
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<StageArgs, String> {
        let mut args = args.into_iter();
        let mut stage = StageArgs::default();
        let mut ruleset: Option<LandlockRuleset> = None;
        let value = |args: &mut dyn Iterator<Item = OsString>, name: &str| {
            args.next().ok_or_else(|| format!("`{name}` needs a value"))
        };
        let number = |value: OsString, name: &str| -> Result<i64, String> {
            value
                .to_str()
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| format!("`{name}` needs a number"))
        };
        while let Some(arg) = args.next() {
            let Some(name) = arg.to_str() else {
                return Err(format!("unexpected argument `{}`", arg.to_string_lossy()));
            };
            let rules = || -> Result<&mut LandlockRuleset, String> {
                Err(format!("`{name}` needs `--landlock-abi` first"))
            };
            match name {
                "--landlock-abi" => {
                    let abi = number(value(&mut args, name)?, name)?;
                    ruleset = Some(LandlockRuleset {
                        abi: i32::try_from(abi).map_err(|error| error.to_string())?,
                        ..LandlockRuleset::default()
                    });
                }
                "--read" | "--list" | "--write" | "--device" | "--unix-socket" => {
                    let path = PathBuf::from(value(&mut args, name)?);
                    let Some(ruleset) = ruleset.as_mut() else {
                        return rules().map(|_| stage);
                    };
                    match name {
                        "--read" => ruleset.readable.push(path),
                        "--list" => ruleset.listable.push(path),
                        "--write" => ruleset.writable.push(path),
                        "--device" => ruleset.devices.push(path),
                        _ => ruleset
                            .allowed_unix_sockets
                            .get_or_insert_with(Vec::new)
                            .push(path),
                    }
                }
                "--restrict-tcp" | "--scope" => {
                    let Some(ruleset) = ruleset.as_mut() else {
                        return rules().map(|_| stage);
                    };
                    if name == "--scope" {
                        ruleset.scope = true;
                    } else {
                        ruleset.restrict_tcp = true;
                    }
                }
                "--grant-terminals" => stage.grant_terminals = true,
                "--drop-capabilities" => stage.drop_capabilities = true,
                "--max-processes" => {
                    let limit = number(value(&mut args, name)?, name)?;
                    stage.max_processes =
                        Some(u64::try_from(limit).map_err(|error| error.to_string())?);
                }
                "--cgroup-fd" => {
                    let parsed = number(value(&mut args, name)?, name)?;
                    stage
                        .cgroup_fds
                        .push(i32::try_from(parsed).map_err(|error| error.to_string())?);
                }
                "--close-fd" | "--status-fd" | "--lifeline-fd" | "--reaper" | "--seccomp-fd" => {
                    let parsed = number(value(&mut args, name)?, name)?;
                    let parsed = i32::try_from(parsed).map_err(|error| error.to_string())?;
                    match name {
                        "--close-fd" => stage.close_fd = Some(parsed),
                        "--status-fd" => stage.status_fd = Some(parsed),
                        "--lifeline-fd" => stage.lifeline_fd = Some(parsed),
                        "--reaper" => stage.reaper = Some(parsed),
                        _ => stage.seccomp_fd = Some(parsed),
                    }
                }
                "--" => break,
                other => return Err(format!("unexpected argument `{other}`")),
            }
        }
        stage.landlock = ruleset;
        stage.command = args.collect();
        if stage.command.is_empty() || stage.command[0].is_empty() {
            return Err("no command given after `--`".into());
        }
        Ok(stage)
    }
}

/// Whether `arg` (a binary's first argument) asks for the stage.
pub(crate) fn is_stage_flag(arg: &OsStr) -> bool {
    arg == STAGE_FLAG
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let stage = StageArgs {
            landlock: Some(LandlockRuleset {
                abi: 6,
                readable: vec![PathBuf::from("/")],
                listable: vec![PathBuf::from("/home")],
                writable: vec![PathBuf::from("/work"), PathBuf::from("/tmp x")],
                devices: vec![PathBuf::from("/dev/null")],
                restrict_tcp: true,
                scope: true,
                allowed_unix_sockets: Some(vec![PathBuf::from("/run/a.sock")]),
            }),
            grant_terminals: true,
            max_processes: Some(4096),
            close_fd: Some(5),
            status_fd: Some(6),
            lifeline_fd: Some(7),
            reaper: Some(1234),
            seccomp_fd: Some(3),
            cgroup_fds: vec![8, 9],
            drop_capabilities: true,
            command: vec!["sh".into(), "-c".into(), "echo --read".into()],
        };
        let args = stage.to_args();
        assert_eq!(args[0], STAGE_FLAG);
        assert_eq!(StageArgs::parse(args.into_iter().skip(1)).unwrap(), stage);
        let minimal = StageArgs {
            command: vec!["true".into()],
            ..StageArgs::default()
        };
        assert_eq!(
            minimal.to_args(),
            vec![OsString::from(STAGE_FLAG), "--".into(), "true".into()]
        );
    }

    #[test]
    fn rejects_bad_input() {
        let parse = |list: &[&str]| StageArgs::parse(list.iter().map(OsString::from));
        assert!(parse(&["--read", "/", "--", "true"]).is_err());
        assert!(parse(&["--max-processes", "x", "--", "true"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--"]).is_err());
        assert!(parse(&["--close-fd"]).is_err());
    }
}
