//! `confine seccomp …`: the subcommands and their arguments (compile, eval, verify, diff,
//! merge, disasm, resolve, check, syscalls), and the host a Docker profile is resolved for.

use crate::{CapabilityNames, ExportArgs, ImportArgs, LintArgs};
use clap::{Args, Subcommand, ValueEnum, ValueHint};
use std::path::PathBuf;

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
    /// How the program is generated.
    #[command(flatten)]
    pub codegen: CodegenArgs,
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

/// How the profile's policy becomes a program, for `seccomp verify` and `seccomp eval`
/// (`seccomp compile` has the same options with its own help).
#[derive(Debug, Clone, Copy, Args)]
pub struct CodegenArgs {
    /// Leave out runc's -ENOSYS stub
    #[arg(long)]
    pub no_enosys_stub: bool,
    /// Compare all 64 bits of arguments (faithful, as runc) or only what the kernel reads
    #[arg(long, value_enum, value_name = "MODE", default_value_t = ArgWidthArg::Faithful)]
    pub arg_width: ArgWidthArg,
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
    /// How the program is generated.
    #[command(flatten)]
    pub codegen: CodegenArgs,
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
