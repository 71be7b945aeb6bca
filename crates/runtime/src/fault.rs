//! Fault injection for tests, behind the `fault-injection` feature (off by default: without it
//! [`mutate_seccomp`] is an empty inline function, so a release build has no hook at all).
//!
//! With the feature, `CONFINE_FAULT_SECCOMP=flip-jump` makes [`crate::seccomp::program`] swap
//! the two targets of one conditional jump of the program it is about to install: after
//! compiling (or taking the precompiled builtin), before `--security-opt seccomp-verify`
//! proves it. The jump is the first whose flip changes the decision of at least one syscall
//! of the host's ABI (arguments 0) and only turns denials into something else, so that the
//! mutated program still lets a command start and the flip is seen only by the proof. It
//! reports the jump and the changed syscall numbers on stderr. Any other value is an error: a
//! test that misspells the fault must not pass because nothing was injected.

use confine_abi::Arch;
use confine_bpf::Insn;

/// Mutate `prog` as `CONFINE_FAULT_SECCOMP` asks, if it is set; why not, if it cannot be done.
#[cfg(feature = "fault-injection")]
pub(crate) fn mutate_seccomp(prog: &mut [Insn], arch: Arch) -> Result<(), String> {
    imp::mutate(prog, arch)
}

/// Without the feature: nothing to do.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn mutate_seccomp(_prog: &mut [Insn], _arch: Arch) -> Result<(), String> {
    Ok(())
}

#[cfg(feature = "fault-injection")]
mod imp {
    use confine_abi::{Arch, SyscallTable};
    use confine_bpf::action::{ALLOW, LOG};
    use confine_bpf::{Emulator, Insn, SeccompData};

    const VAR: &str = "CONFINE_FAULT_SECCOMP";

    pub(super) fn mutate(prog: &mut [Insn], arch: Arch) -> Result<(), String> {
        let Some(v) = std::env::var_os(VAR) else {
            return Ok(());
        };
        if v != "flip-jump" {
            return Err(format!(
                "{VAR}={}: unknown fault (the one known is flip-jump)",
                v.to_string_lossy()
            ));
        }
        let (j, changed) = widening_flip(prog, arch)
            .ok_or_else(|| format!("{VAR}=flip-jump: no jump whose flip only widens {arch}"))?;
        flip(&mut prog[j]);
        let list: Vec<String> = changed.iter().map(u32::to_string).collect();
        eprintln!(
            "confine: {VAR}=flip-jump: flipped the jump at instruction {j}; {arch} nr {} now decided differently",
            list.join(",")
        );
        Ok(())
    }

    fn flip(i: &mut Insn) {
        std::mem::swap(&mut i.jt, &mut i.jf);
    }

    fn is_conditional_jump(i: &Insn) -> bool {
        i.code & 0x07 == 0x05 && i.code != 0x05 && i.jt != i.jf
    }

    /// The return value for each number of `arch`'s table range (arguments 0), or None if
    /// the program is not one the kernel would take.
    fn decisions(prog: &[Insn], arch: Arch, nrs: &[u32]) -> Option<Vec<u32>> {
        let emu = Emulator::new(prog).ok()?;
        let run = |nr| {
            let data = SeccompData {
                nr,
                arch: arch.audit_arch(),
                instruction_pointer: 0,
                args: [0; 6],
            };
            emu.run(&data, arch.is_little_endian()).ret
        };
        Some(nrs.iter().map(|&nr| run(nr)).collect())
    }

    /// The first conditional jump whose flip changes some decision of `arch` and changes only
    /// denials, with the numbers it changes.
    fn widening_flip(prog: &[Insn], arch: Arch) -> Option<(usize, Vec<u32>)> {
        let t = SyscallTable::for_arch(arch).ok()?;
        let nrs: Vec<u32> = (arch.syscall_base()..=t.max_number()).collect();
        let before = decisions(prog, arch, &nrs)?;
        let allowed = |v: u32| v == ALLOW || v == LOG;
        let mut p = prog.to_vec();
        for j in 0..p.len() {
            if !is_conditional_jump(&p[j]) {
                continue;
            }
            flip(&mut p[j]);
            let after = decisions(&p, arch, &nrs);
            flip(&mut p[j]);
            let Some(after) = after else { continue };
            let changed: Vec<usize> = (0..nrs.len()).filter(|&n| before[n] != after[n]).collect();
            if !changed.is_empty() && changed.iter().all(|&n| !allowed(before[n])) {
                return Some((j, changed.into_iter().map(|n| nrs[n]).collect()));
            }
        }
        None
    }
}
