//! The x32 split: x86_64 and x32 share the kernel's `AUDIT_ARCH_X86_64`, and an x32 call is
//! told apart only by the x32 bit in its number ([`X32_SYSCALL_BIT`], the kernel's
//! `__X32_SYSCALL_BIT`). When a filter has one of the two ABIs but not the other, libseccomp's
//! program gives the other one's half of the numbers the bad-architecture action. Which numbers
//! those are is decided here, once; the code generators emit the comparisons themselves.

use confine_abi::{Arch, X32_SYSCALL_BIT};

/// Which of the two ABIs on x86_64's audit value a filter has, so which half of the numbers
/// libseccomp turns away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum X32Split {
    /// Nothing turned away: another audit value, or both ABIs in the filter.
    None,
    /// x86_64 without x32: numbers from the x32 bit up are turned away (but `u32::MAX`).
    NativeOnly,
    /// x32 without x86_64: numbers below the x32 bit are turned away.
    X32Only,
}

impl X32Split {
    /// The split on `audit_arch` of a filter whose ABIs on that audit value are `arches`.
    pub(crate) fn of(audit_arch: u32, arches: impl IntoIterator<Item = Arch>) -> X32Split {
        if audit_arch != Arch::X86_64.audit_arch() {
            return X32Split::None;
        }
        let (mut native, mut x32) = (false, false);
        for a in arches {
            native |= a == Arch::X86_64;
            x32 |= a == Arch::X32;
        }
        match (native, x32) {
            (true, false) => X32Split::NativeOnly,
            (false, true) => X32Split::X32Only,
            _ => X32Split::None,
        }
    }

    /// Whether libseccomp's program gives `nr` the bad-architecture action because it belongs
    /// to the ABI the filter lacks.
    ///
    /// `u32::MAX` is let through even without x32: it is syscall number -1, which a tracer
    /// writes to make the kernel skip the call it stopped at. Since Linux 4.8 the filter runs
    /// again once the tracer is done (seccomp(2)), and libseccomp exempts -1 so that a skipped
    /// call is not turned into the bad-architecture action; it reaches the syscall dispatch
    /// like any number the filter does not list.
    pub(crate) fn rejects(self, nr: u32) -> bool {
        match self {
            X32Split::None => false,
            X32Split::NativeOnly => nr >= X32_SYSCALL_BIT && nr != u32::MAX,
            X32Split::X32Only => nr < X32_SYSCALL_BIT,
        }
    }

    /// Where the answer of [`X32Split::rejects`] may change (besides 0): it is the same for
    /// every number from one of these to the next.
    pub(crate) fn bounds(self) -> &'static [u32] {
        match self {
            X32Split::None => &[],
            X32Split::NativeOnly => &[X32_SYSCALL_BIT, u32::MAX],
            X32Split::X32Only => &[X32_SYSCALL_BIT],
        }
    }
}
