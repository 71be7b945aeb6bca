//! Which arguments to record: `--args` alone takes the ones Docker's profile conditions on;
//! `--args ioctl:1,prctl:0,socket:0-2,mmap:2` adds more.

use confine_abi::Arch;
use std::collections::BTreeMap;

/// Docker's mask of namespace flags in `clone`'s flags (CLONE_NEWNS | CLONE_NEWUTS |
/// CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP), the one its
/// default profile compares with `SCMP_CMP_MASKED_EQ` (moby profiles/seccomp/default.json).
pub const CLONE_NAMESPACES: u64 = 0x7E02_0000;

/// What to record of one syscall's arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watched {
    /// Argument indexes, ascending.
    pub indexes: Vec<u8>,
    /// A mask applied to the first index (clone's namespace flags); the rule then compares
    /// with `SCMP_CMP_MASKED_EQ`.
    pub mask: Option<u64>,
}

/// The arguments to record, by syscall name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArgSpec {
    /// Syscall name → what to record.
    pub by_name: BTreeMap<String, Watched>,
}

/// A bad `--args` value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArgSpecError {
    /// Not `NAME:INDEX` or `NAME:FROM-TO`.
    #[error("--args: `{0}` is not NAME:INDEX or NAME:FROM-TO (e.g. ioctl:1 or socket:0-2)")]
    Syntax(String),
    /// A name no syscall table knows.
    #[error("--args: `{0}` is not a system call on any architecture")]
    UnknownName(String),
    /// An index above 5.
    #[error("--args: {name}:{index}: a system call has arguments 0 to 5")]
    Index {
        /// The syscall.
        name: String,
        /// The index given.
        index: u64,
    },
}

impl ArgSpec {
    /// The arguments Docker's default profile conditions on: `personality` a0, `socket` a0,
    /// `clone` a0's namespace flags (`clone3` is recorded by name only: its flags sit behind a
    /// pointer seccomp cannot read).
    pub fn docker() -> ArgSpec {
        let mut s = ArgSpec::default();
        for name in ["personality", "socket"] {
            s.by_name.insert(
                name.to_string(),
                Watched {
                    indexes: vec![0],
                    mask: None,
                },
            );
        }
        s.by_name.insert(
            "clone".to_string(),
            Watched {
                indexes: vec![0],
                mask: Some(CLONE_NAMESPACES),
            },
        );
        s
    }

    /// Docker's arguments plus those of `list` (comma-separated `NAME:I` or `NAME:I-J`).
    pub fn parse(list: &str) -> Result<ArgSpec, ArgSpecError> {
        let mut s = ArgSpec::docker();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, range) = item
                .split_once(':')
                .ok_or_else(|| ArgSpecError::Syntax(item.to_string()))?;
            if !confine_abi::syscalls::known_anywhere(name) {
                return Err(ArgSpecError::UnknownName(name.to_string()));
            }
            let (from, to) = match range.split_once('-') {
                Some((a, b)) => (a, b),
                None => (range, range),
            };
            let index = |t: &str| -> Result<u8, ArgSpecError> {
                let v: u64 = t
                    .parse()
                    .map_err(|_| ArgSpecError::Syntax(item.to_string()))?;
                if v > 5 {
                    return Err(ArgSpecError::Index {
                        name: name.to_string(),
                        index: v,
                    });
                }
                Ok(v as u8)
            };
            let (from, to) = (index(from)?, index(to)?);
            if from > to {
                return Err(ArgSpecError::Syntax(item.to_string()));
            }
            let w = s.by_name.entry(name.to_string()).or_insert(Watched {
                indexes: Vec::new(),
                mask: None,
            });
            // a named clone argument is recorded whole
            if name == "clone" {
                w.mask = None;
            }
            w.indexes.extend(from..=to);
            w.indexes.sort_unstable();
            w.indexes.dedup();
        }
        Ok(s)
    }

    /// What to record of `name` on `arch`, with the indexes as that ABI numbers them (s390's
    /// clone takes the stack first and the flags second).
    pub fn watched(&self, name: &str, arch: Arch) -> Option<Watched> {
        let w = self.by_name.get(name)?;
        let mut w = w.clone();
        if name == "clone" && matches!(arch, Arch::S390 | Arch::S390x) {
            w.indexes = w
                .indexes
                .iter()
                .map(|&i| if i == 0 { 1 } else { i })
                .collect();
        }
        Some(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_set_and_additions() {
        let s = ArgSpec::parse("ioctl:1,prctl:0,socket:0-2,mmap:2").unwrap();
        assert_eq!(s.by_name["socket"].indexes, vec![0, 1, 2]);
        assert_eq!(s.by_name["ioctl"].indexes, vec![1]);
        assert_eq!(s.by_name["clone"].mask, Some(CLONE_NAMESPACES));
        assert!(s.by_name.contains_key("personality"));
        assert!(!s.by_name.contains_key("clone3"));
        assert_eq!(ArgSpec::parse("").unwrap(), ArgSpec::docker());
    }

    #[test]
    fn bad_values_are_named() {
        assert_eq!(
            ArgSpec::parse("ioctl:6"),
            Err(ArgSpecError::Index {
                name: "ioctl".into(),
                index: 6
            })
        );
        assert_eq!(
            ArgSpec::parse("nosuchcall:1"),
            Err(ArgSpecError::UnknownName("nosuchcall".into()))
        );
        assert!(matches!(
            ArgSpec::parse("ioctl"),
            Err(ArgSpecError::Syntax(_))
        ));
        assert!(matches!(
            ArgSpec::parse("ioctl:3-1"),
            Err(ArgSpecError::Syntax(_))
        ));
        assert!(ArgSpec::parse("ioctl:1").is_ok());
    }

    #[test]
    fn s390_clone_flags_are_the_second_argument() {
        let s = ArgSpec::docker();
        assert_eq!(s.watched("clone", Arch::S390x).unwrap().indexes, vec![1]);
        assert_eq!(s.watched("clone", Arch::X86_64).unwrap().indexes, vec![0]);
    }
}
