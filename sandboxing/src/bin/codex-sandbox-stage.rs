//! The sandbox stage on its own (see `codex-linux-sandbox`'s `stage` module): for programs that
//! use this library but whose own `main` does not call `stage_main_if_requested` (this crate's
//! tests). The `codex` binary is its own stage.

fn main() {
    #[cfg(target_os = "linux")]
    codex_linux_sandbox::stage_main_if_requested();
    eprintln!("error: this program only runs as the sandbox stage (`--codex-sandbox-stage`)");
    std::process::exit(2);
}
