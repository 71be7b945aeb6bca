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

/// Escape text for roff: backslashes, hyphens (`\-`, so that they are not hyphenation points),
/// and a leading `.` or `'` that would start a request.
fn roff_text(s: &str) -> String {
    let t = s.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

/// The SUBCOMMANDS section: every subcommand, pointing at its section of this page (clap_mangen
/// would point at confine-seccomp(1) and other pages that are not generated).
fn subcommands_section(cmd: &clap::Command) -> String {
    let mut s = String::from(".SH SUBCOMMANDS\n");
    for sub in cmd.get_subcommands() {
        let name = sub.get_name();
        let leaves: Vec<&str> = sub.get_subcommands().map(|l| l.get_name()).collect();
        s.push_str(".TP\n");
        s.push_str(&format!("\\fBconfine {}\\fR", roff_text(name)));
        if !leaves.is_empty() {
            s.push_str(&format!(" {}", roff_text(&leaves.join(" | "))));
        }
        s.push('\n');
        let mut about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        if !about.is_empty() && !about.ends_with('.') {
            about.push('.');
        }
        let title = format!("CONFINE {}", name.to_uppercase());
        let see = if leaves.is_empty() {
            format!("See the section {title} below.")
        } else {
            format!("See the section {title} and the sections after it below.")
        };
        s.push_str(&format!("{} {}\n", roff_text(&about), roff_text(&see)));
    }
    s
}

/// Print the man page: one page, with a section per subcommand.
pub fn man() -> anyhow::Result<Outcome> {
    let cmd = Cli::command();
    let mut buf = Vec::new();
    let top = clap_mangen::Man::new(cmd.clone());
    top.render_title(&mut buf)?;
    top.render_name_section(&mut buf)?;
    top.render_synopsis_section(&mut buf)?;
    top.render_description_section(&mut buf)?;
    top.render_options_section(&mut buf)?;
    buf.extend_from_slice(subcommands_section(&cmd).as_bytes());
    top.render_version_section(&mut buf)?;
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
