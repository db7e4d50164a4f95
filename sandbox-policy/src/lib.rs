//! The resolved sandbox policy: plain data with absolute paths that `codex-config` produces and
//! every backend (bubblewrap, Landlock, Seatbelt, …) consumes, plus the rules about it that must
//! exist once: protected metadata paths, lexical normalisation.
//!
//! - [`env_names`]: the `CODEX_SANDBOX*` variables a sandboxed command is given.
//! - `glob`: [`DenyGlob`], the one deny-glob grammar, parsed once, with its matcher.
//! - `policy`: [`SandboxPolicy`] and its parts.
//! - `protected`: the read-only carve-outs of a writable root (`.git`, `.codex`, `.agents`, the
//!   `.git` of submodules and linked worktrees).
//! - `symlinks`: [`replaceable_symlink`], the one "crosses a symlink the command could replace"
//!   rule (link chains followed) every backend checks policy paths with.

pub mod env_names;
pub mod glob;
mod policy;
mod protected;
mod symlinks;

pub use glob::DenyGlob;
pub use glob::GlobError;
pub use policy::Access;
pub use policy::Enforcement;
pub use policy::NetworkAccess;
pub use policy::PathRole;
pub use policy::PathRule;
pub use policy::ProtectedKind;
pub use policy::ProtectedPath;
pub use policy::SandboxPolicy;
pub use policy::WritableRoot;
pub use policy::normalize;
pub use protected::PROTECTED_METADATA_NAMES;
pub use protected::inside_root;
pub use protected::protected_paths;
pub use protected::writable_root;
pub use symlinks::{
    HostFileSystem, LinkEntry, MAX_SYMLINKS, ReadLink, ReplaceableSymlink, ResolveSymlinksError,
    replaceable_symlink,
};
