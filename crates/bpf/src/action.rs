//! Seccomp return values (include/uapi/linux/seccomp.h) and their precedence.
//!
//! [`Ret`] is the typed return value the compiler's model carries; it becomes the kernel's
//! `u32` only where an instruction is emitted (`u32::from(ret)`). The raw constants stay for
//! the emulator, the explorer and instruction encoding, which work on the kernel's values.

use std::fmt;

/// `SECCOMP_RET_KILL_PROCESS`
pub const KILL_PROCESS: u32 = 0x8000_0000;
/// `SECCOMP_RET_KILL_THREAD`
pub const KILL_THREAD: u32 = 0x0000_0000;
/// `SECCOMP_RET_TRAP`
pub const TRAP: u32 = 0x0003_0000;
/// `SECCOMP_RET_ERRNO`
pub const ERRNO: u32 = 0x0005_0000;
/// `SECCOMP_RET_USER_NOTIF`
pub const USER_NOTIF: u32 = 0x7fc0_0000;
/// `SECCOMP_RET_TRACE`
pub const TRACE: u32 = 0x7ff0_0000;
/// `SECCOMP_RET_LOG`
pub const LOG: u32 = 0x7ffc_0000;
/// `SECCOMP_RET_ALLOW`
pub const ALLOW: u32 = 0x7fff_0000;
/// `SECCOMP_RET_ACTION_FULL`
pub const ACTION_FULL: u32 = 0xffff_0000;
/// `SECCOMP_RET_DATA`
pub const DATA: u32 = 0x0000_ffff;

/// A seccomp return value: the action and, for the actions that carry one, its 16-bit data.
///
/// `u32::from(ret)` is the kernel's value (`SECCOMP_RET_* | data`); `Ret::from(u32)` decodes any
/// value. The kernel ignores the data of the actions without a data field here, so decoding
/// drops it: the round trip `u32 → Ret → u32` is exact for every value whose ignored data is
/// 0, and for every value of an action the kernel does not know.
///
/// Adding an action: a variant here, its arm in the two `From` impls and in `Display`, and
/// its mapping from the profile's action in `confine_seccomp::policy::action_value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ret {
    /// `SECCOMP_RET_KILL_PROCESS`: the whole process dies.
    KillProcess,
    /// `SECCOMP_RET_KILL_THREAD` (runc's `SCMP_ACT_KILL`): the calling thread dies.
    KillThread,
    /// `SECCOMP_RET_TRAP`: `SIGSYS`, the data in `si_errno`.
    Trap(u16),
    /// `SECCOMP_RET_ERRNO`: the call fails with the data as errno.
    Errno(u16),
    /// `SECCOMP_RET_USER_NOTIF`: a supervisor decides.
    Notify,
    /// `SECCOMP_RET_TRACE`: a ptrace tracer is told, with the data as the event message.
    Trace(u16),
    /// `SECCOMP_RET_LOG`: allowed and logged.
    Log,
    /// `SECCOMP_RET_ALLOW`: allowed.
    Allow,
    /// A value whose action the kernel does not know (the full value, data included); the
    /// kernel acts on it as on `KILL_PROCESS`. Build it with `Ret::from(u32)`, which gives it
    /// only values no other variant stands for.
    Unknown(u32),
}

impl From<Ret> for u32 {
    /// The kernel's value: `SECCOMP_RET_* | data`.
    #[inline]
    fn from(r: Ret) -> u32 {
        match r {
            Ret::KillProcess => KILL_PROCESS,
            Ret::KillThread => KILL_THREAD,
            Ret::Trap(d) => TRAP | u32::from(d),
            Ret::Errno(d) => ERRNO | u32::from(d),
            Ret::Notify => USER_NOTIF,
            Ret::Trace(d) => TRACE | u32::from(d),
            Ret::Log => LOG,
            Ret::Allow => ALLOW,
            Ret::Unknown(v) => v,
        }
    }
}

impl From<u32> for Ret {
    /// Decode any value, as the kernel reads it (the data of an action that takes none is
    /// dropped).
    #[inline]
    fn from(v: u32) -> Ret {
        let data = (v & DATA) as u16;
        match v & ACTION_FULL {
            KILL_PROCESS => Ret::KillProcess,
            KILL_THREAD => Ret::KillThread,
            TRAP => Ret::Trap(data),
            ERRNO => Ret::Errno(data),
            USER_NOTIF => Ret::Notify,
            TRACE => Ret::Trace(data),
            LOG => Ret::Log,
            ALLOW => Ret::Allow,
            _ => Ret::Unknown(v),
        }
    }
}

impl fmt::Display for Ret {
    /// `ALLOW`, `ERRNO(EPERM)`, `TRACE(38)`, `TRAP(0)`, `NOTIFY`, `KILL_THREAD`, …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Ret::KillProcess => f.write_str("KILL_PROCESS"),
            Ret::KillThread => f.write_str("KILL_THREAD"),
            Ret::Trap(d) => write!(f, "TRAP({d})"),
            Ret::Errno(d) => match confine_abi::errno::name(d) {
                Some(n) => write!(f, "ERRNO({n})"),
                None => write!(f, "ERRNO({d})"),
            },
            Ret::Notify => f.write_str("NOTIFY"),
            Ret::Trace(d) => write!(f, "TRACE({d})"),
            Ret::Log => f.write_str("LOG"),
            Ret::Allow => f.write_str("ALLOW"),
            Ret::Unknown(v) => write!(f, "0x{v:08x} (unknown: acts as KILL_PROCESS)"),
        }
    }
}

impl Ret {
    /// The kernel's precedence (see [`precedence`]): the lower, the stronger.
    #[inline]
    pub fn precedence(self) -> i32 {
        precedence(self.into())
    }
}

/// A human name for a return value: `ALLOW`, `ERRNO(EPERM)`, `TRACE(38)`, … (the
/// [`Display`](fmt::Display) of [`Ret`]).
pub fn describe(ret: u32) -> String {
    Ret::from(ret).to_string()
}

/// The kernel's precedence: the lower `(ret & ACTION_FULL) as i32`, the stronger. Of several
/// stacked filters the strongest result wins; on a tie the newest filter's data.
pub fn precedence(ret: u32) -> i32 {
    (ret & ACTION_FULL) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The old `describe`, kept here as the reference the `Display` must equal.
    fn describe_old(ret: u32) -> String {
        let data = ret & DATA;
        match ret & ACTION_FULL {
            KILL_PROCESS => "KILL_PROCESS".into(),
            KILL_THREAD => "KILL_THREAD".into(),
            TRAP => format!("TRAP({data})"),
            ERRNO => match confine_abi::errno::name(data as u16) {
                Some(n) => format!("ERRNO({n})"),
                None => format!("ERRNO({data})"),
            },
            USER_NOTIF => "NOTIFY".into(),
            TRACE => format!("TRACE({data})"),
            LOG => "LOG".into(),
            ALLOW => "ALLOW".into(),
            _ => format!("0x{ret:08x} (unknown: acts as KILL_PROCESS)"),
        }
    }

    const ACTIONS: [u32; 8] = [
        KILL_PROCESS,
        KILL_THREAD,
        TRAP,
        ERRNO,
        USER_NOTIF,
        TRACE,
        LOG,
        ALLOW,
    ];
    const DATAS: [u32; 6] = [0, 1, 38, 0x1234, 0x7fff, 0xffff];
    /// Actions the kernel does not know, with and without data.
    const UNKNOWN: [u32; 8] = [
        0x0001_0000,
        0x0004_0007,
        0x7ffe_0000,
        0x7ffd_0000,
        0x8000_0000 | ERRNO,
        0xffff_0000,
        0xffff_ffff,
        0x1234_5678,
    ];

    /// One of each variant (the match stops compiling when a variant is added without a case
    /// here: add it to the list too).
    fn every_variant() -> Vec<Ret> {
        let all = vec![
            Ret::KillProcess,
            Ret::KillThread,
            Ret::Trap(3),
            Ret::Errno(1),
            Ret::Notify,
            Ret::Trace(38),
            Ret::Log,
            Ret::Allow,
            Ret::Unknown(0x0001_0000),
        ];
        for r in &all {
            match r {
                Ret::KillProcess
                | Ret::KillThread
                | Ret::Trap(_)
                | Ret::Errno(_)
                | Ret::Notify
                | Ret::Trace(_)
                | Ret::Log
                | Ret::Allow
                | Ret::Unknown(_) => {}
            }
        }
        all
    }

    /// Every variant decodes back from its value: a new action's decoding arm is not forgotten.
    #[test]
    fn every_variant_round_trips() {
        for r in every_variant() {
            assert_eq!(Ret::from(u32::from(r)), r, "{r:?}");
            assert_eq!(r.to_string(), describe_old(r.into()), "{r:?}");
        }
    }

    fn takes_data(action: u32) -> bool {
        matches!(action, TRAP | ERRNO | TRACE)
    }

    #[test]
    fn round_trip() {
        for a in ACTIONS {
            for d in DATAS {
                let v = a | d;
                let r = Ret::from(v);
                assert!(!matches!(r, Ret::Unknown(_)), "{v:#x}");
                if takes_data(a) || d == 0 {
                    assert_eq!(u32::from(r), v, "{v:#x} → {r:?}");
                } else {
                    // the kernel ignores the data of these actions; decoding drops it
                    assert_eq!(u32::from(r), a, "{v:#x} → {r:?}");
                }
                assert_eq!(Ret::from(u32::from(r)), r);
            }
        }
        for v in UNKNOWN {
            let r = Ret::from(v);
            assert_eq!(r, Ret::Unknown(v));
            assert_eq!(u32::from(r), v);
        }
    }

    #[test]
    fn variants_encode_as_the_constants() {
        let cases = [
            (Ret::KillProcess, KILL_PROCESS),
            (Ret::KillThread, KILL_THREAD),
            (Ret::Trap(0), TRAP),
            (Ret::Trap(7), TRAP | 7),
            (Ret::Errno(1), ERRNO | 1),
            (Ret::Errno(38), ERRNO | 38),
            (Ret::Errno(0xffff), ERRNO | 0xffff),
            (Ret::Notify, USER_NOTIF),
            (Ret::Trace(1), TRACE | 1),
            (Ret::Log, LOG),
            (Ret::Allow, ALLOW),
            (Ret::Unknown(0x0001_0002), 0x0001_0002),
        ];
        for (r, v) in cases {
            assert_eq!(u32::from(r), v, "{r:?}");
            assert_eq!(Ret::from(v), r, "{v:#x}");
        }
    }

    #[test]
    fn display_is_the_old_describe() {
        for a in ACTIONS {
            for d in DATAS {
                let v = a | d;
                assert_eq!(Ret::from(v).to_string(), describe_old(v), "{v:#x}");
                assert_eq!(describe(v), describe_old(v), "{v:#x}");
            }
        }
        for v in UNKNOWN {
            assert_eq!(Ret::from(v).to_string(), describe_old(v), "{v:#x}");
        }
        assert_eq!(Ret::Allow.to_string(), "ALLOW");
        assert_eq!(Ret::Errno(1).to_string(), "ERRNO(EPERM)");
        assert_eq!(Ret::Errno(38).to_string(), "ERRNO(ENOSYS)");
        assert_eq!(Ret::Trace(38).to_string(), "TRACE(38)");
        assert_eq!(Ret::Trap(0).to_string(), "TRAP(0)");
        assert_eq!(Ret::Notify.to_string(), "NOTIFY");
        assert_eq!(Ret::KillThread.to_string(), "KILL_THREAD");
        assert_eq!(
            Ret::Unknown(0x0001_0000).to_string(),
            "0x00010000 (unknown: acts as KILL_PROCESS)"
        );
    }

    #[test]
    fn precedence_order() {
        // the kernel's order, strongest first (an unknown action above KILL_PROCESS's value
        // is weaker than it but stronger than everything else, as a negative i32)
        let order = [
            Ret::KillProcess,
            Ret::Unknown(0xffff_0000),
            Ret::KillThread,
            Ret::Trap(5),
            Ret::Errno(1),
            Ret::Notify,
            Ret::Trace(1),
            Ret::Log,
            Ret::Allow,
        ];
        for w in order.windows(2) {
            assert!(
                w[0].precedence() < w[1].precedence(),
                "{} before {}",
                w[0],
                w[1]
            );
        }
        // the data does not count
        assert_eq!(Ret::Errno(1).precedence(), Ret::Errno(0xffff).precedence());
        for a in ACTIONS {
            for d in DATAS {
                assert_eq!(Ret::from(a | d).precedence(), precedence(a | d));
            }
        }
    }
}
