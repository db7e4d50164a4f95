//! The command's process tree, followed with kqueue (macOS only; see the warning in
//! `macos/mod.rs`: not executed here).
//!
//! Every watched process reports NOTE_FORK / NOTE_EXEC / NOTE_EXIT. On a fork, the parent's
//! children are listed with `proc_listchildpids` and watched in turn. A user event stops the
//! tracker. Processes that start and exit between two looks are missed; their denials are then
//! not reported (never reported wrongly).

use std::collections::HashSet;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::thread::{self, JoinHandle};

/// The identifier of the user event that stops the tracker.
const STOP_EVENT: usize = 1;

pub(super) struct PidTracker {
    queue: OwnedFd,
    thread: JoinHandle<HashSet<libc::pid_t>>,
}

impl PidTracker {
    pub(super) fn start(root: libc::pid_t) -> io::Result<Self> {
        // SAFETY: kqueue(2) has no preconditions.
        let raw = unsafe { libc::kqueue() };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a freshly created descriptor owned by nobody else.
        let queue = unsafe { OwnedFd::from_raw_fd(raw) };
        let stop = event(
            STOP_EVENT,
            libc::EVFILT_USER,
            libc::EV_ADD | libc::EV_CLEAR,
            0,
        );
        register(queue.as_raw_fd(), &stop)?;
        let fd = queue.as_raw_fd();
        let thread = thread::spawn(move || track(fd, root));
        Ok(PidTracker { queue, thread })
    }

    /// Stop tracking and return every pid seen in the tree (the root included).
    pub(super) fn stop(self) -> HashSet<libc::pid_t> {
        let trigger = event(STOP_EVENT, libc::EVFILT_USER, 0, libc::NOTE_TRIGGER);
        let _ = register(self.queue.as_raw_fd(), &trigger);
        // The queue stays open (owned by `self`) until the thread has returned.
        self.thread.join().unwrap_or_default()
    }
}

fn event(ident: usize, filter: i16, flags: u16, fflags: u32) -> libc::kevent {
    libc::kevent {
        ident,
        filter,
        flags,
        fflags,
        data: 0,
        udata: std::ptr::null_mut(),
    }
}

fn register(queue: RawFd, change: &libc::kevent) -> io::Result<()> {
    // SAFETY: one valid change record in, no event list out.
    let result =
        unsafe { libc::kevent(queue, change, 1, std::ptr::null_mut(), 0, std::ptr::null()) };
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn track(queue: RawFd, root: libc::pid_t) -> HashSet<libc::pid_t> {
    let mut seen = HashSet::new();
    let mut watched = HashSet::new();
    watch_tree(queue, root, &mut seen, &mut watched);
    let timeout = libc::timespec {
        tv_sec: 0,
        tv_nsec: 50_000_000,
    };
    loop {
        let mut events = [event(0, 0, 0, 0); 32];
        // SAFETY: `events` is writable for its full length; `timeout` outlives the call.
        let count = unsafe {
            libc::kevent(
                queue,
                std::ptr::null(),
                0,
                events.as_mut_ptr(),
                events.len() as libc::c_int,
                &timeout,
            )
        };
        if count < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return seen;
        }
        if count == 0 && watched.is_empty() && is_alive(root) {
            watch_tree(queue, root, &mut seen, &mut watched);
        }
        for received in &events[..count as usize] {
            if received.filter == libc::EVFILT_USER {
                return seen;
            }
            let Ok(pid) = libc::pid_t::try_from(received.ident) else {
                continue;
            };
            if received.flags & libc::EV_ERROR != 0 || received.fflags & libc::NOTE_EXIT != 0 {
                watched.remove(&pid);
            }
            if received.fflags & libc::NOTE_FORK != 0 {
                watch_tree(queue, pid, &mut seen, &mut watched);
            }
        }
    }
}

/// Watch `top` and all its current descendants.
fn watch_tree(
    queue: RawFd,
    top: libc::pid_t,
    seen: &mut HashSet<libc::pid_t>,
    watched: &mut HashSet<libc::pid_t>,
) {
    let mut pending = vec![top];
    while let Some(pid) = pending.pop() {
        seen.insert(pid);
        if watched.insert(pid) {
            let Ok(ident) = usize::try_from(pid) else {
                continue;
            };
            let watch = event(
                ident,
                libc::EVFILT_PROC,
                libc::EV_ADD | libc::EV_CLEAR,
                libc::NOTE_FORK | libc::NOTE_EXEC | libc::NOTE_EXIT,
            );
            if register(queue, &watch).is_err() {
                // Already gone; it still belongs to the tree for reporting.
                watched.remove(&pid);
            }
        }
        pending.extend(
            child_pids(pid)
                .into_iter()
                .filter(|child| !seen.contains(child)),
        );
    }
}

fn child_pids(parent: libc::pid_t) -> Vec<libc::pid_t> {
    let mut buffer: Vec<libc::pid_t> = vec![0; 1024];
    let size = libc::c_int::try_from(buffer.len() * std::mem::size_of::<libc::pid_t>())
        .unwrap_or(libc::c_int::MAX);
    // SAFETY: `buffer` is writable for `size` bytes.
    let returned = unsafe { libc::proc_listchildpids(parent, buffer.as_mut_ptr().cast(), size) };
    let Ok(returned) = usize::try_from(returned) else {
        return Vec::new();
    };
    // Depending on the OS version the result counts pids or bytes; the zeroed tail makes both
    // readings safe.
    buffer
        .into_iter()
        .take(returned)
        .filter(|&pid| pid > 0)
        .collect()
}

fn is_alive(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(pid, 0) == 0 }
}
