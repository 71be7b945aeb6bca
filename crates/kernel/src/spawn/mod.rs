//! Start a command under a confinement, in runc's order, failing closed, and supervise it.
//!
//! The parent builds every string and program first (the filter already in the kernel's
//! layout). Two shapes:
//!
//! * **With a namespace** ([`Confinement::namespace`]): confine forks an init into new pid and
//!   mount namespaces (`init.rs`); the init sets up /proc and /sys, starts the command
//!   (`child.rs`) as its only child and reports over a pipe.
//! * **Without**: confine starts the command itself (`child.rs`).
//!
//! The command's process takes its steps in `steps.rs`, written once over a trait of kernel
//! operations that `child.rs` implements with system calls (and the unit tests with a
//! recording double).
//!
//! Either way confine passes on every signal it can catch but CHLD, PIPE and URG (as docker's
//! signal proxy), relays the terminal when asked (`crate::terminal`), and the command cannot
//! outlive confine: the init, or the command itself, has PR_SET_PDEATHSIG = SIGKILL.
//!
//! # References
//! * clone(2) (CLONE_VM, CLONE_VFORK, CLONE_NEWPID, CLONE_NEWNS), waitpid(2), sigaction(2)
//! * runc libcontainer/standard_init_linux.go; docker/cli `ForwardAllSignals`

mod child;
mod fault;
mod init;
mod steps;

pub use init::Namespace;

use crate::landlock::{Ruleset, RulesetSpec};
use crate::process::CapSets;
use crate::seccomp::{InstallFlags, Prepared};
use crate::terminal::{pipe, Setup, Terminal};
use child::{errno, launch};
use confine_bpf::Insn;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use steps::{CStrArray, ChildArgs, ListenSlot};

/// Proof that the process had a single thread when it was made: [`spawn`] needs one, because
/// it clones the command with CLONE_VM | CLONE_VFORK and forks the namespace's init (which
/// then allocates), both only sound without other threads — one holding the allocator's lock
/// at the fork would leave it held forever in the copy.
///
/// Obtained from [`SingleThreaded::check`], which counts the threads, or from
/// [`SingleThreaded::assume`]. It is neither `Send` nor `Sync` (it stays on the thread that
/// made it), not `Clone`, and [`spawn`] consumes it: take a new one right before each call, and
/// start no thread in between.
#[derive(Debug)]
pub struct SingleThreaded {
    _not_send: std::marker::PhantomData<*const ()>,
}

impl SingleThreaded {
    /// The token, if the process has exactly one thread now (`Threads:` in
    /// /proc/self/status); an error naming the count otherwise, or when the count cannot be
    /// read.
    ///
    /// # References
    /// * proc_pid_status(5) (`Threads`)
    pub fn check() -> io::Result<SingleThreaded> {
        let status = std::fs::read_to_string("/proc/self/status")?;
        let threads = parse_threads(&status).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "no thread count in /proc/self/status",
            )
        })?;
        if threads != 1 {
            return Err(io::Error::other(format!(
                "the process has {threads} threads; starting a command needs exactly one"
            )));
        }
        // SAFETY: the process has one thread, the caller's, and the token cannot leave it.
        Ok(unsafe { SingleThreaded::assume() })
    }

    /// The token, without a check.
    ///
    /// # Safety
    ///
    /// The process must have exactly one thread (the calling one), and must keep it so until
    /// the token has been consumed by [`spawn`] and the call has returned: no thread may be
    /// started, by the caller or by a library it calls, in between.
    pub unsafe fn assume() -> SingleThreaded {
        SingleThreaded {
            _not_send: std::marker::PhantomData,
        }
    }
}

/// The value of the `Threads:` line of a /proc/PID/status text.
fn parse_threads(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
}

/// What to apply before the command runs.
#[derive(Debug, Default)]
pub struct Confinement {
    /// `exec NAME` for /proc/thread-self/attr/apparmor/exec (attr/exec as a fallback).
    pub apparmor_exec: Option<String>,
    /// The seccomp program and its flags.
    pub seccomp: Option<(Vec<Insn>, InstallFlags)>,
    /// Set no_new_privs (and install seccomp after the credential changes).
    pub no_new_privs: bool,
    /// Set no_new_privs before Landlock and seccomp (confine lacks CAP_SYS_ADMIN).
    pub no_new_privs_first: bool,
    /// The Landlock domain to enter before anything else is dropped.
    pub landlock: Option<Ruleset>,
    /// With a namespace: the ruleset's spec, built again by the init once its mounts are in
    /// place and put at `landlock`'s descriptor. The init's fresh /proc (and any other mount
    /// it makes) holds other files than the ones confine opened outside, so rules naming them
    /// must be opened inside. confine's own build (`landlock`) has checked the spec already.
    pub landlock_rebuild: Option<RulesetSpec>,
    /// Capabilities to keep in the bounding set (the others up to `last_cap` are dropped);
    /// None leaves it alone.
    pub bounding: Option<u64>,
    /// The highest capability of the running kernel.
    pub last_cap: u8,
    /// The final effective, permitted and inheritable sets (ambient is always emptied); None
    /// leaves them.
    pub caps: Option<CapSets>,
    /// Supplementary groups, gid and uid to switch to.
    pub ids: Option<(Vec<u32>, u32, u32)>,
    /// Working directory.
    pub workdir: Option<CString>,
    /// New mount (and pid) namespace and what to set up in it.
    pub namespace: Option<Namespace>,
    /// Descriptors 3 .. 3 + keep_fds are passed on; every other one above 2 is closed on exec.
    pub keep_fds: u32,
    /// The terminal arrangement.
    pub terminal: Terminal,
    /// Recording: the socket over which the command's process hands a pidfd of itself, and
    /// the number its listener will take, to the recorder just before it installs `seccomp`
    /// (which must then have `new_listener`; see `crate::notify`).
    pub record_to: Option<RawFd>,
    /// Recording: make the command's process dumpable for the hand-over (the recorder lacks
    /// CAP_SYS_PTRACE, and the process shares the init's non-dumpable memory). Only ever set
    /// when the process is still the caller's own user there: a dumpable process sharing the
    /// memory of a more privileged one would hand that memory to any process of its user.
    pub record_dumpable: bool,
    /// Wait for every descendant of the command, not only the command, before ending (the
    /// command's orphans are reaped as they end instead of being killed with it).
    pub wait_all: bool,
    /// Recording with eBPF: `cgroup.procs` of the recording's cgroup, open (close-on-exec),
    /// which the command's process joins as its last step before execve.
    pub join_cgroup: Option<RawFd>,
}

/// The command to execute.
#[derive(Debug)]
pub struct Command<'a> {
    /// Full paths tried in order (execvp's search along PATH).
    pub candidates: &'a [CString],
    /// Arguments, the first being the name the command sees.
    pub argv: &'a [CString],
    /// Environment entries `KEY=VALUE`.
    pub envp: &'a [CString],
    /// Add `LISTEN_PID=` with the command's own pid (in its pid namespace).
    pub listen_pid: bool,
}

/// The step that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Stage {
    /// Writing the AppArmor exec transition.
    AppArmor = 1,
    /// Installing the seccomp filter.
    Seccomp = 2,
    /// Dropping from the bounding set.
    Bounding = 3,
    /// Clearing the ambient set.
    Ambient = 4,
    /// Changing groups or ids.
    Ids = 5,
    /// Setting the capability sets.
    Caps = 6,
    /// Setting no_new_privs.
    NoNewPrivs = 7,
    /// Changing directory.
    Workdir = 8,
    /// execve itself.
    Exec = 9,
    /// Creating the process.
    Clone = 10,
    /// Setting up the mount namespace (/proc, /sys).
    Namespace = 11,
    /// The session and the standard descriptors.
    Session = 12,
    /// Entering the Landlock domain.
    Landlock = 13,
    /// Arming the parent-death signal.
    ParentDeath = 14,
    /// Marking descriptors close-on-exec.
    Descriptors = 15,
    /// Joining a new session keyring.
    Keyring = 16,
    /// Joining the recording's cgroup.
    Cgroup = 17,
}

impl Stage {
    /// Every step, in the order of the enum's values (the order in which they run is in
    /// `steps.rs` and `init.rs`); a test that must cover each step iterates over this.
    pub const ALL: [Stage; 17] = [
        Stage::AppArmor,
        Stage::Seccomp,
        Stage::Bounding,
        Stage::Ambient,
        Stage::Ids,
        Stage::Caps,
        Stage::NoNewPrivs,
        Stage::Workdir,
        Stage::Exec,
        Stage::Clone,
        Stage::Namespace,
        Stage::Session,
        Stage::Landlock,
        Stage::ParentDeath,
        Stage::Descriptors,
        Stage::Keyring,
        Stage::Cgroup,
    ];

    fn from_u8(b: u8) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| *s as u8 == b)
    }

    /// The step's short name (`seccomp`, `no-new-privs`), as the fault-injection variables
    /// name it.
    pub fn name(self) -> &'static str {
        match self {
            Stage::AppArmor => "apparmor",
            Stage::Seccomp => "seccomp",
            Stage::Bounding => "bounding",
            Stage::Ambient => "ambient",
            Stage::Ids => "ids",
            Stage::Caps => "caps",
            Stage::NoNewPrivs => "no-new-privs",
            Stage::Workdir => "workdir",
            Stage::Exec => "exec",
            Stage::Clone => "clone",
            Stage::Namespace => "namespace",
            Stage::Session => "session",
            Stage::Landlock => "landlock",
            Stage::ParentDeath => "parent-death",
            Stage::Descriptors => "descriptors",
            Stage::Keyring => "keyring",
            Stage::Cgroup => "cgroup",
        }
    }

    /// The step named `name` (see [`Stage::name`]).
    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }

    /// What the step is, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Stage::AppArmor => "setting the AppArmor exec transition",
            Stage::Seccomp => "installing the seccomp filter",
            Stage::Bounding => "dropping capabilities from the bounding set",
            Stage::Ambient => "clearing the ambient capabilities",
            Stage::Ids => "changing groups and user",
            Stage::Caps => "setting the capability sets",
            Stage::NoNewPrivs => "setting no_new_privs",
            Stage::Workdir => "changing to the working directory",
            Stage::Exec => "executing the command",
            Stage::Clone => "creating the process (and its namespaces)",
            Stage::Namespace => "setting up /proc and /sys in the new mount namespace",
            Stage::Session => "starting a new session for the command",
            Stage::Landlock => "entering the Landlock domain",
            Stage::ParentDeath => "arming the parent-death signal",
            Stage::Descriptors => "closing inherited descriptors",
            Stage::Keyring => "joining a new session keyring",
            Stage::Cgroup => "joining the recording's cgroup",
        }
    }
}

/// How the command ended, or why it never started.
#[derive(Debug)]
pub enum Outcome {
    /// It exited with this status.
    Exited(i32),
    /// It was killed by this signal.
    Signaled(i32),
    /// A confinement step (or execve) failed; nothing ran.
    Failed(Stage, io::Error),
}

impl Outcome {
    fn from_wait_status(st: i32) -> Outcome {
        if libc::WIFSIGNALED(st) {
            Outcome::Signaled(libc::WTERMSIG(st))
        } else {
            Outcome::Exited(libc::WEXITSTATUS(st))
        }
    }
}

/// The signals confine passes on: every one it can catch but CHLD, PIPE and URG (glibc keeps
/// 32 and 33 for itself).
pub fn forwarded_signals() -> Vec<libc::c_int> {
    (1..=libc::SIGRTMAX())
        .filter(|&s| {
            ![
                libc::SIGKILL,
                libc::SIGSTOP,
                libc::SIGCHLD,
                libc::SIGPIPE,
                libc::SIGURG,
            ]
            .contains(&s)
                && !(32..libc::SIGRTMIN()).contains(&s)
        })
        .collect()
}

static TARGET: AtomicI32 = AtomicI32::new(0);
static PTY_MASTER: AtomicI32 = AtomicI32::new(-1);
static CHLD_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn forward(sig: libc::c_int) {
    let m = PTY_MASTER.load(Ordering::Relaxed);
    if sig == libc::SIGWINCH && m >= 0 {
        crate::terminal::copy_window_size(1, m);
        return;
    }
    let pid = TARGET.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe; the pid is our own child's.
        unsafe { libc::kill(pid, sig) };
    }
}

extern "C" fn child_ended(_: libc::c_int) {
    let fd = CHLD_PIPE.load(Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: write(2) is async-signal-safe; one byte from a constant.
        unsafe { libc::write(fd, [0u8].as_ptr().cast(), 1) };
    }
}

fn set_handler(sig: libc::c_int, handler: extern "C" fn(libc::c_int), flags: libc::c_int) {
    // SAFETY: a zeroed sigaction with an async-signal-safe handler; the handlers only read
    // atomics and call kill(2), ioctl(2) or write(2).
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler as *const () as usize;
        sa.sa_flags = libc::SA_RESTART | flags;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(sig, &sa, std::ptr::null_mut());
    }
}

/// Pass signals on to `pid`, as docker run's signal proxy does. A signal confine was started
/// with ignored (nohup) stays ignored for confine, as a shell leaves it.
fn forward_signals(pid: libc::pid_t) {
    TARGET.store(pid, Ordering::Relaxed);
    for sig in forwarded_signals() {
        // SAFETY: reads the current disposition into a struct we own.
        let ignored = unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
        };
        if !ignored {
            set_handler(sig, forward, 0);
        }
    }
}

/// Once the command has been reaped: no more forwarding (its pid may be another process's
/// soon), and confine's signals take their default actions again.
fn stop_forwarding() {
    TARGET.store(0, Ordering::Relaxed);
    for sig in forwarded_signals() {
        // SAFETY: a zeroed sigaction is SIG_DFL with an empty mask.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(sig, std::ptr::null(), &mut old);
            if old.sa_sigaction == forward as *const () as usize {
                sa.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
    }
}

/// Kill and reap every remaining child of the calling process (a subreaper: the command's
/// orphans), repeatedly, since a dying one may leave orphans of its own.
pub(super) fn kill_descendants() {
    // SAFETY: getpid takes no argument.
    let me = unsafe { libc::getpid() };
    let children = format!("/proc/{me}/task/{me}/children");
    for _ in 0..64 {
        let pids: Vec<libc::pid_t> = std::fs::read_to_string(&children)
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            // SAFETY: SIGKILL to a child of ours, then reaping it.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
        }
    }
}

/// Reap children (the command's orphans, confine being their subreaper) until none is left.
pub(super) fn reap_descendants() {
    loop {
        // SAFETY: waiting for any child of ours.
        let r = unsafe { libc::waitpid(-1, std::ptr::null_mut(), 0) };
        if r < 0 && errno() != libc::EINTR {
            return;
        }
    }
}

/// Every signal blocked for the guard's life (across clone, so that no handler of confine's
/// runs in a child before it has reset them).
struct Blocked(libc::sigset_t);

impl Blocked {
    fn all() -> Blocked {
        // SAFETY: sigset manipulation on local structs and the calling thread's mask.
        unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut saved: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut saved);
            Blocked(saved)
        }
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        // SAFETY: restoring the mask saved above.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.0, std::ptr::null_mut()) };
    }
}

/// Wait until `pid` has ended, stop forwarding signals to it while its pid is still taken
/// (waitid with WNOWAIT leaves it unreaped), then reap it.
fn wait_and_stop_forwarding(pid: libc::pid_t) -> io::Result<i32> {
    loop {
        // SAFETY: waitid writes a siginfo we own; WNOWAIT leaves the child to reap.
        let r = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 {
            break;
        }
        if errno() != libc::EINTR {
            return Err(io::Error::last_os_error());
        }
    }
    stop_forwarding();
    wait_for(pid)
}

fn wait_for(pid: libc::pid_t) -> io::Result<i32> {
    let mut st = 0;
    loop {
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut st, 0) };
        if r == pid {
            return Ok(st);
        }
        if errno() != libc::EINTR {
            return Err(io::Error::last_os_error());
        }
    }
}

/// Start `cmd` under `c`, wait for it, and report how it ended. `one` shows that the process
/// is single-threaded (see [`SingleThreaded`]).
pub fn spawn(cmd: &Command, c: &Confinement, one: SingleThreaded) -> io::Result<Outcome> {
    fault::load()?;
    let argv = CStrArray::new(cmd.argv);
    let mut envp = CStrArray::new(cmd.envp);
    // LISTEN_PID=<10 digits, NUL-padded> and the terminating NUL, filled in by the child
    let mut listen = b"LISTEN_PID=".to_vec();
    listen.extend([0u8; 11]);
    let listen_slot = if cmd.listen_pid {
        // SAFETY: `listen` is NUL-terminated (its last byte stays 0), outlives `envp` (declared
        // before it), and only the child writes into it, before it executes the command.
        unsafe { envp.push_raw(listen.as_ptr().cast()) };
        // SAFETY: the 10 digits start right after the 11-byte prefix, inside `listen`, which
        // outlives `args`; nothing borrows them meanwhile (`envp` holds a raw pointer).
        Some(unsafe { ListenSlot::new(listen.as_mut_ptr().add(11), 10) })
    } else {
        None
    };
    let mut term = Setup::new(c.terminal, c.namespace.is_some())?;
    let args = ChildArgs {
        candidates: cmd.candidates,
        argv,
        envp,
        c,
        seccomp: c.seccomp.as_ref().map(|(p, f)| (Prepared::new(p), *f)),
        aa_value: c
            .apparmor_exec
            .as_ref()
            .map(|n| format!("exec {n}").into_bytes()),
        stdio: term.child_stdio.map(AtomicI32::new),
        winsize: term.winsize(),
        controlling_tty: term.controlling,
        parent: AtomicI32::new(0),
        listen_pid: listen_slot,
        report: AtomicU64::new(0),
    };
    PTY_MASTER.store(term.master().unwrap_or(-1), Ordering::Relaxed);
    let outcome = match &c.namespace {
        Some(ns) => run_in_namespace(ns, &args, &mut term, &one),
        None => {
            // SAFETY: getpid takes no argument.
            args.parent
                .store(unsafe { libc::getpid() }, Ordering::SeqCst);
            run_directly(&args, &mut term, &one)
        }
    };
    term.restore();
    outcome
}

fn run_directly(args: &ChildArgs, term: &mut Setup, one: &SingleThreaded) -> io::Result<Outcome> {
    let (chld_r, chld_w) = pipe()?;
    // orphans of the command become confine's, to be killed when it ends
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let pid = {
        let _blocked = Blocked::all();
        let pid = match launch(args, one) {
            Ok(pid) => pid,
            Err((stage, e)) => return Ok(Outcome::Failed(stage, e)),
        };
        forward_signals(pid);
        if term.relays() {
            CHLD_PIPE.store(chld_w.as_raw_fd(), Ordering::Relaxed);
            set_handler(libc::SIGCHLD, child_ended, libc::SA_NOCLDSTOP);
        }
        pid
    };
    term.close_child_side();
    if term.relays() {
        term.relay(chld_r.as_raw_fd());
    }
    let st = wait_and_stop_forwarding(pid)?;
    CHLD_PIPE.store(-1, Ordering::Relaxed);
    drop(chld_w);
    if args.c.wait_all {
        reap_descendants();
    }
    // what the command left running (confine is their subreaper) ends with it
    kill_descendants();
    term.drain();
    Ok(Outcome::from_wait_status(st))
}

fn run_in_namespace(
    ns: &Namespace,
    args: &ChildArgs,
    term: &mut Setup,
    one: &SingleThreaded,
) -> io::Result<Outcome> {
    let (status_r, status_w) = init::channel()?;
    let (life_r, life_w) = pipe()?;
    let flags = libc::CLONE_NEWNS
        | if ns.pid { libc::CLONE_NEWPID } else { 0 }
        | if ns.user.is_some() {
            libc::CLONE_NEWUSER
        } else {
            0
        };
    let pid = {
        let _blocked = Blocked::all();
        let pid = match fault::at_io(Stage::Clone).and_then(|()| fork_with(flags, one)) {
            Ok(pid) => pid,
            Err(e) => return Ok(Outcome::Failed(Stage::Clone, e)),
        };
        if pid == 0 {
            drop(status_r);
            drop(life_w);
            init::init_main(ns, args, status_w.as_raw_fd(), life_r.as_raw_fd());
        }
        forward_signals(pid);
        pid
    };
    drop(status_w);
    drop(life_r);
    term.close_child_side();
    let reap = |pid| -> io::Result<Outcome> { Ok(Outcome::from_wait_status(wait_for(pid)?)) };
    loop {
        match init::receive(status_r.as_raw_fd())? {
            Some(([init::MSG_PTY, ..], Some(master))) => {
                PTY_MASTER.store(master.as_raw_fd(), Ordering::Relaxed);
                term.attach_master(master);
            }
            Some(([init::MSG_STARTED, ..], _)) => break,
            Some(([init::MSG_FAILED, stage, e], _)) => {
                wait_for(pid)?;
                return Ok(Outcome::Failed(
                    Stage::from_u8(stage as u8).unwrap_or(Stage::Namespace),
                    io::Error::from_raw_os_error(e as i32),
                ));
            }
            _ => return reap(pid),
        }
    }
    if term.relays() {
        term.relay(status_r.as_raw_fd());
    }
    let end = init::receive(status_r.as_raw_fd())?.map(|(m, _)| m);
    let init_status = wait_and_stop_forwarding(pid)?;
    term.drain();
    drop(life_w);
    Ok(match end {
        Some([init::MSG_EXITED, st, _]) => Outcome::from_wait_status(st as i32),
        // the init was killed from outside, and the namespace with it
        _ => Outcome::from_wait_status(init_status),
    })
}

/// Start a detached helper process (a recorder): fork twice, so that the helper is nobody's
/// child in confine (never reaped or killed with the command's orphans, which confine, a
/// subreaper, takes), and run `work` in it, then exit with its status. Returns in the caller
/// once the intermediate process has been reaped. The helper ignores SIGINT, SIGTERM, SIGHUP
/// and SIGQUIT (confine passes those on to the command, whose end ends the helper's work).
///
/// The helper holds only the standard descriptors and those in `keep`.
pub fn detach<F: FnOnce() -> i32>(keep: &[RawFd], work: F, one: SingleThreaded) -> io::Result<()> {
    let first = fork_with(0, &one)?;
    if first == 0 {
        let mut keep = keep.to_vec();
        keep.extend([0, 1, 2]);
        init::close_all_but(&keep);
        // SAFETY: fork(2) in the (single-threaded) copy; the grandchild runs `work`.
        let second = unsafe { libc::fork() };
        if second != 0 {
            // SAFETY: _exit(2) ends the intermediate process without running anything else.
            unsafe { libc::_exit(if second < 0 { 1 } else { 0 }) };
        }
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
            // SAFETY: setting a standard signal's disposition to SIG_IGN.
            unsafe { libc::signal(sig, libc::SIG_IGN) };
        }
        let code = work();
        // SAFETY: _exit(2): the helper flushed what it wrote; buffers copied from confine
        // (its standard output's) must not be written a second time.
        unsafe { libc::_exit(code) };
    }
    let st = wait_for(first)?;
    if libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0 {
        Ok(())
    } else {
        Err(io::Error::other("the helper process could not be started"))
    }
}

/// fork(2) with extra clone flags (new namespaces for the child).
fn fork_with(flags: libc::c_int, _one: &SingleThreaded) -> io::Result<libc::pid_t> {
    // SAFETY: a raw clone without CLONE_VM and with no new stack behaves as fork: the child
    // gets a copy of the address space and returns 0 on the same (copied) stack. The process
    // is single-threaded (`_one`), so no lock is held by another thread in the copy.
    let r = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as libc::pid_t)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thread_count_is_read_from_status() {
        let status = "Name:\tconfine\nTgid:\t7\nThreads:\t3\nSigQ:\t0/1\n";
        assert_eq!(super::parse_threads(status), Some(3));
        assert_eq!(super::parse_threads("Name:\tx\n"), None);
        assert_eq!(super::parse_threads("Threads:\tmany\n"), None);
    }

    #[test]
    fn check_refuses_a_second_thread() {
        // a second thread (besides the harness's own), alive while the check runs
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || rx.recv());
        let e = super::SingleThreaded::check().unwrap_err();
        assert!(e.to_string().contains("threads"), "{e}");
        drop(tx);
        t.join().unwrap().unwrap_err();
    }

    #[test]
    fn every_stage_is_listed_once_with_its_own_name() {
        use super::Stage;
        let mut values: Vec<u8> = Stage::ALL.iter().map(|s| *s as u8).collect();
        values.sort();
        assert_eq!(values, (1..=Stage::ALL.len() as u8).collect::<Vec<_>>());
        for s in Stage::ALL {
            assert_eq!(Stage::from_u8(s as u8), Some(s));
            assert_eq!(Stage::from_name(s.name()), Some(s), "{s:?}");
        }
        assert_eq!(Stage::from_name("Seccomp"), None);
    }

    #[test]
    fn forwards_all_but_chld_pipe_urg() {
        let s = super::forwarded_signals();
        for sig in [
            libc::SIGCHLD,
            libc::SIGPIPE,
            libc::SIGURG,
            libc::SIGKILL,
            libc::SIGSTOP,
        ] {
            assert!(!s.contains(&sig), "{sig}");
        }
        for sig in [
            libc::SIGALRM,
            libc::SIGVTALRM,
            libc::SIGCONT,
            libc::SIGTERM,
            libc::SIGRTMIN(),
            libc::SIGRTMAX(),
        ] {
            assert!(s.contains(&sig), "{sig}");
        }
    }
}
