//! The environment variables a sandboxed command is given, named once for every backend and
//! for the agent.

/// Which sandbox runs the command (`seatbelt` on macOS; unset by bubblewrap and Landlock, as
/// upstream).
pub const CODEX_SANDBOX: &str = "CODEX_SANDBOX";
/// `1` when the policy restricts the network.
pub const CODEX_SANDBOX_NETWORK_DISABLED: &str = "CODEX_SANDBOX_NETWORK_DISABLED";
