//! What a run asks for: the values of `confine run`'s command line, as plain data.

use crate::policy::{Lsm, QuickRules};
use confine_policy::landlock::Compat;
use std::ffi::OsString;
use std::path::PathBuf;

/// One `confine run`: the command and the confinement asked for, as `docker run` takes them.
/// Values are as given (the binary builds this from its command-line parser); [`crate::plan`]
/// checks and resolves them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRequest {
    /// The command and its arguments (at least the command).
    pub command: Vec<OsString>,
    /// `--user USER[:GROUP]` (names or ids); None: root, as Docker's default.
    pub user: Option<String>,
    /// `--group-add`: more groups (names or ids).
    pub group_add: Vec<String>,
    /// `--env KEY=VALUE` or `KEY` (confine's own value).
    pub env: Vec<String>,
    /// `--env-file`: files of `KEY=VALUE` lines, read before `--env`.
    pub env_file: Vec<PathBuf>,
    /// `--workdir`.
    pub workdir: Option<PathBuf>,
    /// `-t`: a new pseudo-terminal.
    pub tty: bool,
    /// `-i`: relay standard input.
    pub interactive: bool,
    /// `--security-opt` values, in order (`seccomp=`, `apparmor=`, `no-new-privileges`,
    /// `systempaths=unconfined`, `label=`); parsed by [`crate::options::parse`] at planning,
    /// so that its errors and notes come in the same order as before.
    pub security_opt: Vec<OsString>,
    /// `--seccomp` (same as `--security-opt seccomp=`, which it overrides).
    pub seccomp: Option<OsString>,
    /// `--apparmor` (same as `--security-opt apparmor=`, which it overrides).
    pub apparmor: Option<String>,
    /// `--apparmor-file`: load the one profile in this file and run the command in it.
    pub apparmor_file: Option<PathBuf>,
    /// `--cap-add` capability names (or ALL).
    pub cap_add: Vec<String>,
    /// `--cap-drop` capability names (or ALL).
    pub cap_drop: Vec<String>,
    /// `--privileged`.
    pub privileged: bool,
    /// `--preserve-fds N`: descriptors 3 .. 3+N passed on (after the LISTEN_FDS ones).
    pub preserve_fds: u32,
    /// `--unsafe-share-processes`: no pid namespace, no Landlock domain.
    pub unsafe_share_processes: bool,
    /// `--policy FILE`: the file-and-network policy (overrides `--security-opt landlock=`).
    pub policy: Option<PathBuf>,
    /// `--ro`, `--rw`, `--rox`, `--rwx`, `--bind-tcp`, `--connect-tcp`, `--scope`.
    pub rules: QuickRules,
    /// `--landlock-compat`: what to do when the kernel's Landlock lacks a right the policy needs.
    pub landlock_compat: Compat,
    /// `--lsm`: which LSM enforces the policy; None: AppArmor where it is enabled, Landlock
    /// otherwise (Landlock for `--security-opt landlock=`).
    pub lsm: Option<Lsm>,
    /// `confine record`: every call of the command goes to a recorder instead of a profile.
    pub record: Option<Recording>,
    /// `confine record --mode ebpf`: no filter; the command joins a cgroup whose calls a
    /// program counts.
    pub record_cgroup: Option<CgroupRecording>,
}

/// How a recorded run differs from a confined one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recording {
    /// The socket (a descriptor of confine's) over which the command's process hands the
    /// recorder a pidfd of itself just before it installs the recording filter.
    pub socket: i32,
    /// Wait for every descendant of the command (daemons that double-fork included), not only
    /// the command, before the run ends.
    pub wait_all: bool,
}

/// A recording by cgroup (eBPF): the command's process joins the cgroup as its last step
/// before execve, so that confine's own steps are not counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CgroupRecording {
    /// The cgroup's `cgroup.procs`, open for writing (close-on-exec), a descriptor of
    /// confine's.
    pub procs: i32,
    /// Wait for every descendant of the command, as [`Recording::wait_all`].
    pub wait_all: bool,
}

impl Default for RunRequest {
    fn default() -> RunRequest {
        RunRequest {
            command: Vec::new(),
            user: None,
            group_add: Vec::new(),
            env: Vec::new(),
            env_file: Vec::new(),
            workdir: None,
            tty: false,
            interactive: false,
            security_opt: Vec::new(),
            seccomp: None,
            apparmor: None,
            apparmor_file: None,
            cap_add: Vec::new(),
            cap_drop: Vec::new(),
            privileged: false,
            preserve_fds: 0,
            unsafe_share_processes: false,
            policy: None,
            rules: QuickRules::default(),
            landlock_compat: Compat::Require,
            lsm: None,
            record: None,
            record_cgroup: None,
        }
    }
}

impl RunRequest {
    /// A request to run `command` with Docker's defaults.
    pub fn new<I, S>(command: I) -> RunRequest
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        RunRequest {
            command: command.into_iter().map(Into::into).collect(),
            ..RunRequest::default()
        }
    }
}
