//! The host the seccomp tests resolve profiles for: an architecture, a capability set, and a
//! kernel version (6.8 unless a test says otherwise).

use confine_abi::{Arch, CapSet};
use confine_profile::{Host, KernelVersion, Resolved};

/// The kernel version the tests resolve for unless they say otherwise: 6.8.
pub const KERNEL: KernelVersion = KernelVersion {
    kernel: 6,
    major: 8,
};

/// `arch` with `caps` on kernel 6.8.
pub fn host(arch: Arch, caps: CapSet) -> Host {
    with_kernel(arch, caps, (KERNEL.kernel, KERNEL.major))
}

/// `arch` with `caps` on kernel `k.0`.`k.1`.
pub fn with_kernel(arch: Arch, caps: CapSet, k: (u8, u8)) -> Host {
    Host {
        arch,
        caps,
        kernel: KernelVersion {
            kernel: k.0,
            major: k.1,
        },
    }
}

/// confine's builtin docker-default resolved for `arch` with `caps` on kernel 6.8.
pub fn docker(arch: Arch, caps: CapSet) -> Resolved {
    confine_profile::builtin::resolved_for(&host(arch, caps))
}
