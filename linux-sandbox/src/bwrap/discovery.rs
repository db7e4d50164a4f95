//! Finding the system `bwrap` and the options it supports.
//!
//! Lookup: the first `bwrap` on `PATH` (absolute entries only) whose canonical path is not under
//! the working directory or a writable root (a repository or an earlier sandboxed run could have
//! planted one there), then `/usr/bin/bwrap`.
//!
//! Probe: once per process and path, the binary's bytes are scanned for the option names of its
//! `--help` text (they sit in `.rodata`). That costs mapping ~70 KiB of page cache instead of a
//! fork+exec of `bwrap --help` (~1 ms), and unlike a version check it also works for distribution
//! builds with back-ported options. If the file is not readable (mode 0711), `bwrap --version` is
//! run once.

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

/// Find and probe bubblewrap; `untrusted` are canonical directories (cwd, writable roots) whose
/// binaries are ignored.
pub(crate) fn find(untrusted: &[PathBuf]) -> Result<Bubblewrap, PlanSandboxError> {
    let path_var = std::env::var_os("PATH");
    let path = locate(path_var.as_deref(), untrusted, Path::new(SYSTEM_BWRAP))
        .ok_or(PlanSandboxError::BubblewrapNotFound)?;
    let features = probe(&path)?;
    Ok(Bubblewrap { path, features })
}

/// The first trusted `bwrap` on `path_var`, else `fallback` (if it exists and is trusted).
pub(crate) fn locate(
    path_var: Option<&OsStr>,
    untrusted: &[PathBuf],
    fallback: &Path,
) -> Option<PathBuf> {
    let trusted = |candidate: &Path| -> Option<PathBuf> {
        if untrusted.iter().any(|root| candidate.starts_with(root)) {
            return None;
        }
        // One stat first: most PATH entries have no `bwrap`, and canonicalizing costs a
        // readlink per component.
        let metadata = std::fs::metadata(candidate).ok()?;
        if !metadata.is_file() || metadata.mode() & 0o111 == 0 {
            return None;
        }
        let real = std::fs::canonicalize(candidate).ok()?;
        (!untrusted.iter().any(|root| real.starts_with(root))).then_some(real)
    };
    path_var
        .map(std::env::split_paths)
        .into_iter()
        .flatten()
        .filter(|directory| directory.is_absolute())
        .find_map(|directory| trusted(&directory.join("bwrap")))
        .or_else(|| trusted(fallback))
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

    #[test]
    fn ignores_a_bwrap_under_the_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let planted = fake_bwrap(&root.join("repo/bin"));
        let system = fake_bwrap(&root.join("usr/bin"));
        let path_var = std::env::join_paths([root.join("repo/bin"), root.join("usr/bin")]).unwrap();
        let found = locate(
            Some(&path_var),
            &[root.join("repo")],
            Path::new("/nonexistent"),
        );
        assert_eq!(found, Some(system.clone()));
        // Without the untrusted root the planted one would win.
        let found = locate(Some(&path_var), &[], Path::new("/nonexistent"));
        assert_eq!(found, Some(planted));
    }

    #[test]
    fn ignores_symlinks_into_the_working_directory_and_relative_entries() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let planted = fake_bwrap(&root.join("repo"));
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::os::unix::fs::symlink(&planted, root.join("bin/bwrap")).unwrap();
        let path_var = std::env::join_paths([PathBuf::from("relative"), root.join("bin")]).unwrap();
        let fallback = fake_bwrap(&root.join("fallback"));
        let found = locate(Some(&path_var), &[root.join("repo")], &fallback);
        assert_eq!(found, Some(fallback));
        assert_eq!(
            locate(
                None,
                std::slice::from_ref(&root),
                &root.join("fallback/bwrap")
            ),
            None
        );
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
        let bubblewrap = find(&[]).expect("bubblewrap is installed");
        assert!(bubblewrap.features.disable_userns);
    }
}
