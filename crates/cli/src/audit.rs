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
