//! `confine inspect`'s arguments.

use clap::{Args, ValueHint};
use std::path::PathBuf;

/// `confine inspect`
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Process ids [default: confine itself]
    #[arg(value_name = "PID", conflicts_with = "all")]
    pub pids: Vec<u32>,
    /// Every process but the kernel's own threads: a table grouped by container
    #[arg(long)]
    pub all: bool,
    /// With --all, include the kernel threads (kthreadd and its children: no user space, no
    /// seccomp, every capability) that are left out by default
    #[arg(long = "kernel-threads", requires = "all")]
    pub kernel_threads: bool,
    /// JSON Lines: one JSON object per process and per line, with --all too (schema in
    /// docs/inspect-schema.md)
    #[arg(long)]
    pub json: bool,
    /// Also show where the threads of a process differ from its main thread
    #[arg(long)]
    pub threads: bool,
    /// Decode the installed seccomp filters (PTRACE_SECCOMP_GET_FILTER; needs CAP_SYS_ADMIN
    /// and an unfiltered confine): each syscall's verdict per architecture
    #[arg(long)]
    pub syscalls: bool,
    /// Say whether the running filters decide as PROFILE (a path, or builtin) resolved for this
    /// host and the process's capabilities would, and list the differences (exit 1 when they
    /// differ). Implies --syscalls
    #[arg(long, value_name = "PROFILE", value_hint = ValueHint::FilePath)]
    pub compare: Option<PathBuf>,
    /// Show capability masks and namespace inodes in hex as well
    #[arg(long)]
    pub hex: bool,
    /// Colour: auto (only on a terminal, never with a non-empty NO_COLOR or with TERM unset or
    /// dumb), always, never
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
    /// The procfs to read, for example a private mount with hidepid= (it must be a procfs:
    /// anything else is an error)
    #[arg(long = "proc", value_name = "DIR", default_value = "/proc", value_hint = ValueHint::DirPath)]
    pub proc_root: PathBuf,
    /// Read a saved copy of a procfs instead (PID/status, cmdline, cgroup, attr/…): every
    /// file must be a regular file of at most 16 MiB; the live filters cannot be read, so not
    /// with --syscalls or --compare
    #[arg(
        long = "proc-copy",
        value_name = "DIR",
        value_hint = ValueHint::DirPath,
        conflicts_with_all = ["proc_root", "syscalls", "compare"]
    )]
    pub proc_copy: Option<PathBuf>,
    /// The active LSMs, comma-separated, when reading a saved procfs from another machine
    /// [default: this kernel's]
    #[arg(long, value_name = "LIST")]
    pub lsm: Option<String>,
}
