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

struct Info {
    scmp: &'static str,
    native: &'static str,
    kernel: &'static str,
    aliases: &'static [&'static str],
    audit: u32,
    table: Option<&'static str>,
    little_endian: bool,
}

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
        let i = |scmp, native, kernel, aliases, audit, table, little_endian| Info {
            scmp,
            native,
            kernel,
            aliases,
            audit,
            table,
            little_endian,
        };
        match self {
            Arch::X86 => i(
                "SCMP_ARCH_X86",
                "x86",
                "x86",
                &["i386", "i686", "386"],
                LE | 3,
                Some("x86"),
                true,
            ),
            Arch::X86_64 => i(
                "SCMP_ARCH_X86_64",
                "amd64",
                "x86_64",
                &["x86-64"],
                B64 | LE | 62,
                Some("x86_64"),
                true,
            ),
            Arch::X32 => i(
                "SCMP_ARCH_X32",
                "x32",
                "x32",
                &[],
                B64 | LE | 62,
                Some("x32"),
                true,
            ),
            Arch::Arm => i(
                "SCMP_ARCH_ARM",
                "arm",
                "arm",
                &["armv7l", "armhf", "armel"],
                LE | 40,
                Some("arm"),
                true,
            ),
            Arch::Aarch64 => i(
                "SCMP_ARCH_AARCH64",
                "arm64",
                "aarch64",
                &[],
                B64 | LE | 183,
                Some("aarch64"),
                true,
            ),
            Arch::Loongarch64 => i(
                "SCMP_ARCH_LOONGARCH64",
                "loong64",
                "loongarch64",
                &[],
                B64 | LE | 258,
                Some("loongarch64"),
                true,
            ),
            Arch::M68k => i("SCMP_ARCH_M68K", "m68k", "m68k", &[], 4, None, false),
            Arch::Mips => i(
                "SCMP_ARCH_MIPS",
                "mips",
                "mips",
                &[],
                8,
                Some("mips"),
                false,
            ),
            Arch::Mips64 => i(
                "SCMP_ARCH_MIPS64",
                "mips64",
                "mips64",
                &[],
                B64 | 8,
                Some("mips64"),
                false,
            ),
            Arch::Mips64N32 => i(
                "SCMP_ARCH_MIPS64N32",
                "mips64n32",
                "mips64n32",
                &[],
                B64 | N32 | 8,
                Some("mips64n32"),
                false,
            ),
            Arch::Mipsel => i(
                "SCMP_ARCH_MIPSEL",
                "mipsel",
                "mipsel",
                &["mipsle"],
                LE | 8,
                Some("mips"),
                true,
            ),
            Arch::Mipsel64 => i(
                "SCMP_ARCH_MIPSEL64",
                "mipsel64",
                "mipsel64",
                &["mips64le"],
                B64 | LE | 8,
                Some("mips64"),
                true,
            ),
            Arch::Mipsel64N32 => i(
                "SCMP_ARCH_MIPSEL64N32",
                "mipsel64n32",
                "mipsel64n32",
                &["mips3l64n32"],
                B64 | LE | N32 | 8,
                Some("mips64n32"),
                true,
            ),
            Arch::Ppc => i(
                "SCMP_ARCH_PPC",
                "ppc",
                "ppc",
                &["powerpc"],
                20,
                Some("ppc"),
                false,
            ),
            Arch::Ppc64 => i(
                "SCMP_ARCH_PPC64",
                "ppc64",
                "ppc64",
                &["powerpc64"],
                B64 | 21,
                Some("ppc64"),
                false,
            ),
            Arch::Ppc64le => i(
                "SCMP_ARCH_PPC64LE",
                "ppc64le",
                "ppc64le",
                &["powerpc64le"],
                B64 | LE | 21,
                Some("ppc64"),
                true,
            ),
            Arch::S390 => i(
                "SCMP_ARCH_S390",
                "s390",
                "s390",
                &[],
                22,
                Some("s390"),
                false,
            ),
            Arch::S390x => i(
                "SCMP_ARCH_S390X",
                "s390x",
                "s390x",
                &[],
                B64 | 22,
                Some("s390x"),
                false,
            ),
            Arch::Sh => i("SCMP_ARCH_SH", "sh", "sh", &["shel"], LE | 42, None, true),
            Arch::Sheb => i("SCMP_ARCH_SHEB", "sheb", "sheb", &[], 42, None, false),
            Arch::Parisc => i(
                "SCMP_ARCH_PARISC",
                "parisc",
                "parisc",
                &["hppa"],
                15,
                None,
                false,
            ),
            Arch::Parisc64 => i(
                "SCMP_ARCH_PARISC64",
                "parisc64",
                "parisc64",
                &["hppa64"],
                B64 | 15,
                None,
                false,
            ),
            Arch::Riscv64 => i(
                "SCMP_ARCH_RISCV64",
                "riscv64",
                "riscv64",
                &[],
                B64 | LE | 243,
                Some("riscv64"),
                true,
            ),
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
    fn twenty_three_distinct_names() {
        let mut names: Vec<_> = Arch::ALL.iter().map(|a| a.scmp_name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 23);
    }
}
