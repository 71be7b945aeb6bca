//! The builtin docker-default seccomp program, compiled ahead of time by build.rs for this
//! target's architecture and Docker's 14 default capabilities, one program per kernel bucket.
//!
//! `confine run` with no seccomp or capability options would otherwise parse nothing but still
//! resolve and compile the same profile at every start; taking the ready program saves about a
//! millisecond (docs/PERFORMANCE.md). Anything else (another profile, `--cap-add`, a different
//! architecture) is compiled at run time. The tests below prove the embedded programs equal the
//! compiler's output for kernels in and at the edges of every bucket.

use confine_abi::CapSet;
use confine_bpf::Insn;
use confine_profile::Host;

/// A program compiled by build.rs, for kernels from `from` (major, minor) up to the next
/// bucket's.
pub struct Bucket {
    from: (u8, u8),
    prog: &'static [Insn],
    log: bool,
    spec_allow: bool,
    wait_killable_recv: bool,
}

mod data {
    use super::Bucket;
    use confine_bpf::Insn;
    include!(concat!(env!("OUT_DIR"), "/builtin_filters.rs"));
}

/// The filter flags the program wants installed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flags {
    /// SECCOMP_FILTER_FLAG_LOG.
    pub log: bool,
    /// SECCOMP_FILTER_FLAG_SPEC_ALLOW.
    pub spec_allow: bool,
    /// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV.
    pub wait_killable_recv: bool,
}

/// The ready program for the builtin profile resolved for `host` with the compiler's default
/// options, when `host` is one build.rs prepared (this architecture, Docker's default caps).
pub fn builtin(host: &Host) -> Option<(&'static [Insn], Flags)> {
    if host.caps != CapSet::docker_default() || host.arch.kernel_name() != data::ARCH {
        return None;
    }
    let k = (host.kernel.kernel, host.kernel.major);
    data::BUCKETS.iter().rev().find(|b| b.from <= k).map(|b| {
        (
            b.prog,
            Flags {
                log: b.log,
                spec_allow: b.spec_allow,
                wait_killable_recv: b.wait_killable_recv,
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use confine_abi::Arch;
    use confine_profile::{builtin, Flag, KernelVersion};
    use confine_seccomp::{build, optimize, Options};

    fn compiled(host: &Host) -> (Vec<Insn>, Vec<Flag>) {
        let p = build(&builtin::resolved_for(host), Options::default()).unwrap();
        (optimize::generate(&p).unwrap(), p.flags)
    }

    #[test]
    fn embedded_programs_equal_the_compilers_output() {
        let mut kernels = vec![(0, 0), (3, 10), (6, 18), (255, 255)];
        for t in builtin::kernel_thresholds() {
            kernels.push((t.kernel, t.major));
            kernels.push((t.kernel, t.major.saturating_sub(1)));
            kernels.push((t.kernel, t.major.saturating_add(1)));
        }
        for (kernel, major) in kernels {
            let host = Host {
                arch: Arch::native(),
                caps: CapSet::docker_default(),
                kernel: KernelVersion { kernel, major },
            };
            let (prog, flags) = builtin(&host).expect("native arch, default caps");
            let (want, want_flags) = compiled(&host);
            assert_eq!(prog, &want[..], "kernel {kernel}.{major}");
            assert_eq!(flags.log, want_flags.contains(&Flag::Log));
            assert_eq!(flags.spec_allow, want_flags.contains(&Flag::SpecAllow));
        }
    }

    #[test]
    fn buckets_differ_where_the_profile_does() {
        // docker-default allows ptrace & co. from 4.8 on: the two buckets must differ
        let at = |kernel, major| Host {
            arch: Arch::native(),
            caps: CapSet::docker_default(),
            kernel: KernelVersion { kernel, major },
        };
        assert_ne!(builtin(&at(4, 7)).unwrap().0, builtin(&at(4, 8)).unwrap().0);
        assert_eq!(
            builtin(&at(4, 8)).unwrap().0,
            builtin(&at(6, 18)).unwrap().0
        );
    }

    #[test]
    fn other_capabilities_or_arches_are_compiled_at_run_time() {
        let mut host = Host {
            arch: Arch::native(),
            caps: CapSet::docker_default(),
            kernel: KernelVersion {
                kernel: 6,
                major: 18,
            },
        };
        host.caps.0 |= 1 << 21; // CAP_SYS_ADMIN
        assert!(builtin(&host).is_none());
        host.caps = CapSet::docker_default();
        host.arch = if Arch::native() == Arch::Aarch64 {
            Arch::X86_64
        } else {
            Arch::Aarch64
        };
        assert!(builtin(&host).is_none());
    }
}
