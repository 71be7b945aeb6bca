//! `confine seccomp export`'s arguments.

use crate::HostArgs;
use clap::{Args, ValueEnum, ValueHint};
use std::path::PathBuf;

/// Where an exported profile is deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// The OCI runtime spec's `linux.seccomp` object, resolved for the host (runc, crun,
    /// Kubernetes `Localhost` profiles)
    Oci,
    /// Docker's format, resolved for the host (`docker run --security-opt seccomp=FILE`)
    Docker,
    /// A Security Profiles Operator `SeccompProfile` (security-profiles-operator.x-k8s.io/v1),
    /// YAML (`--name` its name)
    Spo,
    /// The pod `securityContext` that uses the profile as a Kubernetes `Localhost` profile,
    /// and where the kubelet expects the file (`--to oci` writes it)
    K8s,
    /// A unit drop-in (`SystemCallFilter=` allow list compressed into systemd 252's
    /// `@groups`, `SystemCallErrorNumber=`, `SystemCallArchitectures=`)
    Systemd,
    /// The compiled program as raw `struct sock_filter` bytes, for `bwrap --seccomp FD`
    Bwrap,
    /// The compiled program as a C array, for embedding
    C,
}

/// `confine seccomp export`
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Profile: a path, `-` for standard input, or `docker-default` (the builtin)
    #[arg(value_name = "PROFILE", value_hint = ValueHint::FilePath)]
    pub profile: PathBuf,
    /// The format to export to
    #[arg(long = "to", value_name = "FORMAT", value_enum)]
    pub to: ExportFormat,
    /// The host to resolve for.
    #[command(flatten)]
    pub host: HostArgs,
    /// Write to FILE instead of standard output (needed for bwrap's binary program on a
    /// terminal)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// With --to k8s: the profile's file name under the kubelet's seccomp directory
    /// [default: profiles/PROFILE's file name, .json]; with --to spo: the SeccompProfile's
    /// name [default: PROFILE's file name]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// With --to spo: the profile named as `baseProfileName` (an SPO SeccompProfile or a JSON
    /// profile; its name is its `metadata.name`, else the file name). SPO unions it in, so it
    /// may allow nothing the profile does not; the export then lists only what it adds
    #[arg(long, value_name = "FILE")]
    pub base: Option<PathBuf>,
    /// With --to k8s: an AppArmor profile (loaded on the node) for the pod's
    /// `appArmorProfile` too
    #[arg(long, value_name = "PROFILE")]
    pub apparmor: Option<String>,
    /// Any part the target cannot express, or ignores, is an error (exit 1, nothing written)
    /// instead of a warning
    #[arg(long)]
    pub strict: bool,
}

/// Where an imported profile comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// Told by the content: a SeccompProfile, systemd lines, or a JSON profile
    Auto,
    /// A Security Profiles Operator `SeccompProfile` (v1 or v1beta1), YAML or JSON
    Spo,
    /// A unit, a drop-in, or a bare `SystemCallFilter=` value (systemd 252's groups)
    Systemd,
    /// The OCI `linux.seccomp` object (or a whole config.json)
    Oci,
    /// Docker's format
    Docker,
}

/// `confine seccomp import`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file: a path, or `-` for standard input
    #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub file: std::ffi::OsString,
    /// Its format
    #[arg(long = "from", value_name = "FORMAT", value_enum, default_value_t = ImportFormat::Auto)]
    pub from: ImportFormat,
    /// With an SPO profile that names a `baseProfileName`: the directory holding that profile
    /// (NAME.yaml, NAME.yml or NAME.json), unioned in as SPO does
    #[arg(long = "base-dir", value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub base_dir: Option<PathBuf>,
    /// Write the profile (Docker's format) to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}
