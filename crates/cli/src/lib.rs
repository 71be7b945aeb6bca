//! confine's command line, as clap-derive structures only: the binary runs them, and the man
//! page and shell completions are generated from the same definitions.
//!
//! It must not depend on any library crate's behaviour (only on `confine-abi` for value
//! parsers): the binary converts these structures into the libraries' domain types.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsStr;

mod apparmor;
mod audit;
mod export;
mod inspect;
mod record;
mod run;
mod seccomp;
pub use apparmor::{
    ApparmorCommand, ApparmorCompileArgs, GenerateArgs, LoadArgs, StatusArgs, TemplateArgs,
    UnloadArgs,
};
pub use audit::{FailOn, LintArgs, ScoreArgs};
pub use export::{ExportArgs, ExportFormat, ImportArgs, ImportFormat};
pub use inspect::InspectArgs;
pub use record::{ModeArg, ProcessArgs, RecordArgs, RuntimeArg, UntilArg};
pub use run::{LandlockCompat, LsmArg, RunArgs, ScopeArg};
pub use seccomp::{
    ArgWidthArg, CheckArgs, CodegenArgs, CompileArgs, CompileFormat, DiffArgs, DisasmArgs,
    EvalArgs, HostArgs, MergeArgs, ResolveArgs, ResolveFormat, SeccompCommand, SyscallsArgs,
    VerifyArgs,
};

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
