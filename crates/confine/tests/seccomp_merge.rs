//! `confine seccomp merge` end to end: real files merged, the result checked by `seccomp
//! check` and its verdicts by `seccomp eval`, as the union of the inputs'.

use confine_test_support::run::confine;
use std::path::Path;

const HOST: [&str; 4] = ["--arch", "amd64", "--kernel", "6.8"];

/// Two recordings of one program: each allows something the other does not, one gives clone3
/// ENOSYS, one allows personality for one persona only.
const A: &str = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
 "syscalls": [
  {"names": ["write", "read", "exit_group", "execve"], "action": "SCMP_ACT_ALLOW"},
  {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
   "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
  {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}
"#;
const B: &str = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
 "syscalls": [
  {"names": ["getpid", "write", "execve"], "action": "SCMP_ACT_ALLOW"},
  {"names": ["personality", "clone3"], "action": "SCMP_ACT_ALLOW"},
  {"names": ["kill"], "action": "SCMP_ACT_ALLOW",
   "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]}]}
"#;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p.to_str().unwrap().to_string()
}

/// The first line of `seccomp eval`: "NAME(ARGS) on x86_64: VERDICT" → VERDICT.
fn verdict(profile: &str, call: &[&str]) -> String {
    let mut args = vec!["seccomp", "eval", "--profile", profile];
    args.extend(HOST);
    args.extend(call);
    let o = confine(&args);
    assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
    let out = text(&o.stdout);
    let first = out.lines().next().unwrap_or_default();
    first.rsplit(": ").next().unwrap().to_string()
}

#[test]
fn merge_is_the_union_and_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.json", A);
    let b = write(dir.path(), "b.json", B);
    let m = dir.path().join("m.json");
    let m = m.to_str().unwrap();
    let o = confine(&["seccomp", "merge", &a, &b, "-o", m]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    assert!(err.contains("7 syscall(s) allowed, 1 for some arguments only, 2 widening(s)"));
    assert!(
        err.contains(
            "a.json:6:3: widened: clone3: SCMP_ACT_ERRNO(ENOSYS) replaced by the ALLOW of "
        ),
        "{err}"
    );
    assert!(err.contains("[covered]"), "{err}");

    // confine's own checker finds nothing to say about it
    let mut args = vec!["seccomp", "check", m];
    args.extend(HOST);
    let o = confine(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert!(
        text(&o.stdout).ends_with("m.json: ok\n"),
        "{}",
        text(&o.stdout)
    );

    // ALLOW in the merge iff ALLOW in some input
    for call in [
        &["read"][..],
        &["getpid"],
        &["exit_group"],
        &["write"],
        &["mount"],
        &["ptrace"],
        &["kill", "1", "0"],
        &["personality", "8"],
    ] {
        let any = [&a, &b].iter().any(|p| verdict(p, call) == "ALLOW");
        let merged = verdict(m, call);
        assert_eq!(merged == "ALLOW", any, "{call:?}: {merged}");
    }
    // the widenings: clone3 allowed over ENOSYS, personality for every persona
    assert_eq!(verdict(&a, &["clone3"]), "ERRNO(ENOSYS)");
    assert_eq!(verdict(m, &["clone3"]), "ALLOW");
    assert_eq!(verdict(&a, &["personality", "9"]), "ERRNO(EPERM)");
    assert_eq!(verdict(m, &["personality", "9"]), "ALLOW");
    // a conditional rule stays conditional
    assert_eq!(verdict(m, &["kill", "1", "9"]), "ERRNO(EPERM)");
    assert_eq!(verdict(m, &["mount"]), "ERRNO(EPERM)");

    // on every syscall number (seccomp diff compares the compiled programs): the merge never
    // denies what an input allows, and what it allows that one input does not, the other does
    let diff = |p: &str| -> Vec<serde_json::Value> {
        let mut args = vec!["seccomp", "diff", "--json", p, m];
        args.extend(HOST);
        let o = confine(&args);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        text(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (da, db) = (diff(&a), diff(&b));
    let numbers = |d: &[serde_json::Value]| -> Vec<u64> {
        d.iter().map(|x| x["number"].as_u64().unwrap()).collect()
    };
    for (d, other) in [(&da, numbers(&db)), (&db, numbers(&da))] {
        for x in d.iter() {
            assert_ne!(x["a"], "ALLOW", "{x}");
            if x["b"] == "ALLOW" {
                assert!(!other.contains(&x["number"].as_u64().unwrap()), "{x}");
            }
        }
    }
    let names = |d: &[serde_json::Value]| -> Vec<String> {
        d.iter()
            .map(|x| x["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&da), ["getpid", "kill", "personality", "clone3"]);
    assert_eq!(names(&db), ["read", "exit_group"]);

    // stable: the same bytes in the other order, on standard output
    let o = confine(&["seccomp", "merge", &b, &a]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(text(&o.stdout), std::fs::read_to_string(m).unwrap());
    // nothing left beside the output
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["a.json", "b.json", "m.json"]);
}

#[test]
fn json_summary_needs_an_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.json", A);
    let b = write(dir.path(), "b.json", B);
    let o = confine(&["seccomp", "merge", "--json", &a, &b]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let m = dir.path().join("m.json");
    // an existing file is replaced
    std::fs::write(&m, "old").unwrap();
    let o = confine(&[
        "seccomp",
        "merge",
        "--json",
        &a,
        &b,
        "-o",
        m.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["inputs"], serde_json::json!([a, b]));
    assert_eq!(v["allowed_conditionally"], serde_json::json!(["kill"]));
    assert_eq!(v["syscalls"].as_array().unwrap().len(), 8);
    let kinds: Vec<_> = v["widenings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["syscall"].as_str().unwrap(), w["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [("clone3", "allow-wins"), ("personality", "covered")]
    );
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
    assert_eq!(merged["syscalls"][0]["names"][0], "clone3");
}

#[test]
fn refusals_exit_2_with_the_files_named() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.json", A);
    let kill = write(
        dir.path(),
        "kill.json",
        r#"{"defaultAction": "SCMP_ACT_KILL", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
    );
    let bad = write(
        dir.path(),
        "bad.json",
        "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [\n",
    );
    let out = dir.path().join("m.json");
    let out = out.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &[&a, &kill],
            "defaultAction is `SCMP_ACT_ERRNO(EPERM)`, but ",
        ),
        (&[&a, &bad], "bad.json:4:1: error: invalid JSON"),
        (&[&a], "2 values required"),
        (&[&a, "docker-default"], "merge takes resolved profiles"),
        (
            &[&a, "/nonexistent/x.json"],
            "cannot read seccomp profile /nonexistent/x.json",
        ),
    ];
    for (inputs, needle) in cases {
        let mut args = vec!["seccomp", "merge", "-o", out];
        args.extend(inputs);
        let o = confine(&args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{inputs:?}: {err}");
        assert!(err.contains(needle), "{inputs:?}: {err}");
        assert!(o.stdout.is_empty());
        assert!(!Path::new(out).exists(), "{inputs:?}: nothing written");
    }
    let o = confine(&["seccomp", "merge", &a, &kill]);
    let err = text(&o.stderr);
    assert!(
        err.contains("a.json") && err.contains("kill.json") && err.contains("SCMP_ACT_KILL"),
        "{err}"
    );
}

/// `-o` naming a FIFO (or a device, as `-o /dev/null`) writes into it: it is not replaced by
/// a regular file, as renaming a temporary file over it would (this once turned /dev/null
/// into a regular file).
#[test]
fn output_to_a_fifo_writes_into_it() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        write(dir.path(), "a.json", A),
        write(dir.path(), "b.json", B),
    );
    let fifo = dir.path().join("out.fifo");
    let o = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .output()
        .unwrap();
    assert!(o.status.success());
    // the read end, open first without waiting for a writer (the text fits in the pipe)
    let mut reader = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap()
    };
    let o = confine(&["seccomp", "merge", &a, &b, "-o", fifo.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut got = String::new();
    let _ = std::io::Read::read_to_string(&mut reader, &mut got);
    assert!(got.contains("\"getpid\""), "{got}");
    let t = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(t.is_fifo(), "{t:?}");
}
