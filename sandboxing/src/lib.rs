//! Sandbox policy model and the platform planners that are plain Rust on every OS.
//!
//! - [`SandboxPolicy`]: the resolved policy every backend consumes.
//! - `seatbelt`: the macOS `sandbox-exec` invocation and denial-log parsing.

mod policy;
mod protected;
pub mod seatbelt;

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
pub use protected::protected_paths;
pub use protected::writable_root;
