//! The standalone `codex-linux-sandbox` helper (the `codex` binary also becomes it when invoked
//! under that name).

fn main() -> std::process::ExitCode {
    codex_linux_sandbox::helper_main()
}
