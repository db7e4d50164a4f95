#![allow(clippy::unwrap_used, clippy::print_stderr)]
use std::os::unix::process::CommandExt;
use std::time::Instant;
#[test]
fn timing() {
    for round in 0..2 {
    let t = Instant::now();
    std::process::Command::new("/usr/bin/true").status().unwrap();
    eprintln!("{round} first posix_spawn {:?}", t.elapsed());
    let t = Instant::now();
    let mut c = std::process::Command::new("/usr/bin/true");
    unsafe { c.pre_exec(|| Ok(())); }
    c.status().unwrap();
    eprintln!("{round} first fork {:?}", t.elapsed());
    let t = Instant::now();
    for _ in 0..100 { std::process::Command::new("/usr/bin/true").status().unwrap(); }
    eprintln!("posix_spawn avg {:?}", t.elapsed() / 100);
    let t = Instant::now();
    for _ in 0..100 { let mut c = std::process::Command::new("/usr/bin/true"); unsafe { c.pre_exec(|| Ok(())); } c.status().unwrap(); }
    eprintln!("fork avg {:?}", t.elapsed() / 100);
    }
}
