//! Seccomp architectures.
//!
//! Each architecture has three spellings in the wild: libseccomp's `SCMP_ARCH_*` (used in Docker
//! and OCI profiles), Docker's native name (`amd64`, used in `includes.arches` and to pick the
//! `archMap` entry) and the kernel's / libseccomp's short name (`x86_64`, what `uname -m` and
//! `scmp_sys_resolver -a` use). confine accepts all of them on the command line.
//!
//! # References
//! * `AUDIT_ARCH_*`: include/uapi/linux/audit.h and include/uapi/linux/elf-em.h
//! * native names: moby `profiles/seccomp/seccomp_linux.go` (`nativeToSeccomp`)

use std::fmt;

/// An error naming an architecture confine does not know or cannot handle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArchError {
    /// The string is not the name of any architecture.
    #[error("unknown architecture `{0}` (expected e.g. amd64, x86_64, SCMP_ARCH_X86_64; see `confine seccomp syscalls --help`)")]
    Unknown(String),
    /// The architecture is known but confine carries no syscall table for it.
    #[error(
        "architecture {0} is not supported: confine has no syscall table for it (supported: {1})"
    )]
    NoTable(Arch, String),
}

/// This module's result: an error is a [`ArchError`].
pub type Result<T, E = ArchError> = std::result::Result<T, E>;

/// A seccomp architecture, one per libseccomp `SCMP_ARCH_*` value (runtime-spec's 23).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Arch {
    X86,
    X86_64,
    X32,
    Arm,
    Aarch64,
    Loongarch64,
    M68k,
    Mips,
    Mips64,
    Mips64N32,
    Mipsel,
    Mipsel64,
    Mipsel64N32,
    Ppc,
    Ppc64,
    Ppc64le,
    S390,
    S390x,
    Sh,
    Sheb,
    Parisc,
    Parisc64,
    Riscv64,
}

/// One row of the table of ABI facts: everything confine knows about an architecture is here
/// (adding one means a row, its syscall `.tsv` and a line in the table generator).
struct Info {
    /// libseccomp's `SCMP_ARCH_*` name.
    scmp: &'static str,
    /// Docker's native name.
    native: &'static str,
    /// The kernel's short name.
    kernel: &'static str,
    /// Other spellings accepted on the command line.
    aliases: &'static [&'static str],
    /// `AUDIT_ARCH_*`.
    audit: u32,
    /// The syscall table's name.
    table: Option<&'static str>,
    /// Byte order of 64-bit arguments in `seccomp_data`.
    little_endian: bool,
    /// The kernel passes 64-bit syscall arguments (x32 and MIPS n32 included; false on the
    /// 32-bit ABIs, where `seccomp_data`'s high words are always 0).
    args64: bool,
    /// libseccomp compares 64-bit arguments in one piece (false: as two 32-bit words; x32 and
    /// MIPS n32 are 32-bit there).
    word64: bool,
    /// The first syscall number of the ABI (x32's bit; MIPS's 4000/5000/6000).
    syscall_base: u32,
    /// libseccomp routes socket and SysV IPC calls through socketcall/ipc as well.
    multiplexed: bool,
    /// runc's -ENOSYS stub also answers syscall 0 (s390 and s390x, where 0 is not a syscall).
    stub_zero: bool,
    /// The kernel's signal count, `_NSIG`.
    nsig: u16,
    /// The ABIs a process of this native architecture can call the kernel with.
    abis: &'static [Arch],
}

/// The kernel's x32 syscall bit (`__X32_SYSCALL_BIT`, arch/x86/include/uapi/asm/unistd.h):
/// x32 numbers carry it, and x86_64's filter sees both ABIs under one audit value.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// `__AUDIT_ARCH_LE` (include/uapi/linux/audit.h): the same number as the x32 bit, another fact.
const LE: u32 = 0x4000_0000;
const B64: u32 = 0x8000_0000;
const N32: u32 = 0x2000_0000;

impl Arch {
    /// Every architecture, in libseccomp's order.
    pub const ALL: [Arch; 23] = [
        Arch::X86,
        Arch::X86_64,
        Arch::X32,
        Arch::Arm,
        Arch::Aarch64,
        Arch::Loongarch64,
        Arch::M68k,
        Arch::Mips,
        Arch::Mips64,
        Arch::Mips64N32,
        Arch::Mipsel,
        Arch::Mipsel64,
        Arch::Mipsel64N32,
        Arch::Ppc,
        Arch::Ppc64,
        Arch::Ppc64le,
        Arch::S390,
        Arch::S390x,
        Arch::Sh,
        Arch::Sheb,
        Arch::Parisc,
        Arch::Parisc64,
        Arch::Riscv64,
    ];

    fn info(self) -> Info {
        match self {
            Arch::X86 => Info {
                scmp: "SCMP_ARCH_X86",
                native: "x86",
                kernel: "x86",
                aliases: &["i386", "i686", "386"],
                audit: LE | 3,
                table: Some("x86"),
                little_endian: true,
                args64: false,
                word64: false,
                syscall_base: 0,
                multiplexed: true,
                stub_zero: false,
                nsig: 64,
                abis: &[Arch::X86],
            },
            Arch::X86_64 => Info {
                scmp: "SCMP_ARCH_X86_64",
                native: "amd64",
                kernel: "x86_64",
                aliases: &["x86-64"],
                audit: B64 | LE | 62,
                table: Some("x86_64"),
                little_endian: true,
                args64: true,
                word64: true,
                syscall_base: 0,
                multiplexed: false,
                stub_zero: false,
                nsig: 64,
                abis: &[Arch::X86_64, Arch::X86, Arch::X32],
            },
            Arch::X32 => Info {
                scmp: "SCMP_ARCH_X32",
                native: "x32",
                kernel: "x32",
                aliases: &[],
                audit: B64 | LE | 62,
                table: Some("x32"),
                little_endian: true,
                args64: true,
                word64: false,
                syscall_base: X32_SYSCALL_BIT,
                multiplexed: false,
                stub_zero: false,
                nsig: 64,
                abis: &[Arch::X32],
            },
            Arch::Arm => Info {
                scmp: "SCMP_ARCH_ARM",
                native: "arm",
                kernel: "arm",
                aliases: &["armv7l", "armhf", "armel"],
                audit: LE | 40,
                table: Some("arm"),
                little_endian: true,
                args64: false,
                word64: false,
                syscall_base: 0,
                multiplexed: false,
                stub_zero: false,
                nsig: 64,
                abis: &[Arch::Arm],
            },
            Arch::Aarch64 => Info {
                scmp: "SCMP_ARCH_AARCH64",
                native: "arm64",
                kernel: "aarch64",
                aliases: &[],
                audit: B64 | LE | 183,
                table: Some("aarch64"),
                little_endian: true,
                args64: true,
                word64: true,
                syscall_base: 0,
                multiplexed: false,
                stub_zero: false,
                nsig: 64,
                abis: &[Arch::Aarch64, Arch::Arm],
            },
            Arch::Loongarch64 => Info {
                scmp: "SCMP_ARCH_LOONGARCH64",
                native: "loong64",
                kernel: "loongarch64",
                aliases: &[],
                audit: B64 | LE | 258,
                table: Some("loongarch64"),
                little_endian: true,
                args64: true,
                word64: true,
                syscall_base: 0,
                multiplexed: false,
                stub_zero: false,
                nsig: 64,
                abis: &[Arch::Loongarch64],
            },
            Arch::M68k => Info {
                scmp: "SCMP_ARCH_M68K",
                native: "m68k",
                kernel: "m68k",
                aliases: &[],
                audit: 4,
                table: None,
                little_endian: false,
                args64: false,
                word64: false,
                syscall_base: 0,
                multiplexed: false,
                stub_zero: false,
                nsig: 64,
                abis: &[Arch::M68k],
            },
            Arch::Mips => Info {
                scmp: "SCMP_ARCH_MIPS",
                native: "mips",
                kernel: "mips",
                aliases: &[],
                audit: 8,
                table: Some("mips"),
                little_endian: false,
                args64: false,
                word64: false,
                syscall_base: 4000,
                multiplexed: true,
                stub_zero: false,
                nsig: 128,
                abis: &[Arch::Mips],
            },
            Arch::Mips64 => Info {
                scmp: "SCMP_ARCH_MIPS64",
                native: "mips64",
                kernel: "mips64",
                aliases: &[],
                audit: B64 | 8,
                table: Some("mips64"),
                little_endian: false,
                args64: true,
                word64: true,
                syscall_base: 5000,
                multiplexed: false,
                stub_zero: false,
                nsig: 128,
                abis: &[Arch::Mips64, Arch::Mips64N32, Arch::Mips],
            },
            Arch::Mips64N32 => Info {
                scmp: "SCMP_ARCH_MIPS64N32",
                native: "mips64n32",
                kernel: "mips64n32",
                aliases: &[],
                audit: B64 | N32 | 8,
                table: Some("mips64n32"),
                little_endian: false,
                args64: true,
                word64: false,
                syscall_base: 6000,
                multiplexed: false,
                stub_zero: false,
                nsig: 128,
                abis: &[Arch::Mips64N32],
            },
            Arch::Mipsel => Info {
                scmp: "SCMP_ARCH_MIPSEL",
                native: "mipsel",
                kernel: "mipsel",
                aliases: &["mipsle"],
                audit: LE | 8,
                table: Some("mips"),
                little_endian: true,
                args64: false,
                word64: false,
                syscall_base: 4000,
                multiplexed: true,
                stub_zero: false,
                nsig: 128,
                abis: &[Arch::Mipsel],
            },
            Arch::Mipsel64 => Info {
                scmp: "SCMP_ARCH_MIPSEL64",
                native: "mipsel64",
                kernel: "mipsel64",
                aliases: &["mips64le"],
                audit: B64 | LE | 8,
                table: Some("mips64"),
                little_endian: true,
                args64: true,
                word64: true,
                syscall_base: 5000,
                multiplexed: false,
                stub_zero: false,
                nsig: 128,
                abis: &[Arch::Mipsel64, Arch::Mipsel64N32, Arch::Mipsel],
            },
            Arch::Mipsel64N32 => Info {
                scmp: "SCMP_ARCH_MIPSEL64N32",
                native: "mipsel64n32",
                kernel: "mipsel64n32",
                aliases: &["mips3l64n32"],
                audit: B64 | LE | N32 | 8,
                table: Some("mips64n32"),
                little_endian: true,
                args64: true,
                word64: false,
                syscall_base: 6000,
                multiplexed: false,
                stub_zero: false,
                nsig: 128,
                abis: &[Arch::Mipsel64N32],
            },
            Arch::Ppc => Info {
                scmp: "SCMP_ARCH_PPC",
                native: "ppc",
                kernel: "ppc",
                aliases: &["powerpc"],
                audit: 20,
                table: Some("ppc"),
                little_endian: false,
                args64: false,
                word64: false,
                syscall_base: 0,
                multiplexed: true,
                stub_zero: false,
                nsig: 64,
                abis: &[Arch::Ppc],
            },
            Arch::Ppc64 => Info {
                scmp: "SCMP_ARCH_PPC64",
                native: "ppc64",
                kernel: "ppc64",
                aliases: &["powerpc64"],
                audit: B64 | 21,
                table: Some("ppc64"),
                little_endian: false,
                args64: true,
                word64: true,
                syscall_base: 0,
                multiplexed: true,
                stub_zero: false,
                nsig: 64,
                abis: &[Arch::Ppc64],
            },
            Arch::Ppc64le => Info {
                scmp: "SCMP_ARCH_PPC64LE",
                native: "ppc64le",
                kernel: "ppc64le",
                aliases: &["powerpc64le"],
                audit: B64 | LE | 21,
                table: Some("ppc64"),
                little_endian: true,
                args64: true,
                word64: true,
                syscall_base: 0,
                multiplexed: true,
                stub_zero: false,
                nsig: 64,
                abis: &[Arch::Ppc64le],
            },
            Arch::S390 => Info {
                scmp: "SCMP_ARCH_S390",
                native: "s390",
                kernel: "s390",
                aliases: &[],
                audit: 22,
                table: Some("s390"),
                little_endian: false,
                args64: false,
                word64: false,
                syscall_base: 0,
                multiplexed: true,
                stub_zero: true,
                nsig: 64,
                abis: &[Arch::S390],
            },
            Arch::S390x => Info {
                scmp: "SCMP_ARCH_S390X",
                native: "s390x",
                kernel: "s390x",
                aliases: &[],
                audit: B64 | 22,
                table: Some("s390x"),
                little_endian: false,
                args64: true,
                word64: true,
                syscall_base: 0,
                multiplexed: true,
                stub_zero: true,
                nsig: 64,
                abis: &[Arch::S390x, Arch::S390],
            },
            Arch::Sh => Info {
                scmp: "SCMP_ARCH_SH",
                native: "sh",
                kernel: "sh",
                aliases: &["shel"],
                audit: LE | 42,
                table: None,
                little_endian: true,
                args64: false,
                word64: false,
                syscall_base: 0,
                multiplexed: false,
                stub_zero: false,
                nsig: 64,
                abis: &[Arch::Sh],
            },
            Arch::Sheb => Info {
                scmp: "SCMP_ARCH_SHEB",
                native: "sheb",
                kernel: "sheb",
                aliases: &[],
                audit: 42,
                table: None,
                little_endian: false,
                args64: false,
                word64: false,
                syscall_base: 0,
                multiplexed: false,
                stub_zero: false,
                nsig: 64,
                abis: &[Arch::Sheb],
            },
            Arch::Parisc => Info {
                scmp: "SCMP_ARCH_PARISC",
                native: "parisc",
                kernel: "parisc",
                aliases: &["hppa"],
                audit: 15,
                table: None,
                little_endian: false,
                args64: false,
                word64: false,
                syscall_base: 0,
                multiplexed: false,
                stub_zero: false,
                nsig: 64,
                abis: &[Arch::Parisc],
            },
            Arch::Parisc64 => Info {
                scmp: "SCMP_ARCH_PARISC64",
                native: "parisc64",
                kernel: "parisc64",
                aliases: &["hppa64"],
                audit: B64 | 15,
                table: None,
                little_endian: false,
                args64: true,
                word64: true,
                syscall_base: 0,
                multiplexed: false,
                stub_zero: false,
                nsig: 64,
                abis: &[Arch::Parisc64],
            },
            Arch::Riscv64 => Info {
                scmp: "SCMP_ARCH_RISCV64",
                native: "riscv64",
                kernel: "riscv64",
                aliases: &[],
                audit: B64 | LE | 243,
                table: Some("riscv64"),
                little_endian: true,
                args64: true,
                word64: true,
                syscall_base: 0,
                multiplexed: false,
                stub_zero: false,
                nsig: 64,
                abis: &[Arch::Riscv64],
            },
        }
    }

    /// libseccomp's name, as written in profiles: `SCMP_ARCH_X86_64`.
    pub fn scmp_name(self) -> &'static str {
        self.info().scmp
    }

    /// Docker's native name (`amd64`), compared with `includes.arches` / `excludes.arches`.
    pub fn native_name(self) -> &'static str {
        self.info().native
    }

    /// The kernel's / libseccomp's short name (`x86_64`), as `scmp_sys_resolver -a` takes it.
    pub fn kernel_name(self) -> &'static str {
        self.info().kernel
    }

    /// The `AUDIT_ARCH_*` value the kernel puts in `seccomp_data.arch`.
    pub fn audit_arch(self) -> u32 {
        self.info().audit
    }

    /// Whether the architecture stores 64-bit arguments little-endian.
    pub fn is_little_endian(self) -> bool {
        self.info().little_endian
    }

    /// Whether the kernel passes 64-bit syscall arguments on this ABI (x32 and MIPS n32 do;
    /// the 32-bit ABIs do not, and their high words in `seccomp_data` are always 0).
    pub fn args64(self) -> bool {
        self.info().args64
    }

    /// Whether libseccomp compares 64-bit arguments in one piece on this ABI (false: as two
    /// 32-bit words; x32 and MIPS n32 are 32-bit there).
    pub fn libseccomp_word64(self) -> bool {
        self.info().word64
    }

    /// The first syscall number of the ABI: [`X32_SYSCALL_BIT`] on x32, 4000/5000/6000 on
    /// MIPS o32/n64/n32, 0 elsewhere.
    pub fn syscall_base(self) -> u32 {
        self.info().syscall_base
    }

    /// Whether libseccomp routes socket and SysV IPC calls through the socketcall/ipc
    /// multiplexers too on this ABI.
    pub fn multiplexed(self) -> bool {
        self.info().multiplexed
    }

    /// Whether runc's -ENOSYS stub also answers syscall 0 (s390 and s390x).
    pub fn stub_answers_zero(self) -> bool {
        self.info().stub_zero
    }

    /// The kernel's signal count (`_NSIG`): 128 on MIPS, 64 elsewhere.
    pub fn signal_count(self) -> u16 {
        self.info().nsig
    }

    /// The ABIs a process of this native architecture can call the kernel with, the native
    /// one first (x86_64: x86_64, x86, x32).
    pub fn abis(self) -> &'static [Arch] {
        self.info().abis
    }

    /// Whether `nr` as `seccomp_data.nr` on x86_64's audit value is an x32 call.
    pub fn is_x32_number(nr: u32) -> bool {
        nr & X32_SYSCALL_BIT != 0
    }

    /// The numbers diff, inspect, the benchmarks and the tests probe on this ABI: from its
    /// base to 64 past the highest number its table has within 1000 of the base (ARM's private
    /// calls at 0x0f0000 are left out). Empty without a table.
    pub fn probe_range(self) -> std::ops::RangeInclusive<u32> {
        let Ok(table) = crate::SyscallTable::for_arch(self) else {
            #[allow(clippy::reversed_empty_ranges)]
            return 1..=0;
        };
        let base = self.syscall_base();
        let top = table
            .entries()
            .map(|e| e.0)
            .filter(|&n| n >= base && n < base + 1000)
            .max()
            .unwrap_or(base);
        base..=top + 64
    }

    /// The name of the syscall table this architecture uses, if confine has one.
    pub fn table_name(self) -> Option<&'static str> {
        self.info().table
    }

    /// Parse an architecture from a profile: only libseccomp's exact `SCMP_ARCH_*` spelling, as runc.
    pub fn from_scmp(s: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.scmp_name() == s)
    }

    /// Parse an architecture from Docker's native spelling only (exactly as Docker compares).
    pub fn from_native(s: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.native_name() == s)
    }

    /// Parse any spelling, case-insensitively: `amd64`, `x86_64`, `SCMP_ARCH_X86_64`, `i386`, …
    pub fn parse(s: &str) -> Result<Arch, ArchError> {
        let lower = s.to_ascii_lowercase();
        let short = lower.strip_prefix("scmp_arch_").unwrap_or(&lower);
        Arch::ALL
            .into_iter()
            .find(|a| {
                let i = a.info();
                i.scmp[10..].eq_ignore_ascii_case(short)
                    || i.native == short
                    || i.kernel == short
                    || i.aliases.contains(&short)
            })
            .ok_or_else(|| ArchError::Unknown(s.to_string()))
    }

    /// The architecture this binary was built for: Docker resolves profiles for the daemon's
    /// build architecture (Go's `GOARCH`), and so does confine.
    pub fn native() -> Arch {
        Arch::for_target(std::env::consts::ARCH, cfg!(target_endian = "little"))
    }

    /// The architecture of a Rust target (`CARGO_CFG_TARGET_ARCH` and its byte order), for
    /// build scripts that prepare data for the target rather than the build machine.
    pub fn for_target(target_arch: &str, little_endian: bool) -> Arch {
        let le = little_endian;
        match target_arch {
            "x86" => Arch::X86,
            "aarch64" => Arch::Aarch64,
            "arm" => Arch::Arm,
            "riscv64" => Arch::Riscv64,
            "powerpc64" if le => Arch::Ppc64le,
            "powerpc64" => Arch::Ppc64,
            "powerpc" => Arch::Ppc,
            "s390x" => Arch::S390x,
            "mips64" if le => Arch::Mipsel64,
            "mips64" => Arch::Mips64,
            "mips" if le => Arch::Mipsel,
            "mips" => Arch::Mips,
            "loongarch64" => Arch::Loongarch64,
            _ => Arch::X86_64,
        }
    }

    /// The architectures for which confine carries a syscall table.
    pub fn supported() -> impl Iterator<Item = Arch> {
        Arch::ALL.into_iter().filter(|a| a.table_name().is_some())
    }
}

impl fmt::Display for Arch {
    /// Displays the kernel's short name (`x86_64`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kernel_name())
    }
}

impl std::str::FromStr for Arch {
    type Err = ArchError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Arch::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_parses() {
        for a in Arch::ALL {
            assert_eq!(Arch::parse(a.scmp_name()).unwrap(), a);
            assert_eq!(Arch::parse(a.native_name()).unwrap(), a);
            assert_eq!(Arch::parse(a.kernel_name()).unwrap(), a);
            assert_eq!(Arch::from_scmp(a.scmp_name()), Some(a));
        }
        assert_eq!(Arch::parse("AMD64").unwrap(), Arch::X86_64);
        assert_eq!(Arch::parse("scmp_arch_aarch64").unwrap(), Arch::Aarch64);
        assert_eq!(Arch::parse("i686").unwrap(), Arch::X86);
        assert!(Arch::parse("vax").is_err());
        assert_eq!(Arch::from_scmp("scmp_arch_x86_64"), None);
    }

    #[test]
    fn audit_values_match_the_kernel() {
        // AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, AUDIT_ARCH_S390X from audit.h
        assert_eq!(Arch::X86_64.audit_arch(), 0xC000_003E);
        assert_eq!(Arch::X86.audit_arch(), 0x4000_0003);
        assert_eq!(Arch::Aarch64.audit_arch(), 0xC000_00B7);
        assert_eq!(Arch::S390x.audit_arch(), 0x8000_0016);
        assert_eq!(Arch::Riscv64.audit_arch(), 0xC000_00F3);
        assert_eq!(Arch::Mipsel64N32.audit_arch(), 0xE000_0008);
    }

    #[test]
    fn the_table_agrees_with_the_syscall_tables() {
        for a in Arch::supported() {
            let t = crate::SyscallTable::for_arch(a).unwrap();
            // every ABI's numbers start at its base (s390's at 1: 0 is no syscall there, which
            // is why runc's stub answers it)
            let first = t.entries().map(|e| e.0).min().unwrap();
            assert_eq!(
                first - a.syscall_base(),
                u32::from(a.stub_answers_zero()),
                "{a}"
            );
            assert!(a.probe_range().contains(&a.syscall_base()));
            if a.multiplexed() {
                assert!(
                    t.number("socketcall").is_some() && t.number("ipc").is_some(),
                    "{a}"
                );
            }
            // libseccomp's one-piece comparison only where the kernel passes 64-bit arguments
            assert!(!a.libseccomp_word64() || a.args64(), "{a}");
            assert_eq!(a.abis()[0], a, "{a}");
        }
        assert_eq!(Arch::X32.syscall_base(), X32_SYSCALL_BIT);
        assert!(Arch::is_x32_number(X32_SYSCALL_BIT | 1) && !Arch::is_x32_number(1));
        assert_eq!(Arch::X86_64.abis(), [Arch::X86_64, Arch::X86, Arch::X32]);
        assert!(Arch::S390x.stub_answers_zero() && !Arch::X86_64.stub_answers_zero());
        assert_eq!(Arch::Mips.signal_count(), 128);
        assert_eq!(Arch::X86_64.signal_count(), 64);
        // the x86_64 range reaches past the highest number, not into x32's
        let r = Arch::X86_64.probe_range();
        assert!(*r.end() < X32_SYSCALL_BIT && *r.end() > 400);
    }

    #[test]
    fn twenty_three_distinct_names() {
        let mut names: Vec<_> = Arch::ALL.iter().map(|a| a.scmp_name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 23);
    }
}
