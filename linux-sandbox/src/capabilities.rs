//! Dropping every capability (Landlock backend). Runs in the forked child before `exec`, so only
//! raw system calls: no allocation, no locks.
//!
//! Root keeps a capability-free, root-proof state: securebits `NOROOT` + `NO_SETUID_FIXUP` +
//! `NO_CAP_AMBIENT_RAISE` (locked), an empty bounding set (an `exec` by uid 0 cannot regain
//! anything), no ambient set, and empty effective/permitted/inheritable sets, verified afterwards.
//! Without caps, root can no longer read `/proc/<pid>/environ` of other root processes.

use std::io;

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
const PR_SET_SECUREBITS: i32 = 28;
/// NOROOT | NOROOT_LOCKED | NO_SETUID_FIXUP | NO_SETUID_FIXUP_LOCKED | KEEP_CAPS_LOCKED |
/// NO_CAP_AMBIENT_RAISE | NO_CAP_AMBIENT_RAISE_LOCKED (KEEP_CAPS itself cleared).
const SECUREBITS: libc::c_ulong = 0b1110_1111;
/// Highest capability number to try dropping from the bounding set (EINVAL above the kernel's).
const LAST_CAPABILITY: libc::c_ulong = 63;

#[repr(C)]
struct CapabilityHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapabilityData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Drop everything; error if anything remains. Async-signal-safe.
pub(crate) fn drop_all() -> io::Result<()> {
    // Needs CAP_SETPCAP, which an unprivileged caller does not have (and then has nothing to drop).
    // SAFETY: prctl with integer arguments has no memory effects.
    unsafe { libc::prctl(PR_SET_SECUREBITS, SECUREBITS, 0, 0, 0) };
    for capability in 0..=LAST_CAPABILITY {
        // SAFETY: as above; EINVAL for numbers the kernel does not know, EPERM without CAP_SETPCAP.
        unsafe { libc::prctl(libc::PR_CAPBSET_DROP, capability, 0, 0, 0) };
    }
    // SAFETY: as above.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    let mut header = CapabilityHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let empty = [CapabilityData::default(); 2];
    // SAFETY: header and data are valid for the duration of the call (two data words for v3).
    if unsafe { libc::syscall(libc::SYS_capset, &mut header, empty.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut current = [CapabilityData::default(); 2];
    // SAFETY: as above, `current` is a valid out-buffer of two data words.
    if unsafe { libc::syscall(libc::SYS_capget, &mut header, current.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let retained = current
        .iter()
        .any(|data| data.effective != 0 || data.permitted != 0 || data.inheritable != 0);
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    // SAFETY: prctl reading one bounding-set bit has no memory effects.
    let bounding_left = root
        && (0..=LAST_CAPABILITY).any(
            |capability| unsafe { libc::prctl(libc::PR_CAPBSET_READ, capability, 0, 0, 0) } == 1,
        );
    if retained || bounding_left {
        return Err(io::Error::from_raw_os_error(libc::EPERM));
    }
    Ok(())
}
