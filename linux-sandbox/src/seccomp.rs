//! The seccomp program shared by both backends, compiled to classic BPF.
//!
//! A hand-written prologue checks the architecture, rejects x32 system calls (x86_64) and answers
//! `clone3` with `ENOSYS` (its flags live in a struct the filter cannot read, and libc falls back to
//! `clone`), then allows every system call that has no rule after a binary search over the ruled
//! numbers (a handful of comparisons). The rest is compiled with seccompiler: default allow, a
//! matching rule returns `EPERM`.
//!
//! Why the search: seccompiler's body tests the rules one after the other, and when a filter is
//! attached the kernel emulates it once per system call number to fill its "always allowed" cache
//! (bubblewrap attaches it twice: its pid 1 and the command). With the linear body that emulation
//! cost ~0.3 ms per sandbox start; with the search in front it is negligible. The verdicts are the
//! same (a number without a rule is allowed by the body's default action; tested below with an
//! interpreter over every number and the interesting arguments).
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
const RET_ALLOW: u32 = 0x7fff_0000;
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
    let rules = rules(network).map_err(|error| error.to_string())?;
    let ruled: Vec<u32> = rules
        .keys()
        .map(|number| u32::try_from(*number).map_err(|error| error.to_string()))
        .collect::<Result<_, _>>()?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        target,
    )
    .map_err(|error| error.to_string())?;
    let body: BpfProgram = filter
        .try_into()
        .map_err(|error: seccompiler::BackendError| error.to_string())?;
    let mut program = prologue(audit_arch, &ruled)?;
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

/// Architecture check, x32 rejection (x86_64), `clone3` → `ENOSYS`, and "allow unless the number
/// is in `ruled`" (sorted, the numbers the body has rules for). A foreign architecture jumps to
/// the body, whose own check kills the process; a ruled number continues into the body.
fn prologue(audit_arch: u32, ruled: &[u32]) -> Result<Vec<Instruction>, String> {
    let eperm = RET_ERRNO | libc::EPERM as u32;
    let enosys = RET_ERRNO | libc::ENOSYS as u32;
    let clone3 = libc::SYS_clone3 as u32;
    let mut assembler = Assembler::default();
    assembler.statement(BPF_LD_W_ABS, SECCOMP_DATA_ARCH);
    assembler.jump(BPF_JMP_JEQ_K, audit_arch, Label::Next, Label::Body);
    assembler.statement(BPF_LD_W_ABS, SECCOMP_DATA_NR);
    if cfg!(target_arch = "x86_64") {
        assembler.jump(BPF_JMP_JGE_K, X32_SYSCALL_BIT, Label::Eperm, Label::Next);
    }
    assembler.jump(BPF_JMP_JEQ_K, clone3, Label::Enosys, Label::Next);
    assembler.search(ruled);
    assembler.place(Label::Allow);
    assembler.statement(BPF_RET_K, RET_ALLOW);
    if cfg!(target_arch = "x86_64") {
        assembler.place(Label::Eperm);
        assembler.statement(BPF_RET_K, eperm);
    }
    assembler.place(Label::Enosys);
    assembler.statement(BPF_RET_K, enosys);
    assembler.place(Label::Body);
    assembler.finish()
}

/// Jump targets of the prologue (all forward).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    /// The following instruction.
    Next,
    Allow,
    Eperm,
    Enosys,
    /// The first instruction after the prologue (seccompiler's body).
    Body,
    /// A subtree of the search.
    Search(usize),
}

#[derive(Default)]
struct Assembler {
    /// Instructions with their symbolic targets (`None` for statements).
    code: Vec<(Instruction, Option<(Label, Label)>)>,
    placed: Vec<(Label, usize)>,
    subtrees: usize,
}

impl Assembler {
    fn statement(&mut self, code: u16, k: u32) {
        self.code.push((statement(code, k), None));
    }

    fn jump(&mut self, code: u16, k: u32, taken: Label, not_taken: Label) {
        self.code
            .push((jump(code, k, 0, 0), Some((taken, not_taken))));
    }

    fn place(&mut self, label: Label) {
        self.placed.push((label, self.code.len()));
    }

    /// With the system call number in the accumulator: continue into the body when it is one of
    /// `sorted`, else allow. Balanced on `>=`, linear on the last few numbers.
    fn search(&mut self, sorted: &[u32]) {
        match sorted {
            [] => self.jump(BPF_JMP_JEQ_K, 0, Label::Allow, Label::Allow),
            [.., last] if sorted.len() <= 3 => {
                for number in &sorted[..sorted.len() - 1] {
                    self.jump(BPF_JMP_JEQ_K, *number, Label::Body, Label::Next);
                }
                self.jump(BPF_JMP_JEQ_K, *last, Label::Body, Label::Allow);
            }
            _ => {
                let (low, high) = sorted.split_at(sorted.len() / 2);
                let right = Label::Search(self.subtrees);
                self.subtrees += 1;
                self.jump(BPF_JMP_JGE_K, high[0], right, Label::Next);
                self.search(low);
                self.place(right);
                self.search(high);
            }
        }
    }

    /// Resolve the labels into relative offsets (which must fit in a byte).
    fn finish(self) -> Result<Vec<Instruction>, String> {
        let position = |label: Label, from: usize| -> Result<u8, String> {
            let target = match label {
                Label::Next => from + 1,
                other => self
                    .placed
                    .iter()
                    .find(|(placed, _)| *placed == other)
                    .map(|(_, index)| *index)
                    .ok_or_else(|| format!("seccomp prologue label {other:?} was not placed"))?,
            };
            target
                .checked_sub(from + 1)
                .and_then(|offset| u8::try_from(offset).ok())
                .ok_or_else(|| format!("seccomp prologue jump to {label:?} out of range"))
        };
        self.code
            .iter()
            .enumerate()
            .map(|(index, (instruction, targets))| match targets {
                None => Ok(*instruction),
                Some((taken, not_taken)) => Ok(Instruction {
                    jt: position(*taken, index)?,
                    jf: position(*not_taken, index)?,
                    ..*instruction
                }),
            })
            .collect()
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

    const MODES: [NetworkRules; 3] = [
        NetworkRules::Restricted,
        NetworkRules::AllowUnixSockets,
        NetworkRules::Enabled,
    ];

    fn ruled(mode: NetworkRules) -> Vec<u32> {
        rules(mode)
            .unwrap()
            .keys()
            .map(|number| u32::try_from(*number).unwrap())
            .collect()
    }

    /// What a system call presents to the filter.
    #[derive(Debug, Clone, Copy)]
    struct Call {
        arch: u32,
        number: u32,
        args: [u64; 6],
    }

    /// A classic BPF interpreter for the instructions our programs use: the verdict and how many
    /// instructions ran.
    fn execute(program: &[Instruction], call: Call) -> (u32, usize) {
        let mut accumulator: u32 = 0;
        let mut index = 0;
        let mut steps = 0;
        loop {
            let instruction = program[index];
            index += 1;
            steps += 1;
            let condition = |taken: bool| {
                usize::from(if taken {
                    instruction.jt
                } else {
                    instruction.jf
                })
            };
            match instruction.code {
                BPF_LD_W_ABS => {
                    accumulator = match instruction.k {
                        SECCOMP_DATA_NR => call.number,
                        SECCOMP_DATA_ARCH => call.arch,
                        8 | 12 => 0,
                        offset @ 16..=63 => {
                            let argument = call.args[(offset as usize - 16) / 8];
                            if offset % 8 == 0 {
                                argument as u32
                            } else {
                                (argument >> 32) as u32
                            }
                        }
                        other => panic!("load from offset {other}"),
                    }
                }
                BPF_JMP_JEQ_K => index += condition(accumulator == instruction.k),
                0x25 => index += condition(accumulator > instruction.k),
                BPF_JMP_JGE_K => index += condition(accumulator >= instruction.k),
                0x45 => index += condition(accumulator & instruction.k != 0),
                0x05 => index += instruction.k as usize,
                0x54 => accumulator &= instruction.k,
                BPF_RET_K => return (instruction.k, steps),
                other => panic!("unexpected instruction {other:#x}"),
            }
        }
    }

    fn calls() -> Vec<Call> {
        let native = ARCH.1;
        let interesting = [
            0,
            1,
            2,
            libc::AF_UNIX as u64,
            libc::AF_INET as u64,
            libc::AF_VSOCK as u64,
            libc::SOCK_DGRAM as u64,
            libc::SOCK_STREAM as u64 | libc::SOCK_CLOEXEC as u64,
            libc::CLONE_NEWUSER as u64,
            libc::CLONE_NEWUSER as u64 | 1 << 40,
            TIOCSTI,
            TIOCSTI | 1 << 32,
            TIOCLINUX,
            u64::MAX,
        ];
        let mut calls = Vec::new();
        for number in (0..600).chain([X32_SYSCALL_BIT, X32_SYSCALL_BIT + 41, u32::MAX]) {
            for value in interesting {
                for position in 0..6 {
                    let mut args = [0; 6];
                    args[position] = value;
                    calls.push(Call {
                        arch: native,
                        number,
                        args,
                    });
                }
            }
        }
        calls
    }

    /// The prologue's search only short-cuts: every verdict equals that of the body alone (after
    /// the prologue's own x32 and `clone3` answers).
    #[test]
    fn the_search_gives_the_body_verdicts_for_every_system_call() {
        let enosys = RET_ERRNO | libc::ENOSYS as u32;
        let eperm = RET_ERRNO | libc::EPERM as u32;
        for mode in MODES {
            let program = decode(&program(mode).unwrap());
            let prologue_length = prologue(ARCH.1, &ruled(mode)).unwrap().len();
            let body = &program[prologue_length..];
            for call in calls() {
                let expected = if cfg!(target_arch = "x86_64") && call.number >= X32_SYSCALL_BIT {
                    eperm
                } else if call.number == libc::SYS_clone3 as u32 {
                    enosys
                } else {
                    execute(body, call).0
                };
                assert_eq!(execute(&program, call).0, expected, "{mode:?} {call:?}");
            }
        }
    }

    /// What the filter exists for, through the interpreter.
    #[test]
    fn verdicts_of_the_restricted_program() {
        let program = decode(&program(NetworkRules::Restricted).unwrap());
        let eperm = RET_ERRNO | libc::EPERM as u32;
        let verdict = |number: i64, args: [u64; 6]| {
            let call = Call {
                arch: ARCH.1,
                number: number as u32,
                args,
            };
            execute(&program, call).0
        };
        assert_eq!(verdict(libc::SYS_read, [0; 6]), RET_ALLOW);
        assert_eq!(verdict(libc::SYS_ptrace, [0; 6]), eperm);
        assert_eq!(verdict(libc::SYS_io_uring_setup, [0; 6]), eperm);
        let unix = libc::AF_UNIX as u64;
        let inet = libc::AF_INET as u64;
        let stream = libc::SOCK_STREAM as u64;
        assert_eq!(
            verdict(libc::SYS_socket, [unix, stream, 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(verdict(libc::SYS_socket, [inet, stream, 0, 0, 0, 0]), eperm);
        let dgram = libc::SOCK_DGRAM as u64;
        assert_eq!(verdict(libc::SYS_socket, [unix, dgram, 0, 0, 0, 0]), eperm);
        assert_eq!(
            verdict(libc::SYS_ioctl, [1, TIOCSTI | 1 << 32, 0, 0, 0, 0]),
            eperm
        );
        assert_eq!(verdict(libc::SYS_ioctl, [1, 0x5401, 0, 0, 0, 0]), RET_ALLOW);
        let new_user = libc::CLONE_NEWUSER as u64;
        assert_eq!(verdict(libc::SYS_unshare, [new_user, 0, 0, 0, 0, 0]), eperm);
        assert_eq!(verdict(libc::SYS_sendto, [3, 0, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(verdict(libc::SYS_sendto, [3, 0, 0, 0, 1, 0]), eperm);
        // A foreign architecture reaches seccompiler's check, which kills the process.
        let foreign = Call {
            arch: 0x4000_0003,
            number: libc::SYS_read as u32,
            args: [0; 6],
        };
        assert_eq!(execute(&program, foreign).0, 0x8000_0000);
    }

    /// System calls without rules are allowed after a few instructions, whatever their number
    /// (this keeps the kernel's per-number cache emulation cheap).
    #[test]
    fn unruled_system_calls_are_allowed_quickly() {
        for mode in MODES {
            let program = decode(&program(mode).unwrap());
            let ruled = ruled(mode);
            for number in (0..600).filter(|number| !ruled.contains(number)) {
                let call = Call {
                    arch: ARCH.1,
                    number,
                    args: [0; 6],
                };
                let (verdict, steps) = execute(&program, call);
                if number == libc::SYS_clone3 as u32 {
                    continue;
                }
                assert_eq!(verdict, RET_ALLOW, "{mode:?} {number}");
                assert!(steps <= 12, "{mode:?} {number}: {steps} instructions");
            }
        }
    }

    #[test]
    fn every_mode_compiles_with_the_prologue_first() {
        for mode in MODES {
            let bytes = program(mode).unwrap();
            assert_eq!(bytes.len() % 8, 0);
            let instructions = decode(&bytes);
            let prologue = prologue(ARCH.1, &ruled(mode)).unwrap();
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

    #[test]
    fn prologue_denies_clone3_and_x32() {
        let program = decode(&program(NetworkRules::Enabled).unwrap());
        let native = ARCH.1;
        let call = |arch, number| Call {
            arch,
            number,
            args: [0; 6],
        };
        let enosys = RET_ERRNO | libc::ENOSYS as u32;
        let clone3 = libc::SYS_clone3 as u32;
        assert_eq!(execute(&program, call(native, clone3)).0, enosys);
        assert_eq!(execute(&program, call(0x4000_0003, clone3)).0, 0x8000_0000);
        if cfg!(target_arch = "x86_64") {
            let eperm = RET_ERRNO | libc::EPERM as u32;
            assert_eq!(
                execute(&program, call(native, X32_SYSCALL_BIT + 42)).0,
                eperm
            );
        }
    }
}
