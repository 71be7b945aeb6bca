//! `confine record`'s arguments, and the process arguments it shares with `confine run`.

use crate::CapabilityNames;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// The command's process, as `docker run` takes it: shared by `confine run` and `confine
/// record`.
#[derive(Clone, Debug, Args)]
pub struct ProcessArgs {
    /// Add a capability (ALL for every capability confine itself holds)
    #[arg(long = "cap-add", value_name = "CAP", value_parser = CapabilityNames, hide_possible_values = true)]
    pub cap_add: Vec<String>,
    /// Drop a capability (ALL for every capability)
    #[arg(long = "cap-drop", value_name = "CAP", value_parser = CapabilityNames, hide_possible_values = true)]
    pub cap_drop: Vec<String>,
    /// User and group, `UID[:GID]` or names
    #[arg(short, long, value_name = "USER[:GROUP]")]
    pub user: Option<String>,
    /// Additional groups (GID or name)
    #[arg(long = "group-add", value_name = "GROUP")]
    pub group_add: Vec<String>,
    /// Working directory
    #[arg(short, long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// Set an environment variable (KEY=VALUE, or KEY to pass the current value)
    #[arg(short, long, value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Read environment variables from a file (KEY=VALUE lines, # comments), as docker does
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Allocate a new pseudo-terminal for the command (the caller's terminal is never passed)
    #[arg(short = 't', long)]
    pub tty: bool,
    /// With -t: relay standard input to the command's terminal
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Pass descriptors 3 .. 3+N on (after the LISTEN_FDS ones); every other descriptor above
    /// 2 is closed, as runc does
    #[arg(long = "preserve-fds", value_name = "N", default_value_t = 0)]
    pub preserve_fds: u32,
    /// Run without process isolation: no pid namespace, no Landlock domain, so the command
    /// can trace and signal any process of its user (docker's --pid=host without AppArmor)
    #[arg(long = "unsafe-share-processes")]
    pub unsafe_share_processes: bool,
}

/// `confine record --until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UntilArg {
    /// The last of the command's processes has exited (double-forked daemons included)
    All,
    /// The command itself has exited (the rest are killed)
    Main,
}

/// `confine record --runtime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuntimeArg {
    /// confine's own calls after the filter, as measured in this recording
    Confine,
    /// runc's init, measured (crates/record/data/runtime-runc.txt)
    Runc,
    /// crun's, measured (crates/record/data/runtime-crun.txt)
    Crun,
    /// none
    None,
}

/// `confine record --mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Seccomp user notification: unprivileged, every call with its arguments, paths and
    /// ports (a few microseconds per call)
    Notify,
    /// An eBPF program counting the calls of the command's cgroup: root only, counts only,
    /// near-zero overhead
    Ebpf,
    /// eBPF when it can be used (root, the program loads, no notify-only option), notify
    /// otherwise
    Auto,
}

/// `confine record`
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Write the recorded profile (Docker's format) to FILE; with --agent, the directory that
    /// gets one profile per container (NAME.json); with --agent-profile, the profile to start
    /// containers with
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Serve as the OCI seccomp agent on this Unix socket (the profile's `listenerPath`):
    /// record every container a runtime hands over into DIR/NAME.json (NAME: the
    /// `listenerMetadata`, else the container id), until SIGTERM, SIGINT, SIGHUP or SIGQUIT
    #[arg(long, value_name = "SOCKET", conflicts_with_all = ["verify", "trace", "policy_out", "report", "command"])]
    pub agent: Option<PathBuf>,
    /// With --agent: print (or write with -o) the profile to start containers with instead:
    /// every known syscall notified to the agent, write allowed (runc refuses to notify it)
    #[arg(long = "agent-profile", requires = "agent")]
    pub agent_profile: bool,
    /// With --agent: start from this profile (a file, or docker-default). With
    /// --agent-profile, its allowed calls are notified and what it refuses stays refused;
    /// serving, recorded profiles keep its argument conditions
    #[arg(long, value_name = "PROFILE", requires = "agent")]
    pub base: Option<std::ffi::OsString>,
    /// With --agent-profile: the `listenerMetadata` (names the recorded profile)
    #[arg(
        long = "agent-metadata",
        value_name = "TEXT",
        requires = "agent_profile"
    )]
    pub agent_metadata: Option<String>,
    /// Record argument values: alone, those Docker's profile conditions on (personality a0,
    /// socket a0, clone a0's namespace flags); with a list, those plus NAME:I or NAME:I-J
    /// (e.g. ioctl:1,prctl:0,socket:0-2,mmap:2)
    #[arg(long, value_name = "LIST", num_args = 0..=1, default_missing_value = "", require_equals = true)]
    pub args: Option<String>,
    /// Distinct argument values kept per syscall; past it the rule is unconditional
    #[arg(long = "arg-limit", value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub arg_limit: u32,
    /// When the recording ends
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = UntilArg::All)]
    pub until: UntilArg,
    /// Add the calls this runtime makes between installing the filter and the command's
    /// execve [default: confine; with --agent: runc]
    #[arg(long, value_name = "RUNTIME", value_enum)]
    pub runtime: Option<RuntimeArg>,
    /// How calls are seen (the agent sees them through the runtime's listener)
    #[arg(long, value_name = "MODE", value_enum, default_value_t = ModeArg::Notify, conflicts_with = "agent")]
    pub mode: ModeArg,
    /// Write every event as JSON Lines (pid, tid, ABI, number, name, arguments, time)
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Also record paths and TCP/UDP/Unix endpoints, written as a file-and-network policy
    /// (SPO's spec.abstract with confine's extensions) for `confine run --policy`
    #[arg(long = "policy-out", value_name = "FILE")]
    pub policy_out: Option<PathBuf>,
    /// With --policy-out: a directory with N or more recorded entries stands for them all
    #[arg(long, value_name = "N", requires = "policy_out")]
    pub collapse: Option<u32>,
    /// Run the command again under the recorded profile (and policy) with `confine run`, and
    /// report whether it ended the same way
    #[arg(long)]
    pub verify: bool,
    /// Write the closing summary as JSON to FILE
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Print the closing summary as JSON (on standard error: standard output is the
    /// command's)
    #[arg(long)]
    pub json: bool,
    /// Security options as in docker run (no-new-privileges, apparmor=, systempaths=); a
    /// seccomp profile cannot be given: the recording takes its place
    #[arg(long = "security-opt", value_name = "OPT")]
    pub security_opt: Vec<std::ffi::OsString>,
    /// The command's process, as for `confine run`.
    #[command(flatten)]
    pub process: ProcessArgs,
    /// No notes and no live line; the summary is still printed
    #[arg(short, long)]
    pub quiet: bool,
    /// The command and its arguments
    #[arg(
        value_name = "CMD",
        required_unless_present = "agent",
        trailing_var_arg = true
    )]
    pub command: Vec<std::ffi::OsString>,
}
