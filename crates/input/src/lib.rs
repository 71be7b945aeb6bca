//! Reading the files a user names on the command line (profiles, BPF programs, AppArmor
//! profiles, environment files, a saved procfs): regular files only, at most a given size, or
//! standard input where a command documents `-`.
//!
//! A FIFO, a device, a socket or a directory is refused by its type before it is opened, so
//! nothing blocks waiting for a writer (a FIFO), streams without end (`/dev/zero`) or has an
//! open with side effects (a tape or watchdog device). The file is then opened with
//! `O_NONBLOCK | O_NOCTTY` and its type checked again on the open descriptor, so a path swapped
//! for a FIFO in between cannot block either. At most `limit + 1` bytes are ever read, from a
//! file or from standard input, so memory stays bounded whatever the input.
//!
//! # References
//! * open(2) (`O_NONBLOCK` on a FIFO, `O_NOCTTY`), fifo(7), inode(7) (`S_IFMT`)
//!
//! It depends on no other confine crate.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::ffi::OsStr;
use std::fmt;
use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The usual limit for text inputs: seccomp and AppArmor profiles, environment files.
pub const MAX_TEXT_BYTES: u64 = 16 << 20;

/// Where an input comes from, as shown in messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file.
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Path(p) => write!(f, "{}", p.display()),
            Origin::Stdin => f.write_str("standard input"),
        }
    }
}

/// Why an input could not be read. Every message starts with the path (or "standard input").
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file could not be opened or read.
    #[error("{origin}: {reason}")]
    Read {
        /// The input.
        origin: Origin,
        /// The I/O error (in the message, so not also a `source` that a chain would repeat).
        reason: std::io::Error,
    },
    /// The path names something other than a regular file.
    #[error("{origin}: is {kind}, not a regular file")]
    NotRegular {
        /// The input.
        origin: Origin,
        /// What it is instead: "a FIFO (named pipe)", "a character device", …
        kind: &'static str,
    },
    /// The input is larger than the limit.
    #[error("{origin}: larger than {}", size_words(*limit))]
    TooLarge {
        /// The input.
        origin: Origin,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The input is not UTF-8 (only from [`read_text`]).
    #[error("{origin}: not UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 {
        /// The input.
        origin: Origin,
        /// The offset of the first invalid byte.
        offset: usize,
    },
}

/// This module's result: an error is a [`InputError`].
pub type Result<T, E = InputError> = std::result::Result<T, E>;

impl InputError {
    /// The input the error is about.
    pub fn origin(&self) -> &Origin {
        match self {
            InputError::Read { origin, .. }
            | InputError::NotRegular { origin, .. }
            | InputError::TooLarge { origin, .. }
            | InputError::NotUtf8 { origin, .. } => origin,
        }
    }

    /// The underlying I/O error, for callers that tell "no such file" from other failures.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match self {
            InputError::Read { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

/// `16 MiB`, `1 MiB`, `512 KiB`, or bytes.
pub fn size_words(n: u64) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// What a file type is, in words, or `None` for a regular file.
fn kind_of(m: &Metadata) -> Option<&'static str> {
    let t = m.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a file")
    }
}

/// Check that `path` names a regular file (following symbolic links) without opening it, for
/// paths handed to another program (e.g. apparmor_parser's features file). Returns its metadata.
pub fn check_regular(path: &Path) -> Result<Metadata, InputError> {
    let origin = || Origin::Path(path.to_path_buf());
    let m = std::fs::metadata(path).map_err(|reason| InputError::Read {
        origin: origin(),
        reason,
    })?;
    match kind_of(&m) {
        None => Ok(m),
        Some(kind) => Err(InputError::NotRegular {
            origin: origin(),
            kind,
        }),
    }
}

/// Open `path` for reading after checking that it is a regular file of at most `limit` bytes.
pub fn open(path: &Path, limit: u64) -> Result<File, InputError> {
    let origin = || Origin::Path(path.to_path_buf());
    let too_large = |m: &Metadata| m.len() > limit;
    let m = check_regular(path)?;
    if too_large(&m) {
        return Err(InputError::TooLarge {
            origin: origin(),
            limit,
        });
    }
    let err = |reason| InputError::Read {
        origin: origin(),
        reason,
    };
    // O_NONBLOCK: should the path have become a FIFO since the check, the open does not wait
    // for a writer (it changes nothing for a regular file)
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(err)?;
    let m = f.metadata().map_err(err)?;
    if let Some(kind) = kind_of(&m) {
        return Err(InputError::NotRegular {
            origin: origin(),
            kind,
        });
    }
    if too_large(&m) {
        return Err(InputError::TooLarge {
            origin: origin(),
            limit,
        });
    }
    Ok(f)
}

fn read_limited(r: impl Read, origin: Origin, limit: u64) -> Result<Vec<u8>, InputError> {
    let mut buf = Vec::new();
    if let Err(reason) = r.take(limit.saturating_add(1)).read_to_end(&mut buf) {
        return Err(InputError::Read { origin, reason });
    }
    if buf.len() as u64 > limit {
        return Err(InputError::TooLarge { origin, limit });
    }
    Ok(buf)
}

/// Read the regular file `path`, at most `limit` bytes (a file that grows past the limit while
/// it is read is refused too).
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let f = open(path, limit)?;
    read_limited(f, Origin::Path(path.to_path_buf()), limit)
}

/// Read standard input, at most `limit` bytes (whatever it is: a pipe, a terminal, a device).
pub fn read_stdin(limit: u64) -> Result<Vec<u8>, InputError> {
    read_limited(std::io::stdin().lock(), Origin::Stdin, limit)
}

/// Read a command-line argument that names an input: `-` is standard input, anything else a
/// path (write `./-` for a file of that name).
pub fn read_arg(arg: &OsStr, limit: u64) -> Result<Vec<u8>, InputError> {
    if arg == "-" {
        read_stdin(limit)
    } else {
        read(Path::new(arg), limit)
    }
}

/// [`read_arg`], then UTF-8.
pub fn read_text(arg: &OsStr, limit: u64) -> Result<String, InputError> {
    let bytes = read_arg(arg, limit)?;
    String::from_utf8(bytes).map_err(|e| InputError::NotUtf8 {
        origin: if arg == "-" {
            Origin::Stdin
        } else {
            Origin::Path(PathBuf::from(arg))
        },
        offset: e.utf8_error().valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    fn mkfifo(p: &Path) {
        let ok = std::process::Command::new("mkfifo")
            .arg(p)
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    #[test]
    fn a_regular_file_is_read_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"0123456789").unwrap();
        assert_eq!(read(&p, 10).unwrap(), b"0123456789");
        let e = read(&p, 9).unwrap_err();
        assert!(matches!(e, InputError::TooLarge { limit: 9, .. }), "{e}");
        assert_eq!(
            e.to_string(),
            format!("{}: larger than 9 bytes", p.display())
        );
    }

    #[test]
    fn devices_fifos_and_directories_are_refused_by_type_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        // nobody writes to the FIFO: opening it without the check would block forever
        let e = read(&fifo, MAX_TEXT_BYTES).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: is a FIFO (named pipe), not a regular file",
                fifo.display()
            )
        );
        let e = read(Path::new("/dev/zero"), MAX_TEXT_BYTES).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/dev/zero: is a character device, not a regular file"
        );
        let e = read(dir.path(), MAX_TEXT_BYTES).unwrap_err();
        assert!(e
            .to_string()
            .ends_with(": is a directory, not a regular file"));
        // a symbolic link is followed: what counts is what it points to
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("/dev/null", &link).unwrap();
        let e = read(&link, 1).unwrap_err();
        assert!(matches!(
            e,
            InputError::NotRegular {
                kind: "a character device",
                ..
            }
        ));
        let e = read(&dir.path().join("missing"), 1).unwrap_err();
        assert_eq!(e.io_error().and_then(|e| e.raw_os_error()), Some(2));
    }

    #[test]
    fn non_utf8_paths_and_contents() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(OsStr::from_bytes(b"pro\xfffile"));
        std::fs::write(&p, b"ok\xff").unwrap();
        assert_eq!(read_arg(p.as_os_str(), 16).unwrap(), b"ok\xff");
        let e = read_text(p.as_os_str(), 16).unwrap_err();
        assert!(matches!(e, InputError::NotUtf8 { offset: 2, .. }));
        assert!(e.to_string().contains("pro\u{fffd}file: not UTF-8"), "{e}");
    }

    #[test]
    fn sizes_in_words() {
        assert_eq!(size_words(16 << 20), "16 MiB");
        assert_eq!(size_words(1 << 20), "1 MiB");
        assert_eq!(size_words(32 << 10), "32 KiB");
        assert_eq!(size_words(100), "100 bytes");
    }
}
