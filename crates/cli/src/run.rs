//! `confine run`'s arguments: the command, its profile and LSM choices, Landlock scopes.

use crate::ProcessArgs;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// `confine run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Security options as in docker run: seccomp=PROFILE|builtin|unconfined,
    /// apparmor=NAME|unconfined, no-new-privileges[=true|false]
    #[arg(long = "security-opt", value_name = "OPT")]
    pub security_opt: Vec<std::ffi::OsString>,
    /// Seccomp profile: a path, `builtin` or `unconfined` (same as --security-opt seccomp=)
    #[arg(long, value_name = "PROFILE")]
    pub seccomp: Option<std::ffi::OsString>,
    /// AppArmor profile name or `unconfined` (same as --security-opt apparmor=)
    #[arg(long, value_name = "NAME")]
    pub apparmor: Option<String>,
    /// Load the AppArmor profile in FILE (through apparmor_parser, replacing one of the same
    /// name) and run the command in it; the file must define exactly one profile. Not in
    /// Docker, which only takes the names of loaded profiles.
    #[arg(long, value_name = "FILE", conflicts_with = "apparmor")]
    pub apparmor_file: Option<PathBuf>,
    /// Every capability confine holds, no seccomp, no AppArmor (unless a profile is given)
    #[arg(long)]
    pub privileged: bool,
    /// The command's process: user, environment, capabilities, descriptors (shared with
    /// `confine record`).
    #[command(flatten)]
    pub process: ProcessArgs,
    /// The file-and-network policy: a Security Profiles Operator AppArmorProfile (or its
    /// spec.abstract) with confine's extensions, YAML or JSON (docs/policy-schema.md);
    /// enforced by AppArmor where it is enabled, by Landlock otherwise (see --lsm)
    #[arg(long, value_name = "FILE", help_heading = "Policy")]
    pub policy: Option<PathBuf>,
    /// Allow reading files and listing directories beneath PATH (Landlock; with any path flag,
    /// file access and execution are limited to the paths given)
    #[arg(long = "ro", value_name = "PATH", help_heading = "Policy")]
    pub ro: Vec<PathBuf>,
    /// Allow reading and writing beneath PATH
    #[arg(long = "rw", value_name = "PATH", help_heading = "Policy")]
    pub rw: Vec<PathBuf>,
    /// Allow reading and executing beneath PATH
    #[arg(long = "rox", value_name = "PATH", help_heading = "Policy")]
    pub rox: Vec<PathBuf>,
    /// Allow reading, writing and executing beneath PATH
    #[arg(long = "rwx", value_name = "PATH", help_heading = "Policy")]
    pub rwx: Vec<PathBuf>,
    /// Allow binding this TCP port; with any, binding other ports is denied (Landlock ABI 4)
    #[arg(long = "bind-tcp", value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..), help_heading = "Policy")]
    pub bind_tcp: Vec<u16>,
    /// Allow connecting to this TCP port; with any, other ports are denied (Landlock ABI 4)
    #[arg(long = "connect-tcp", value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..), help_heading = "Policy")]
    pub connect_tcp: Vec<u16>,
    /// Stop signals or abstract Unix socket connections at the sandbox's edge (Landlock ABI 6)
    #[arg(
        long = "scope",
        value_name = "SCOPE",
        value_enum,
        help_heading = "Policy"
    )]
    pub scope: Vec<ScopeArg>,
    /// When the kernel's Landlock lacks a right the policy needs: refuse to run (require), or
    /// run without it, listing each right dropped on stderr (best-effort)
    #[arg(long = "landlock-compat", value_name = "MODE", value_enum, default_value_t = LandlockCompat::Require, help_heading = "Policy")]
    pub landlock_compat: LandlockCompat,
    /// Which LSM enforces the policy [default: apparmor where enabled, else landlock]
    #[arg(long, value_name = "LSM", value_enum, help_heading = "Policy")]
    pub lsm: Option<LsmArg>,
    /// Print no notes (what confine chose: no AppArmor on this kernel, no_new_privs set, a
    /// Landlock domain instead of a user namespace); the profile's own diagnostics and every
    /// error are still printed
    #[arg(short, long)]
    pub quiet: bool,
    /// The command and its arguments
    #[arg(value_name = "CMD", required = true, trailing_var_arg = true)]
    pub command: Vec<std::ffi::OsString>,
}

/// `confine run --scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    /// No signals to processes outside the sandbox
    Signal,
    /// No connections to abstract Unix sockets bound outside the sandbox
    AbstractUnix,
}

/// `confine run --landlock-compat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LandlockCompat {
    /// Refuse to run (exit 125) naming the right and the Landlock ABI that brings it
    Require,
    /// Run without what the kernel lacks; every right or rule dropped is listed
    BestEffort,
}

/// `confine run --lsm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LsmArg {
    /// AppArmor: the policy rendered as a profile, loaded and entered
    Apparmor,
    /// Landlock: the policy as one ruleset with the isolation's scopes
    Landlock,
    /// Both
    Both,
}
