//! The seccomp program shared by both backends, compiled to classic BPF.
//!
//! A hand-written prologue checks the architecture, rejects x32 system calls (x86_64) and answers
//! `clone3` with `ENOSYS` (its flags live in a struct the filter cannot read, and libc falls back to
//! `clone`). The rest is compiled with seccompiler: default allow, a matching rule returns `EPERM`.
//!
//! Always denied: `io_uring_*` (it can open sockets and files without the filtered syscalls),
//! `ptrace`, `process_vm_readv/writev`, the kernel keyring (`add_key`, `keyctl`, `request_key`:
//! the user's session keyring may hold credentials), `clone`/`unshare` with `CLONE_NEWUSER`, and
//! `ioctl(TIOCSTI)` / `ioctl(TIOCLINUX)` (compared on the low 32 bits only, as the kernel does, so
//! `TIOCSTI | 1 << 32` is caught too: CVE-2019-10063).
//!
//! Network restricted: `socket`/`socketpair` only for `AF_UNIX`, and not `SOCK_DGRAM` (a datagram
//! socket can address a host socket with `sendmsg`, whose address the filter cannot read);
//! `connect`, `bind`, `listen`, `accept`, `accept4`, `sendmmsg`, `recvmmsg` and `sendto` with an
//! address are denied. `send()` (= `sendto` without address), `sendmsg` on stream sockets and
//! `recvfrom` keep `socketpair` IPC working.
//! Network restricted with allowed unix socket paths: only `AF_UNIX` sockets; everything else on
//! them is allowed (the other host sockets are masked in the filesystem instead).
//! Network enabled: only `AF_VSOCK` (a bridge to hypervisor services) is denied.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::error::PlanSandboxError;

/// Which network rules the program carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NetworkRules {
    Restricted,
    AllowUnixSockets,
    Enabled,
}

const TIOCSTI: u64 = 0x5412;
const TIOCLINUX: u64 = 0x541C;
const SOCK_TYPE_MASK: u64 = 0xf;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JMP_JEQ_K: u16 = 0x15;
const BPF_JMP_JGE_K: u16 = 0x35;
const BPF_RET_K: u16 = 0x06;
const SECCOMP_DATA_NR: u32 = 0;
const SECCOMP_DATA_ARCH: u32 = 4;
const RET_ERRNO: u32 = 0x0005_0000;

#[cfg(target_arch = "x86_64")]
const ARCH: (TargetArch, u32) = (TargetArch::x86_64, 0xC000_003E);
#[cfg(target_arch = "aarch64")]
const ARCH: (TargetArch, u32) = (TargetArch::aarch64, 0xC000_00B7);

/// The compiled program in native `struct sock_filter` layout (8 bytes per instruction), as
/// bubblewrap's `--seccomp FD` and `seccomp(SECCOMP_SET_MODE_FILTER)` take it. Cached per mode.
pub(crate) fn program(network: NetworkRules) -> Result<Vec<u8>, PlanSandboxError> {
    static CACHE: [OnceLock<Result<Vec<u8>, String>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match network {
        NetworkRules::Restricted => &CACHE[0],
        NetworkRules::AllowUnixSockets => &CACHE[1],
        NetworkRules::Enabled => &CACHE[2],
    };
    slot.get_or_init(|| compile(network).map(|instructions| encode(&instructions)))
        .clone()
        .map_err(|reason| PlanSandboxError::Seccomp { reason })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Instruction {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

fn statement(code: u16, k: u32) -> Instruction {
    Instruction {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Instruction {
    Instruction { code, jt, jf, k }
}

fn encode(instructions: &[Instruction]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(instructions.len() * 8);
    for instruction in instructions {
        bytes.extend_from_slice(&instruction.code.to_ne_bytes());
        bytes.push(instruction.jt);
        bytes.push(instruction.jf);
        bytes.extend_from_slice(&instruction.k.to_ne_bytes());
    }
    bytes
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn compile(network: NetworkRules) -> Result<Vec<Instruction>, String> {
    let (target, audit_arch) = ARCH;
    let filter = SeccompFilter::new(
        rules(network).map_err(|error| error.to_string())?,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        target,
    )
    .map_err(|error| error.to_string())?;
    let body: BpfProgram = filter
        .try_into()
        .map_err(|error: seccompiler::BackendError| error.to_string())?;
    let mut program = prologue(audit_arch);
    program.extend(body.iter().map(|instruction| Instruction {
        code: instruction.code,
        jt: instruction.jt,
        jf: instruction.jf,
        k: instruction.k,
    }));
    if program.len() > 4096 {
        return Err(format!("program too long ({} instructions)", program.len()));
    }
    Ok(program)
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn compile(_network: NetworkRules) -> Result<Vec<Instruction>, String> {
    Err(format!(
        "unsupported architecture `{}` (x86_64 and aarch64 are supported)",
        std::env::consts::ARCH
    ))
}

/// Architecture check, x32 rejection (x86_64) and `clone3` → `ENOSYS`. A foreign architecture
/// falls through to seccompiler's own check, which kills the process.
fn prologue(audit_arch: u32) -> Vec<Instruction> {
    let eperm = RET_ERRNO | libc::EPERM as u32;
    let enosys = RET_ERRNO | libc::ENOSYS as u32;
    let clone3 = libc::SYS_clone3 as u32;
    if cfg!(target_arch = "x86_64") {
        vec![
            statement(BPF_LD_W_ABS, SECCOMP_DATA_ARCH),
            jump(BPF_JMP_JEQ_K, audit_arch, 0, 5),
            statement(BPF_LD_W_ABS, SECCOMP_DATA_NR),
            jump(BPF_JMP_JGE_K, X32_SYSCALL_BIT, 1, 0),
            jump(BPF_JMP_JEQ_K, clone3, 1, 2),
            statement(BPF_RET_K, eperm),
            statement(BPF_RET_K, enosys),
        ]
    } else {
        vec![
            statement(BPF_LD_W_ABS, SECCOMP_DATA_ARCH),
            jump(BPF_JMP_JEQ_K, audit_arch, 0, 3),
            statement(BPF_LD_W_ABS, SECCOMP_DATA_NR),
            jump(BPF_JMP_JEQ_K, clone3, 0, 1),
            statement(BPF_RET_K, enosys),
        ]
    }
}

fn condition(
    argument: u8,
    length: SeccompCmpArgLen,
    operator: SeccompCmpOp,
    value: u64,
) -> Result<SeccompCondition, seccompiler::BackendError> {
    SeccompCondition::new(argument, length, operator, value)
}

fn rule(conditions: Vec<SeccompCondition>) -> Result<SeccompRule, seccompiler::BackendError> {
    SeccompRule::new(conditions)
}

fn rules(
    network: NetworkRules,
) -> Result<BTreeMap<i64, Vec<SeccompRule>>, seccompiler::BackendError> {
    use SeccompCmpArgLen::{Dword, Qword};
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    let always = [
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_add_key,
        libc::SYS_keyctl,
        libc::SYS_request_key,
    ];
    for number in always {
        rules.insert(number, Vec::new());
    }
    let new_user = libc::CLONE_NEWUSER as u64;
    for number in [libc::SYS_clone, libc::SYS_unshare] {
        rules.insert(
            number,
            vec![rule(vec![condition(
                0,
                Qword,
                SeccompCmpOp::MaskedEq(new_user),
                new_user,
            )?])?],
        );
    }
    rules.insert(
        libc::SYS_ioctl,
        vec![
            rule(vec![condition(1, Dword, SeccompCmpOp::Eq, TIOCSTI)?])?,
            rule(vec![condition(1, Dword, SeccompCmpOp::Eq, TIOCLINUX)?])?,
        ],
    );
    let unix = libc::AF_UNIX as u64;
    match network {
        NetworkRules::Restricted => {
            for number in [libc::SYS_socket, libc::SYS_socketpair] {
                rules.insert(
                    number,
                    vec![
                        rule(vec![condition(0, Dword, SeccompCmpOp::Ne, unix)?])?,
                        rule(vec![condition(
                            1,
                            Dword,
                            SeccompCmpOp::MaskedEq(SOCK_TYPE_MASK),
                            libc::SOCK_DGRAM as u64,
                        )?])?,
                    ],
                );
            }
            for number in [
                libc::SYS_connect,
                libc::SYS_bind,
                libc::SYS_listen,
                libc::SYS_accept,
                libc::SYS_accept4,
                libc::SYS_sendmmsg,
                libc::SYS_recvmmsg,
            ] {
                rules.insert(number, Vec::new());
            }
            rules.insert(
                libc::SYS_sendto,
                vec![rule(vec![condition(4, Qword, SeccompCmpOp::Ne, 0)?])?],
            );
        }
        NetworkRules::AllowUnixSockets => {
            for number in [libc::SYS_socket, libc::SYS_socketpair] {
                rules.insert(
                    number,
                    vec![rule(vec![condition(0, Dword, SeccompCmpOp::Ne, unix)?])?],
                );
            }
        }
        NetworkRules::Enabled => {
            for number in [libc::SYS_socket, libc::SYS_socketpair] {
                rules.insert(
                    number,
                    vec![rule(vec![condition(
                        0,
                        Dword,
                        SeccompCmpOp::Eq,
                        libc::AF_VSOCK as u64,
                    )?])?],
                );
            }
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Vec<Instruction> {
        bytes
            .chunks_exact(8)
            .map(|chunk| Instruction {
                code: u16::from_ne_bytes([chunk[0], chunk[1]]),
                jt: chunk[2],
                jf: chunk[3],
                k: u32::from_ne_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]),
            })
            .collect()
    }

    #[test]
    fn every_mode_compiles_with_the_prologue_first() {
        for mode in [
            NetworkRules::Restricted,
            NetworkRules::AllowUnixSockets,
            NetworkRules::Enabled,
        ] {
            let bytes = program(mode).unwrap();
            assert_eq!(bytes.len() % 8, 0);
            let instructions = decode(&bytes);
            let prologue = prologue(ARCH.1);
            assert_eq!(&instructions[..prologue.len()], prologue.as_slice());
            // seccompiler's own architecture check follows the prologue.
            assert_eq!(
                instructions[prologue.len()],
                statement(BPF_LD_W_ABS, SECCOMP_DATA_ARCH)
            );
        }
        assert!(
            program(NetworkRules::Restricted).unwrap().len()
                > program(NetworkRules::Enabled).unwrap().len()
        );
    }

    /// Run the prologue for one system call: `Some(return value)` or `None` (falls through to
    /// seccompiler's body).
    fn run_prologue(arch: u32, number: u32) -> Option<u32> {
        let prologue = prologue(ARCH.1);
        let mut accumulator = 0;
        let mut index = 0;
        while index < prologue.len() {
            let instruction = prologue[index];
            index += 1;
            match instruction.code {
                BPF_LD_W_ABS => {
                    accumulator = if instruction.k == SECCOMP_DATA_ARCH {
                        arch
                    } else {
                        number
                    }
                }
                BPF_JMP_JEQ_K | BPF_JMP_JGE_K => {
                    let taken = if instruction.code == BPF_JMP_JEQ_K {
                        accumulator == instruction.k
                    } else {
                        accumulator >= instruction.k
                    };
                    index += usize::from(if taken {
                        instruction.jt
                    } else {
                        instruction.jf
                    });
                }
                BPF_RET_K => return Some(instruction.k),
                other => panic!("unexpected instruction {other:#x}"),
            }
        }
        assert_eq!(
            index,
            prologue.len(),
            "jumps must not skip past the body's start"
        );
        None
    }

    #[test]
    fn prologue_denies_clone3_and_x32_and_defers_everything_else() {
        let native = ARCH.1;
        let enosys = RET_ERRNO | libc::ENOSYS as u32;
        assert_eq!(run_prologue(native, libc::SYS_clone3 as u32), Some(enosys));
        assert_eq!(run_prologue(native, libc::SYS_read as u32), None);
        assert_eq!(run_prologue(native, libc::SYS_socket as u32), None);
        // A foreign architecture reaches seccompiler's check, which kills the process.
        assert_eq!(run_prologue(0x4000_0003, libc::SYS_clone3 as u32), None);
        if cfg!(target_arch = "x86_64") {
            let eperm = RET_ERRNO | libc::EPERM as u32;
            assert_eq!(run_prologue(native, X32_SYSCALL_BIT + 42), Some(eperm));
        }
    }
}
