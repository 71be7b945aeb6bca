//! Where profiles come from: the builtin, a file, or standard input.

use crate::builtin;
use crate::json::LineIndex;
use crate::parse::{parse_profile, Parsed, MAX_PROFILE_BYTES};
use std::io::Read;
use std::path::{Path, PathBuf};

/// An error reading a profile's bytes (parse errors are diagnostics, not this).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read seccomp profile {path}: {reason}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error (in the message, so not also a `source` that a chain would repeat).
        reason: std::io::Error,
    },
    /// The input is larger than 16 MiB.
    #[error("seccomp profile {0} is larger than 16 MiB")]
    TooLarge(String),
}

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
    /// `docker-default`/`builtin` → builtin, `-` → stdin, anything else a path (write
    /// `./docker-default` for a file of that name).
    pub fn from_arg(s: &str) -> Source {
        match s {
            "docker-default" | "builtin" => Source::Builtin,
            "-" => Source::Stdin,
            p => Source::Path(PathBuf::from(p)),
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

fn read_limited(r: impl Read, label: &str, path: &Path) -> Result<Vec<u8>, LoadError> {
    let mut buf = Vec::new();
    r.take(MAX_PROFILE_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|reason| LoadError::Read {
            path: path.to_path_buf(),
            reason,
        })?;
    if buf.len() > MAX_PROFILE_BYTES {
        return Err(LoadError::TooLarge(label.to_string()));
    }
    Ok(buf)
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
            })
        }
        Source::Stdin => read_limited(std::io::stdin().lock(), &label, Path::new("-"))?,
        Source::Path(p) => {
            let err = |reason| LoadError::Read {
                path: p.clone(),
                reason,
            };
            let f = std::fs::File::open(p).map_err(err)?;
            if f.metadata().map_err(err)?.is_dir() {
                return Err(err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "is a directory",
                )));
            }
            read_limited(f, &label, p)?
        }
    };
    Ok(parse_profile(&bytes, &label))
}
