//! The standalone `codex-linux-sandbox` helper (the `codex` binary also becomes it when invoked
//! under that name).

fn main() -> std::process::ExitCode {
    #[cfg(target_os = "linux")]
    codex_linux_sandbox::stage_main_if_requested();
    codex_linux_sandbox::helper_main()
}
