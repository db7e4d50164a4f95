//! Every file the agent itself opens on the host (AGENTS.md, `view_image` images, the output
//! schema) is read here: a repository or an earlier command may have planted a symbolic link to
//! `auth.json`, anything in `$CODEX_HOME`, or `/proc/self/environ`, and the agent runs outside
//! the sandbox.
//!
//! The rule: resolve the path completely, refuse it when the real location is inside
//! `$CODEX_HOME`, below `/proc`, `/sys` or `/dev`, denied by the policy (a `Deny` rule, or a
//! match of a deny glob) or outside what the policy lets a sandboxed command read;
//! then open the real path without following a final link, check that the opened descriptor is
//! that path (`/proc/self/fd`, on Linux), that it is a regular file, and read at most a bound.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use codex_sandboxing::SandboxPolicy;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum SafeReadError {
    #[error("cannot resolve `{}`: {error}", path.display())]
    Resolve {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "refusing to read `{}`: it resolves to `{}`, {reason}",
        path.display(),
        real.display()
    )]
    Refused {
        path: PathBuf,
        real: PathBuf,
        reason: &'static str,
    },
    #[error("cannot read `{}`: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("`{}` is larger than {max} bytes", path.display())]
    TooLarge { path: PathBuf, max: u64 },
}

/// What the agent may read on the host: the session's policy and `$CODEX_HOME`.
#[derive(Debug, Clone)]
pub struct ReadGuard {
    policy: SandboxPolicy,
    /// `$CODEX_HOME`, lexically and resolved.
    codex_homes: Vec<PathBuf>,
}

const HOST_ONLY: [&str; 3] = ["/proc", "/sys", "/dev"];

impl ReadGuard {
    pub fn new(policy: &SandboxPolicy, codex_home: &Path) -> ReadGuard {
        let mut codex_homes = vec![codex_sandboxing::normalize(codex_home)];
        if let Ok(real) = std::fs::canonicalize(codex_home)
            && !codex_homes.contains(&real)
        {
            codex_homes.push(real);
        }
        ReadGuard {
            policy: policy.clone(),
            codex_homes,
        }
    }

    /// Why the real path `real` may not be read, if it may not.
    fn refusal(&self, real: &Path) -> Option<&'static str> {
        if self.codex_homes.iter().any(|home| real.starts_with(home)) {
            return Some("inside `$CODEX_HOME` (credentials and sessions)");
        }
        if HOST_ONLY.iter().any(|prefix| real.starts_with(prefix)) {
            return Some("a kernel or device file");
        }
        if !self.policy.access_for(real).can_read() {
            return Some("outside what the sandbox may read");
        }
        if self.policy.denying_glob(real).is_some() {
            return Some("matched by a deny glob");
        }
        None
    }

    /// Read `path` (absolute, or relative to `base`) after the checks above; at most `max`
    /// bytes.
    pub fn read(&self, path: &Path, base: &Path, max: u64) -> Result<Vec<u8>, SafeReadError> {
        let path = codex_sandboxing::normalize(&base.join(path));
        let real = std::fs::canonicalize(&path).map_err(|error| SafeReadError::Resolve {
            path: path.clone(),
            error,
        })?;
        if let Some(reason) = self.refusal(&real) {
            return Err(SafeReadError::Refused { path, real, reason });
        }
        let read_error = |error| SafeReadError::Read {
            path: path.clone(),
            error,
        };
        let file = crate::private_files::open_read(&real).map_err(read_error)?;
        if let Some(opened) = opened_path(&file)
            && opened != real
        {
            return Err(SafeReadError::Refused {
                path,
                real: opened,
                reason: "the file changed while it was opened",
            });
        }
        let metadata = file.metadata().map_err(read_error)?;
        if !metadata.is_file() {
            return Err(SafeReadError::Refused {
                path,
                real,
                reason: "not a regular file",
            });
        }
        if metadata.len() > max {
            return Err(SafeReadError::TooLarge { path, max });
        }
        let mut bytes = Vec::new();
        file.take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        if bytes.len() as u64 > max {
            return Err(SafeReadError::TooLarge { path, max });
        }
        Ok(bytes)
    }
}

/// The real path of an open descriptor.
#[cfg(target_os = "linux")]
fn opened_path(file: &File) -> Option<PathBuf> {
    use std::os::fd::AsRawFd;
    std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()
}

#[cfg(not(target_os = "linux"))]
fn opened_path(_file: &File) -> Option<PathBuf> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_sandboxing::{Access, Enforcement, NetworkAccess, PathRule};

    fn policy(rules: Vec<(&Path, Access)>) -> SandboxPolicy {
        SandboxPolicy {
            profile: ":read-only".into(),
            enforcement: Enforcement::Managed,
            cwd: PathBuf::from("/"),
            rules: rules
                .into_iter()
                .map(|(path, access)| PathRule {
                    path: path.to_path_buf(),
                    access,
                })
                .collect(),
            platform_defaults: false,
            deny_globs: Vec::new(),
            glob_scan_max_depth: None,
            writable_roots: Vec::new(),
            network: NetworkAccess::Restricted,
            unix_sockets: Vec::new(),
        }
    }

    #[test]
    fn symlinks_into_codex_home_proc_and_denied_paths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let home = root.join("codex-home");
        std::fs::create_dir(&home).unwrap();
        std::fs::write(home.join("auth.json"), "{\"OPENAI_API_KEY\":\"sk\"}").unwrap();
        let work = root.join("work");
        std::fs::create_dir(&work).unwrap();
        std::fs::write(work.join("AGENTS.md"), "hello").unwrap();
        let secret = root.join("secret");
        std::fs::write(&secret, "s").unwrap();
        std::os::unix::fs::symlink(home.join("auth.json"), work.join("auth")).unwrap();
        std::os::unix::fs::symlink("/proc/self/environ", work.join("environ")).unwrap();
        std::os::unix::fs::symlink(&secret, work.join("denied")).unwrap();
        std::os::unix::fs::symlink(&home, work.join("home")).unwrap();
        let guard = ReadGuard::new(
            &policy(vec![
                (Path::new("/"), Access::Read),
                (&secret, Access::Deny),
            ]),
            &home,
        );
        assert_eq!(
            guard.read(Path::new("AGENTS.md"), &work, 100).unwrap(),
            b"hello"
        );
        for name in ["auth", "environ", "denied", "home/auth.json"] {
            let error = guard.read(Path::new(name), &work, 100).unwrap_err();
            assert!(
                matches!(error, SafeReadError::Refused { .. }),
                "{name}: {error}"
            );
        }
        assert!(matches!(
            guard.read(Path::new("AGENTS.md"), &work, 2),
            Err(SafeReadError::TooLarge { .. })
        ));
        assert!(matches!(
            guard.read(&work, &work, 100),
            Err(SafeReadError::Refused { .. })
        ));
    }

    #[test]
    fn unreadable_by_policy_and_deny_globs() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("env")).unwrap();
        std::fs::write(root.join("env/a.env"), "x").unwrap();
        std::fs::write(root.join("ok"), "x").unwrap();
        let mut read_root = policy(vec![(&root, Access::Read)]);
        read_root.deny_globs = vec![
            codex_sandboxing::DenyGlob::parse(&format!("{}/env/**/*.env", root.display())).unwrap(),
        ];
        let guard = ReadGuard::new(&read_root, Path::new("/nonexistent-codex-home"));
        assert!(guard.read(Path::new("ok"), &root, 10).is_ok());
        assert!(guard.read(Path::new("env/a.env"), &root, 10).is_err());
        let outside = ReadGuard::new(&policy(vec![]), Path::new("/nonexistent-codex-home"));
        assert!(outside.read(Path::new("ok"), &root, 10).is_err());
    }
}
