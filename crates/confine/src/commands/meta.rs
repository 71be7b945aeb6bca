//! `confine completions` and `confine man`: generated from the same clap definitions.

use crate::{output, Outcome};
use clap::CommandFactory;
use confine_cli::{Cli, CompletionsArgs, Shell};

/// Print completions for a shell.
pub fn completions(a: CompletionsArgs) -> anyhow::Result<Outcome> {
    let shell = match a.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "confine", &mut buf);
    output::emit(&String::from_utf8(buf)?, None)?;
    Ok(Outcome::Clean)
}

/// Print the man page, with a section per subcommand.
pub fn man() -> anyhow::Result<Outcome> {
    let cmd = Cli::command();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    for sub in cmd.get_subcommands() {
        for leaf in std::iter::once(sub).chain(sub.get_subcommands()) {
            let name = if std::ptr::eq(leaf, sub) {
                sub.get_name().to_string()
            } else {
                format!("{} {}", sub.get_name(), leaf.get_name())
            };
            buf.extend_from_slice(format!(".SH \"CONFINE {}\"\n", name.to_uppercase()).as_bytes());
            let page = clap_mangen::Man::new(leaf.clone().name(format!("confine {name}")));
            page.render_description_section(&mut buf)?;
            page.render_options_section(&mut buf)?;
        }
    }
    output::emit(&String::from_utf8(buf)?, None)?;
    Ok(Outcome::Clean)
}
