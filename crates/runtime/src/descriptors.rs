//! Descriptors passed on to the command: systemd socket activation's (`LISTEN_FDS`) first, as
//! runc takes them, then `--preserve-fds`; the range is reserved before anything is opened.

use crate::{Error, Result};
use std::path::Path;

/// The descriptors passed by systemd socket activation (`LISTEN_FDS` for confine's own pid);
/// the command then gets `LISTEN_FDS` and its own `LISTEN_PID`.
pub fn listen_fds() -> u32 {
    let pid_matches = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        == Some(std::process::id());
    if !pid_matches {
        return 0;
    }
    std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// How many descriptors from 3 on the command keeps: `listen` then `preserve`.
pub fn kept(listen: u32, preserve: u32) -> Result<u32> {
    listen
        .checked_add(preserve)
        .filter(|n| *n < 1 << 20)
        .ok_or_else(|| {
            Error::option(
                "--preserve-fds",
                format!("--preserve-fds {preserve} is too large"),
            )
        })
}

/// Keep descriptors 3 .. 3+n for the command: any of them not open now is taken by
/// /dev/null, so that nothing confine opens later lands there and leaks into the command.
pub fn reserve(n: u32) -> Result<()> {
    use std::os::fd::IntoRawFd;
    let open = |fd: u32| Path::new(&format!("/proc/self/fd/{fd}")).exists();
    while let Some(free) = (3..3 + n).find(|&fd| !open(fd)) {
        let f = std::fs::File::open("/dev/null").map_err(Error::io("opening /dev/null"))?;
        let got = f.into_raw_fd() as u32;
        if got != free {
            return Err(Error::option(
                "--preserve-fds",
                format!("cannot keep descriptor {free} for --preserve-fds"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_many_descriptors() {
        assert_eq!(kept(2, 3).unwrap(), 5);
        let e = kept(0, 1 << 20).unwrap_err();
        assert_eq!(e.to_string(), "--preserve-fds 1048576 is too large");
        assert!(kept(1, u32::MAX).is_err());
    }
}
