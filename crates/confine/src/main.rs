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
    /// A specific status (`confine run` passes the command's own on).
    Code(u8),
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
        Command::Run(a) => commands::run::run(a),
        Command::Apparmor(c) => commands::apparmor::run(c),
        Command::Inspect(a) => commands::inspect::run(a),
        Command::Completions(a) => commands::meta::completions(a),
        Command::Man => commands::meta::man(),
    }
}

fn main() -> ExitCode {
    // `confine run` follows docker run: any confine failure, usage included, is 125
    let is_run = std::env::args_os().nth(1).is_some_and(|a| a == "run");
    let error_code = if is_run { 125 } else { 2 };
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(error_code),
            };
        }
    };
    match run(cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Ok(Outcome::BadInput) => ExitCode::from(error_code),
        Ok(Outcome::Code(c)) => ExitCode::from(c),
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("confine: error: {e:#}");
            ExitCode::from(error_code)
        }
    }
}
