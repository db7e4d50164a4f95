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
//! Always denied (`EPERM`): `io_uring_*` (it can open sockets and files without the filtered
//! syscalls), `ptrace`, `process_vm_readv/writev`, the kernel keyring (`add_key`, `keyctl`,
//! `request_key`: the user's session keyring may hold credentials), `clone`/`unshare` with
//! `CLONE_NEWUSER`, `ioctl(TIOCSTI)` / `ioctl(TIOCLINUX)` (compared on the low 32 bits only, as the
//! kernel does, so `TIOCSTI | 1 << 32` is caught too: CVE-2019-10063), and every way to give a
//! file the setuid or setgid bit: `chmod`, `fchmod`, `fchmodat`, `fchmodat2` with `S_ISUID` or
//! `S_ISGID` in the mode, `open`/`openat`/`creat` creating a file (`O_CREAT` or `O_TMPFILE`) with
//! such a mode, `mknod`/`mknodat`/`mkdir`/`mkdirat` with one (a setuid-root binary left in a
//! writable root would let any local user become root). `openat2` answers `ENOSYS` like `clone3`
//! (its mode sits in a struct the filter cannot read; libc falls back to `openat`).
//!
//! Network restricted: `socket`/`socketpair` only for `AF_UNIX` with type `SOCK_STREAM` or
//! `SOCK_SEQPACKET` (the type compared with its flag bits masked off). Every other type is a
//! datagram socket (`SOCK_RAW` on `AF_UNIX` is one), which can address a host socket with
//! `sendmsg`, whose address the filter cannot read; stream and seqpacket sockets ignore an
//! address on a connected socket. `connect`, `bind`, `listen`, `accept`, `accept4`, `sendmmsg`,
//! `recvmmsg` and `sendto` with an address are denied. `send()` (= `sendto` without address),
//! `sendmsg` and `recvfrom` keep `socketpair` IPC working.
//! Network restricted with allowed unix socket paths: only `AF_UNIX` sockets; everything else on
//! them is allowed (the other host sockets are masked in the filesystem instead).
//! Network enabled: only `AF_VSOCK` (a bridge to hypervisor services) is denied.
//!
//! Metadata (Landlock backend without writable roots, [`MetadataRules::DenyChanges`]): Landlock
//! has no rights for `chmod`, `chown`, timestamps, extended attributes or inode flags, so with
//! nothing writable these calls are denied outright (`chmod`/`chown`/`utime*`/`*xattr*`/
//! `file_setattr`, `ioctl` `FS_IOC_SETFLAGS`/`FS_IOC_FSSETXATTR`).

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

/// Whether inode metadata changes (mode, owner, times, xattrs, flags) are denied outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetadataRules {
    /// Allowed (the filesystem view decides: bubblewrap's read-only mounts refuse them).
    Allow,
    /// Denied everywhere (Landlock backend with nothing writable: Landlock cannot see them).
    DenyChanges,
}

/// Whether the command shares the host's process and IPC namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProcessRules {
    /// Its own pid and IPC namespaces (bubblewrap): no host process or IPC object is visible.
    Namespaced,
    /// The host's (Landlock backend): calls that act on another process by pid (`prlimit64`,
    /// `setpriority`, `sched_set*`, `ioprio_set`, `migrate_pages`, `move_pages`) are allowed
    /// only on the caller itself, and those that act through a pidfd or on SysV IPC objects are
    /// denied. Landlock scopes signals and abstract sockets, not these.
    Shared,
}

/// Which program to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProgramKind {
    pub network: NetworkRules,
    pub metadata: MetadataRules,
    pub processes: ProcessRules,
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
/// bubblewrap's `--seccomp FD` and `seccomp(SECCOMP_SET_MODE_FILTER)` take it. Cached per kind.
pub(crate) fn program(kind: ProgramKind) -> Result<Vec<u8>, PlanSandboxError> {
    static CACHE: [OnceLock<Result<Vec<u8>, String>>; 12] = [const { OnceLock::new() }; 12];
    let network = match kind.network {
        NetworkRules::Restricted => 0,
        NetworkRules::AllowUnixSockets => 1,
        NetworkRules::Enabled => 2,
    };
    let metadata = match kind.metadata {
        MetadataRules::Allow => 0,
        MetadataRules::DenyChanges => 3,
    };
    let processes = match kind.processes {
        ProcessRules::Namespaced => 0,
        ProcessRules::Shared => 6,
    };
    CACHE[network + metadata + processes]
        .get_or_init(|| compile(kind).map(|instructions| encode(&instructions)))
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
fn compile(kind: ProgramKind) -> Result<Vec<Instruction>, String> {
    let (target, audit_arch) = ARCH;
    let rules = rules(kind).map_err(|error| error.to_string())?;
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
fn compile(_kind: ProgramKind) -> Result<Vec<Instruction>, String> {
    Err(format!(
        "unsupported architecture `{}` (x86_64 and aarch64 are supported)",
        std::env::consts::ARCH
    ))
}

/// Architecture check, x32 rejection (x86_64), `clone3` and `openat2` → `ENOSYS`, and "allow unless the number
/// is in `ruled`" (sorted, the numbers the body has rules for). A foreign architecture jumps to
/// the body, whose own check kills the process; a ruled number continues into the body.
fn prologue(audit_arch: u32, ruled: &[u32]) -> Result<Vec<Instruction>, String> {
    let eperm = RET_ERRNO | libc::EPERM as u32;
    let enosys = RET_ERRNO | libc::ENOSYS as u32;
    let clone3 = libc::SYS_clone3 as u32;
    let openat2 = libc::SYS_openat2 as u32;
    let mut assembler = Assembler::default();
    assembler.statement(BPF_LD_W_ABS, SECCOMP_DATA_ARCH);
    assembler.jump(BPF_JMP_JEQ_K, audit_arch, Label::Next, Label::Body);
    assembler.statement(BPF_LD_W_ABS, SECCOMP_DATA_NR);
    if cfg!(target_arch = "x86_64") {
        assembler.jump(BPF_JMP_JGE_K, X32_SYSCALL_BIT, Label::Eperm, Label::Next);
    }
    assembler.jump(BPF_JMP_JEQ_K, clone3, Label::Enosys, Label::Next);
    assembler.jump(BPF_JMP_JEQ_K, openat2, Label::Enosys, Label::Next);
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

/// `S_ISUID` and `S_ISGID`: each is denied on its own (a rule matches `mode & bit == bit`).
const PRIVILEGE_MODE_BITS: [u64; 2] = [0o4000, 0o2000];
const O_CREAT: u64 = libc::O_CREAT as u64;
/// The bit that tells `O_TMPFILE` from `O_DIRECTORY` (`O_TMPFILE` includes both).
const O_TMPFILE_BIT: u64 = (libc::O_TMPFILE & !libc::O_DIRECTORY) as u64;
/// `_IOW('f', 2, long)` and its 32-bit form, `_IOW('X', 32, struct fsxattr)`.
const FS_IOC_SETFLAGS: u64 = 0x4008_6602;
const FS_IOC32_SETFLAGS: u64 = 0x4004_6602;
const FS_IOC_FSSETXATTR: u64 = 0x401c_5820;
/// Newer than the `libc` crate's tables (the same number on x86_64 and aarch64).
const SYS_SETXATTRAT: i64 = 463;
const SYS_REMOVEXATTRAT: i64 = 466;
const SYS_FILE_SETATTR: i64 = 469;

/// Rules matching a `mode` argument (at `mode`) that carries the setuid or setgid bit; with
/// `creating` = the flags argument, only when the call creates a file (`O_CREAT` / `O_TMPFILE`):
/// otherwise the mode register holds whatever the caller left there.
fn privileged_mode_rules(
    mode: u8,
    creating: Option<u8>,
) -> Result<Vec<SeccompRule>, seccompiler::BackendError> {
    use SeccompCmpArgLen::Dword;
    let mut rules = Vec::new();
    for bit in PRIVILEGE_MODE_BITS {
        let has_bit = condition(mode, Dword, SeccompCmpOp::MaskedEq(bit), bit)?;
        match creating {
            None => rules.push(rule(vec![has_bit])?),
            Some(flags) => {
                for creates in [O_CREAT, O_TMPFILE_BIT] {
                    rules.push(rule(vec![
                        condition(flags, Dword, SeccompCmpOp::MaskedEq(creates), creates)?,
                        has_bit.clone(),
                    ])?);
                }
            }
        }
    }
    Ok(rules)
}

fn rules(kind: ProgramKind) -> Result<BTreeMap<i64, Vec<SeccompRule>>, seccompiler::BackendError> {
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
    let mut ioctls = vec![TIOCSTI, TIOCLINUX];
    if kind.metadata == MetadataRules::DenyChanges {
        ioctls.extend([FS_IOC_SETFLAGS, FS_IOC32_SETFLAGS, FS_IOC_FSSETXATTR]);
    }
    rules.insert(
        libc::SYS_ioctl,
        ioctls
            .into_iter()
            .map(|request| rule(vec![condition(1, Dword, SeccompCmpOp::Eq, request)?]))
            .collect::<Result<_, _>>()?,
    );

    // Setuid/setgid bits: (system call, mode argument, flags argument when it only creates).
    let mut mode_calls: Vec<(i64, u8, Option<u8>)> = vec![
        (libc::SYS_fchmod, 1, None),
        (libc::SYS_fchmodat, 2, None),
        (libc::SYS_fchmodat2, 2, None),
        (libc::SYS_openat, 3, Some(2)),
        (libc::SYS_mknodat, 2, None),
        (libc::SYS_mkdirat, 2, None),
    ];
    #[cfg(target_arch = "x86_64")]
    mode_calls.extend([
        (libc::SYS_chmod, 1, None),
        (libc::SYS_open, 2, Some(1)),
        (libc::SYS_creat, 1, None),
        (libc::SYS_mknod, 1, None),
        (libc::SYS_mkdir, 1, None),
    ]);
    for (number, mode, creating) in mode_calls {
        rules.insert(number, privileged_mode_rules(mode, creating)?);
    }
    if kind.metadata == MetadataRules::DenyChanges {
        let mut metadata = vec![
            libc::SYS_fchmod,
            libc::SYS_fchmodat,
            libc::SYS_fchmodat2,
            libc::SYS_fchown,
            libc::SYS_fchownat,
            libc::SYS_utimensat,
            libc::SYS_setxattr,
            libc::SYS_lsetxattr,
            libc::SYS_fsetxattr,
            libc::SYS_removexattr,
            libc::SYS_lremovexattr,
            libc::SYS_fremovexattr,
            SYS_SETXATTRAT,
            SYS_REMOVEXATTRAT,
            SYS_FILE_SETATTR,
        ];
        #[cfg(target_arch = "x86_64")]
        metadata.extend([
            libc::SYS_chmod,
            libc::SYS_chown,
            libc::SYS_lchown,
            libc::SYS_utime,
            libc::SYS_utimes,
            libc::SYS_futimesat,
        ]);
        for number in metadata {
            // Unconditional: replaces the narrower setuid rules of the same call.
            rules.insert(number, Vec::new());
        }
    }

    if kind.processes == ProcessRules::Shared {
        shared_process_rules(&mut rules)?;
    }

    let unix = libc::AF_UNIX as u64;
    match kind.network {
        NetworkRules::Restricted => {
            // Only stream and seqpacket types (flags masked off): every other AF_UNIX type is a
            // datagram socket that `sendmsg` could aim at a host socket.
            let datagram_types = (0..=SOCK_TYPE_MASK).filter(|socket_type| {
                *socket_type != libc::SOCK_STREAM as u64
                    && *socket_type != libc::SOCK_SEQPACKET as u64
            });
            for number in [libc::SYS_socket, libc::SYS_socketpair] {
                let mut socket_rules =
                    vec![rule(vec![condition(0, Dword, SeccompCmpOp::Ne, unix)?])?];
                for socket_type in datagram_types.clone() {
                    socket_rules.push(rule(vec![condition(
                        1,
                        Dword,
                        SeccompCmpOp::MaskedEq(SOCK_TYPE_MASK),
                        socket_type,
                    )?])?);
                }
                rules.insert(number, socket_rules);
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

/// [`ProcessRules::Shared`]: a process may change its own limits, priority and scheduling, never
/// another's (with Landlock alone every process of the user is reachable by pid: a lowered
/// `RLIMIT_CPU` gets it killed by the kernel).
fn shared_process_rules(
    rules: &mut BTreeMap<i64, Vec<SeccompRule>>,
) -> Result<(), seccompiler::BackendError> {
    use SeccompCmpArgLen::Dword;
    let other = |argument: u8| condition(argument, Dword, SeccompCmpOp::Ne, 0);
    // (system call, the pid argument).
    for (number, pid) in [
        (libc::SYS_prlimit64, 0),
        (libc::SYS_sched_setaffinity, 0),
        (libc::SYS_sched_setscheduler, 0),
        (libc::SYS_sched_setparam, 0),
        (libc::SYS_sched_setattr, 0),
        (libc::SYS_migrate_pages, 0),
        (libc::SYS_move_pages, 0),
    ] {
        rules.insert(number, vec![rule(vec![other(pid)?])?]);
    }
    // `setpriority(which, who, …)`: only `PRIO_PROCESS` of the caller (`PRIO_USER` with `who` 0
    // is every process of the user).
    let prio_process = libc::PRIO_PROCESS as u64;
    rules.insert(
        libc::SYS_setpriority,
        vec![
            rule(vec![condition(0, Dword, SeccompCmpOp::Ne, prio_process)?])?,
            rule(vec![other(1)?])?,
        ],
    );
    // `ioprio_set(which, who, …)`: only `IOPRIO_WHO_PROCESS` of the caller.
    const IOPRIO_WHO_PROCESS: u64 = 1;
    rules.insert(
        libc::SYS_ioprio_set,
        vec![
            rule(vec![condition(
                0,
                Dword,
                SeccompCmpOp::Ne,
                IOPRIO_WHO_PROCESS,
            )?])?,
            rule(vec![other(1)?])?,
        ],
    );
    let mut denied = vec![
        libc::SYS_process_madvise,
        libc::SYS_pidfd_getfd,
        libc::SYS_kcmp,
        libc::SYS_perf_event_open,
        libc::SYS_shmget,
        libc::SYS_shmat,
        libc::SYS_shmctl,
        libc::SYS_shmdt,
        libc::SYS_semget,
        libc::SYS_semop,
        libc::SYS_semtimedop,
        libc::SYS_semctl,
        libc::SYS_msgget,
        libc::SYS_msgsnd,
        libc::SYS_msgrcv,
        libc::SYS_msgctl,
    ];
    denied.sort_unstable();
    for number in denied {
        rules.insert(number, Vec::new());
    }
    Ok(())
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

    const MODES: [ProgramKind; 6] = {
        const fn kind(network: NetworkRules, metadata: MetadataRules) -> ProgramKind {
            ProgramKind {
                network,
                metadata,
                processes: ProcessRules::Namespaced,
            }
        }
        [
            kind(NetworkRules::Restricted, MetadataRules::Allow),
            kind(NetworkRules::AllowUnixSockets, MetadataRules::Allow),
            kind(NetworkRules::Enabled, MetadataRules::Allow),
            kind(NetworkRules::Restricted, MetadataRules::DenyChanges),
            kind(NetworkRules::AllowUnixSockets, MetadataRules::DenyChanges),
            kind(NetworkRules::Enabled, MetadataRules::DenyChanges),
        ]
    };
    const RESTRICTED: ProgramKind = MODES[0];
    const ENABLED: ProgramKind = MODES[2];

    fn ruled(mode: ProgramKind) -> Vec<u32> {
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
            FS_IOC_SETFLAGS,
            0o4000,
            0o2000,
            0o4755,
            O_CREAT,
            O_TMPFILE_BIT,
            libc::SOCK_RAW as u64,
            libc::SOCK_SEQPACKET as u64 | libc::SOCK_CLOEXEC as u64,
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
                } else if call.number == libc::SYS_clone3 as u32
                    || call.number == libc::SYS_openat2 as u32
                {
                    enosys
                } else {
                    execute(body, call).0
                };
                assert_eq!(execute(&program, call).0, expected, "{mode:?} {call:?}");
            }
        }
    }

    /// Landlock backend: a process acts on itself only; SysV IPC and pidfd reach-ins are denied.
    #[test]
    fn shared_process_rules_allow_only_the_caller_itself() {
        let kind = ProgramKind {
            processes: ProcessRules::Shared,
            ..RESTRICTED
        };
        let shared = decode(&program(kind).unwrap());
        let eperm = RET_ERRNO | libc::EPERM as u32;
        let verdict = |number: i64, args: [u64; 6]| {
            let call = Call {
                arch: ARCH.1,
                number: number as u32,
                args,
            };
            execute(&shared, call).0
        };
        assert_eq!(verdict(libc::SYS_prlimit64, [0, 6, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(verdict(libc::SYS_prlimit64, [4242, 0, 0, 0, 0, 0]), eperm);
        assert_eq!(
            verdict(libc::SYS_setpriority, [0, 0, 5, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(verdict(libc::SYS_setpriority, [0, 4242, 5, 0, 0, 0]), eperm);
        // PRIO_USER with who 0: every process of the user.
        assert_eq!(verdict(libc::SYS_setpriority, [2, 0, 5, 0, 0, 0]), eperm);
        assert_eq!(verdict(libc::SYS_ioprio_set, [1, 0, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(verdict(libc::SYS_ioprio_set, [3, 0, 0, 0, 0, 0]), eperm);
        assert_eq!(
            verdict(libc::SYS_sched_setaffinity, [0, 8, 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(
            verdict(libc::SYS_sched_setaffinity, [77, 8, 0, 0, 0, 0]),
            eperm
        );
        for number in [
            libc::SYS_shmget,
            libc::SYS_msgget,
            libc::SYS_semget,
            libc::SYS_pidfd_getfd,
        ] {
            assert_eq!(verdict(number, [0; 6]), eperm, "{number}");
        }
        // Namespaced (bubblewrap): the pid and IPC namespaces already isolate these.
        let namespaced = decode(&program(RESTRICTED).unwrap());
        let call = Call {
            arch: ARCH.1,
            number: libc::SYS_prlimit64 as u32,
            args: [4242, 0, 0, 0, 0, 0],
        };
        assert_eq!(execute(&namespaced, call).0, RET_ALLOW);
    }

    /// What the filter exists for, through the interpreter.
    #[test]
    fn verdicts_of_the_restricted_program() {
        let program = decode(&program(RESTRICTED).unwrap());
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

    /// Only stream and seqpacket unix sockets, whatever the flag bits (`SOCK_RAW` on `AF_UNIX` is a
    /// datagram socket that could reach `/dev/log` with `sendmsg`).
    #[test]
    fn restricted_network_allows_only_stream_and_seqpacket_unix_sockets() {
        let program = decode(&program(RESTRICTED).unwrap());
        let eperm = RET_ERRNO | libc::EPERM as u32;
        let unix = libc::AF_UNIX as u64;
        let flags = [0, libc::SOCK_CLOEXEC as u64, libc::SOCK_NONBLOCK as u64];
        for number in [libc::SYS_socket, libc::SYS_socketpair] {
            for socket_type in 0..=15u64 {
                for flag in flags {
                    let call = Call {
                        arch: ARCH.1,
                        number: number as u32,
                        args: [unix, socket_type | flag, 0, 0, 0, 0],
                    };
                    let allowed = socket_type == libc::SOCK_STREAM as u64
                        || socket_type == libc::SOCK_SEQPACKET as u64;
                    let expected = if allowed { RET_ALLOW } else { eperm };
                    assert_eq!(
                        execute(&program, call).0,
                        expected,
                        "{number} type {socket_type} flags {flag:#x}"
                    );
                }
            }
        }
    }

    /// Setuid and setgid bits are refused in every mode; other modes and plain opens are not.
    #[test]
    fn setuid_and_setgid_modes_are_denied_in_every_mode() {
        let eperm = RET_ERRNO | libc::EPERM as u32;
        let creat = O_CREAT | libc::O_WRONLY as u64;
        for mode in MODES {
            let program = decode(&program(mode).unwrap());
            let verdict = |number: i64, args: [u64; 6]| {
                let call = Call {
                    arch: ARCH.1,
                    number: number as u32,
                    args,
                };
                execute(&program, call).0
            };
            let deny_changes = mode.metadata == MetadataRules::DenyChanges;
            for bits in [0o4755, 0o2755, 0o6000, 0o104755] {
                assert_eq!(verdict(libc::SYS_fchmod, [3, bits, 0, 0, 0, 0]), eperm);
                assert_eq!(verdict(libc::SYS_fchmodat, [3, 4, bits, 0, 0, 0]), eperm);
                assert_eq!(verdict(libc::SYS_fchmodat2, [3, 4, bits, 0, 0, 0]), eperm);
                assert_eq!(verdict(libc::SYS_openat, [3, 4, creat, bits, 0, 0]), eperm);
                let tmpfile = libc::O_TMPFILE as u64 | libc::O_RDWR as u64;
                assert_eq!(
                    verdict(libc::SYS_openat, [3, 4, tmpfile, bits, 0, 0]),
                    eperm
                );
                assert_eq!(verdict(libc::SYS_mknodat, [3, 4, bits, 0, 0, 0]), eperm);
                assert_eq!(verdict(libc::SYS_mkdirat, [3, 4, bits, 0, 0, 0]), eperm);
                #[cfg(target_arch = "x86_64")]
                {
                    assert_eq!(verdict(libc::SYS_chmod, [3, bits, 0, 0, 0, 0]), eperm);
                    assert_eq!(verdict(libc::SYS_open, [3, creat, bits, 0, 0, 0]), eperm);
                    assert_eq!(verdict(libc::SYS_creat, [3, bits, 0, 0, 0, 0]), eperm);
                    assert_eq!(verdict(libc::SYS_mknod, [3, bits, 0, 0, 0, 0]), eperm);
                    assert_eq!(verdict(libc::SYS_mkdir, [3, bits, 0, 0, 0, 0]), eperm);
                }
            }
            // Ordinary modes pass (unless the mode denies every metadata change).
            let plain = if deny_changes { eperm } else { RET_ALLOW };
            assert_eq!(verdict(libc::SYS_fchmod, [3, 0o755, 0, 0, 0, 0]), plain);
            assert_eq!(verdict(libc::SYS_fchmodat, [3, 4, 0o1777, 0, 0, 0]), plain);
            assert_eq!(
                verdict(libc::SYS_openat, [3, 4, creat, 0o644, 0, 0]),
                RET_ALLOW
            );
            assert_eq!(
                verdict(libc::SYS_mkdirat, [3, 4, 0o755, 0, 0, 0]),
                RET_ALLOW
            );
            // Without O_CREAT the mode argument is garbage and must not matter.
            let read_only = libc::O_RDONLY as u64;
            assert_eq!(
                verdict(libc::SYS_openat, [3, 4, read_only, 0o4777, 0, 0]),
                RET_ALLOW
            );
            assert_eq!(
                verdict(
                    libc::SYS_openat,
                    [3, 4, libc::O_DIRECTORY as u64, 0o6777, 0, 0]
                ),
                RET_ALLOW
            );
        }
    }

    /// The Landlock backend without writable roots denies every metadata change Landlock cannot see.
    #[test]
    fn metadata_changes_are_denied_only_when_asked() {
        let eperm = RET_ERRNO | libc::EPERM as u32;
        for mode in MODES {
            let program = decode(&program(mode).unwrap());
            let verdict = |number: i64, args: [u64; 6]| {
                let call = Call {
                    arch: ARCH.1,
                    number: number as u32,
                    args,
                };
                execute(&program, call).0
            };
            let expected = match mode.metadata {
                MetadataRules::DenyChanges => eperm,
                MetadataRules::Allow => RET_ALLOW,
            };
            for number in [
                libc::SYS_fchownat,
                libc::SYS_fchown,
                libc::SYS_utimensat,
                libc::SYS_setxattr,
                libc::SYS_lsetxattr,
                libc::SYS_fsetxattr,
                libc::SYS_removexattr,
                libc::SYS_fremovexattr,
                SYS_SETXATTRAT,
                SYS_FILE_SETATTR,
            ] {
                assert_eq!(verdict(number, [3, 0, 0, 0, 0, 0]), expected, "{number}");
            }
            assert_eq!(
                verdict(libc::SYS_ioctl, [3, FS_IOC_SETFLAGS, 0, 0, 0, 0]),
                expected
            );
            assert_eq!(verdict(libc::SYS_ioctl, [3, 0x5401, 0, 0, 0, 0]), RET_ALLOW);
        }
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
                if number == libc::SYS_clone3 as u32 || number == libc::SYS_openat2 as u32 {
                    continue;
                }
                assert_eq!(verdict, RET_ALLOW, "{mode:?} {number}");
                assert!(steps <= 14, "{mode:?} {number}: {steps} instructions");
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
        assert!(program(RESTRICTED).unwrap().len() > program(ENABLED).unwrap().len());
    }

    #[test]
    fn prologue_denies_clone3_and_x32() {
        let program = decode(&program(ENABLED).unwrap());
        let native = ARCH.1;
        let call = |arch, number| Call {
            arch,
            number,
            args: [0; 6],
        };
        let enosys = RET_ERRNO | libc::ENOSYS as u32;
        let clone3 = libc::SYS_clone3 as u32;
        assert_eq!(execute(&program, call(native, clone3)).0, enosys);
        let openat2 = libc::SYS_openat2 as u32;
        assert_eq!(execute(&program, call(native, openat2)).0, enosys);
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
