//! The `confine` binary: parse the command line, run the command, map the outcome to an exit
//! code ([`exit`]: 0 success, 1 found something, 2 usage error or bad input; `run` follows
//! `docker run`).
#![forbid(unsafe_code)]

mod commands;
mod exit;
mod host;
mod output;

use clap::{CommandFactory, FromArgMatches};
use confine_cli::{Cli, Command, SeccompCommand};
use std::process::ExitCode;

pub use exit::Outcome;

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Seccomp(SeccompCommand::Resolve(a)) => commands::resolve::run(a),
        Command::Seccomp(SeccompCommand::Check(a)) => commands::check::run(a),
        Command::Seccomp(SeccompCommand::Syscalls(a)) => commands::syscalls::run(a),
        Command::Seccomp(SeccompCommand::Disasm(a)) => commands::disasm::run(a),
        Command::Seccomp(SeccompCommand::Compile(a)) => commands::compile::run(a),
        Command::Seccomp(SeccompCommand::Export(a)) => commands::export::run(a),
        Command::Seccomp(SeccompCommand::Import(a)) => commands::import::run(a),
        Command::Seccomp(SeccompCommand::Eval(a)) => commands::eval::run(a),
        Command::Seccomp(SeccompCommand::Diff(a)) => commands::diff::run(a),
        Command::Seccomp(SeccompCommand::Merge(a)) => commands::merge::run(a),
        Command::Seccomp(SeccompCommand::Lint(a)) => commands::lint::run(a),
        Command::Seccomp(SeccompCommand::Verify(a)) => commands::verify::run(a),
        Command::Run(a) => commands::run::run(a),
        Command::Record(a) => commands::record::run(a),
        Command::Apparmor(c) => commands::apparmor::run(c),
        Command::Inspect(a) => commands::inspect::run(a),
        Command::Score(a) => commands::score::run(a),
        Command::Completions(a) => commands::meta::completions(a),
        Command::Man => commands::meta::man(),
    }
}

fn main() -> ExitCode {
    let matches = Cli::command().try_get_matches();
    let cli = matches.and_then(|m| Cli::from_arg_matches(&m));
    let cli = match cli {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            // which convention applies is read from clap's own best-effort parse of the same
            // command line, not from argv
            let lenient = Cli::command().ignore_errors(true).try_get_matches();
            let name = lenient
                .ok()
                .and_then(|m| m.subcommand_name().map(str::to_string));
            return exit::usage(exit::Convention::of(name.as_deref()), &e);
        }
    };
    let convention = exit::Convention::of(Some(cli.command.name()));
    exit::code(convention, run(cli))
}
