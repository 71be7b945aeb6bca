//! `confine seccomp verify`, `seccomp compile --verify` and `run --security-opt seccomp-verify`
//! end to end, through the real binary.

use confine_bpf::verify::cell::{data_of, little_endian};
use confine_bpf::{decode, encode, Emulator, Insn};
use confine_test_support::run::confine;

const HOST: [&str; 4] = ["--arch", "amd64", "--kernel", "6.8"];

fn out(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn with_host<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend(HOST);
    v
}

fn compile(dir: &std::path::Path, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let p = dir.join(name);
    let mut args = with_host(&["seccomp", "compile", "-o", p.to_str().unwrap()]);
    args.extend(extra);
    let o = confine(&args);
    assert!(o.status.success(), "{}", err(&o));
    p
}

#[test]
fn docker_default_is_proved() {
    let o = confine(&with_host(&["seccomp", "verify"]));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    assert!(text.starts_with("proved: "), "{text}");
    assert!(text.contains("cases)"), "{text}");
    let o = confine(&with_host(&["seccomp", "verify", "--json"]));
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["result"], "proved");
    assert!(v["cases"].as_u64().unwrap() > 100);
    assert_eq!(v["differences"].as_array().unwrap().len(), 0);
}

#[test]
fn counterexamples_replay_on_the_emulator() {
    let dir = tempfile::tempdir().unwrap();
    // without runc's stub, numbers above the profile's get EPERM instead of ENOSYS
    let bpf = compile(dir.path(), "nostub.bpf", &["--no-enosys-stub"]);
    let o = confine(&with_host(&[
        "seccomp",
        "verify",
        "--bpf",
        bpf.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["result"], "counterexample");
    let diffs = v["differences"].as_array().unwrap();
    assert_eq!(diffs.len(), 3, "{v:#}");
    let prog = decode(&std::fs::read(&bpf).unwrap()).unwrap();
    let emu = Emulator::new(&prog).unwrap();
    for d in diffs {
        assert_eq!(d["program_action"], "ERRNO(EPERM)");
        assert_eq!(d["expected_action"], "ERRNO(ENOSYS)");
        let arch = d["arch"].as_u64().unwrap() as u32;
        let mut words = [0u32; 16];
        words[0] = d["nr"].as_u64().unwrap() as u32;
        words[1] = arch;
        let data = data_of(&words, little_endian(arch));
        assert_eq!(
            emu.run(&data, little_endian(arch)).ret,
            d["program"].as_u64().unwrap() as u32
        );
    }
    // the text form: one line per class and the count
    let o = confine(&with_host(&[
        "seccomp",
        "verify",
        "--bpf",
        bpf.to_str().unwrap(),
    ]));
    assert_eq!(o.status.code(), Some(1));
    let text = out(&o);
    assert!(text.contains("x86_64 nr 467..=1073741823"), "{text}");
    assert!(
        text.contains("program: ERRNO(EPERM)  expected: ERRNO(ENOSYS)"),
        "{text}"
    );
    assert!(text.contains("3 difference class(es)"), "{text}");
}

#[test]
fn two_programs_and_a_planted_bug() {
    let dir = tempfile::tempdir().unwrap();
    let a = compile(dir.path(), "a.bpf", &[]);
    let b = compile(dir.path(), "b.bpf", &["--reference"]);
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let o = confine(&["seccomp", "verify", "--bpf", a, "--against", b]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    // flip the first conditional jump after the arch check
    let mut prog: Vec<Insn> = decode(&std::fs::read(a).unwrap()).unwrap();
    let j = (2..prog.len())
        .find(|&j| prog[j].code & 0x07 == 0x05 && prog[j].code != 0x05 && prog[j].jt != prog[j].jf)
        .unwrap();
    (prog[j].jt, prog[j].jf) = (prog[j].jf, prog[j].jt);
    let bad = dir.path().join("bad.bpf");
    std::fs::write(&bad, encode(&prog)).unwrap();
    let o = confine(&[
        "seccomp",
        "verify",
        "--bpf",
        bad.to_str().unwrap(),
        "--against",
        b,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(out(&o).contains("difference class(es)"), "{}", out(&o));
}

#[test]
fn undecided_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    // over 4,096 instructions: undecided, exit 1
    let long: Vec<Insn> = (0..4097).map(|_| Insn::stmt(0x06, 0x7fff_0000)).collect();
    let p = dir.path().join("long.bpf");
    std::fs::write(&p, encode(&long)).unwrap();
    let o = confine(&with_host(&[
        "seccomp",
        "verify",
        "--bpf",
        p.to_str().unwrap(),
    ]));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("undecided") && out(&o).contains("4097 instructions"),
        "{}",
        out(&o)
    );
    // ragged bytes, a program the kernel refuses, a missing file, a bad flag: exit 2
    let ragged = dir.path().join("ragged.bpf");
    std::fs::write(&ragged, [0u8; 12]).unwrap();
    let refused = dir.path().join("refused.bpf");
    std::fs::write(&refused, encode(&[Insn::stmt(0x20, 0)])).unwrap();
    for f in [&ragged, &refused, &dir.path().join("missing")] {
        let o = confine(&with_host(&[
            "seccomp",
            "verify",
            "--bpf",
            f.to_str().unwrap(),
        ]));
        assert_eq!(o.status.code(), Some(2), "{f:?}: {}", err(&o));
        assert!(out(&o).is_empty());
    }
    assert_eq!(
        confine(&["seccomp", "verify", "--bogus"]).status.code(),
        Some(2)
    );
}

#[test]
fn compile_verify_writes_what_it_proved() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("v.bpf");
    let o = confine(&with_host(&[
        "seccomp",
        "compile",
        "--verify",
        "-o",
        p.to_str().unwrap(),
    ]));
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("proved"), "{}", err(&o));
    assert!(p.is_file());
}

#[test]
fn run_with_seccomp_verify() {
    let o = confine(&["run", "--security-opt", "seccomp-verify", "--", "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("seccomp-verify: proved"), "{}", err(&o));
    let o = confine(&[
        "run",
        "--security-opt",
        "seccomp-verify=maybe",
        "--",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
}
