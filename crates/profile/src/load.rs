//! Where profiles come from: the builtin, a file, or standard input.

use crate::builtin;
use crate::json::LineIndex;
use crate::parse::{parse_profile, Parsed, MAX_PROFILE_BYTES};
use std::ffi::OsStr;
use std::path::PathBuf;

/// The largest profile read (16 MiB; the parser refuses larger ones too).
const LIMIT: u64 = MAX_PROFILE_BYTES as u64;

/// An error reading a profile's bytes (parse errors are diagnostics, not this).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read: missing, not a regular file (a FIFO, a device, a
    /// directory), or larger than 16 MiB.
    #[error("cannot read seccomp profile {0}")]
    Input(confine_input::InputError),
}

/// This module's result: an error is a [`LoadError`].
pub type Result<T, E = LoadError> = std::result::Result<T, E>;

/// A profile source as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The builtin docker-default (`docker-default` or `builtin`).
    Builtin,
    /// Standard input (`-`).
    Stdin,
    /// A file.
    Path(PathBuf),
}

impl Source {
    /// `docker-default`/`builtin` → builtin, `-` → stdin, anything else a path, which need
    /// not be UTF-8 (write `./docker-default` for a file of that name).
    pub fn from_arg(s: impl AsRef<OsStr>) -> Source {
        let s = s.as_ref();
        if s == "docker-default" || s == "builtin" {
            Source::Builtin
        } else if s == "-" {
            Source::Stdin
        } else {
            Source::Path(PathBuf::from(s))
        }
    }

    /// The name used in diagnostics.
    pub fn label(&self) -> String {
        match self {
            Source::Builtin => format!("builtin:{}", builtin::NAME),
            Source::Stdin => "-".into(),
            Source::Path(p) => p.display().to_string(),
        }
    }
}

/// Read and parse a profile.
pub fn load(source: &Source) -> Result<Parsed, LoadError> {
    let label = source.label();
    let bytes = match source {
        Source::Builtin => {
            return Ok(Parsed {
                profile: Some(builtin::docker_default()),
                diagnostics: Vec::new(),
                lines: LineIndex::new(""),
                not_shown: Default::default(),
            })
        }
        Source::Stdin => confine_input::read_stdin(LIMIT).map_err(LoadError::Input)?,
        Source::Path(p) => confine_input::read(p, LIMIT).map_err(LoadError::Input)?,
    };
    Ok(parse_profile(&bytes, &label))
}
