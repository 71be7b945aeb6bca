//! `confine seccomp lint` and `confine score`: judging what a filter decides.

use crate::HostArgs;
use clap::ValueHint;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// The least severe finding that makes `lint` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any finding
    Info,
    /// Low, medium or high
    Low,
    /// Medium or high
    Medium,
    /// High only
    High,
    /// Never: exit 0 whatever is found
    Never,
}

/// `confine seccomp lint`
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Profile: a path, `-` for standard input, or `docker-default` (the builtin); ignored
    /// with --bpf
    #[arg(value_name = "PROFILE", default_value = "docker-default", value_hint = ValueHint::FilePath)]
    pub profile: PathBuf,
    /// Judge a raw program instead (struct sock_filter bytes, host byte order: what `bwrap
    /// --seccomp FD` takes, or `seccomp compile` writes); findings then name no rule
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub bpf: Option<PathBuf>,
    /// The host the profile is resolved and judged for.
    #[command(flatten)]
    pub host: HostArgs,
    /// Compile the profile comparing all 64 bits of arguments (faithful, as runc) or only what
    /// the kernel reads
    #[arg(long, value_enum, value_name = "MODE", default_value_t = crate::ArgWidthArg::Faithful)]
    pub arg_width: crate::ArgWidthArg,
    /// Exit 1 when a finding is at least this severe
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::Info)]
    pub fail_on: FailOn,
    /// JSON output (one document)
    #[arg(long)]
    pub json: bool,
}

/// `--threshold`: a score from 0.0 to 10.0.
fn threshold(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=10.0).contains(&x) => Ok(x),
        _ => Err(format!("`{s}` is not a score from 0.0 to 10.0")),
    }
}

/// `confine score`
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Profile: a path, `-` for standard input, `docker-default` (the builtin) or
    /// `unconfined` (no seccomp), scored as `confine run --security-opt seccomp=PROFILE`
    /// applies it on this host
    #[arg(value_name = "PROFILE", default_value = "docker-default", value_hint = ValueHint::FilePath)]
    pub profile: PathBuf,
    /// Score a live process instead, from /proc and its seccomp filters (reading the filters
    /// needs CAP_SYS_ADMIN and an unfiltered confine; without, a filtered process is exit 2)
    #[arg(long, value_name = "PID", conflicts_with_all = ["user", "no_new_privileges", "arch", "kernel", "caps", "cap_add", "cap_drop"])]
    pub pid: Option<u32>,
    /// The host the profile is resolved for, and the capabilities granted.
    #[command(flatten)]
    pub host: HostArgs,
    /// The command runs as this uid (as `confine run --user UID`) [default: 0, root]
    #[arg(long, value_name = "UID")]
    pub user: Option<u32>,
    /// The command runs with no_new_privs (as `--security-opt no-new-privileges`; Docker's
    /// default is off)
    #[arg(long)]
    pub no_new_privileges: bool,
    /// Exit 1 when the score (as shown, one decimal) is above X (0.0 to 10.0)
    #[arg(long, value_name = "X", value_parser = threshold)]
    pub threshold: Option<f64>,
    /// JSON output (one document)
    #[arg(long)]
    pub json: bool,
}
