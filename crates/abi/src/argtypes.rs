//! How many bits of each syscall argument the kernel reads.
//!
//! seccomp compares the whole 64-bit register, but the kernel's `SYSCALL_DEFINEn` wrappers
//! convert it to the declared C type first: an `int` is read as its low 32 bits, a `umode_t`
//! as its low 16. The types come from the running kernel itself (tracefs'
//! `events/syscalls/sys_enter_*/format`), captured by `tools/capture-arg-types` into
//! `data/syscall-arg-types.txt`; `data/syscall-arg-overrides.txt` adds the few arguments
//! truncated inside the call (`clone`'s flags go through `lower_32_bits()`), each citing
//! the kernel source.
//!
//! The widths apply on the 64-bit ABIs whose calls are the generic ones: x86_64, aarch64,
//! riscv64, and x32's common calls (its own calls, 512 to 547, are compat entry points that
//! tracefs does not describe). On 32-bit ABIs there is no high half to drop; elsewhere, and
//! for calls tracefs does not list (arch-specific or compat entry points), an argument is
//! "unknown" and treated as 64 bits wide.

use crate::{Arch, SyscallTable};
use std::collections::HashMap;
use std::sync::OnceLock;

const TYPES: &str = include_str!("../data/syscall-arg-types.txt");
const OVERRIDES: &str = include_str!("../data/syscall-arg-overrides.txt");

/// Where a width comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The declared type, from tracefs.
    Declared,
    /// The override list: the kernel source that truncates it.
    Override(&'static str),
}

/// One argument as the kernel reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgType {
    /// The argument's name in the kernel's declaration.
    pub name: &'static str,
    /// Its C type as declared.
    pub c_type: &'static str,
    /// How many low bits of the register the kernel reads (16, 32 or 64).
    pub bits: u8,
    /// Whether the type is signed (its natural 64-bit register value is sign-extended).
    pub signed: bool,
    /// Where the width comes from.
    pub origin: Origin,
}

impl ArgType {
    /// The mask of the bits the kernel reads.
    pub fn mask(&self) -> u64 {
        if self.bits >= 64 {
            u64::MAX
        } else {
            (1u64 << self.bits) - 1
        }
    }

    /// The register value a C caller passes for the value the kernel reads from `v`: the
    /// read bits, sign- or zero-extended.
    pub fn natural(&self, v: u64) -> u64 {
        if self.bits >= 64 {
            return v;
        }
        let low = v & self.mask();
        if self.signed && low >> (self.bits - 1) & 1 == 1 {
            low | !self.mask()
        } else {
            low
        }
    }

    /// Whether the kernel reads fewer bits than the register holds.
    pub fn narrow(&self) -> bool {
        self.bits < 64
    }
}

type Table = HashMap<&'static str, Vec<Option<ArgType>>>;

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let mut t: Table = HashMap::new();
        let rows = |text: &'static str| {
            text.lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| l.split('\t').collect::<Vec<&'static str>>())
        };
        for c in rows(TYPES) {
            let (Some(&sys), Some(Ok(i)), Some(&name), Some(Ok(bits)), Some(&signed), Some(&ty)) = (
                c.first(),
                c.get(1).map(|s| s.parse::<usize>()),
                c.get(2),
                c.get(3).map(|s| s.parse::<u8>()),
                c.get(4),
                c.get(5),
            ) else {
                panic!("malformed line in syscall-arg-types.txt: {c:?}");
            };
            let args = t.entry(sys).or_default();
            if args.len() <= i {
                args.resize(i + 1, None);
            }
            args[i] = Some(ArgType {
                name,
                c_type: ty,
                bits,
                signed: signed == "1",
                origin: Origin::Declared,
            });
        }
        for c in rows(OVERRIDES) {
            let (Some(&sys), Some(Ok(i)), Some(Ok(bits)), Some(&signed), Some(&why)) = (
                c.first(),
                c.get(1).map(|s| s.parse::<usize>()),
                c.get(2).map(|s| s.parse::<u8>()),
                c.get(3),
                c.get(4),
            ) else {
                panic!("malformed line in syscall-arg-overrides.txt: {c:?}");
            };
            let slot = t
                .get_mut(sys)
                .and_then(|a| a.get_mut(i))
                .and_then(Option::as_mut)
                .unwrap_or_else(|| panic!("override of {sys} arg {i}, which tracefs lacks"));
            slot.bits = bits;
            slot.signed = signed == "1";
            slot.origin = Origin::Override(why);
        }
        t
    })
}

/// The kernel the types were captured from (the data file's `## kernel` line).
pub fn captured_from() -> &'static str {
    TYPES
        .lines()
        .find_map(|l| l.strip_prefix("## kernel "))
        .unwrap_or("unknown")
}

/// Whether the widths apply on `abi` (see the module's documentation).
pub fn applies(abi: Arch) -> bool {
    matches!(
        abi,
        Arch::X86_64 | Arch::X32 | Arch::Aarch64 | Arch::Riscv64
    )
}

/// How the kernel reads argument `arg` of syscall `nr` on `abi`; `None` when unknown (the
/// argument is then treated as 64 bits wide).
pub fn arg_type(abi: Arch, nr: u32, arg: u8) -> Option<ArgType> {
    if !applies(abi) {
        return None;
    }
    // x32's own calls are compat entry points
    if abi == Arch::X32 && (512..=547).contains(&(nr & !crate::X32_SYSCALL_BIT)) {
        return None;
    }
    let name = SyscallTable::for_arch(abi).ok()?.name_of(nr)?;
    by_name(name, arg)
}

/// How the kernel reads argument `arg` of the generic syscall `name` (the declared type,
/// before any ABI is considered).
pub fn by_name(name: &str, arg: u8) -> Option<ArgType> {
    *table().get(name)?.get(arg as usize)?
}

/// The narrow arguments of syscall `nr` on `abi`: (index, type) of each argument the kernel
/// reads fewer than 64 bits of.
pub fn narrow_args(abi: Arch, nr: u32) -> Vec<(u8, ArgType)> {
    (0..6)
        .filter_map(|i| arg_type(abi, nr, i).filter(ArgType::narrow).map(|t| (i, t)))
        .collect()
}

/// Every syscall name the data describes.
pub fn described() -> impl Iterator<Item = &'static str> {
    table().keys().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calls_dockers_default_conditions() {
        let socket = by_name("socket", 0).unwrap();
        assert_eq!(
            (socket.bits, socket.signed, socket.c_type),
            (32, true, "int")
        );
        let p = by_name("personality", 0).unwrap();
        assert_eq!((p.bits, p.signed), (32, false));
        assert_eq!(by_name("ioctl", 1).unwrap().bits, 32);
        assert_eq!(by_name("ioctl", 2).unwrap().bits, 64);
        assert_eq!(by_name("chmod", 1).unwrap().bits, 16);
        // clone's flags: unsigned long, truncated inside the call
        let c = by_name("clone", 0).unwrap();
        assert_eq!(c.c_type, "unsigned long");
        assert_eq!(c.bits, 32);
        assert!(matches!(c.origin, Origin::Override(s) if s.contains("lower_32_bits")));
        assert!(captured_from().starts_with("6."));
    }

    #[test]
    fn per_abi() {
        let x86_64 = SyscallTable::for_arch(Arch::X86_64).unwrap();
        let socket = x86_64.number("socket").unwrap();
        assert_eq!(arg_type(Arch::X86_64, socket, 0).unwrap().bits, 32);
        // x32's common socket, but not its compat ioctl (514)
        let x32 = SyscallTable::for_arch(Arch::X32).unwrap();
        assert!(arg_type(Arch::X32, x32.number("socket").unwrap(), 0).is_some());
        assert_eq!(x32.number("ioctl"), Some(514 | crate::X32_SYSCALL_BIT));
        assert_eq!(arg_type(Arch::X32, 514 | crate::X32_SYSCALL_BIT, 1), None);
        // no high half on i386; unknown on s390x
        let x86 = SyscallTable::for_arch(Arch::X86).unwrap();
        assert_eq!(arg_type(Arch::X86, x86.number("socket").unwrap(), 0), None);
        assert!(!applies(Arch::S390x));
        assert_eq!(
            narrow_args(Arch::X86_64, socket)
                .iter()
                .map(|a| a.0)
                .collect::<Vec<_>>(),
            [0, 1, 2]
        );
    }

    #[test]
    fn natural_values() {
        let int = by_name("socket", 0).unwrap();
        assert_eq!(int.natural(0x1_0000_0028), 40);
        assert_eq!(int.natural(0xffff_ffff), u64::MAX);
        let uint = by_name("personality", 0).unwrap();
        assert_eq!(uint.natural(0xffff_ffff_ffff_ffff), 0xffff_ffff);
        let mode = by_name("chmod", 1).unwrap();
        assert_eq!(mode.natural(0x1_0001_01ed), 0x1ed);
    }
}
