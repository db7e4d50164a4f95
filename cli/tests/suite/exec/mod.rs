//! `codex exec` end to end: the real binary against a scripted Responses server on 127.0.0.1,
//! with a fresh HOME and CODEX_HOME under /var/tmp (outside the default writable `/tmp`) and a
//! cleared environment.

mod agent_attacks;
mod agent_attacks_more;
mod basics;
mod harness;
mod sandbox;
mod schema_check;
mod sessions;
