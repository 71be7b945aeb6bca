//! `confine seccomp disasm` on a program libseccomp generated (Debian's python3-seccomp, run by
//! /usr/bin/python3 because the default python3 here is a pyenv build), on refused programs,
//! and the emulator's verdicts on that libseccomp program.

use confine_bpf::{action, decode, Emulator, SeccompData};
use confine_test_support::run::confine;
use std::path::Path;
use std::process::Command;

const GEN: &str = r#"
import seccomp, sys
f = seccomp.SyscallFilter(seccomp.ERRNO(1))
f.add_arch(seccomp.Arch.X86)
f.add_arch(seccomp.Arch.X32)
for n in ['read', 'write', 'getpid', 'exit_group']:
    f.add_rule(seccomp.ALLOW, n)
f.add_rule(seccomp.ALLOW, 'personality', seccomp.Arg(0, seccomp.EQ, 0xffffffff))
f.add_rule(seccomp.ERRNO(38), 'clone3')
f.export_bpf(open(sys.argv[1], 'wb'))
"#;

fn libseccomp_program(dir: &Path) -> std::path::PathBuf {
    let out = dir.join("lib.bpf");
    let st = Command::new("/usr/bin/python3")
        .args(["-c", GEN, out.to_str().unwrap()])
        .status()
        .expect("/usr/bin/python3 with Debian's python3-seccomp (.ci/run installs it)");
    assert!(st.success(), "python3-seccomp failed to export a filter");
    out
}

#[test]
fn disassembles_a_libseccomp_program() {
    let dir = tempfile::tempdir().unwrap();
    let p = libseccomp_program(dir.path());
    let o = confine(&["seccomp", "disasm", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    for want in [
        "x86_64:getpid",
        "x32:getpid",
        "x86:getpid",
        "ERRNO(ENOSYS)",
        "ERRNO(EPERM)",
        "KILL_THREAD",
        "args[0] (low)",
    ] {
        assert!(text.contains(want), "missing {want}:\n{text}");
    }
    let o = confine(&["seccomp", "disasm", "--json", p.to_str().unwrap()]);
    let lines: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let n = lines.len();
    assert_eq!(
        lines[0]["text"],
        "ld [4]                                 ; arch"
    );
    assert_eq!(n * 8, std::fs::metadata(&p).unwrap().len() as usize);
}

#[test]
fn emulator_reads_libseccomp_programs_as_libseccomp_means_them() {
    let dir = tempfile::tempdir().unwrap();
    let prog = decode(&std::fs::read(libseccomp_program(dir.path())).unwrap()).unwrap();
    let emu = Emulator::new(&prog).unwrap();
    let run = |arch: u32, nr: u32, a0: u64| {
        emu.run(
            &SeccompData {
                nr,
                arch,
                args: [a0, 0, 0, 0, 0, 0],
                ..Default::default()
            },
            true,
        )
        .ret
    };
    let (x86_64, i386) = (0xc000_003e, 0x4000_0003);
    assert_eq!(run(x86_64, 39, 0), action::ALLOW);
    assert_eq!(run(x86_64, 0x4000_0027, 0), action::ALLOW, "x32 getpid");
    assert_eq!(run(i386, 20, 0), action::ALLOW, "i386 getpid");
    assert_eq!(run(x86_64, 435, 0), action::ERRNO | 38);
    assert_eq!(run(i386, 435, 0), action::ERRNO | 38);
    assert_eq!(run(x86_64, 135, 0xffff_ffff), action::ALLOW);
    assert_eq!(run(x86_64, 135, 0x1_ffff_ffff), action::ERRNO | 1);
    assert_eq!(run(x86_64, 135, 0), action::ERRNO | 1);
    assert_eq!(run(x86_64, 57, 0), action::ERRNO | 1, "fork is not listed");
    assert_eq!(
        run(0xc000_00b7, 172, 0),
        action::KILL_THREAD,
        "aarch64 is a foreign arch: bad-arch action"
    );
}

#[test]
fn refused_programs_exit_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let ragged = dir.path().join("ragged.bpf");
    std::fs::write(&ragged, [0u8; 12]).unwrap();
    let o = confine(&["seccomp", "disasm", ragged.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a whole number"));
    let bad = dir.path().join("bad.bpf");
    // ld [0]; jeq #0 jt=5 (out of range); ret ALLOW
    let prog = [
        confine_bpf::Insn::stmt(0x20, 0),
        confine_bpf::Insn::jump(0x15, 0, 5, 0),
        confine_bpf::Insn::stmt(0x06, action::ALLOW),
    ];
    std::fs::write(&bad, confine_bpf::encode(&prog)).unwrap();
    let o = confine(&["seccomp", "disasm", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("instruction 1: jump target beyond the end")
    );
    let long = dir.path().join("long.bpf");
    std::fs::write(
        &long,
        confine_bpf::encode(&vec![confine_bpf::Insn::stmt(0x06, 0); 4097]),
    )
    .unwrap();
    let o = confine(&["seccomp", "disasm", long.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("4097 instructions"));
}
