//! Finding a trusted `bwrap` and the options it supports.
//!
//! `bwrap` runs *outside* the sandbox with the caller's privileges, so it must be a binary no
//! sandboxed command (and no other local user) could have planted or replaced:
//! - an explicit `linux_sandbox.bwrap_path` (system, user, profile or `-c` layer: never a project
//!   layer) is used as given, if it is an absolute, executable regular file outside the working
//!   directory and the writable roots;
//! - otherwise `/usr/bin/bwrap`, then each absolute `PATH` entry's `bwrap`, but only a file that
//!   is owned by root and not writable by group or others, in directories that are all owned by
//!   root and not writable by group or others (checked on the canonical path, so a symlink from a
//!   writable directory gains nothing), and not under the working directory or a writable root.
//!   When codex runs as root, only one in a system directory (`/usr/bin`, `/bin`, `/usr/sbin`,
//!   `/sbin`, `/usr/local/bin`, `/usr/local/sbin`): what a root sandbox writes is root-owned too.
//!   A `bwrap` in a virtualenv, `~/.local/bin` or a build directory is never executed.
//!
//! Probe: once per process and path, the binary's bytes are scanned for the option names of its
//! `--help` text (they sit in `.rodata`). That costs mapping ~70 KiB of page cache instead of a
//! fork+exec of `bwrap --help` (~1 ms), and unlike a version check it also works for distribution
//! builds with back-ported options. If the file is not readable (mode 0711), `bwrap --version` is
//! run once (the binary is trusted by then).

use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::PlanSandboxError;

pub(crate) const SYSTEM_BWRAP: &str = "/usr/bin/bwrap";

/// Options the argv builder uses unconditionally.
const REQUIRED_OPTIONS: &[&str] = &[
    "--unshare-user",
    "--unshare-pid",
    "--unshare-uts",
    "--new-session",
    "--die-with-parent",
    "--cap-drop",
    "--json-status-fd",
    "--seccomp",
    "--perms",
    "--remount-ro",
    "--chdir",
];

/// A usable bubblewrap and what it supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bubblewrap {
    pub path: PathBuf,
    pub features: Features,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Features {
    /// `--disable-userns` (bubblewrap >= 0.8.0).
    pub disable_userns: bool,
    /// Installed setuid root (then no unprivileged user namespaces are needed).
    pub setuid: bool,
}

/// Find and probe bubblewrap: `configured` is `linux_sandbox.bwrap_path`; `untrusted` are
/// canonical directories (cwd, writable roots) whose binaries are never used.
pub(crate) fn find(
    configured: Option<&Path>,
    untrusted: &[PathBuf],
) -> Result<Bubblewrap, PlanSandboxError> {
    let path = match configured {
        Some(path) => configured_bwrap(path, untrusted)?,
        None => {
            let path_var = std::env::var_os("PATH");
            let candidates = candidates(path_var.as_deref(), Path::new(SYSTEM_BWRAP));
            locate(&candidates, untrusted, &trusted_location)?
        }
    };
    let features = probe(&path)?;
    Ok(Bubblewrap { path, features })
}

/// Where to look, in order: the system location, then every absolute `PATH` entry.
pub(crate) fn candidates(path_var: Option<&OsStr>, system: &Path) -> Vec<PathBuf> {
    let mut candidates = vec![system.to_path_buf()];
    candidates.extend(
        path_var
            .map(std::env::split_paths)
            .into_iter()
            .flatten()
            .filter(|directory| directory.is_absolute())
            .map(|directory| directory.join("bwrap")),
    );
    candidates
}

/// The first candidate that exists, is executable, lies outside `untrusted` and passes `trust`
/// (on its canonical path). When some exist but none is trusted, the error names the first one
/// and why.
pub(crate) fn locate(
    candidates: &[PathBuf],
    untrusted: &[PathBuf],
    trust: &dyn Fn(&Path) -> Result<(), String>,
) -> Result<PathBuf, PlanSandboxError> {
    let mut refused: Option<(PathBuf, String)> = None;
    for candidate in candidates {
        // One stat first: most PATH entries have no `bwrap`.
        let Ok(metadata) = std::fs::metadata(candidate) else {
            continue;
        };
        if !metadata.is_file() || metadata.mode() & 0o111 == 0 {
            continue;
        }
        let verdict = std::fs::canonicalize(candidate)
            .map_err(|error| error.to_string())
            .and_then(|real| {
                if let Some(root) = untrusted
                    .iter()
                    .find(|root| candidate.starts_with(root) || real.starts_with(root))
                {
                    return Err(format!(
                        "it lies under `{}`, which the sandboxed command may write",
                        root.display()
                    ));
                }
                trust(&real).map(|()| real)
            });
        match verdict {
            Ok(real) => return Ok(real),
            Err(reason) => {
                refused.get_or_insert((candidate.clone(), reason));
            }
        }
    }
    Err(match refused {
        Some((path, reason)) => PlanSandboxError::BubblewrapNotTrusted { path, reason },
        None => PlanSandboxError::BubblewrapNotFound,
    })
}

/// `linux_sandbox.bwrap_path`: the user's explicit choice, still never one under the working
/// directory or a writable root.
fn configured_bwrap(path: &Path, untrusted: &[PathBuf]) -> Result<PathBuf, PlanSandboxError> {
    let refuse = |reason: String| PlanSandboxError::BubblewrapNotTrusted {
        path: path.to_path_buf(),
        reason,
    };
    if !path.is_absolute() {
        return Err(refuse("`linux_sandbox.bwrap_path` must be absolute".into()));
    }
    let metadata = std::fs::metadata(path).map_err(|error| refuse(error.to_string()))?;
    if !metadata.is_file() || metadata.mode() & 0o111 == 0 {
        return Err(refuse("it is not an executable file".into()));
    }
    locate(&[path.to_path_buf()], untrusted, &|_| Ok(()))
}

/// Directories a `bwrap` found on `PATH` may come from when codex runs as root.
const SYSTEM_DIRECTORIES: &[&str] = &[
    "/usr/bin",
    "/bin",
    "/usr/sbin",
    "/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
];

/// Whether a `bwrap` found on `PATH` (canonical path) may be executed, for this process's user.
pub(crate) fn trusted_location(real: &Path) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    trusted_for(real, unsafe { libc::geteuid() })
}

/// [`root_owned_chain`], and for root (`euid` 0) a system directory: everything a sandboxed
/// command writes as root is root-owned and can sit in a root-owned, non-writable-by-others
/// chain (a `.venv/bin` in root's workspace), so ownership cannot tell a planted `bwrap` there.
pub(crate) fn trusted_for(real: &Path, euid: u32) -> Result<(), String> {
    root_owned_chain(real)?;
    if euid == 0
        && !real.parent().is_some_and(|directory| {
            SYSTEM_DIRECTORIES
                .iter()
                .any(|system| directory == Path::new(system))
        })
    {
        return Err(format!(
            "codex runs as root, and a sandboxed command running as root writes root-owned files, so outside the system directories ({}) ownership cannot tell a planted `bwrap`; set `linux_sandbox.bwrap_path` to use this one",
            SYSTEM_DIRECTORIES.join(", ")
        ));
    }
    Ok(())
}

/// A root-owned file that neither group nor others may write, in directories that are all
/// root-owned and not writable by group or others: nobody but root can replace it.
pub(crate) fn root_owned_chain(real: &Path) -> Result<(), String> {
    let check = |path: &Path, what: &str| -> Result<(), String> {
        let metadata = std::fs::symlink_metadata(path)
            .map_err(|error| format!("cannot inspect `{}`: {error}", path.display()))?;
        if metadata.uid() != 0 {
            return Err(format!(
                "{what} `{}` is owned by uid {}, not root",
                path.display(),
                metadata.uid()
            ));
        }
        if metadata.mode() & 0o022 != 0 {
            return Err(format!(
                "{what} `{}` is writable by group or others (mode {:o})",
                path.display(),
                metadata.mode() & 0o7777
            ));
        }
        Ok(())
    };
    check(real, "the file")?;
    for directory in real.ancestors().skip(1) {
        check(directory, "the directory")?;
    }
    Ok(())
}

/// Supported features of the bubblewrap at `path` (canonical), cached per process.
pub(crate) fn probe(path: &Path) -> Result<Features, PlanSandboxError> {
    static CACHE: Mutex<Vec<(PathBuf, Features)>> = Mutex::new(Vec::new());
    if let Ok(cache) = CACHE.lock()
        && let Some((_, features)) = cache.iter().find(|(cached, _)| cached == path)
    {
        return Ok(*features);
    }
    let features = probe_uncached(path)?;
    if let Ok(mut cache) = CACHE.lock() {
        cache.push((path.to_path_buf(), features));
    }
    Ok(features)
}

fn probe_uncached(path: &Path) -> Result<Features, PlanSandboxError> {
    let unusable = |reason: String| PlanSandboxError::BubblewrapUnusable {
        path: path.to_path_buf(),
        reason,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
            let metadata = std::fs::metadata(path).map_err(|error| unusable(error.to_string()))?;
            let options = options_from_version(path).map_err(unusable)?;
            return features_from_options(path, options, is_setuid_root(&metadata));
        }
        Err(error) => return Err(unusable(error.to_string())),
    };
    let metadata = file
        .metadata()
        .map_err(|error| unusable(error.to_string()))?;
    let options = scan_file(&file, metadata.len()).map_err(|error| unusable(error.to_string()))?;
    features_from_options(path, options, is_setuid_root(&metadata))
}

fn is_setuid_root(metadata: &std::fs::Metadata) -> bool {
    metadata.mode() & 0o4000 != 0 && metadata.uid() == 0
}

/// Larger than any bubblewrap; a file this big is not scanned.
const MAX_BINARY_SIZE: u64 = 64 << 20;

/// [`option_names`] of the whole file, read through a private read-only mapping: the page-cache
/// pages are mapped in a couple of faults, nothing is copied or allocated (a `read` into a fresh
/// buffer cost ~40 µs more, mostly page faults).
fn scan_file(file: &std::fs::File, length: u64) -> std::io::Result<OptionSet> {
    use std::os::fd::AsRawFd;
    if length == 0 {
        return Ok(OptionSet::default());
    }
    if length > MAX_BINARY_SIZE {
        return Err(std::io::Error::other(
            "the file is too large to be bubblewrap",
        ));
    }
    let length = usize::try_from(length).map_err(std::io::Error::other)?;
    // SAFETY: maps `length` bytes of an open regular file read-only and private; the result is
    // checked before use.
    let address = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            length,
            libc::PROT_READ,
            libc::MAP_PRIVATE,
            file.as_raw_fd(),
            0,
        )
    };
    if address == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the mapping holds `length` readable bytes until the `munmap` below and nothing
    // writes to it. (Truncating the file meanwhile would raise SIGBUS: package managers replace
    // binaries by renaming a new file over them, which leaves this inode intact.)
    let bytes = unsafe { std::slice::from_raw_parts(address.cast::<u8>(), length) };
    let options = option_names(bytes);
    // SAFETY: unmaps exactly the mapping created above; `bytes` is not used afterwards.
    unsafe { libc::munmap(address, length) };
    Ok(options)
}

pub(crate) fn features_from_options(
    path: &Path,
    options: OptionSet,
    setuid: bool,
) -> Result<Features, PlanSandboxError> {
    if let Some(flag) = REQUIRED_OPTIONS.iter().find(|flag| !options.contains(flag)) {
        return Err(PlanSandboxError::BubblewrapTooOld {
            path: path.to_path_buf(),
            flag,
        });
    }
    Ok(Features {
        disable_userns: options.contains(DISABLE_USERNS),
        setuid,
    })
}

const DISABLE_USERNS: &str = "--disable-userns";

/// Which of `REQUIRED_OPTIONS` and `--disable-userns` were found (bit i: `wanted(i)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct OptionSet(u32);

impl OptionSet {
    fn wanted() -> impl Iterator<Item = &'static str> {
        REQUIRED_OPTIONS.iter().copied().chain([DISABLE_USERNS])
    }

    fn insert(&mut self, name: &[u8]) {
        // Most `--` tokens in a binary are other options: a length check first.
        if !(7..=17).contains(&name.len()) {
            return;
        }
        if let Some(index) = Self::wanted().position(|wanted| wanted.as_bytes() == name) {
            self.0 |= 1 << index;
        }
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        Self::wanted()
            .position(|wanted| wanted == name)
            .is_some_and(|index| self.0 & (1 << index) != 0)
    }
}

/// The option names we care about (`REQUIRED_OPTIONS` and `--disable-userns`) that occur in
/// `bytes` as whole tokens (`--` followed by `[a-z0-9-]`). One pass: libc's `memchr` (vectorised)
/// skips to each `-`, so the ~70 KiB binary costs a few hundred short calls, no allocation.
pub(crate) fn option_names(bytes: &[u8]) -> OptionSet {
    let mut options = OptionSet::default();
    let mut index = 0;
    while index + 2 < bytes.len() {
        let rest = &bytes[index..];
        // SAFETY: searches the `rest.len()` valid bytes of `rest`; the result is null or points
        // into `rest`.
        let found = unsafe { libc::memchr(rest.as_ptr().cast(), i32::from(b'-'), rest.len()) };
        if found.is_null() {
            break;
        }
        let start = index + (found as usize - rest.as_ptr() as usize);
        if bytes.get(start + 1) != Some(&b'-') {
            index = start + 1;
            continue;
        }
        let mut end = start + 2;
        while end < bytes.len()
            && (bytes[end].is_ascii_lowercase()
                || bytes[end].is_ascii_digit()
                || bytes[end] == b'-')
        {
            end += 1;
        }
        options.insert(&bytes[start..end]);
        index = end;
    }
    options
}

/// Fallback for an unreadable binary: infer the options from `bwrap --version`.
fn options_from_version(path: &Path) -> Result<OptionSet, String> {
    let output = std::process::Command::new(path)
        .arg("--version")
        .env_clear()
        .output()
        .map_err(|error| error.to_string())?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| format!("unexpected `--version` output `{}`", text.trim()))?;
    let numbers: Vec<u32> = version
        .split('.')
        .map(|part| part.parse().unwrap_or(0))
        .collect();
    let at_least = |major: u32, minor: u32| {
        (
            numbers.first().copied().unwrap_or(0),
            numbers.get(1).copied().unwrap_or(0),
        ) >= (major, minor)
    };
    let mut options = OptionSet::default();
    if at_least(0, 5) {
        for option in REQUIRED_OPTIONS {
            options.insert(option.as_bytes());
        }
    }
    if at_least(0, 8) {
        options.insert(DISABLE_USERNS.as_bytes());
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn fake_bwrap(directory: &Path) -> PathBuf {
        std::fs::create_dir_all(directory).unwrap();
        let path = directory.join("bwrap");
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Tests build fake candidates under a temporary directory (never root-owned all the way
    /// up), so they inject the ownership check.
    fn trust_all(_: &Path) -> Result<(), String> {
        Ok(())
    }

    #[test]
    fn ignores_a_bwrap_under_the_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let planted = fake_bwrap(&root.join("repo/bin"));
        let system = fake_bwrap(&root.join("usr/bin"));
        let candidates = vec![planted.clone(), system.clone()];
        let found = locate(&candidates, &[root.join("repo")], &trust_all).unwrap();
        assert_eq!(found, system);
        // Without the untrusted root the planted one would win.
        assert_eq!(locate(&candidates, &[], &trust_all).unwrap(), planted);
    }

    #[test]
    fn ignores_symlinks_into_the_working_directory_and_relative_entries() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let planted = fake_bwrap(&root.join("repo"));
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::os::unix::fs::symlink(&planted, root.join("bin/bwrap")).unwrap();
        let fallback = fake_bwrap(&root.join("fallback"));
        let path_var = std::env::join_paths([PathBuf::from("relative"), root.join("bin")]).unwrap();
        let found = candidates(Some(&path_var), &fallback);
        assert_eq!(found, vec![fallback.clone(), root.join("bin/bwrap")]);
        let reordered = vec![root.join("bin/bwrap"), fallback.clone()];
        assert_eq!(
            locate(&reordered, &[root.join("repo")], &trust_all).unwrap(),
            fallback
        );
        let error =
            locate(&[root.join("bin/bwrap")], &[root.join("repo")], &trust_all).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "refusing to run bubblewrap at `{}`: it lies under `{}`, which the sandboxed command may write",
                root.join("bin/bwrap").display(),
                root.join("repo").display()
            )
        );
    }

    /// The rule that matters outside tests: only root can have written the binary.
    #[test]
    fn only_root_owned_chains_are_trusted() {
        let shell = std::fs::canonicalize("/usr/bin/sh").unwrap();
        assert_eq!(root_owned_chain(&shell), Ok(()));
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let planted = fake_bwrap(&root.join(".venv/bin"));
        let reason = root_owned_chain(&planted).unwrap_err();
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            // Root owns the file, but the temporary directory above it is world-writable.
            assert!(reason.contains("writable by group or others"), "{reason}");
        } else {
            assert!(reason.contains("not root"), "{reason}");
        }
        // A PATH `bwrap` that fails the check is refused with the reason, never executed.
        let error = locate(std::slice::from_ref(&planted), &[], &root_owned_chain).unwrap_err();
        assert!(
            matches!(error, PlanSandboxError::BubblewrapNotTrusted { ref path, .. } if *path == planted)
        );
        assert!(matches!(
            locate(&[root.join("missing/bwrap")], &[], &root_owned_chain),
            Err(PlanSandboxError::BubblewrapNotFound)
        ));
    }

    /// As root, a root-owned chain is not enough outside the system directories: a sandboxed
    /// command running as root leaves exactly such files (e.g. `/root/proj/.venv/bin/bwrap`).
    #[test]
    fn as_root_only_system_directories_are_trusted() {
        // Root-owned, in root-owned directories nobody else may write, outside the system
        // directories: what a root sandbox's planted file looks like.
        let planted_like = Path::new("/etc/hostname");
        assert_eq!(root_owned_chain(planted_like), Ok(()));
        assert_eq!(trusted_for(planted_like, 1000), Ok(()));
        let reason = trusted_for(planted_like, 0).unwrap_err();
        assert!(reason.contains("codex runs as root"), "{reason}");
        let shell = std::fs::canonicalize("/usr/bin/sh").unwrap();
        assert_eq!(trusted_for(&shell, 0), Ok(()));
    }

    #[test]
    fn a_configured_bwrap_is_used_unless_it_is_inside_the_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let chosen = fake_bwrap(&root.join("opt/bin"));
        assert_eq!(configured_bwrap(&chosen, &[]).unwrap(), chosen);
        assert!(matches!(
            configured_bwrap(&chosen, &[root.join("opt")]),
            Err(PlanSandboxError::BubblewrapNotTrusted { .. })
        ));
        assert!(matches!(
            configured_bwrap(Path::new("bin/bwrap"), &[]),
            Err(PlanSandboxError::BubblewrapNotTrusted { .. })
        ));
        std::fs::set_permissions(&chosen, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            configured_bwrap(&chosen, &[]),
            Err(PlanSandboxError::BubblewrapNotTrusted { .. })
        ));
    }

    #[test]
    fn option_scan_finds_help_text_flags() {
        let options =
            option_names(b"\0    --disable-userns  Disable\n    --perms OCTAL\0--x\0--permsx--");
        assert!(options.contains("--disable-userns"));
        assert!(options.contains("--perms"));
        assert!(
            !options.contains("--x"),
            "only the options we use are collected"
        );
        let too_old = features_from_options(Path::new("/b"), options, false).unwrap_err();
        assert!(matches!(
            too_old,
            PlanSandboxError::BubblewrapTooOld {
                flag: "--unshare-user",
                ..
            }
        ));
    }

    #[test]
    fn wanted_names_fit_the_length_filter() {
        assert!(OptionSet::wanted().all(|name| (7..=17).contains(&name.len())));
    }

    #[test]
    fn option_scan_handles_edges() {
        assert_eq!(option_names(b""), OptionSet::default());
        assert_eq!(option_names(b"-"), OptionSet::default());
        assert_eq!(option_names(b"--"), OptionSet::default());
        assert!(option_names(b"--perms").contains("--perms"));
        assert!(option_names(b"x---perms --perms").contains("--perms"));
        assert!(!option_names(b"---perms").contains("--perms"));
        assert!(!option_names(b"--perms2").contains("--perms"));
        let all = REQUIRED_OPTIONS.join("\0") + "\0--disable-userns";
        let options = option_names(all.as_bytes());
        let features = features_from_options(Path::new("/b"), options, false).unwrap();
        assert!(features.disable_userns);
    }

    #[test]
    fn probing_maps_the_file_and_finds_its_options() {
        let dir = tempfile::tempdir().unwrap();
        let full = dir.path().join("full");
        let names = REQUIRED_OPTIONS.join("\0") + "\0--disable-userns\0";
        std::fs::write(&full, format!("\x7fELF{}", names.repeat(3000))).unwrap();
        let features = probe_uncached(&full).unwrap();
        assert!(features.disable_userns && !features.setuid);
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "").unwrap();
        assert!(matches!(
            probe_uncached(&empty),
            Err(PlanSandboxError::BubblewrapTooOld { .. })
        ));
    }

    #[test]
    fn probes_the_installed_bubblewrap() {
        // The machine's bubblewrap (0.8.0 here) must be found and fully featured.
        let bubblewrap = find(None, &[]).expect("bubblewrap is installed");
        assert!(bubblewrap.features.disable_userns);
    }
}
