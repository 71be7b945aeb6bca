//! runc's `-ENOSYS` stub, all of it: where its thresholds come from (`thresholds`), what it
//! answers ([`Policy::eval_stub`]), and the instructions that answer it ([`prefix`]; the
//! reference generator emits the same at the head of its program).
//!
//! runc does not install libseccomp's program alone. Its `libcontainer/seccomp/patchbpf`
//! package (`enosys_linux.go`) exports that program and puts a short program of its own in
//! front of it, so that a syscall newer than the profile gets `ENOSYS` — which a libc takes as
//! "not implemented" and falls back from — rather than the profile's default action (often
//! `EPERM`, which it would take as a refusal). What runc does, and confine reproduces:
//!
//! * **Thresholds** (runc's `findLastSyscalls`): for every architecture the profile lists in
//!   `architectures` (not the native one unless it is listed), the highest number any rule
//!   names on that architecture. Names the architecture lacks do not count; neither do socket
//!   and SysV IPC names on ABIs that multiplex them, which libseccomp resolves to negative
//!   pseudo numbers there. An architecture whose highest number is 0 gets no threshold.
//! * **When**: only when the default action is not an "allow" one (allow, log, trace): with
//!   those, an unknown syscall goes through anyway, and a tracer answers `ENOSYS` itself.
//! * **What it answers**: `ERRNO(ENOSYS)` ([`RET_ENOSYS`]) for a number above its
//!   architecture's threshold, compared unsigned; everything else falls through to the filter.
//!   Sections are chosen by the kernel's `AUDIT_ARCH_*` value, which x86_64 and x32 share: there
//!   the x32 bit of the number (`jset`, [`confine_abi::X32_SYSCALL_BIT`]) picks the x32 or the
//!   x86_64 threshold, so 0x8000_0000..0xbfff_ffff count as x86_64 numbers and
//!   0xc000_0000.. as x32 ones. On s390 and s390x, number 0 gets `ENOSYS` as well: the
//!   kernel leaves a number it does not know at 0 when it comes through the multiplexer for
//!   large syscall numbers, and 0 is no syscall there (read only through
//!   [`Arch::stub_answers_zero`]).
//! * **Layout** (runc's, as emitted here; runc may place its returns and long jumps
//!   differently): load the audit value, one `jeq` per architecture into its section, else
//!   into the filter; each section loads the number and compares it with its threshold(s);
//!   the sections here share one `ret ERRNO(ENOSYS)`.

use crate::policy::Policy;
use crate::CompileError;
use confine_abi::syscalls::{NameId, NumbersById};
use confine_abi::{Arch, X32_SYSCALL_BIT};
use confine_bpf::action::Ret;
use confine_bpf::asm::{Asm, Label};
use confine_bpf::insn::{op, Insn};
use confine_profile::{Action, Resolved};

/// `SECCOMP_RET_ERRNO | ENOSYS`, what runc's stub returns.
pub const RET_ENOSYS: Ret = Ret::Errno(38);

/// Whether runc puts its stub in front of a filter with this default action: not when the
/// default already lets an unknown syscall through (allow, log), nor under a tracer (trace).
pub(crate) fn wanted(default_action: Action) -> bool {
    !matches!(default_action, Action::Allow | Action::Log | Action::Trace)
}

/// runc's `findLastSyscalls`: for each listed architecture, the highest number any rule names.
/// `ids` holds every name of every rule (its id if known, and whether it is a socket or IPC
/// call that multiplexing ABIs leave out); `by_id` the number lookups of the filter's ABIs,
/// `arches` in the same order.
pub(crate) fn thresholds(
    r: &Resolved,
    ids: &[(Option<NameId>, bool)],
    arches: &[Arch],
    by_id: &[NumbersById],
) -> Vec<(Arch, u32)> {
    let mut out = Vec::new();
    for &arch in &r.architectures {
        // every listed architecture is one of the filter's
        let Some(t) = arches.iter().position(|a| *a == arch).map(|i| &by_id[i]) else {
            continue;
        };
        let mux = arch.multiplexed();
        let max = ids
            .iter()
            .filter(|(_, is_mux)| !(mux && *is_mux))
            .filter_map(|(id, _)| t.get((*id)?))
            .max()
            .unwrap_or(0);
        if max != 0 && !out.iter().any(|(a, _)| *a == arch) {
            out.push((arch, max));
        }
    }
    out
}

impl Policy {
    /// runc's stub alone: `Some(ENOSYS)` when it answers.
    pub fn eval_stub(&self, audit_arch: u32, nr: u32) -> Option<Ret> {
        Stub::of(&self.stub, audit_arch).at(nr)
    }
}

/// runc's stub for one audit architecture, its thresholds looked up once.
#[derive(Clone, Copy)]
pub(crate) enum Stub {
    /// No stub for this architecture.
    None,
    /// x86_64's audit value, shared by x86_64 and x32: a threshold for each half, the x32 bit
    /// of the number choosing between them.
    X86_64 {
        native: Option<u32>,
        x32: Option<u32>,
    },
    /// Numbers above `max` get ENOSYS, and 0 too when `zero` (s390, s390x).
    Max { max: u32, zero: bool },
}

impl Stub {
    /// The stub of `audit_arch`, from a policy's thresholds.
    pub(crate) fn of(thresholds: &[(Arch, u32)], audit_arch: u32) -> Stub {
        let mut mine = thresholds
            .iter()
            .filter(|(a, _)| a.audit_arch() == audit_arch);
        let Some(&(first, first_max)) = mine.next() else {
            return Stub::None;
        };
        if audit_arch == Arch::X86_64.audit_arch() {
            // the first entry of each ABI counts
            let of = |want: Arch| thresholds.iter().find(|(a, _)| *a == want).map(|e| e.1);
            Stub::X86_64 {
                native: of(Arch::X86_64),
                x32: of(Arch::X32),
            }
        } else {
            Stub::Max {
                max: first_max,
                zero: first.stub_answers_zero(),
            }
        }
    }

    /// What the stub answers for `nr`: `Some(ENOSYS)`, or `None` to go on to the filter.
    pub(crate) fn at(self, nr: u32) -> Option<Ret> {
        let max = match self {
            Stub::None => return None,
            Stub::X86_64 { native, x32 } => match (native, x32, Arch::is_x32_number(nr)) {
                (_, Some(m), true) => m,
                (Some(m), _, false) => m,
                _ => return None,
            },
            Stub::Max { zero: true, .. } if nr == 0 => return Some(RET_ENOSYS),
            Stub::Max { max, .. } => max,
        };
        (nr > max).then_some(RET_ENOSYS)
    }

    /// Where the answer of [`Stub::at`] may change (besides 0): it is the same for every
    /// number from one of these to the next.
    pub(crate) fn bounds(self) -> Vec<u32> {
        let above = |m: Option<u32>| m.and_then(|m| m.checked_add(1));
        match self {
            Stub::None => Vec::new(),
            // the x32 bit flips at every multiple of it
            Stub::X86_64 { native, x32 } => (1..4)
                .map(|k| k * X32_SYSCALL_BIT)
                .chain(above(native))
                .chain(above(x32))
                .collect(),
            Stub::Max { max, zero } => zero
                .then_some(1)
                .into_iter()
                .chain(above(Some(max)))
                .collect(),
        }
    }
}

/// Emit the stub for `thresholds` (a policy's, in its order): a number it answers jumps to
/// `enosys` (the caller's `ret ERRNO(ENOSYS)`), any other call to `filter`. Nothing without
/// thresholds.
pub(crate) fn emit(asm: &mut Asm, thresholds: &[(Arch, u32)], enosys: Label, filter: Label) {
    // one section per audit value, in the order the thresholds first name it
    let mut by_audit: Vec<(u32, Vec<(Arch, u32)>)> = Vec::new();
    for &(arch, max) in thresholds {
        match by_audit.iter_mut().find(|(a, _)| *a == arch.audit_arch()) {
            Some((_, v)) => v.push((arch, max)),
            None => by_audit.push((arch.audit_arch(), vec![(arch, max)])),
        }
    }
    if by_audit.is_empty() {
        return;
    }
    asm.ld(4);
    let sections: Vec<Label> = by_audit.iter().map(|_| asm.label()).collect();
    for (i, (audit, _)) in by_audit.iter().enumerate() {
        let next = asm.label();
        asm.jump(op::JEQ, *audit, sections[i], next);
        asm.bind(next);
    }
    asm.ja(filter);
    for (i, (_, arches)) in by_audit.iter().enumerate() {
        asm.bind(sections[i]);
        asm.ld(0);
        let max_of = |a: Arch| arches.iter().find(|(x, _)| *x == a).map(|e| e.1);
        if arches[0].0.audit_arch() == Arch::X86_64.audit_arch() {
            // the x32 bit picks the threshold
            let (m64, m32) = (max_of(Arch::X86_64), max_of(Arch::X32));
            let is32 = asm.label();
            let is64 = asm.label();
            asm.jump(op::JSET, X32_SYSCALL_BIT, is32, is64);
            asm.bind(is32);
            match m32 {
                Some(m) => {
                    // runc's `jgt` then `ja` into the filter
                    let ok = asm.label();
                    asm.jump(op::JGT, m, enosys, ok);
                    asm.bind(ok);
                    asm.ja(filter);
                }
                None => asm.ja(filter),
            }
            asm.bind(is64);
            match m64 {
                Some(m) => asm.jump(op::JGT, m, enosys, filter),
                None => asm.ja(filter),
            }
        } else {
            let (arch, m) = arches[0];
            if arch.stub_answers_zero() {
                let not0 = asm.label();
                asm.jump(op::JEQ, 0, enosys, not0);
                asm.bind(not0);
            }
            asm.jump(op::JGT, m, enosys, filter);
        }
    }
}

/// runc's stub alone, ending where the filter proper starts: prepend it to another compiler's
/// program (libseccomp's, as runc does) to get what runc installs. Empty without thresholds.
pub fn prefix(p: &Policy) -> Result<Vec<Insn>, CompileError> {
    if p.stub.is_empty() {
        return Ok(Vec::new());
    }
    let mut asm = Asm::default();
    let filter = asm.label();
    let enosys = asm.label();
    emit(&mut asm, &p.stub, enosys, filter);
    // the stub's return sits before the filter; the filter starts right after it
    asm.ja(filter);
    asm.bind(enosys);
    asm.ret(RET_ENOSYS.into());
    // one past the end: the appended program
    asm.bind(filter);
    asm.finish()
        .map_err(|e| CompileError::Internal(format!("{e:?}")))
}
