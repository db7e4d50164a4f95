//! [`plan`]: validation shared by both backends, then the backend's plan.

use std::ffi::OsString;
use std::path::PathBuf;

use codex_sandbox_policy::Enforcement;

use crate::error::PlanSandboxError;
use crate::request::{LinuxPlan, SandboxRequest};

/// Set in the child when the network is restricted.
pub(crate) const NETWORK_DISABLED_VARIABLE: &str =
    codex_sandbox_policy::env_names::CODEX_SANDBOX_NETWORK_DISABLED;

/// Build the exact plan for `request`. Pure apart from reading the filesystem (stat, readlink,
/// canonicalize, reading `bwrap`'s bytes once, `/proc/net/unix` when socket paths are allowed, and
/// walking deny-glob bases). Nothing is created or started.
pub fn plan(request: &SandboxRequest<'_>) -> Result<LinuxPlan, PlanSandboxError> {
    let common = Common::new(request)?;
    #[cfg(target_os = "linux")]
    {
        match request.backend {
            crate::request::LinuxBackend::Bubblewrap => linux::bubblewrap(request, common),
            crate::request::LinuxBackend::Landlock => crate::landlock::plan(request, common),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = common;
        Err(PlanSandboxError::UnsupportedPlatform)
    }
}

/// The stage executable: the configured one, or the running binary.
pub(crate) fn stage_executable(
    options: &crate::request::LinuxOptions,
) -> Result<PathBuf, PlanSandboxError> {
    Ok(options
        .stage_executable
        .clone()
        .unwrap_or_else(|| PathBuf::from("/proc/self/exe")))
}

/// The descriptors the stage joins the run's cgroups through (none without a cgroup).
#[cfg(target_os = "linux")]
pub(crate) fn cgroup_descriptors(limit: &crate::request::ProcessLimit) -> Vec<i32> {
    use crate::request::{CGROUP_FD, FREEZER_FD, ProcessLimit};
    match limit {
        ProcessLimit::CgroupV2 { .. } => vec![CGROUP_FD],
        ProcessLimit::CgroupV1 { freezer, .. } => {
            let mut fds = vec![CGROUP_FD];
            fds.extend(freezer.as_ref().map(|_| FREEZER_FD));
            fds
        }
        ProcessLimit::Rlimit | ProcessLimit::None => Vec::new(),
    }
}

/// Results of the checks both backends share.
pub(crate) struct Common {
    /// The canonical working directory.
    pub cwd: PathBuf,
    pub env_changes: Vec<(String, String)>,
    /// The complete child environment with `env_changes` applied.
    pub env: Vec<(OsString, OsString)>,
}

impl Common {
    fn new(request: &SandboxRequest<'_>) -> Result<Common, PlanSandboxError> {
        if request.command.is_empty() || request.command[0].is_empty() {
            return Err(PlanSandboxError::EmptyCommand);
        }
        if !request.cwd.is_absolute() {
            return Err(PlanSandboxError::RelativeCwd(request.cwd.to_path_buf()));
        }
        let cwd = std::fs::canonicalize(request.cwd).map_err(|source| PlanSandboxError::Cwd {
            path: request.cwd.to_path_buf(),
            source,
        })?;
        let policy = request.policy;
        if policy.enforcement == Enforcement::Managed
            && !policy.access_for(request.cwd).can_read()
            && !policy.access_for(&cwd).can_read()
        {
            return Err(PlanSandboxError::CwdNotReadable(request.cwd.to_path_buf()));
        }
        let mut env_changes = Vec::new();
        if policy.network_restricted() {
            env_changes.push((NETWORK_DISABLED_VARIABLE.to_string(), "1".to_string()));
        }
        let mut env: Vec<(OsString, OsString)> = request
            .env
            .iter()
            .filter(|(name, _)| {
                !env_changes
                    .iter()
                    .any(|(changed, _)| name == changed.as_str())
            })
            .cloned()
            .collect();
        env.extend(
            env_changes
                .iter()
                .map(|(name, value)| (OsString::from(name), OsString::from(value))),
        );
        Ok(Common {
            cwd,
            env_changes,
            env,
        })
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use codex_sandbox_policy::Enforcement;

    use super::Common;
    use crate::bwrap::{self, discovery, mounts};
    use crate::error::PlanSandboxError;
    use std::ffi::OsString;

    use crate::request::{
        BubblewrapDetails, BubblewrapLaunch, LIFELINE_FD, LinuxEnforcement, LinuxPlan, PlanDetails,
        RunMode, STAGE_EXE_FD, STAGE_STATUS_FD, SandboxRequest,
    };
    use crate::seccomp::{self, MetadataRules, NetworkRules, ProcessRules, ProgramKind};
    use crate::stage::StageArgs;
    use crate::userns::UserNamespaceSysctls;

    pub(super) fn bubblewrap(
        request: &SandboxRequest<'_>,
        common: Common,
    ) -> Result<LinuxPlan, PlanSandboxError> {
        let policy = request.policy;
        let managed = policy.enforcement == Enforcement::Managed;
        // Bubblewrap cannot run here: say whether the Landlock backend could run this policy.
        let unavailable = |cause: PlanSandboxError| PlanSandboxError::BubblewrapUnavailable {
            cause: Box::new(cause),
            legacy: crate::landlock::details(policy, crate::landlock::kernel_abi())
                .map(|_| ())
                .map_err(|error| error.to_string()),
        };
        let bubblewrap = discovery::find(
            request.options.bwrap_path.as_deref(),
            &bwrap::untrusted_directories(policy, &common.cwd),
        )
        .map_err(unavailable)?;
        // Whether a failure of bwrap to create its user namespace would need explaining: then
        // `run()` must wait for bwrap to diagnose it (a plain exec would leave only bwrap's text).
        let mut userns_doubtful = false;
        if !bubblewrap.features.setuid {
            // SAFETY: geteuid has no preconditions.
            let privileged = unsafe { libc::geteuid() } == 0;
            let sysctls = UserNamespaceSysctls::read();
            if let Some(reason) = sysctls.definite_blocker(privileged) {
                return Err(unavailable(PlanSandboxError::UserNamespacesUnavailable {
                    reason,
                }));
            }
            userns_doubtful = sysctls.possible_blocker(privileged).is_some();
        }
        let deny_matches = bwrap::expand_deny_globs(policy)?;
        let allow_unix = policy.network_restricted() && !policy.unix_sockets.is_empty();
        let host_sockets = if allow_unix {
            crate::unix_sockets::host_socket_paths()?
        } else {
            Vec::new()
        };
        let mount_plan = mounts::build(&mounts::MountInputs {
            policy,
            platform_defaults: mounts::PLATFORM_DEFAULTS,
            deny_matches: &deny_matches,
            host_sockets: &host_sockets,
        })?;
        let seccomp = if managed {
            let rules = match (policy.network_restricted(), allow_unix) {
                (false, _) => NetworkRules::Enabled,
                (true, false) => NetworkRules::Restricted,
                (true, true) => NetworkRules::AllowUnixSockets,
            };
            Some(seccomp::program(ProgramKind {
                network: rules,
                metadata: MetadataRules::Allow,
                processes: ProcessRules::Namespaced,
            })?)
        } else {
            None
        };
        let process_limit = crate::cgroup::probe(
            request.options.max_processes,
            request.options.require_process_limit,
        )?
        // The pid namespace ends the tree here, so the v1 freezer (which only makes killing
        // the cgroup's members race-free) is not needed; joining a cgroup costs a task
        // migration, sometimes milliseconds, on every start.
        .without_freezer();
        // Exec `bwrap` only when nothing has to happen after it: no mount point or cgroup to
        // remove and no failure that would need a diagnosis.
        let launch = if request.run_mode == RunMode::ExecWhenPossible
            && mount_plan.mount_points.is_empty()
            && process_limit.cgroup_parent().is_none()
            && !userns_doubtful
        {
            BubblewrapLaunch::Exec
        } else {
            BubblewrapLaunch::Spawn
        };
        let (loader_env, env): (Vec<_>, Vec<_>) = common
            .env
            .into_iter()
            .partition(|(name, _)| bwrap::is_loader_variable(name));
        // The second layer and the process limit are applied by the stage, inside.
        let landlock = if managed && request.options.landlock_layer {
            let abi = crate::landlock::kernel_abi();
            if abi < 1 {
                return Err(PlanSandboxError::LandlockLayerUnavailable);
            }
            crate::landlock::second_layer(policy, abi, &deny_matches)
        } else {
            None
        };
        let enforcement = LinuxEnforcement {
            backend: "bubblewrap",
            namespaces: true,
            network_namespace: policy.network_restricted(),
            seccomp: seccomp.is_some(),
            landlock_abi: landlock.as_ref().map(|ruleset| ruleset.abi),
            landlock_scoped: landlock.as_ref().is_some_and(|ruleset| ruleset.scope),
            max_processes: request.options.max_processes,
            process_limit: process_limit.clone(),
            full_access: !managed,
        };
        let stage = StageArgs {
            grant_terminals: landlock.is_some(),
            landlock,
            max_processes: request.options.max_processes,
            close_fd: Some(STAGE_EXE_FD),
            status_fd: (launch == BubblewrapLaunch::Spawn).then_some(STAGE_STATUS_FD),
            lifeline_fd: (launch == BubblewrapLaunch::Spawn).then_some(LIFELINE_FD),
            cgroup_fds: super::cgroup_descriptors(&process_limit),
            command: request.command.to_vec(),
            ..StageArgs::default()
        };
        let mut command = vec![OsString::from(format!("/proc/self/fd/{STAGE_EXE_FD}"))];
        command.extend(stage.to_args());
        let argv = bwrap::argv(&bwrap::Invocation {
            policy,
            features: bubblewrap.features,
            filesystem: &mount_plan.args,
            seccomp: seccomp.is_some(),
            status_fd: launch == BubblewrapLaunch::Spawn,
            cwd: &common.cwd,
            loader_env: &loader_env,
            command: &command,
        });
        let command_path = env
            .iter()
            .chain(loader_env.iter())
            .find(|(name, _)| name == "PATH")
            .map(|(_, value)| value.clone());
        Ok(LinuxPlan {
            program: bubblewrap.path,
            argv,
            env_changes: common.env_changes,
            enforcement,
            cwd: common.cwd,
            env,
            details: PlanDetails::Bubblewrap(BubblewrapDetails {
                launch,
                stage_executable: super::stage_executable(request.options)?,
                seccomp,
                mount_points: mount_plan.mount_points,
                process_limit,
                max_processes: request.options.max_processes,
                command: request.command[0].clone(),
                command_path,
            }),
        })
    }
}
