//! The seccomp program of a run: Docker's choice of profile, the builtin one ready from build
//! time ([`crate::precompiled`]), anything else compiled by `confine_seccomp`; and the check
//! that the calls confine makes after installing it pass it.

use crate::note::{Note, Notes};
use crate::options::SeccompChoice;
use crate::{fault, precompiled, Error, Result};
use confine_abi::{Arch, SyscallTable};
use confine_bpf::{Emulator, Insn, SeccompData};
use confine_kernel::InstallFlags;
use confine_profile::{Flag, Host, Resolution, Source};
use confine_seccomp::{compile_prepared, ArgWidth, Generator, Options};
use std::ffi::{OsStr, OsString};

/// Docker's choice: no filter when unconfined, or by default with `--privileged`; the builtin
/// profile by default; the one named otherwise.
pub fn profile(choice: &SeccompChoice, privileged: bool) -> Option<OsString> {
    match (choice, privileged) {
        (SeccompChoice::Unconfined, _) | (SeccompChoice::Default, true) => None,
        (SeccompChoice::Default, false) => Some(OsString::from("builtin")),
        (SeccompChoice::Profile(p), _) => Some(p.clone()),
    }
}

/// The program and install flags for a `--security-opt seccomp=` value, or None when the
/// profile resolves to no filter. The builtin profile with Docker's default capabilities comes
/// ready from build time ([`crate::precompiled`]); everything else is compiled here. The
/// parser's diagnostics go to `notes`. With `verify` (`--security-opt seccomp-verify`), the
/// program to install is first proved to decide exactly as the profile's policy for every
/// input (`confine_bpf::verify`); anything but "proved" is an error.
pub fn program(
    spec: &OsStr,
    host: &Host,
    arg_width: ArgWidth,
    verify: bool,
    notes: Notes,
) -> Result<Option<(Vec<Insn>, InstallFlags)>> {
    let source = Source::from_arg(spec);
    if matches!(source, Source::Builtin) && arg_width == ArgWidth::Faithful && !verify {
        if let Some((prog, f)) = precompiled::builtin(host) {
            let mut prog = prog.to_vec();
            fault::mutate_seccomp(&mut prog, host.arch).map_err(|message| Error::Seccomp {
                profile: Some(source.label()),
                message,
            })?;
            let flags = InstallFlags {
                log: f.log,
                spec_allow: f.spec_allow,
                wait_killable_recv: f.wait_killable_recv,
                new_listener: false,
                tsync: false,
            };
            return Ok(Some((prog, flags)));
        }
    }
    let prepared = confine_seccomp::prepare(&source, host)?;
    // the parser's own diagnostics; an unconfined profile's say that it confines nothing
    for d in &prepared.parsed.diagnostics {
        notes(Note::SeccompDiagnostic(d.to_string()));
    }
    let refused = |message: String| Error::Seccomp {
        profile: Some(source.label()),
        message,
    };
    let r = match &prepared.resolution {
        None => {
            return Err(refused(format!(
                "seccomp profile {} has errors",
                source.label()
            )))
        }
        Some(Resolution::Unconfined) => return Ok(None),
        Some(Resolution::Filter(r)) => r,
    };
    if r.rules
        .iter()
        .any(|x| x.action == confine_profile::Action::Notify)
    {
        return Err(refused(
            "SCMP_ACT_NOTIFY needs a seccomp agent, which confine run does not provide yet".into(),
        ));
    }
    let options = Options {
        arg_width,
        ..Options::default()
    };
    let compiled = compile_prepared(prepared, options, Generator::Optimized)?;
    let (policy, mut prog) = (compiled.policy, compiled.program);
    // a test build may mutate the program here, so that the proof below has a wrong one
    fault::mutate_seccomp(&mut prog, host.arch).map_err(refused)?;
    if verify {
        let cases = prove(&prog, &policy).map_err(refused)?;
        notes(Note::SeccompProved { cases });
    }
    let flags = InstallFlags {
        log: policy.flags.contains(&Flag::Log),
        spec_allow: policy.flags.contains(&Flag::SpecAllow),
        wait_killable_recv: policy.flags.contains(&Flag::WaitKillableRecv),
        new_listener: false,
        tsync: false,
    };
    Ok(Some((prog, flags)))
}

/// `--security-opt seccomp-verify`: prove `prog` decides exactly as `policy` for every input
/// (`confine_bpf::verify`); the number of cases, or why it is not proved (a counterexample,
/// or undecided), as the message of the refusal.
fn prove(prog: &[Insn], policy: &confine_seccomp::Policy) -> std::result::Result<u64, String> {
    use confine_bpf::verify::{prove, Program, Verdict, DEFAULT_WORK};
    let p = Program::new(prog).map_err(|e| format!("the compiled program is refused: {e}"))?;
    let side = confine_seccomp::verify::PolicySide::new(policy);
    let proof = prove(&p, &side, DEFAULT_WORK);
    match proof.verdict {
        Verdict::Proved => Ok(proof.cases),
        Verdict::Differ(d) => Err(format!(
            "seccomp-verify: the program differs from the policy ({} difference class(es), e.g. arch {:#x} nr {}: {:#x} instead of {:#x}); not installed",
            d.len(),
            d[0].words[1],
            d[0].words[0],
            d[0].left,
            d[0].right
        )),
        Verdict::Undecided(u, _) => Err(format!(
            "seccomp-verify: the program could not be proved ({u}); not installed"
        )),
    }
}

/// The calls confine's steps make after installing the filter, with their arguments: before
/// the capability and id changes (`before_ids`: without no_new_privs) or only the last ones.
/// `confine record --runtime confine` adds them to a recorded profile.
pub fn calls_after_install(before_ids: bool) -> &'static [(&'static str, [u64; 6])] {
    const ALL: [(&str, [u64; 6]); 11] = [
        ("prctl", [24, 0, 0, 0, 0, 0]), // PR_CAPBSET_DROP
        ("prctl", [47, 4, 0, 0, 0, 0]), // PR_CAP_AMBIENT, CLEAR_ALL
        ("setgroups", [0; 6]),
        ("setresgid", [0; 6]),
        ("setresuid", [0; 6]),
        ("capset", [0; 6]),
        ("prctl", [1, 9, 0, 0, 0, 0]), // PR_SET_PDEATHSIG, SIGKILL
        ("getppid", [0; 6]),
        ("chdir", [0; 6]),
        ("exit_group", [125, 0, 0, 0, 0, 0]),
        ("execve", [0; 6]),
    ];
    if before_ids {
        &ALL
    } else {
        &ALL[6..]
    }
}

/// The calls confine makes after the filter is in must pass it (runc has the same
/// constraint). Without no_new_privs the filter goes in while CAP_SYS_ADMIN is still held,
/// before the capability and id changes; with it, just before the last steps. The program
/// itself is run in the emulator for each call. A profile that denies execve is named as such.
pub fn check_after_install(prog: &[Insn], arch: Arch, before_ids: bool) -> Result<()> {
    let t = SyscallTable::for_arch(arch)?;
    let emu = Emulator::new(prog).map_err(Error::Program)?;
    let verdict = |name: &str, args: [u64; 6]| {
        let nr = t.number(name)?;
        let data = SeccompData {
            nr,
            arch: arch.audit_arch(),
            instruction_pointer: 0,
            args,
        };
        let v = emu.run(&data, arch.is_little_endian()).ret;
        (v != confine_bpf::action::ALLOW && v != confine_bpf::action::LOG).then_some(v)
    };
    let refused = |message: String| Error::Seccomp {
        profile: None,
        message,
    };
    if let Some(v) = verdict("execve", [0; 6]) {
        return Err(refused(format!(
            "the seccomp profile denies execve ({}): no command could ever start under it",
            confine_bpf::action::describe(v)
        )));
    }
    for &(name, args) in calls_after_install(before_ids) {
        if let Some(v) = verdict(name, args) {
            return Err(refused(format!(
                "the seccomp profile does not allow {name} ({}), which confine must call after installing the filter{}",
                confine_bpf::action::describe(v),
                if before_ids {
                    " (without no_new_privs the filter goes in while CAP_SYS_ADMIN is held, as in runc); add --security-opt no-new-privileges"
                } else {
                    ""
                }
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_choice_of_profile() {
        assert_eq!(
            profile(&SeccompChoice::Default, false),
            Some("builtin".into())
        );
        assert_eq!(profile(&SeccompChoice::Default, true), None);
        assert_eq!(profile(&SeccompChoice::Unconfined, false), None);
        let p = SeccompChoice::Profile("p.json".into());
        assert_eq!(profile(&p, true), Some("p.json".into()));
    }

    #[test]
    fn a_filter_denying_execve_is_named() {
        // ret ERRNO(1) for everything
        let prog = [Insn {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: confine_bpf::action::ERRNO | 1,
        }];
        let e = check_after_install(&prog, Arch::native(), false).unwrap_err();
        assert!(e.to_string().contains("denies execve"), "{e}");
        let allow = [Insn {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: confine_bpf::action::ALLOW,
        }];
        check_after_install(&allow, Arch::native(), true).unwrap();
    }

    /// `seccomp-verify` refuses a program that is not the policy's: a flipped jump.
    #[test]
    fn verify_refuses_a_wrong_program() {
        use confine_seccomp::{build, optimize, Options};
        let host = Host {
            arch: Arch::X86_64,
            caps: confine_abi::CapSet::docker_default(),
            kernel: confine_profile::KernelVersion {
                kernel: 6,
                major: 8,
            },
        };
        let r = confine_profile::builtin::resolved_for(&host);
        let policy = build(&r, Options::default()).unwrap();
        let mut prog = optimize::generate(&policy).unwrap();
        assert!(prove(&prog, &policy).unwrap() > 100);
        let j = (2..prog.len())
            .find(|&j| {
                prog[j].code & 0x07 == 0x05 && prog[j].code != 0x05 && prog[j].jt != prog[j].jf
            })
            .unwrap();
        (prog[j].jt, prog[j].jf) = (prog[j].jf, prog[j].jt);
        let why = prove(&prog, &policy).unwrap_err();
        assert!(why.contains("differs from the policy"), "{why}");
    }
}
