//! The child's sequence against a double of [`ChildOps`] that records every call and can fail
//! one of them: the order of the steps for the configurations `confine run` uses, and that a
//! failed step stops everything after it (the command above all) with its stage and errno.

use super::*;
use crate::spawn::Confinement;

/// One recorded operation.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Call {
    ResetSignals,
    Setsid,
    ControllingTty(i32),
    Dup2(i32, i32),
    KeepFd(i32),
    CloexecFrom(u32),
    Getpid,
    Keyring,
    OpenAttr(String),
    WriteAttr(i32, String),
    Close(i32),
    NoNewPrivs,
    Landlock,
    Seccomp(usize),
    HandOver(i32),
    Dumpable,
    SetDumpable(i32),
    BoundingHas(u8),
    BoundingDrop(u8),
    AmbientClear,
    Setgroups(Vec<u32>),
    Setresgid(u32),
    Setresuid(u32),
    Capset(CapSets),
    ParentDeathSignal,
    Getppid,
    Chdir(String),
    JoinCgroup(i32),
    Execve(String),
}

use Call::*;

/// The test double: records calls in order; the call at index `fail_at.0` fails with
/// `fail_at.1` (an infallible one ignores it).
struct Recorder {
    calls: Vec<Call>,
    fail_at: Option<(usize, Errno)>,
    /// Further calls (by index) that fail, with their errno.
    also_fail: Vec<(usize, Errno)>,
    pid: i32,
    ppid: i32,
}

const ATTR_FD: i32 = 9;
const PID: i32 = 4031;
const PARENT: i32 = 42;

impl Recorder {
    fn new() -> Recorder {
        Recorder {
            calls: Vec::new(),
            fail_at: None,
            also_fail: Vec::new(),
            pid: PID,
            ppid: PARENT,
        }
    }

    fn failing(k: usize, e: Errno) -> Recorder {
        Recorder {
            fail_at: Some((k, e)),
            ..Recorder::new()
        }
    }

    fn record(&mut self, c: Call) -> Result<(), Errno> {
        let k = self.calls.len();
        self.calls.push(c);
        match self.fail_at {
            Some((at, e)) if at == k => Err(e),
            _ => match self.also_fail.iter().find(|(at, _)| *at == k) {
                Some((_, e)) => Err(*e),
                None => Ok(()),
            },
        }
    }
}

fn text(s: &CStr) -> String {
    s.to_string_lossy().into_owned()
}

impl ChildOps for Recorder {
    fn reset_signals(&mut self) {
        let _ = self.record(ResetSignals);
    }
    fn setsid(&mut self) -> Result<(), Errno> {
        self.record(Setsid)
    }
    fn set_controlling_tty(&mut self, fd: i32) -> Result<(), Errno> {
        self.record(ControllingTty(fd))
    }
    fn dup2(&mut self, fd: i32, target: i32) -> Result<(), Errno> {
        self.record(Dup2(fd, target))
    }
    fn keep_fd(&mut self, fd: i32) {
        let _ = self.record(KeepFd(fd));
    }
    fn cloexec_from(&mut self, first: u32) -> Result<(), Errno> {
        self.record(CloexecFrom(first))
    }
    fn getpid(&mut self) -> i32 {
        let _ = self.record(Getpid);
        self.pid
    }
    fn join_session_keyring(&mut self) -> Result<(), Errno> {
        self.record(Keyring)
    }
    fn open_attr(&mut self, path: &CStr) -> Result<i32, Errno> {
        self.record(OpenAttr(text(path))).map(|()| ATTR_FD)
    }
    fn write_attr(&mut self, fd: i32, value: &[u8]) -> Result<(), Errno> {
        self.record(WriteAttr(fd, String::from_utf8_lossy(value).into_owned()))
    }
    fn close(&mut self, fd: i32) {
        let _ = self.record(Close(fd));
    }
    fn set_no_new_privs(&mut self) -> Result<(), Errno> {
        self.record(NoNewPrivs)
    }
    fn landlock_restrict_self(&mut self, _: &Ruleset) -> Result<(), Errno> {
        self.record(Landlock)
    }
    fn install_seccomp(
        &mut self,
        prog: &Prepared,
        flags: InstallFlags,
    ) -> Result<Option<i32>, Errno> {
        self.record(Seccomp(prog.len()))
            .map(|()| flags.new_listener.then_some(7))
    }
    fn dumpable(&mut self) -> i32 {
        let _ = self.record(Dumpable);
        0
    }
    fn set_dumpable(&mut self, value: i32) {
        let _ = self.record(SetDumpable(value));
    }
    fn hand_over(&mut self, sock: i32) -> Result<i32, Errno> {
        self.record(HandOver(sock)).map(|()| 7)
    }
    fn bounding_has(&mut self, cap: u8) -> bool {
        // every capability is in the bounding set, as for root
        let _ = self.record(BoundingHas(cap));
        true
    }
    fn bounding_drop(&mut self, cap: u8) -> Result<(), Errno> {
        self.record(BoundingDrop(cap))
    }
    fn ambient_clear(&mut self) -> Result<(), Errno> {
        self.record(AmbientClear)
    }
    fn setgroups(&mut self, groups: &[u32]) -> Result<(), Errno> {
        self.record(Setgroups(groups.to_vec()))
    }
    fn setresgid(&mut self, gid: u32) -> Result<(), Errno> {
        self.record(Setresgid(gid))
    }
    fn setresuid(&mut self, uid: u32) -> Result<(), Errno> {
        self.record(Setresuid(uid))
    }
    fn capset(&mut self, caps: CapSets) -> Result<(), Errno> {
        self.record(Capset(caps))
    }
    fn set_parent_death_signal(&mut self) -> Result<(), Errno> {
        self.record(ParentDeathSignal)
    }
    fn getppid(&mut self) -> i32 {
        let _ = self.record(Getppid);
        self.ppid
    }
    fn chdir(&mut self, dir: &CStr) -> Result<(), Errno> {
        self.record(Chdir(text(dir)))
    }
    fn join_cgroup(&mut self, procs: i32) -> Result<(), Errno> {
        self.record(JoinCgroup(procs))
    }
    fn execve(&mut self, path: &CStr, _: &CStrArray, _: &CStrArray) -> Result<Executed, Errno> {
        self.record(Execve(text(path))).map(|()| Executed)
    }
}

/// The stage a failure of `c` must report; None for calls whose failure does not stop the
/// sequence (they cannot fail, or the sequence goes on by design).
fn stage_of(c: &Call) -> Option<Stage> {
    Some(match c {
        Setsid | ControllingTty(_) | Dup2(..) => Stage::Session,
        CloexecFrom(_) => Stage::Descriptors,
        Keyring => Stage::Keyring,
        WriteAttr(..) => Stage::AppArmor,
        NoNewPrivs => Stage::NoNewPrivs,
        Landlock => Stage::Landlock,
        Seccomp(_) | HandOver(_) => Stage::Seccomp,
        BoundingDrop(_) => Stage::Bounding,
        AmbientClear => Stage::Ambient,
        Setgroups(_) | Setresgid(_) | Setresuid(_) => Stage::Ids,
        Capset(_) => Stage::Caps,
        ParentDeathSignal => Stage::ParentDeath,
        Chdir(_) => Stage::Workdir,
        JoinCgroup(_) => Stage::Cgroup,
        Execve(_) => Stage::Exec,
        // a failed open goes on to the next attribute file (tested on its own)
        OpenAttr(_) => return None,
        ResetSignals | KeepFd(_) | Getpid | Close(_) | BoundingHas(_) | Getppid | Dumpable
        | SetDumpable(_) => return None,
    })
}

/// A seccomp program of `n` instructions (only its length is recorded).
fn program(n: usize) -> Prepared {
    let ret_allow = confine_bpf::Insn {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: 0x7fff_0000,
    };
    Prepared::new(&vec![ret_allow; n])
}

fn ruleset() -> Ruleset {
    let f = std::fs::File::open("/dev/null").unwrap();
    Ruleset::stand_in(f.into(), 6)
}

const DOCKER_CAPS: CapSets = CapSets {
    effective: 0b11,
    permitted: 0b11,
    inheritable: 0,
};

/// root as `confine run` runs it: Docker's capabilities kept (here 0 and 1 of 0..=3), the
/// rest dropped, seccomp while CAP_SYS_ADMIN is held, a user and groups, a working directory.
fn root_with_caps_dropped() -> Confinement {
    Confinement {
        bounding: Some(0b11),
        last_cap: 3,
        caps: Some(DOCKER_CAPS),
        ids: Some((vec![10, 20], 1000, 1001)),
        workdir: Some(c"/work".into()),
        ..Confinement::default()
    }
}

/// An unprivileged caller: no_new_privs first, a Landlock domain, seccomp after it all,
/// every capability set emptied; the bounding set and ids left alone.
fn unprivileged() -> Confinement {
    Confinement {
        no_new_privs: true,
        no_new_privs_first: true,
        landlock: Some(ruleset()),
        caps: Some(CapSets::default()),
        last_cap: 40,
        ..Confinement::default()
    }
}

/// What `ChildArgs` borrows.
struct Fixture {
    c: Confinement,
    candidates: Vec<CString>,
    argv: Vec<CString>,
    env: Vec<CString>,
}

/// How a test varies the arguments.
#[derive(Clone, Copy, Default)]
struct Opts {
    seccomp: bool,
    apparmor: bool,
    /// `-t`: a new terminal at descriptor 5 for 0, 1, 2, made the controlling terminal.
    tty: bool,
    /// Set and check the parent-death signal (no pid namespace).
    parent: bool,
}

impl Fixture {
    fn new(c: Confinement) -> Fixture {
        Fixture {
            c,
            candidates: vec![c"/usr/local/bin/sh".into(), c"/bin/sh".into()],
            argv: vec![c"sh".into()],
            env: vec![c"PATH=/bin".into()],
        }
    }

    fn args(&self, o: Opts) -> ChildArgs<'_> {
        let fd = if o.tty { 5 } else { -1 };
        ChildArgs {
            candidates: &self.candidates,
            argv: CStrArray::new(&self.argv),
            envp: CStrArray::new(&self.env),
            c: &self.c,
            seccomp: o.seccomp.then(|| (program(3), InstallFlags::default())),
            aa_value: o.apparmor.then(|| b"exec docker-default".to_vec()),
            stdio: [fd, fd, fd].map(AtomicI32::new),
            winsize: None,
            controlling_tty: o.tty,
            parent: AtomicI32::new(if o.parent { PARENT } else { 0 }),
            listen_pid: None,
            report: AtomicU64::new(0),
        }
    }
}

fn attr(i: usize) -> Call {
    OpenAttr(text(APPARMOR_EXEC[i]))
}

fn run_clean(a: &ChildArgs) -> Vec<Call> {
    let mut r = Recorder::new();
    assert_eq!(run(&mut r, a), Ok(Executed));
    r.calls
}

/// The configurations the order and fail-closed tests cover.
fn configurations() -> Vec<(&'static str, Fixture, Opts)> {
    let all = Opts {
        seccomp: true,
        apparmor: true,
        tty: true,
        parent: true,
    };
    let mut with_keep = root_with_caps_dropped();
    with_keep.keep_fds = 2;
    let mut root_nnp = root_with_caps_dropped();
    root_nnp.no_new_privs = true;
    root_nnp.landlock = Some(ruleset());
    vec![
        (
            "root, seccomp, caps dropped",
            Fixture::new(root_with_caps_dropped()),
            Opts {
                seccomp: true,
                parent: true,
                ..Opts::default()
            },
        ),
        ("root, everything, -t", Fixture::new(with_keep), all),
        ("root, no_new_privs, Landlock", Fixture::new(root_nnp), all),
        (
            "unprivileged",
            Fixture::new(unprivileged()),
            Opts {
                seccomp: true,
                ..Opts::default()
            },
        ),
        (
            "unprivileged, everything",
            Fixture::new(unprivileged()),
            all,
        ),
        (
            "nothing",
            Fixture::new(Confinement::default()),
            Opts::default(),
        ),
    ]
}

#[test]
fn root_drops_caps_and_installs_seccomp_while_it_still_may() {
    let f = Fixture::new(root_with_caps_dropped());
    let calls = run_clean(&f.args(Opts {
        seccomp: true,
        parent: true,
        ..Opts::default()
    }));
    assert_eq!(
        calls,
        [
            ResetSignals,
            Setsid,
            CloexecFrom(3),
            Keyring,
            Seccomp(3),
            BoundingHas(2),
            BoundingDrop(2),
            BoundingHas(3),
            BoundingDrop(3),
            AmbientClear,
            Setgroups(vec![10, 20]),
            Setresgid(1000),
            Setresuid(1001),
            Capset(DOCKER_CAPS),
            ParentDeathSignal,
            Getppid,
            Chdir("/work".into()),
            Execve("/usr/local/bin/sh".into()),
        ]
    );
}

/// Root without no_new_privs: landlock_restrict_self(2) needs CAP_SYS_ADMIN then, so the
/// domain must be entered before the bounding set, ids and capability sets drop it.
#[test]
fn root_without_no_new_privs_enters_landlock_while_it_still_may() {
    let mut c = root_with_caps_dropped();
    c.landlock = Some(ruleset());
    let f = Fixture::new(c);
    let calls = run_clean(&f.args(Opts::default()));
    let at = |call: &Call| calls.iter().position(|c| c == call).unwrap();
    assert!(!calls.contains(&NoNewPrivs), "{calls:?}");
    for later in [BoundingDrop(2), Setresuid(1001), Capset(DOCKER_CAPS)] {
        assert!(at(&Landlock) < at(&later), "{calls:?}");
    }
}

#[test]
fn root_with_apparmor_no_new_privs_and_a_terminal() {
    let mut c = root_with_caps_dropped();
    c.no_new_privs = true;
    c.keep_fds = 2;
    c.landlock = Some(ruleset());
    let f = Fixture::new(c);
    let calls = run_clean(&f.args(Opts {
        seccomp: true,
        apparmor: true,
        tty: true,
        parent: true,
    }));
    assert_eq!(
        calls,
        [
            ResetSignals,
            Setsid,
            ControllingTty(5),
            Dup2(5, 0),
            Dup2(5, 1),
            Dup2(5, 2),
            KeepFd(3),
            KeepFd(4),
            CloexecFrom(5),
            Keyring,
            attr(0),
            WriteAttr(ATTR_FD, "exec docker-default".into()),
            Close(ATTR_FD),
            Landlock,
            BoundingHas(2),
            BoundingDrop(2),
            BoundingHas(3),
            BoundingDrop(3),
            AmbientClear,
            Setgroups(vec![10, 20]),
            Setresgid(1000),
            Setresuid(1001),
            Capset(DOCKER_CAPS),
            NoNewPrivs,
            Seccomp(3),
            ParentDeathSignal,
            Getppid,
            Chdir("/work".into()),
            Execve("/usr/local/bin/sh".into()),
        ]
    );
}

#[test]
fn unprivileged_sets_no_new_privs_first() {
    let f = Fixture::new(unprivileged());
    let calls = run_clean(&f.args(Opts {
        seccomp: true,
        ..Opts::default()
    }));
    assert_eq!(
        calls,
        [
            ResetSignals,
            Setsid,
            CloexecFrom(3),
            Keyring,
            NoNewPrivs,
            Landlock,
            AmbientClear,
            Capset(CapSets::default()),
            NoNewPrivs,
            Seccomp(3),
            Execve("/usr/local/bin/sh".into()),
        ]
    );
}

#[test]
fn unprivileged_without_landlock_with_apparmor() {
    let mut c = unprivileged();
    c.landlock = None;
    let f = Fixture::new(c);
    let calls = run_clean(&f.args(Opts {
        seccomp: true,
        apparmor: true,
        ..Opts::default()
    }));
    assert_eq!(
        calls,
        [
            ResetSignals,
            Setsid,
            CloexecFrom(3),
            Keyring,
            attr(0),
            WriteAttr(ATTR_FD, "exec docker-default".into()),
            Close(ATTR_FD),
            NoNewPrivs,
            AmbientClear,
            Capset(CapSets::default()),
            NoNewPrivs,
            Seccomp(3),
            Execve("/usr/local/bin/sh".into()),
        ]
    );
}

#[test]
fn nothing_asked_is_session_descriptors_keyring_ambient_exec() {
    let f = Fixture::new(Confinement::default());
    assert_eq!(
        run_clean(&f.args(Opts::default())),
        [
            ResetSignals,
            Setsid,
            CloexecFrom(3),
            Keyring,
            AmbientClear,
            Execve("/usr/local/bin/sh".into()),
        ]
    );
}

#[test]
fn every_failing_step_stops_the_sequence_before_the_command() {
    const E: Errno = libc::EXDEV;
    for (name, f, o) in configurations() {
        let clean = run_clean(&f.args(o));
        let mut checked = 0;
        for (k, call) in clean.iter().enumerate() {
            let Some(stage) = stage_of(call) else {
                continue;
            };
            let mut r = Recorder::failing(k, E);
            let got = run(&mut r, &f.args(o));
            assert_eq!(got, Err((stage, E)), "{name}: failing {call:?}");
            // nothing after the failed call, but closing the attribute file it wrote to
            let mut expected = clean[..=k].to_vec();
            if matches!(call, WriteAttr(..)) {
                expected.push(Close(ATTR_FD));
            }
            assert_eq!(r.calls, expected, "{name}: failing {call:?}");
            if !matches!(call, Execve(_)) {
                assert!(
                    !r.calls.iter().any(|c| matches!(c, Execve(_))),
                    "{name}: {call:?} failed, yet execve ran"
                );
            }
            checked += 1;
        }
        assert!(checked >= 4, "{name}: only {checked} fallible steps");
    }
}

#[test]
fn infallible_calls_ignore_an_injected_failure() {
    for (name, f, o) in configurations() {
        let clean = run_clean(&f.args(o));
        for (k, call) in clean.iter().enumerate() {
            if stage_of(call).is_some() || matches!(call, OpenAttr(_)) {
                continue;
            }
            let mut r = Recorder::failing(k, libc::EXDEV);
            assert_eq!(run(&mut r, &f.args(o)), Ok(Executed), "{name}: {call:?}");
            assert_eq!(r.calls, clean, "{name}: {call:?}");
        }
    }
}

#[test]
fn keyring_unavailable_or_refused_is_not_an_error() {
    let f = Fixture::new(root_with_caps_dropped());
    let o = Opts {
        seccomp: true,
        ..Opts::default()
    };
    let clean = run_clean(&f.args(o));
    let k = clean.iter().position(|c| *c == Keyring).unwrap();
    for e in [libc::ENOSYS, libc::EPERM] {
        let mut r = Recorder::failing(k, e);
        assert_eq!(run(&mut r, &f.args(o)), Ok(Executed));
        assert_eq!(r.calls, clean);
    }
    let mut r = Recorder::failing(k, libc::EDQUOT);
    assert_eq!(run(&mut r, &f.args(o)), Err((Stage::Keyring, libc::EDQUOT)));
    assert_eq!(r.calls, clean[..=k]);
}

#[test]
fn apparmor_falls_back_to_the_old_attribute_file() {
    let f = Fixture::new(Confinement::default());
    let o = Opts {
        apparmor: true,
        ..Opts::default()
    };
    let clean = run_clean(&f.args(o));
    let k = clean.iter().position(|c| *c == attr(0)).unwrap();
    // the first one missing: the second is written
    let mut r = Recorder::failing(k, libc::ENOENT);
    assert_eq!(run(&mut r, &f.args(o)), Ok(Executed));
    assert_eq!(
        r.calls[k..k + 4],
        [attr(0), attr(1), clean[k + 1].clone(), Close(ATTR_FD)]
    );
    // neither opens: the second one's errno, and nothing more
    let mut r = Recorder::failing(k, libc::ENOENT);
    r.also_fail.push((k + 1, libc::EACCES));
    assert_eq!(
        run(&mut r, &f.args(o)),
        Err((Stage::AppArmor, libc::EACCES))
    );
    assert_eq!(r.calls[k..], [attr(0), attr(1)]);
}

#[test]
fn a_new_parent_stops_the_command() {
    let f = Fixture::new(root_with_caps_dropped());
    let mut r = Recorder::new();
    r.ppid = 1;
    let got = run(
        &mut r,
        &f.args(Opts {
            parent: true,
            ..Opts::default()
        }),
    );
    assert_eq!(got, Err((Stage::ParentDeath, libc::ESRCH)));
    assert_eq!(r.calls.last(), Some(&Getppid));
}

#[test]
fn execve_follows_execvp_search_rules() {
    let f = Fixture::new(Confinement::default());
    let o = Opts::default();
    let first = run_clean(&f.args(o)).len() - 1;
    // missing, then permission denied: EACCES once the list is exhausted
    let mut r = Recorder::failing(first, libc::ENOENT);
    r.also_fail.push((first + 1, libc::EACCES));
    assert_eq!(run(&mut r, &f.args(o)), Err((Stage::Exec, libc::EACCES)));
    assert_eq!(
        r.calls[first..],
        [Execve("/usr/local/bin/sh".into()), Execve("/bin/sh".into())]
    );
    // missing, then found
    let mut r = Recorder::failing(first, libc::ENOTDIR);
    assert_eq!(run(&mut r, &f.args(o)), Ok(Executed));
    assert_eq!(r.calls.last(), Some(&Execve("/bin/sh".into())));
    // both missing: ENOENT
    let mut r = Recorder::failing(first, libc::ENOENT);
    r.also_fail.push((first + 1, libc::ENOENT));
    assert_eq!(run(&mut r, &f.args(o)), Err((Stage::Exec, libc::ENOENT)));
}

#[test]
fn listen_pid_gets_the_child_pid() {
    let f = Fixture::new(Confinement::default());
    let mut buf = *b"LISTEN_PID=\0\0\0\0\0\0\0\0\0\0\0";
    let mut a = f.args(Opts::default());
    // SAFETY: `buf` outlives `a` and is not borrowed while `run` writes the digits.
    a.listen_pid = Some(unsafe { ListenSlot::new(buf.as_mut_ptr().add(11), 10) });
    let mut r = Recorder::new();
    assert_eq!(run(&mut r, &a), Ok(Executed));
    drop(a);
    assert_eq!(&buf, b"LISTEN_PID=4031\0\0\0\0\0\0\0");
    assert!(r.calls.contains(&Getpid));
}

#[test]
fn decimal_fills_and_pads() {
    let mut b = [b'x'; 10];
    write_decimal(&mut b, 4031);
    assert_eq!(&b, b"4031\0\0\0\0\0\0");
    write_decimal(&mut b, 0);
    assert_eq!(&b[..2], b"0\0");
    write_decimal(&mut b, u32::MAX);
    assert_eq!(&b, b"4294967295");
}

/// The arguments of a recorded run: a one-instruction filter with a listener.
fn recording(f: &Fixture) -> ChildArgs<'_> {
    let mut a = f.args(Opts::default());
    let flags = InstallFlags {
        new_listener: true,
        ..InstallFlags::default()
    };
    a.seccomp = Some((program(1), flags));
    a
}

/// Recording: the pidfd goes to the recorder right before the filter, in both places the
/// filter can go, and a listener at another number than the one announced stops the command
/// (the recorder would wait for the wrong descriptor, and the command hang at its next call).
#[test]
fn recording_hands_over_right_before_the_filter() {
    for c in [root_with_caps_dropped(), unprivileged()] {
        let mut c = c;
        c.record_to = Some(9);
        c.record_dumpable = true;
        let f = Fixture::new(c);
        let mut a = recording(&f);
        let calls = run_clean(&a);
        let at = calls.iter().position(|c| *c == HandOver(9)).unwrap();
        // dumpable for the hand-over (the double is not), as before right after the filter
        assert_eq!(calls[at - 1], SetDumpable(1), "{calls:?}");
        assert_eq!(calls[at + 1], Seccomp(1), "{calls:?}");
        assert_eq!(calls[at + 2], SetDumpable(0), "{calls:?}");
        assert!(matches!(calls.last(), Some(Execve(_))));

        // the double's listener is 7, the announced number 7: a filter without a listener
        // (or at another number) is a failure of the seccomp step
        a.seccomp = Some((program(1), InstallFlags::default()));
        let mut r = Recorder::new();
        assert_eq!(run(&mut r, &a), Err((Stage::Seccomp, libc::EBADFD)));
        assert!(!r.calls.iter().any(|c| matches!(c, Execve(_))));
        assert_eq!(r.calls.last(), Some(&SetDumpable(0)));
    }
}

/// A recorder holding CAP_SYS_PTRACE needs no dumpable window: none is opened (a process of
/// another user sharing the root init's memory must never be dumpable).
#[test]
fn recording_with_ptrace_rights_opens_no_dumpable_window() {
    let mut c = root_with_caps_dropped();
    c.record_to = Some(9);
    c.no_new_privs = true;
    let f = Fixture::new(c);
    let calls = run_clean(&recording(&f));
    assert!(calls.contains(&HandOver(9)));
    assert!(
        !calls.iter().any(|c| matches!(c, Dumpable | SetDumpable(_))),
        "{calls:?}"
    );
}

/// Recording with eBPF: the cgroup is joined after every other step, right before the first
/// execve (so none of confine's own calls is counted), once; a failed join stops the command.
#[test]
fn an_ebpf_recording_joins_its_cgroup_last() {
    for c in [root_with_caps_dropped(), unprivileged()] {
        let mut c = c;
        c.join_cgroup = Some(11);
        let f = Fixture::new(c);
        let o = Opts {
            seccomp: true,
            parent: true,
            ..Opts::default()
        };
        let calls = run_clean(&f.args(o));
        let n = calls.len();
        assert_eq!(calls[n - 2], JoinCgroup(11), "{calls:?}");
        assert!(matches!(calls[n - 1], Execve(_)));
        assert_eq!(calls.iter().filter(|c| **c == JoinCgroup(11)).count(), 1);

        let mut r = Recorder::failing(n - 2, libc::EACCES);
        assert_eq!(run(&mut r, &f.args(o)), Err((Stage::Cgroup, libc::EACCES)));
        assert!(!r.calls.iter().any(|c| matches!(c, Execve(_))));
    }
    // not recording: no join
    let f = Fixture::new(root_with_caps_dropped());
    assert!(!run_clean(&f.args(Opts::default()))
        .iter()
        .any(|c| matches!(c, JoinCgroup(_))));
}
