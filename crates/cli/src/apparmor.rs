//! `confine apparmor …`: the subcommands (generate, load, unload, status, compile) and the
//! template's host-dependent parts.

use clap::{Args, Subcommand, ValueHint};
use std::path::PathBuf;

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
