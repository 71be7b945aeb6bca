//! The `confine` binary: parse the command line, run the command, map the outcome to an exit
//! code (0 success, 1 found something, 2 usage error or bad input).
#![forbid(unsafe_code)]

mod commands;
mod host;
mod output;

use clap::Parser;
use confine_cli::{Cli, Command, SeccompCommand};
use std::process::ExitCode;

/// What a command found, mapped to the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Clean,
    /// Exit 1: the command worked and found something (warnings under --strict, differences).
    Findings,
    /// Exit 2: bad input, already reported on stderr.
    BadInput,
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Seccomp(SeccompCommand::Resolve(a)) => commands::resolve::run(a),
        Command::Seccomp(SeccompCommand::Check(a)) => commands::check::run(a),
        Command::Seccomp(SeccompCommand::Syscalls(a)) => commands::syscalls::run(a),
        Command::Seccomp(SeccompCommand::Disasm(a)) => commands::disasm::run(a),
        Command::Seccomp(SeccompCommand::Compile(a)) => commands::compile::run(a),
        Command::Seccomp(SeccompCommand::Eval(a)) => commands::eval::run(a),
        Command::Seccomp(SeccompCommand::Diff(a)) => commands::diff::run(a),
        Command::Completions(a) => commands::meta::completions(a),
        Command::Man => commands::meta::man(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Ok(Outcome::BadInput) => ExitCode::from(2),
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("confine: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
