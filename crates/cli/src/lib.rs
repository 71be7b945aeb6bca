//! confine's command line, as clap-derive structures only: the binary runs them, and the man
//! page and shell completions are generated from the same definitions.
//!
//! It must not depend on any library crate's behaviour (only on `confine-abi` for value
//! parsers): the binary converts these structures into the libraries' domain types.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use std::ffi::OsStr;
use std::path::PathBuf;

mod audit;
mod export;
mod record;
pub use audit::{FailOn, LintArgs, ScoreArgs};
pub use export::{ExportArgs, ExportFormat, ImportArgs, ImportFormat};
pub use record::{ModeArg, ProcessArgs, RecordArgs, RuntimeArg, UntilArg};

/// The value parser of `--cap-add`/`--cap-drop`: takes any UTF-8 string as before (confine
/// reads capability names itself: any case, `CAP_` optional, comma-separated lists, `ALL`, and
/// reports unknown names with its own message), and offers shell completion the names of
/// confine-abi's capability table, bare (`SYS_ADMIN`, as Docker documents them) and with the
/// prefix (`CAP_SYS_ADMIN`), plus `ALL`.
#[derive(Clone, Copy, Debug, Default)]
pub struct CapabilityNames;

impl CapabilityNames {
    /// The completion candidates: `ALL`, the bare names, then the prefixed ones.
    pub fn candidates() -> Vec<String> {
        let bare = || confine_abi::Capability::known().filter_map(|c| c.short_name());
        std::iter::once("ALL".to_string())
            .chain(bare().map(str::to_string))
            .chain(bare().map(|n| format!("CAP_{n}")))
            .collect()
    }
}

impl TypedValueParser for CapabilityNames {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            Self::candidates().into_iter().map(PossibleValue::new),
        ))
    }
}

/// Confine any Linux process the way Docker confines a container, and show what was done.
///
/// Exit codes: 0 success; 1 the command worked and found something (warnings under --strict,
/// differences); 2 usage error or bad input.
#[derive(Debug, Parser)]
#[command(
    name = "confine",
    version,
    about = "Confine any Linux process the way Docker confines a container, and show what was done",
    propagate_version = true
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
// Parsed once per run: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Seccomp profiles: resolve, check, syscall tables.
    #[command(subcommand)]
    Seccomp(SeccompCommand),
    /// Run a command confined the way `docker run` confines a container.
    ///
    /// Docker's defaults: the builtin docker-default seccomp profile resolved for the granted
    /// capabilities, Docker's 14 capabilities (none permitted or effective for a non-root user),
    /// empty inheritable and ambient sets, AppArmor docker-default where AppArmor is enabled.
    /// Exit status as `docker run`: the command's own; 125 when confine fails (usage included);
    /// 126 the command cannot be executed; 127 not found; 128+N killed by signal N.
    Run(RunArgs),
    /// Run a command and record every system call it makes (and, with --policy-out, the
    /// files and ports it uses) into the smallest profile that lets it run.
    ///
    /// Unprivileged: seccomp user notification, from the command's execve, for all its
    /// threads and descendants, on every ABI (i386 and x32 calls named on their own tables).
    /// The command runs confined as `confine run` would run it, without a seccomp profile.
    /// Exit status as `confine run`: the command's own; 125 when confine fails; 126, 127;
    /// 128+N killed by signal N.
    Record(RecordArgs),
    /// AppArmor: generate, load, unload and compile profiles; show the status.
    #[command(subcommand)]
    Apparmor(ApparmorCommand),
    /// How a process is confined, read from the kernel: AppArmor label and mode, seccomp mode
    /// and filters, capabilities by name, no_new_privs, ids.
    ///
    /// Without a PID: confine itself, which is what someone inside a container wants to know.
    Inspect(InspectArgs),
    /// An exposure score from 0.0 (nothing exposed) to 10.0 (everything), by a published
    /// rubric (docs/score.md), as `systemd-analyze security` scores units.
    ///
    /// Of a profile as `confine run --security-opt seccomp=PROFILE` applies it on this host
    /// (root unless --user, no_new_privs off unless --no-new-privileges, AppArmor
    /// docker-default where AppArmor is enabled, confine's Landlock scopes where the kernel has
    /// them), or of a live process (--pid). One line per item: weight, exposure, contribution
    /// to the score, reason. Exit 0; 1 when the score is above --threshold; 2 bad input, or a
    /// filtered process whose filters cannot be read.
    Score(ScoreArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Print the man page (roff) to standard output.
    Man,
}

impl Command {
    /// The subcommand's name on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Seccomp(_) => "seccomp",
            Command::Run(_) => "run",
            Command::Record(_) => "record",
            Command::Apparmor(_) => "apparmor",
            Command::Inspect(_) => "inspect",
            Command::Score(_) => "score",
            Command::Completions(_) => "completions",
            Command::Man => "man",
        }
    }
}

/// `confine seccomp …`
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum SeccompCommand {
    /// Resolve a Docker profile for a host and print the flattened OCI profile.
    ///
    /// The output is what dockerd hands to runc: the rules that apply on the host, in order,
    /// names in the profile's order, `architectures` from the host's archMap entry. It is
    /// stable byte for byte and can be given to `docker run --security-opt seccomp=FILE` or used
    /// as a Kubernetes `Localhost` profile.
    Resolve(ResolveArgs),
    /// Check profiles: every error and warning, with file, line, column and rule.
    ///
    /// Each profile is also compiled for the host, which reports what `confine run` would meet
    /// there: a program over the kernel's 4096 instructions, a rule libseccomp refuses, filter
    /// flags the kernel lacks, execve denied. A profile that confines nothing is a warning.
    /// Exit 0 when clean (warnings allowed), 1 when there are warnings and --strict is given,
    /// 2 when any profile has an error or cannot be read.
    Check(CheckArgs),
    /// Show the syscall table of an architecture, or one syscall on every architecture.
    Syscalls(SyscallsArgs),
    /// Compile a profile into a classic-BPF seccomp program.
    ///
    /// Decides exactly what runc + libseccomp would install for the profile on the host (runc's
    /// rule semantics, libseccomp's merging, runc's -ENOSYS stub), laid out as a range tree
    /// over syscall numbers that the kernel's constant-action cache can follow.
    Compile(CompileArgs),
    /// Evaluate one syscall against a profile or a compiled program: the action, the rule that
    /// decided it, the instructions executed, and a note when an argument the kernel reads
    /// narrower than 64 bits would change the verdict. Also `seccomp explain`.
    #[command(visible_alias = "explain")]
    Eval(EvalArgs),
    /// Compare two profiles: the syscalls whose verdict differs on each architecture.
    ///
    /// Where a verdict depends on arguments, an example argument vector is shown as `seccomp
    /// eval` reads it (hex with 0x, decimal below 10). Exit 0 when they decide alike, 1 when
    /// they differ.
    Diff(DiffArgs),
    /// Disassemble a raw seccomp program (`struct sock_filter` bytes, host byte order).
    ///
    /// The input is what `bwrap --seccomp FD` takes and PTRACE_SECCOMP_GET_FILTER returns. It is
    /// first checked exactly as the kernel checks a filter; a program the kernel would refuse is
    /// reported with the reason and exit 2.
    Disasm(DisasmArgs),
    /// Merge profiles of one program (several recordings, say) into their union: every syscall
    /// one of them allows, the result allows.
    ///
    /// The profiles must share defaultAction (and defaultErrnoRet), listenerPath and
    /// listenerMetadata, and be resolved (no archMap, includes or excludes: run `seccomp
    /// resolve` first). Per syscall, an unconditional ALLOW in any profile covers its
    /// conditional ALLOW rules, and any ALLOW beats another action (ERRNO, KILL, LOG, …): each
    /// such widening is listed on standard error. Architectures and flags are united (a profile
    /// without flags counts runc's implicit SPEC_ALLOW). A syscall no profile allows but two
    /// give different actions is an error.
    ///
    /// The result is stable byte for byte: names sorted, the unconditional ALLOW rule first,
    /// then conditional ALLOW rules by name and arguments, then the other actions. It goes to
    /// standard output, or with -o to FILE (replaced atomically); --json needs -o and prints
    /// the summary as one JSON document on standard output. Exit 0 merged, 2 usage error or a
    /// profile unreadable, invalid or not mergeable.
    Merge(MergeArgs),
    /// Export a profile for where it is deployed: the OCI `linux.seccomp` object, Docker's
    /// format, the compiled program for `bwrap --seccomp FD`, or a C array.
    ///
    /// Whatever the target cannot express or ignores is a warning on standard error (with
    /// --strict, an error: exit 1, nothing written).
    Export(ExportArgs),
    /// Import a profile from where it was deployed: an SPO SeccompProfile, a systemd unit or
    /// `SystemCallFilter=` value, an OCI or Docker profile; the result is Docker's format.
    Import(ImportArgs),
    /// Judge a profile (or a raw program) by what it decides: namespaces, kernel attack
    /// surface, other ABIs, a default that allows, EPERM where glibc needs ENOSYS, LOG or
    /// TRACE left in, names no covered architecture has, 32-bit arguments compared as 64.
    ///
    /// Each finding has a stable id, a severity, the rule that causes it, an example call
    /// with the filter's answer, and a reference. Exit 0 when nothing at least as severe as
    /// --fail-on is found, 1 when something is, 2 on bad input.
    Lint(LintArgs),
    /// Prove that a program decides exactly as the profile's policy (or as another program)
    /// for every input: every arch value, every syscall number, every argument value.
    ///
    /// The program is the profile's compilation, or a raw one with --bpf (libseccomp's, one
    /// dumped from a container, one given to bwrap); --against compares two programs. The
    /// answer is "proved" with the number of cases the inputs were split into, or a
    /// counterexample per difference class (arch, nr, arguments, both verdicts), each replayed
    /// on the emulator. Exit 0 proved, 1 a counterexample or undecided (over 4,096
    /// instructions, or past the work bound: the reason is printed), 2 usage or input errors.
    Verify(VerifyArgs),
}

/// `confine seccomp verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Profile: a path, `-` for standard input, or `docker-default` (the builtin); not read
    /// when both --bpf and --against are given
    #[arg(value_name = "PROFILE", default_value = "docker-default", value_hint = ValueHint::FilePath)]
    pub profile: PathBuf,
    /// The program to prove (raw struct sock_filter bytes, `-` for standard input) instead of
    /// the profile's compilation
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub bpf: Option<PathBuf>,
    /// Prove against this program (raw struct sock_filter bytes) instead of the policy
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub against: Option<PathBuf>,
    /// The host the profile is resolved for.
    #[command(flatten)]
    pub host: HostArgs,
    /// Leave out runc's -ENOSYS stub
    #[arg(long)]
    pub no_enosys_stub: bool,
    /// Compare all 64 bits of arguments (faithful, as runc) or only what the kernel reads
    #[arg(long, value_enum, value_name = "MODE", default_value_t = ArgWidthArg::Faithful)]
    pub arg_width: ArgWidthArg,
    /// JSON output (one document)
    #[arg(long)]
    pub json: bool,
}

/// How much of an argument a seccomp condition compares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ArgWidthArg {
    /// All 64 bits of the register on 64-bit ABIs, as libseccomp and runc do (Docker's
    /// behaviour)
    #[default]
    Faithful,
    /// Only the bits the kernel reads: the low 32 bits of an argument the kernel reads as 32
    /// bits (or fewer), so a high half cannot get a refused value through (confine only)
    Kernel,
}

/// Output of `seccomp compile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompileFormat {
    /// struct sock_filter bytes, host byte order (for bwrap --seccomp, or prctl)
    Raw,
    /// A readable listing
    Disasm,
    /// JSON: the instructions and what went into them
    Json,
    /// A C array of struct sock_filter
    C,
}

/// `confine seccomp compile`
#[derive(Debug, Args)]
pub struct CompileArgs {
    /// Profile: a path, `-` for standard input, or `docker-default` (the builtin)
    #[arg(value_name = "PROFILE", default_value = "docker-default", value_hint = ValueHint::FilePath)]
    pub profile: PathBuf,
    /// The host to resolve for.
    #[command(flatten)]
    pub host: HostArgs,
    /// Write the program to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = CompileFormat::Raw)]
    pub format: CompileFormat,
    /// Use the simple reference code generator instead of the optimiser
    #[arg(long)]
    pub reference: bool,
    /// Prove the program decides exactly as the profile's policy for every input before
    /// writing it (`seccomp verify`); nothing is written, exit 1, when it is not proved
    #[arg(long)]
    pub verify: bool,
    /// Leave out runc's -ENOSYS stub (numbers above the profile's highest get the default action)
    #[arg(long)]
    pub no_enosys_stub: bool,
    /// Compare all 64 bits of arguments (faithful, as runc) or only what the kernel reads
    #[arg(long, value_enum, value_name = "MODE", default_value_t = ArgWidthArg::Faithful)]
    pub arg_width: ArgWidthArg,
}

/// `confine seccomp eval`
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Profile (path, `-` or `docker-default`); ignored with --bpf
    #[arg(long, value_name = "PROFILE", default_value = "docker-default", value_hint = ValueHint::FilePath)]
    pub profile: PathBuf,
    /// Evaluate a compiled program (raw struct sock_filter bytes, `-` for standard input)
    /// instead of a profile
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub bpf: Option<PathBuf>,
    /// The syscall: a name, or a number (decimal or 0x…) of --arch
    #[arg(value_name = "SYSCALL")]
    pub syscall: String,
    /// Up to six arguments (decimal or 0x…)
    #[arg(value_name = "ARG", num_args = 0..=6)]
    pub args: Vec<String>,
    /// The ABI of the call, when it is not the host's: e.g. x86 for an `int 0x80` call or x32
    /// under an amd64 filter [default: --arch]
    #[arg(long, value_name = "ABI")]
    pub abi: Option<String>,
    /// The host (its --arch is also the architecture of the call).
    #[command(flatten)]
    pub host: HostArgs,
    /// Leave out runc's -ENOSYS stub
    #[arg(long)]
    pub no_enosys_stub: bool,
    /// Compare all 64 bits of arguments (faithful, as runc) or only what the kernel reads
    #[arg(long, value_enum, value_name = "MODE", default_value_t = ArgWidthArg::Faithful)]
    pub arg_width: ArgWidthArg,
    /// Also print every instruction executed, as the disassembler shows it
    #[arg(long)]
    pub trace: bool,
    /// JSON output
    #[arg(long)]
    pub json: bool,
}

/// `confine seccomp diff`
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The first profile (path, `-` or `docker-default`)
    #[arg(value_name = "A", value_hint = ValueHint::FilePath)]
    pub a: PathBuf,
    /// The second profile
    #[arg(value_name = "B", value_hint = ValueHint::FilePath)]
    pub b: PathBuf,
    /// The host both are resolved for.
    #[command(flatten)]
    pub host: HostArgs,
    /// How both programs compare arguments: all 64 bits (faithful, as runc) or only what the
    /// kernel reads
    #[arg(long, value_enum, value_name = "MODE", default_value_t = ArgWidthArg::Faithful)]
    pub arg_width: ArgWidthArg,
    /// How the second program compares arguments, when it differs from the first (compare a
    /// profile's two modes with `diff P P --b-arg-width kernel`)
    #[arg(long, value_enum, value_name = "MODE")]
    pub b_arg_width: Option<ArgWidthArg>,
    /// JSON output (one object per difference, JSON Lines)
    #[arg(long)]
    pub json: bool,
}

/// `confine seccomp merge`
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The profiles, at least two: paths, or `-` for standard input (once)
    #[arg(value_name = "PROFILE", num_args = 2.., required = true, value_hint = ValueHint::FilePath)]
    pub profiles: Vec<PathBuf>,
    /// Write the merged profile to FILE (through a temporary file in its directory, renamed
    /// over it) instead of standard output
    #[arg(short, long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub output: Option<PathBuf>,
    /// With -o: print a JSON summary on standard output (inputs, syscalls allowed, widenings)
    /// instead of the text summary on standard error
    #[arg(long, requires = "output")]
    pub json: bool,
}

/// `confine seccomp disasm`
#[derive(Debug, Args)]
pub struct DisasmArgs {
    /// The program file, or `-` for standard input
    #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub file: PathBuf,
    /// One JSON object per instruction (JSON Lines)
    #[arg(long)]
    pub json: bool,
}

/// The host a Docker profile is resolved for (defaults: this machine).
#[derive(Debug, Clone, Args)]
pub struct HostArgs {
    /// Native architecture: Docker's (amd64), the kernel's (x86_64) or libseccomp's
    /// (SCMP_ARCH_X86_64) name [default: this machine's]
    #[arg(long, value_name = "ARCH")]
    pub arch: Option<String>,
    /// Kernel version as major.minor, e.g. 6.8 [default: the running kernel]
    #[arg(long, value_name = "X.Y")]
    pub kernel: Option<String>,
    /// Bounding capability set: docker-default, all, none, or a comma-separated list
    /// (CAP_ prefix and case optional)
    #[arg(long, value_name = "SET", default_value = "docker-default")]
    pub caps: String,
    /// Add a capability, as `docker run --cap-add` (ALL for every capability)
    #[arg(long = "cap-add", value_name = "CAP", value_parser = CapabilityNames, hide_possible_values = true)]
    pub cap_add: Vec<String>,
    /// Drop a capability, as `docker run --cap-drop` (ALL for every capability)
    #[arg(long = "cap-drop", value_name = "CAP", value_parser = CapabilityNames, hide_possible_values = true)]
    pub cap_drop: Vec<String>,
}

/// Output shape of `seccomp resolve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResolveFormat {
    /// The runtime-spec linux.seccomp object
    Oci,
    /// The same rules as a Docker profile, keeping rule comments
    Docker,
}

/// `confine seccomp resolve`
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// Profile: a path, `-` for standard input, or `docker-default` (the builtin)
    #[arg(value_name = "PROFILE", default_value = "docker-default", value_hint = ValueHint::FilePath)]
    pub profile: PathBuf,
    /// The host to resolve for.
    #[command(flatten)]
    pub host: HostArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = ResolveFormat::Oci)]
    pub format: ResolveFormat,
    /// Write the profile to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Treat warnings as errors: print nothing and exit 1 when there are any
    #[arg(long)]
    pub strict: bool,
}

/// `confine seccomp check`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Profiles: paths, `-` for standard input, or `docker-default`
    #[arg(value_name = "PROFILE", required = true, value_hint = ValueHint::FilePath)]
    pub profiles: Vec<PathBuf>,
    /// The host used to find syscall names unknown on every covered architecture.
    #[command(flatten)]
    pub host: HostArgs,
    /// Exit 1 when there are warnings
    #[arg(long)]
    pub strict: bool,
    /// One JSON object per profile (JSON Lines)
    #[arg(long)]
    pub json: bool,
}

/// `confine seccomp syscalls`
#[derive(Debug, Args)]
pub struct SyscallsArgs {
    /// A syscall name (shown on every architecture) or number (on --arch)
    #[arg(value_name = "NAME|NUMBER")]
    pub query: Option<String>,
    /// Architecture, any spelling [default: this machine's]
    #[arg(long, value_name = "ARCH")]
    pub arch: Option<String>,
    /// JSON output
    #[arg(long)]
    pub json: bool,
}

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

/// Shells for `confine completions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// GNU bash
    Bash,
    /// Z shell
    Zsh,
    /// fish
    Fish,
}

/// `confine completions`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn capability_candidates_are_the_abi_table_and_all() {
        let c = CapabilityNames::candidates();
        let known = confine_abi::Capability::known().count();
        assert_eq!(c.len(), 1 + 2 * known);
        assert_eq!(c[0], "ALL");
        for n in &c[1..] {
            assert!(confine_abi::Capability::parse(n).is_ok(), "{n}");
        }
        assert!(c.iter().any(|n| n == "SYS_ADMIN") && c.iter().any(|n| n == "CAP_SYS_ADMIN"));
        // the parser itself refuses nothing: confine reports unknown names in its own words
        let cmd = Cli::command();
        for v in ["cap_fly", "sys_admin,Net_Admin", "all"] {
            let got = CapabilityNames
                .parse_ref(&cmd, None, OsStr::new(v))
                .unwrap();
            assert_eq!(got, v);
        }
    }
}

/// `confine apparmor …`
#[derive(Debug, Subcommand)]
pub enum ApparmorCommand {
    /// Print the docker-default profile (Docker's rules) rendered for this host, or a
    /// file-and-network policy (--policy) rendered as a profile.
    ///
    /// As Docker: `abi <abi/3.0>,` when /etc/apparmor.d/abi/3.0 exists, `#include
    /// <tunables/global>` when present (else `@{PROC}=/proc/`), `#include <abstractions/base>`
    /// when present.
    Generate(GenerateArgs),
    /// Load a profile into the kernel through `apparmor_parser -Kr` on standard input (nothing
    /// is written to disk), then check that the kernel lists it.
    Load(LoadArgs),
    /// Remove a loaded profile.
    Unload(UnloadArgs),
    /// Whether AppArmor is enabled (and why not), the active LSMs, loaded profiles and their
    /// modes, and processes per profile.
    Status(StatusArgs),
    /// Compile a profile offline against a saved kernel features file (`apparmor_parser -Q -K
    /// -M`), to check it or to compare binary policy; nothing is loaded.
    Compile(ApparmorCompileArgs),
}

/// The template's host-dependent parts.
#[derive(Debug, Clone, Args)]
pub struct TemplateArgs {
    /// The profile's name [default: docker-default; with --policy, the SPO object's
    /// metadata.name, else the file's name without its extension, else confine-policy]
    #[arg(long)]
    pub name: Option<String>,
    /// The daemon's label, allowed to signal the profile's processes [default: confine's own
    /// label, or unconfined]
    #[arg(long, value_name = "LABEL")]
    pub daemon_profile: Option<String>,
    /// The abi line: auto (abi/3.0 when the host has it), 3.0, or none
    #[arg(long, value_name = "ABI", default_value = "auto", value_parser = ["auto", "3.0", "none"])]
    pub abi: String,
    /// Include nothing from the AppArmor directory (no abi, tunables or abstractions)
    #[arg(long)]
    pub no_includes: bool,
    /// Where to look for abi/, tunables/ and abstractions/ (and where apparmor_parser resolves
    /// includes)
    #[arg(long, value_name = "DIR", default_value = "/etc/apparmor.d")]
    pub apparmor_dir: PathBuf,
}

/// `confine apparmor generate`
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Template parameters
    #[command(flatten)]
    pub template: TemplateArgs,
    /// Write to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Render this file-and-network policy (an SPO AppArmorProfile or its spec.abstract, plus
    /// confine's extensions; YAML or JSON; `-` for standard input) instead of docker-default;
    /// what AppArmor cannot express exactly is printed on stderr as `FILE:LINE:COL: note: …`
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub policy: Option<PathBuf>,
    /// With --policy: print nothing and exit 1 when AppArmor cannot express the policy exactly
    #[arg(long, requires = "policy")]
    pub strict: bool,
    /// Print one JSON document: {"profile": TEXT, "approximations": [...]}
    #[arg(long)]
    pub json: bool,
}

/// `confine apparmor load`
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The profile file, or `-` for standard input
    #[arg(
        value_name = "FILE",
        required_unless_present = "default",
        conflicts_with = "default",
        value_hint = ValueHint::FilePath
    )]
    pub file: Option<PathBuf>,
    /// Load docker-default rendered for this host
    #[arg(long)]
    pub default: bool,
    /// Template parameters (with --default)
    #[command(flatten)]
    pub template: TemplateArgs,
    /// Load in complain mode (log instead of deny)
    #[arg(long)]
    pub complain: bool,
}

/// `confine apparmor unload`
#[derive(Debug, Args)]
pub struct UnloadArgs {
    /// The profile's name
    pub name: String,
}

/// `confine apparmor status`
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// `confine apparmor compile`
#[derive(Debug, Args)]
pub struct ApparmorCompileArgs {
    /// The profile file, or `-` for standard input
    #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub file: PathBuf,
    /// A kernel features file (as captured from /sys/kernel/security/apparmor/features)
    #[arg(long, value_name = "FILE")]
    pub features: PathBuf,
    /// Where includes and abi files are looked up
    #[arg(long, value_name = "DIR")]
    pub apparmor_dir: Option<PathBuf>,
    /// Write the binary policy to FILE (default: report its size only)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

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
