//! One recorded call, and the ABI it was made on.
//!
//! The ABI comes from `seccomp_data.arch` and, on x86_64's audit value, the x32 bit of the
//! number: a 64-bit process that calls `int 0x80` is on the i386 table, one that sets the x32
//! bit on the x32 table. Naming every number with the native table, as the eBPF recorders do,
//! names those calls wrongly.

use confine_abi::{Arch, SyscallTable};
use serde::{Deserialize, Serialize};

/// A call as the mechanism saw it, before it ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// The calling thread.
    pub tid: u32,
    /// `seccomp_data.arch`.
    pub audit_arch: u32,
    /// `seccomp_data.nr`.
    pub nr: u32,
    /// The argument registers.
    pub args: [u64; 6],
}

/// An ABI and a number on it, with the name when the ABI's table has one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Call {
    /// The ABI (`x86_64`, `x86`, `x32`, …; the raw audit value in hex when confine has no
    /// table for it).
    pub abi: String,
    /// The number as the kernel saw it (x32 numbers with the x32 bit).
    pub nr: u32,
    /// The name on that ABI's table.
    pub name: Option<String>,
}

/// The ABI of a call: the architecture whose audit value it carries, x32 on x86_64's value
/// when the number has the x32 bit.
pub fn abi_of(audit_arch: u32, nr: u32) -> Option<Arch> {
    let mut found = Arch::ALL
        .into_iter()
        .filter(|a| a.audit_arch() == audit_arch);
    let first = found.next()?;
    match found.next() {
        None => Some(first),
        // x86_64 and x32 share one audit value
        Some(second) => {
            let x32 = Arch::is_x32_number(nr);
            [first, second]
                .into_iter()
                .find(|a| (*a == Arch::X32) == x32)
        }
    }
}

impl Call {
    /// The call `e` makes.
    pub fn of(e: &Event) -> Call {
        match abi_of(e.audit_arch, e.nr) {
            Some(arch) => Call {
                abi: arch.kernel_name().to_string(),
                nr: e.nr,
                name: SyscallTable::for_arch(arch)
                    .ok()
                    .and_then(|t| t.name_of(e.nr))
                    .map(str::to_string),
            },
            None => Call {
                abi: format!("{:#x}", e.audit_arch),
                nr: e.nr,
                name: None,
            },
        }
    }

    /// The architecture, when confine knows it.
    pub fn arch(&self) -> Option<Arch> {
        Arch::parse(&self.abi).ok()
    }

    /// The name, or `#NR` for a number without one.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("#{}", self.nr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(arch: Arch, nr: u32) -> Call {
        Call::of(&Event {
            tid: 1,
            audit_arch: arch.audit_arch(),
            nr,
            args: [0; 6],
        })
    }

    #[test]
    fn compat_calls_are_named_on_their_own_table() {
        // 20 is getpid on i386, writev on x86_64; 39 is getpid on x86_64
        assert_eq!(call(Arch::X86, 20).name.as_deref(), Some("getpid"));
        assert_eq!(call(Arch::X86, 20).abi, "x86");
        assert_eq!(call(Arch::X86_64, 20).name.as_deref(), Some("writev"));
        assert_eq!(call(Arch::X86_64, 39).name.as_deref(), Some("getpid"));
        // the x32 bit on x86_64's audit value: the x32 table
        let x32 = call(Arch::X86_64, 0x4000_0000 + 39);
        assert_eq!(
            (x32.abi.as_str(), x32.name.as_deref()),
            ("x32", Some("getpid"))
        );
    }

    #[test]
    fn a_number_without_a_name_is_kept_by_number() {
        let c = call(Arch::X86_64, 500);
        assert_eq!(c.name, None);
        assert_eq!(c.label(), "#500");
        let unknown = Call::of(&Event {
            tid: 1,
            audit_arch: 0x1234,
            nr: 3,
            args: [0; 6],
        });
        assert_eq!(unknown.abi, "0x1234");
    }
}
