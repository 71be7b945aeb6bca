//! What the command's process does between clone and execve, in runc's order, written once
//! over [`ChildOps`]: one method per kernel operation. The real implementation (`child.rs`)
//! makes the system calls; the unit tests' double records them and fails one on demand.
//!
//! Steps, in order: signals to their defaults; its own session (and the new terminal as its
//! controlling terminal with `-t`); standard descriptors; every descriptor above the kept ones
//! marked close-on-exec (before any filter, as runc does, so a profile need not allow it); a
//! new session keyring; the AppArmor exec transition; no_new_privs when it must come first
//! (unprivileged use); the Landlock domain; seccomp now when no_new_privs is not asked for (the
//! filter must go in while CAP_SYS_ADMIN is still held, as in runc); bounding set, ambient
//! set, groups, gid, uid, capability sets; no_new_privs and seccomp when asked for; the
//! parent-death signal; working directory; the recording's cgroup (eBPF); execve along the search path. The first step that
//! fails ends the sequence with its stage and errno: nothing after it runs, the command least
//! of all.
//!
//! The real sequence runs in a child sharing its parent's memory (CLONE_VM | CLONE_VFORK):
//! it allocates nothing, takes no lock, and is generic over [`ChildOps`] (static dispatch, no
//! trait object), so that it compiles to direct calls.
//!
//! # References
//! * runc libcontainer/standard_init_linux.go (`Init`); execvp(3) (search rules)

use super::{Confinement, Stage};
use crate::landlock::Ruleset;
use crate::process::CapSets;
use crate::seccomp::{InstallFlags, Prepared};
use std::ffi::{CStr, CString};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

#[cfg(test)]
mod tests;

/// An errno value.
pub(super) type Errno = i32;

/// The kernel operations the command's process makes, one method each. Fallible ones return
/// the errno of the failure. Implementations used in the real child must be async-signal-safe:
/// no allocation, no lock.
pub(super) trait ChildOps {
    /// Every signal to its default action, none blocked.
    fn reset_signals(&mut self);
    /// setsid(2).
    fn setsid(&mut self) -> Result<(), Errno>;
    /// ioctl(fd, TIOCSCTTY, 0).
    fn set_controlling_tty(&mut self, fd: i32) -> Result<(), Errno>;
    /// dup2(2).
    fn dup2(&mut self, fd: i32, target: i32) -> Result<(), Errno>;
    /// Clear FD_CLOEXEC on a descriptor to pass on (a closed one is no error).
    fn keep_fd(&mut self, fd: i32);
    /// Mark every descriptor from `first` up close-on-exec.
    fn cloexec_from(&mut self, first: u32) -> Result<(), Errno>;
    /// getpid(2).
    fn getpid(&mut self) -> i32;
    /// keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL).
    fn join_session_keyring(&mut self) -> Result<(), Errno>;
    /// open(path, O_WRONLY | O_CLOEXEC) of an AppArmor attribute file.
    fn open_attr(&mut self, path: &CStr) -> Result<i32, Errno>;
    /// One write(2) of all of `value`; a short write is a failure.
    fn write_attr(&mut self, fd: i32, value: &[u8]) -> Result<(), Errno>;
    /// close(2).
    fn close(&mut self, fd: i32);
    /// prctl(PR_SET_NO_NEW_PRIVS).
    fn set_no_new_privs(&mut self) -> Result<(), Errno>;
    /// landlock_restrict_self(2).
    fn landlock_restrict_self(&mut self, ruleset: &Ruleset) -> Result<(), Errno>;
    /// seccomp(SECCOMP_SET_MODE_FILTER); the listener's descriptor with `new_listener` (left
    /// open: it is close-on-exec).
    fn install_seccomp(
        &mut self,
        prog: &Prepared,
        flags: InstallFlags,
    ) -> Result<Option<i32>, Errno>;
    /// Send a pidfd of this process over `sock`, with its number, and close it: the number is
    /// now the lowest free one, which the next descriptor (the listener) takes.
    fn hand_over(&mut self, sock: i32) -> Result<i32, Errno>;
    /// prctl(PR_GET_DUMPABLE).
    fn dumpable(&mut self) -> i32;
    /// prctl(PR_SET_DUMPABLE, value).
    fn set_dumpable(&mut self, value: i32);
    /// prctl(PR_CAPBSET_READ); false when it cannot be read.
    fn bounding_has(&mut self, cap: u8) -> bool;
    /// prctl(PR_CAPBSET_DROP).
    fn bounding_drop(&mut self, cap: u8) -> Result<(), Errno>;
    /// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL).
    fn ambient_clear(&mut self) -> Result<(), Errno>;
    /// setgroups(2).
    fn setgroups(&mut self, groups: &[u32]) -> Result<(), Errno>;
    /// setresgid(2) with one gid for all three.
    fn setresgid(&mut self, gid: u32) -> Result<(), Errno>;
    /// setresuid(2) with one uid for all three.
    fn setresuid(&mut self, uid: u32) -> Result<(), Errno>;
    /// capset(2).
    fn capset(&mut self, caps: CapSets) -> Result<(), Errno>;
    /// prctl(PR_SET_PDEATHSIG, SIGKILL).
    fn set_parent_death_signal(&mut self) -> Result<(), Errno>;
    /// getppid(2).
    fn getppid(&mut self) -> i32;
    /// chdir(2).
    fn chdir(&mut self, dir: &CStr) -> Result<(), Errno>;
    /// Move this process into the cgroup whose `cgroup.procs` is open at `procs`: one
    /// write(2) of "0" (this process). The kernel checks the credentials the descriptor was
    /// opened with (Linux 5.16), not the process's, which may have dropped them by now.
    fn join_cgroup(&mut self, procs: i32) -> Result<(), Errno>;
    /// execve(2); the real one returns only on failure.
    fn execve(
        &mut self,
        path: &CStr,
        argv: &CStrArray,
        envp: &CStrArray,
    ) -> Result<Executed, Errno>;
}

/// The command has been executed (only a test double can say so: a real execve does not
/// return when it succeeds).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Executed;

/// A null-terminated array of pointers to NUL-terminated strings, as execve(2) takes, built by
/// the parent before the clone; every string outlives it.
#[derive(Debug)]
pub(super) struct CStrArray<'a> {
    ptrs: Vec<*const libc::c_char>,
    _strings: PhantomData<&'a CStr>,
}

impl<'a> CStrArray<'a> {
    /// The pointers of `items` and the terminating null.
    pub(super) fn new(items: &'a [CString]) -> CStrArray<'a> {
        CStrArray {
            ptrs: items
                .iter()
                .map(|s| s.as_ptr())
                .chain([std::ptr::null()])
                .collect(),
            _strings: PhantomData,
        }
    }

    /// Add `s` before the terminating null.
    ///
    /// # Safety
    ///
    /// `s` must point at a NUL-terminated string that stays valid, and is not written to
    /// except by the command's process before it executes, for as long as the array is used.
    pub(super) unsafe fn push_raw(&mut self, s: *const libc::c_char) {
        self.ptrs.insert(self.ptrs.len() - 1, s);
    }

    /// The array for execve(2).
    pub(super) fn as_ptr(&self) -> *const *const libc::c_char {
        self.ptrs.as_ptr()
    }
}

/// The digits of `LISTEN_PID=` in the environment, which the command's process fills with its
/// own pid.
#[derive(Debug)]
pub(super) struct ListenSlot {
    digits: *mut u8,
    len: usize,
}

impl ListenSlot {
    /// The `len` bytes at `digits`.
    ///
    /// # Safety
    ///
    /// `digits` must be valid for writes of `len` bytes for as long as the slot is used, and no
    /// reference to those bytes may be used meanwhile (the parent reads them only through the
    /// environment array it passes to execve).
    pub(super) unsafe fn new(digits: *mut u8, len: usize) -> ListenSlot {
        ListenSlot { digits, len }
    }

    /// Write `pid` into the slot.
    fn fill(&self, pid: u32) {
        // SAFETY: `new`'s contract: `len` writable bytes at `digits`, not otherwise borrowed.
        let buf = unsafe { std::slice::from_raw_parts_mut(self.digits, self.len) };
        write_decimal(buf, pid);
    }
}

/// Write `n` in decimal into `buf`, NUL-padded (truncated to `buf.len()` digits).
pub(super) fn write_decimal(buf: &mut [u8], mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for (k, b) in buf.iter_mut().enumerate() {
        *b = digits.get(i + k).copied().unwrap_or(0);
    }
}

/// Everything the child needs, prepared by the parent: the child shares the parent's memory
/// (CLONE_VM) and only reads this, except `report`, where a failed step leaves its stage and
/// errno, and the LISTEN_PID slot.
pub(super) struct ChildArgs<'a> {
    /// Full paths to try in order, as execvp tries the directories of PATH.
    pub candidates: &'a [CString],
    pub argv: CStrArray<'a>,
    pub envp: CStrArray<'a>,
    pub c: &'a Confinement,
    pub seccomp: Option<(Prepared, InstallFlags)>,
    pub aa_value: Option<Vec<u8>>,
    /// Descriptors to put at 0, 1, 2 (-1: keep what is there); the init sets them to the
    /// pty it opens.
    pub stdio: [AtomicI32; 3],
    /// The window size for a pty the init opens.
    pub winsize: Option<libc::winsize>,
    /// Make the terminal at `stdio[0]` the controlling terminal (a new pty).
    pub controlling_tty: bool,
    /// Set PR_SET_PDEATHSIG and check that this pid is still the parent (0: the parent is the
    /// namespace's init, whose death ends the namespace).
    pub parent: AtomicI32,
    /// The digits of `LISTEN_PID=` in the environment, filled with the child's pid.
    pub listen_pid: Option<ListenSlot>,
    /// 0 while nothing failed; otherwise `stage << 32 | errno`.
    pub report: AtomicU64,
}

/// Tag a step's errno with its stage.
fn at(stage: Stage) -> impl Fn(Errno) -> (Stage, Errno) {
    move |e| (stage, e)
}

/// The AppArmor attribute files, newest interface first.
const APPARMOR_EXEC: [&CStr; 2] = [
    c"/proc/thread-self/attr/apparmor/exec",
    c"/proc/thread-self/attr/exec",
];

/// The command's process from its start to execve. Returns only when a step failed (its stage
/// and errno) or, for a test double, when execve "succeeded".
pub(super) fn run<O: ChildOps>(ops: &mut O, a: &ChildArgs) -> Result<Executed, (Stage, Errno)> {
    let c = a.c;
    ops.reset_signals();

    ops.setsid().map_err(at(Stage::Session))?;
    let stdio = a.stdio.each_ref().map(|f| f.load(Ordering::SeqCst));
    if a.controlling_tty {
        ops.set_controlling_tty(stdio[0])
            .map_err(at(Stage::Session))?;
    }
    for (target, &fd) in stdio.iter().enumerate() {
        if fd >= 0 {
            ops.dup2(fd, target as i32).map_err(at(Stage::Session))?;
        }
    }
    let keep = 3 + c.keep_fds;
    for fd in 3..keep {
        ops.keep_fd(fd as i32);
    }
    ops.cloexec_from(keep).map_err(at(Stage::Descriptors))?;
    if let Some(slot) = &a.listen_pid {
        slot.fill(ops.getpid() as u32);
    }
    // A session keyring of its own, as runc gives each container: the caller's (and the keys
    // in it) stay out of reach, whatever user the command runs as. ENOSYS: no keyrings;
    // EPERM: a filter already refuses keyctl (nested in confine run or a container), to the
    // command as well.
    match ops.join_session_keyring() {
        Err(e) if e != libc::ENOSYS && e != libc::EPERM => return Err((Stage::Keyring, e)),
        _ => {}
    }
    if let Some(v) = &a.aa_value {
        apparmor_exec(ops, v)?;
    }
    if c.no_new_privs_first {
        ops.set_no_new_privs().map_err(at(Stage::NoNewPrivs))?;
    }
    // landlock_restrict_self(2) needs no_new_privs or CAP_SYS_ADMIN at the call (EPERM
    // otherwise): an unprivileged caller has set no_new_privs just above; a root caller
    // without no_new_privs still holds CAP_SYS_ADMIN here, since the bounding set, ids and
    // capability sets change only below.
    if let Some(r) = &c.landlock {
        ops.landlock_restrict_self(r).map_err(at(Stage::Landlock))?;
    }
    if let (Some((prog, flags)), false) = (&a.seccomp, c.no_new_privs) {
        install(ops, c, prog, *flags)?;
    }
    if let Some(bounding) = c.bounding {
        for cap in 0..=c.last_cap.min(63) {
            if bounding & (1 << cap) == 0 && ops.bounding_has(cap) {
                ops.bounding_drop(cap).map_err(at(Stage::Bounding))?;
            }
        }
    }
    ops.ambient_clear().map_err(at(Stage::Ambient))?;
    if let Some((groups, gid, uid)) = &c.ids {
        ops.setgroups(groups).map_err(at(Stage::Ids))?;
        ops.setresgid(*gid).map_err(at(Stage::Ids))?;
        ops.setresuid(*uid).map_err(at(Stage::Ids))?;
    }
    if let Some(caps) = c.caps {
        ops.capset(caps).map_err(at(Stage::Caps))?;
    }
    if c.no_new_privs {
        ops.set_no_new_privs().map_err(at(Stage::NoNewPrivs))?;
        if let Some((prog, flags)) = &a.seccomp {
            install(ops, c, prog, *flags)?;
        }
    }
    let parent = a.parent.load(Ordering::SeqCst);
    if parent != 0 {
        // After the id changes, which clear it. A parent that died before this point has
        // left us to another: then stop here.
        ops.set_parent_death_signal()
            .map_err(at(Stage::ParentDeath))?;
        if ops.getppid() != parent {
            return Err((Stage::ParentDeath, libc::ESRCH));
        }
    }
    if let Some(dir) = &c.workdir {
        ops.chdir(dir).map_err(at(Stage::Workdir))?;
    }
    // Last before execve: a recording that counts the calls of a cgroup's processes (eBPF)
    // sees none of these steps, only the command's.
    if let Some(procs) = c.join_cgroup {
        ops.join_cgroup(procs).map_err(at(Stage::Cgroup))?;
    }
    // execvp's rules: a missing entry or a directory that is not one goes on to the next;
    // permission denied is remembered and goes on; any other error stops the search.
    let mut denied = false;
    for path in a.candidates {
        match ops.execve(path, &a.argv, &a.envp) {
            Ok(done) => return Ok(done),
            Err(libc::EACCES) => denied = true,
            Err(libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT) => {}
            Err(e) => return Err((Stage::Exec, e)),
        }
    }
    Err((
        Stage::Exec,
        if denied { libc::EACCES } else { libc::ENOENT },
    ))
}

/// Install the filter; when recording, hand the recorder a pidfd and the listener's number
/// first, and check that the listener took that number (a recorder waiting for another
/// descriptor would never answer: the process would hang at its next call).
fn install<O: ChildOps>(
    ops: &mut O,
    c: &Confinement,
    prog: &Prepared,
    flags: InstallFlags,
) -> Result<(), (Stage, Errno)> {
    let Some(sock) = c.record_to else {
        ops.install_seccomp(prog, flags)
            .map_err(at(Stage::Seccomp))?;
        return Ok(());
    };
    // The recorder takes the listener with pidfd_getfd, which needs ptrace access: a process
    // sharing the namespace init's memory is not dumpable (the init made itself so), which
    // only CAP_SYS_PTRACE overrides. Without it (`record_dumpable`, the caller's own user in
    // its own user namespace), dumpable for the hand-over, then as before: that prctl is
    // already a notified call, answered once the recorder holds the listener.
    let was = if c.record_dumpable { ops.dumpable() } else { 1 };
    if was != 1 {
        ops.set_dumpable(1);
    }
    let installed = ops.hand_over(sock).and_then(|expected| {
        let listener = ops.install_seccomp(prog, flags)?;
        if listener == Some(expected) {
            Ok(())
        } else {
            Err(libc::EBADFD)
        }
    });
    if was != 1 {
        ops.set_dumpable(was);
    }
    installed.map_err(at(Stage::Seccomp))
}

/// Write the AppArmor exec transition `value` into the first attribute file that opens.
fn apparmor_exec<O: ChildOps>(ops: &mut O, value: &[u8]) -> Result<(), (Stage, Errno)> {
    let mut last = libc::ENOENT;
    for p in APPARMOR_EXEC {
        match ops.open_attr(p) {
            Ok(fd) => {
                let written = ops.write_attr(fd, value);
                ops.close(fd);
                return written.map_err(at(Stage::AppArmor));
            }
            Err(e) => last = e,
        }
    }
    Err((Stage::AppArmor, last))
}
