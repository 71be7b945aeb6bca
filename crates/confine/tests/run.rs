//! `confine run` for real: the confinement the command gets, read from its own
//! /proc/self/status; exit codes as docker run; failing closed.

use confine_test_support::run::confine;
use std::path::Path;

fn status(args: &[&str]) -> std::collections::BTreeMap<String, String> {
    let mut a = vec!["run"];
    a.extend(args);
    a.extend(["--", "cat", "/proc/self/status"]);
    let o = confine(&a);
    assert!(
        o.status.success(),
        "{a:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    confine_test_support::status::parse(&String::from_utf8(o.stdout).unwrap())
}

fn get<'a>(s: &'a std::collections::BTreeMap<String, String>, k: &str) -> &'a str {
    s.get(k).map(String::as_str).unwrap_or("")
}

#[test]
fn docker_defaults() {
    let s = status(&[]);
    assert_eq!(get(&s, "Seccomp"), "2");
    assert_eq!(get(&s, "Seccomp_filters"), "1");
    assert_eq!(get(&s, "NoNewPrivs"), "0");
    for k in ["CapBnd", "CapPrm", "CapEff"] {
        assert_eq!(get(&s, k), "00000000a80425fb", "{k}");
    }
    assert_eq!(get(&s, "CapInh"), "0000000000000000");
    assert_eq!(get(&s, "CapAmb"), "0000000000000000");
    // a container's signal state: confine's runtime ignores SIGPIPE and blocks everything
    // around clone, the test harness hands on ignored signals 32 and 33, and none of that may
    // reach the command
    assert_eq!(get(&s, "SigIgn"), "0000000000000000");
    assert_eq!(get(&s, "SigBlk"), "0000000000000000");
}

#[test]
fn non_root_user_has_no_permitted_or_effective_capabilities() {
    let s = status(&["--user", "999:1000"]);
    assert_eq!(get(&s, "CapBnd"), "00000000a80425fb");
    assert_eq!(get(&s, "CapPrm"), "0000000000000000");
    assert_eq!(get(&s, "CapEff"), "0000000000000000");
    assert!(get(&s, "Uid").starts_with("999\t"), "{:?}", get(&s, "Uid"));
    assert!(get(&s, "Gid").starts_with("1000\t"));
    assert_eq!(get(&s, "Seccomp"), "2");
    let s = status(&["--user", "999:1000", "--group-add", "4242"]);
    assert_eq!(get(&s, "Groups"), "4242");
}

#[test]
fn options_change_what_docker_would_change() {
    assert_eq!(
        get(
            &status(&["--security-opt", "no-new-privileges"]),
            "NoNewPrivs"
        ),
        "1"
    );
    assert_eq!(
        get(
            &status(&["--security-opt", "seccomp=unconfined"]),
            "Seccomp"
        ),
        "0"
    );
    let s = status(&["--cap-add", "sys_admin"]);
    assert_eq!(
        get(&s, "CapBnd"),
        format!("{:016x}", 0xa804_25fbu64 | 1 << 21)
    );
    let s = status(&["--cap-drop", "ALL"]);
    assert_eq!(get(&s, "CapBnd"), "0000000000000000");
    let s = status(&["--privileged"]);
    assert_eq!(get(&s, "Seccomp"), "0");
    assert_ne!(get(&s, "CapBnd"), "00000000a80425fb");
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.json");
    std::fs::write(&profile, r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}"#).unwrap();
    let target = dir.path().join("d");
    let o = confine(&[
        "run",
        "--seccomp",
        profile.to_str().unwrap(),
        "--",
        "mkdir",
        target.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Permission denied"));
    assert!(!target.exists());
}

#[test]
fn docker_default_refuses_what_docker_refuses() {
    let o = confine(&["run", "--", "unshare", "-U", "true"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Operation not permitted"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let o = confine(&[
        "run",
        "--",
        "mount",
        "-t",
        "tmpfs",
        "none",
        dir.path().to_str().unwrap(),
    ]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .to_lowercase()
            .contains("permission denied"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // glibc's pthread_create tries clone3 first and falls back on ENOSYS
    if Path::new("/usr/bin/python3").exists() {
        let o = confine(&["run", "--", "/usr/bin/python3", "-c", "import threading; t = threading.Thread(target=print, args=('thread ok',)); t.start(); t.join()"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "thread ok");
    }
}

#[test]
fn environment_and_working_directory() {
    let o = confine(&[
        "run",
        "--env",
        "CONFINE_T=42",
        "--workdir",
        "/usr",
        "--",
        "sh",
        "-c",
        "echo $CONFINE_T $(pwd)",
    ]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "42 /usr");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("env");
    std::fs::write(&f, "# comment\nCONFINE_A=1\n\nCONFINE_B=two\n").unwrap();
    let o = confine(&[
        "run",
        "--env-file",
        f.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        "echo $CONFINE_A $CONFINE_B",
    ]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "1 two");
}

#[test]
fn exit_codes_follow_docker_run() {
    assert_eq!(
        confine(&["run", "--", "sh", "-c", "exit 7"]).status.code(),
        Some(7)
    );
    assert_eq!(
        confine(&["run", "--", "sh", "-c", "kill -TERM $$"])
            .status
            .code(),
        Some(128 + 15)
    );
    assert_eq!(
        confine(&["run", "--", "no-such-command-confine"])
            .status
            .code(),
        Some(127)
    );
    assert_eq!(
        confine(&["run", "--", "/etc/passwd"]).status.code(),
        Some(126)
    );
    assert_eq!(
        confine(&["run", "--bogus", "--", "true"]).status.code(),
        Some(125)
    );
    assert_eq!(confine(&["run"]).status.code(), Some(125));
}

#[test]
fn quiet_silences_notes_but_not_diagnostics_or_errors() {
    // here (no AppArmor) every run notes that it runs without a profile; -q leaves it out
    let loud = confine(&["run", "--", "true"]);
    let quiet = confine(&["run", "-q", "--", "true"]);
    assert_eq!(loud.status.code(), Some(0));
    assert_eq!(quiet.status.code(), Some(0));
    let loud_err = String::from_utf8_lossy(&loud.stderr);
    if !Path::new("/sys/kernel/security/apparmor/profiles").exists() {
        assert!(loud_err.contains("AppArmor"), "{loud_err}");
    }
    assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
    // a profile's own diagnostics (here a warning) are about the user's input: still shown
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("warn.json");
    std::fs::write(
        &p,
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "no_such_key_x": 1, "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
    )
    .unwrap();
    let o = confine(&["run", "-q", "--seccomp", p.to_str().unwrap(), "--", "true"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no_such_key_x"), "{err}");
    assert!(!err.contains("AppArmor"), "{err}");
    // and errors are never silenced
    let o = confine(&["run", "-q", "--user", "no-such-user-x", "--", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-user-x"));
}

#[test]
fn fails_closed_before_the_command_runs() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOPE"}]}"#).unwrap();
    let huge = dir.path().join("huge.json");
    let conds: Vec<String> = (0..2000)
        .map(|v| {
            format!(
                r#"{{"index": 1, "value": {}, "op": "SCMP_CMP_EQ"}}"#,
                0x5400 + v
            )
        })
        .collect();
    std::fs::write(&huge, format!(r#"{{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{{"names": ["read", "write", "exit_group", "execve", "ioctl"], "action": "SCMP_ACT_ALLOW"}}, {{"names": ["keyctl"], "action": "SCMP_ACT_ALLOW", "args": [{}]}}]}}"#, conds.join(","))).unwrap();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("bad profile", vec!["--seccomp", bad.to_str().unwrap()]),
        ("unknown capability", vec!["--cap-add", "CAP_FLY"]),
        (
            "AppArmor requested on a kernel without it",
            vec!["--security-opt", "apparmor=docker-default"],
        ),
        (
            "profile too large for the kernel",
            vec!["--seccomp", huge.to_str().unwrap()],
        ),
        ("unknown user", vec!["--user", "no-such-user-confine"]),
        (
            "capability confine does not hold",
            vec!["--cap-add", "SYS_RESOURCE"],
        ),
    ];
    for (what, opts) in cases {
        if what == "capability confine does not hold"
            && std::fs::read_to_string("/proc/self/status")
                .unwrap()
                .lines()
                .any(|l| {
                    l.starts_with("CapBnd:")
                        && u64::from_str_radix(l[7..].trim(), 16).unwrap() & (1 << 24) != 0
                })
        {
            continue; // this machine's processes hold CAP_SYS_RESOURCE: nothing to refuse
        }
        let marker = dir.path().join(what.replace(' ', "_"));
        let mut args = vec!["run"];
        args.extend(opts);
        args.extend(["--", "touch", marker.to_str().unwrap()]);
        let o = confine(&args);
        assert_eq!(
            o.status.code(),
            Some(125),
            "{what}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!marker.exists(), "{what}: the command ran");
        assert!(!o.stderr.is_empty(), "{what}: no message");
    }
}
