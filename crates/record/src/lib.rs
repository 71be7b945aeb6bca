//! `confine record`: watch a command run and write the smallest profile that lets it run.
//!
//! Events in, profile out: a [`source::Mechanism`] hands every call to a [`source::Sink`]
//! before it runs ([`source::Notify`], seccomp user notification, unprivileged); the
//! [`recording::Recording`] counts calls per ABI and number, keeps argument values where asked
//! ([`args`]), and paths and ports ([`files`]); [`profile::build`] turns what was gathered into
//! a Docker-format profile. [`serve`] is the recorder process's life. [`ebpf`] is the other
//! mechanism (root only, counts only): a program counting the calls of a cgroup.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod agent;
pub mod args;
pub mod ebpf;
pub mod event;
pub mod files;
pub mod policy;
pub mod profile;
pub mod recording;
mod serve;
pub mod source;

pub use serve::{serve, Options};

/// `s` with control characters escaped (`\u{1b}`): paths the recorded command chose are
/// printed on the caller's terminal, which must not take them as escape sequences.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The calls runc's init makes between installing the container's filter and the execve of
/// its command, measured by `tools/measure-runtime-calls` (one name per line, `#` comments).
pub const RUNTIME_RUNC: &str = include_str!("../data/runtime-runc.txt");

/// crun's, measured the same way.
pub const RUNTIME_CRUN: &str = include_str!("../data/runtime-crun.txt");

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            super::printable("/tmp/\u{1b}]0;title\u{7}x\ny"),
            "/tmp/\\u{1b}]0;title\\u{7}x\\ny"
        );
        assert_eq!(super::printable("/usr/bin/é"), "/usr/bin/é");
    }
}
