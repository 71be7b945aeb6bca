//! `confine seccomp compile | eval | diff` end to end.

use confine_test_support::run::confine;

fn out(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const HOST: [&str; 4] = ["--arch", "amd64", "--kernel", "6.8"];

#[test]
fn compile_formats() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("p.bpf");
    let mut args = vec!["seccomp", "compile", "-o", raw.to_str().unwrap()];
    args.extend(HOST);
    let o = confine(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&raw).unwrap();
    assert_eq!(bytes.len() % 8, 0);
    let prog = confine_bpf::decode(&bytes).unwrap();
    assert!(confine_bpf::validate(&prog).is_ok());
    assert!(
        prog.len() < 600,
        "optimised docker-default is small: {}",
        prog.len()
    );
    // the disassembler reads it back
    let o = confine(&["seccomp", "disasm", raw.to_str().unwrap()]);
    assert!(out(&o).contains("ERRNO(ENOSYS)"));
    for (fmt, needle) in [
        ("disasm", "ret #0x7fff0000"),
        ("json", "\"instructions\""),
        ("c", "struct sock_filter confine_filter["),
    ] {
        let mut args = vec!["seccomp", "compile", "--format", fmt];
        args.extend(HOST);
        let o = confine(&args);
        assert!(o.status.success() && out(&o).contains(needle), "{fmt}");
    }
    let mut args = vec![
        "seccomp",
        "compile",
        "--format",
        "json",
        "--reference",
        "--no-enosys-stub",
    ];
    args.extend(HOST);
    let v: serde_json::Value = serde_json::from_slice(&confine(&args).stdout).unwrap();
    assert!(
        v["length"].as_u64().unwrap() > prog.len() as u64,
        "the reference layout is longer"
    );
    assert_eq!(v["enosys_stub"].as_array().unwrap().len(), 0);
}

#[test]
fn compile_refuses_bad_profiles_and_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("conflict.json");
    std::fs::write(
        &p,
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
            {"names": ["getpid"], "action": "SCMP_ACT_KILL", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#,
    )
    .unwrap();
    let o = confine(&[
        "seccomp",
        "compile",
        "--format",
        "disasm",
        p.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("EEXIST"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn eval_reports_action_rule_and_cost() {
    let mut args = vec!["seccomp", "eval", "--json", "personality", "0xffffffff"];
    args.extend(HOST);
    let v: serde_json::Value = serde_json::from_slice(&confine(&args).stdout).unwrap();
    assert_eq!(v["action"], "ALLOW");
    assert_eq!(v["depends_on_arguments"], true);
    assert!(
        v["decided_by"]
            .as_str()
            .unwrap()
            .starts_with("the argument checks of rule(s) 5"),
        "{}",
        v["decided_by"]
    );
    let mut args = vec![
        "seccomp",
        "eval",
        "--json",
        "--trace",
        "personality",
        "0xffffffff",
    ];
    args.extend(HOST);
    let v: serde_json::Value = serde_json::from_slice(&confine(&args).stdout).unwrap();
    let trace = v["trace"].as_array().unwrap();
    assert_eq!(trace.len() as u64, v["executed"].as_u64().unwrap());
    assert_eq!(trace[0], 0, "every run starts at instruction 0");
    let mut args = vec!["seccomp", "eval", "--json", "personality", "0x1"];
    args.extend(HOST);
    let v: serde_json::Value = serde_json::from_slice(&confine(&args).stdout).unwrap();
    assert_eq!(v["action"], "ERRNO(EPERM)");
    let mut args = vec!["seccomp", "eval", "--json", "clone3"];
    args.extend(HOST);
    let v: serde_json::Value = serde_json::from_slice(&confine(&args).stdout).unwrap();
    assert_eq!(v["action"], "ERRNO(ENOSYS)");
    let mut args = vec!["seccomp", "eval", "--json", "getpid"];
    args.extend(HOST);
    let v: serde_json::Value = serde_json::from_slice(&confine(&args).stdout).unwrap();
    assert_eq!(
        (v["action"].as_str(), v["cacheable"].as_bool()),
        (Some("ALLOW"), Some(true))
    );
    // ld arch, jeq, ld nr, 6 jeq for the argument-dependent syscalls, the range tree, ret
    assert!(v["executed"].as_u64().unwrap() <= 18);
    // a number above the profile's highest: runc's stub answers ENOSYS
    let mut args = vec!["seccomp", "eval", "--json", "0x1f0"];
    args.extend(HOST);
    let v: serde_json::Value = serde_json::from_slice(&confine(&args).stdout).unwrap();
    assert_eq!(v["action"], "ERRNO(ENOSYS)");
    // i386 through int 0x80 under the amd64 filter
    let mut args = vec![
        "seccomp",
        "eval",
        "--json",
        "--abi",
        "x86",
        "socketcall",
        "1",
    ];
    args.extend(HOST);
    let v: serde_json::Value = serde_json::from_slice(&confine(&args).stdout).unwrap();
    assert_eq!(v["action"], "ALLOW");
    let o = confine(&["seccomp", "eval", "frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn diff_finds_the_cap_sys_admin_syscalls() {
    let dir = tempfile::tempdir().unwrap();
    let admin = dir.path().join("admin.json");
    let mut args = vec![
        "seccomp",
        "resolve",
        "--cap-add",
        "SYS_ADMIN",
        "-o",
        admin.to_str().unwrap(),
    ];
    args.extend(HOST);
    assert!(confine(&args).status.success());
    let mut args = vec![
        "seccomp",
        "diff",
        "docker-default",
        admin.to_str().unwrap(),
        "--json",
    ];
    args.extend(HOST);
    let o = confine(&args);
    assert_eq!(o.status.code(), Some(1), "differences → exit 1");
    let rows: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = rows
        .iter()
        .filter(|r| r["arch"] == "x86_64")
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for n in ["mount", "unshare", "setns", "bpf", "clone3"] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    assert!(!names.contains(&"read"));
    let mut args = vec!["seccomp", "diff", "docker-default", "docker-default"];
    args.extend(HOST);
    assert_eq!(confine(&args).status.code(), Some(0));
}
