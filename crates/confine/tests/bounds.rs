//! Resource bounds (README, "Resource bounds"): inputs at the bounds are accepted and inputs
//! beyond them refused with exit 2 and a located message, each run under an address-space
//! limit (`prlimit --as`) and killed after a wall-clock limit (`timeout -s KILL`), so that a
//! regression fails the test instead of hanging it. Inputs are generated in a private
//! temporary directory.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// The address-space limit for every run (the release binary peaks under 150 MiB of RSS on
/// these inputs; debug builds and address-space reservations need more room).
const AS_LIMIT: &str = "1073741824";
/// Seconds before a run is killed.
const KILL_AFTER: &str = "30";

/// `confine ARGS` under the memory and time limits.
fn bounded(args: &[&str]) -> Output {
    Command::new("timeout")
        .args(["-s", "KILL", KILL_AFTER, "prlimit"])
        .arg(format!("--as={AS_LIMIT}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_confine"))
        .args(args)
        .output()
        .expect("timeout and prlimit (coreutils, util-linux)")
}

fn code(o: &Output) -> i32 {
    let code = o.status.code();
    assert_ne!(code, Some(137), "killed after {KILL_AFTER} s: {o:?}");
    code.unwrap_or_else(|| panic!("killed by a signal: {:?}", o.status))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const HOST: [&str; 4] = ["--arch", "amd64", "--kernel", "6.8"];

fn compile(p: &Path) -> Output {
    let mut a = vec!["seccomp", "compile", p.to_str().unwrap()];
    a.extend(HOST);
    bounded(&a)
}

fn check_json(p: &Path) -> (Output, Value) {
    let mut a = vec!["seccomp", "check", "--json", p.to_str().unwrap()];
    a.extend(HOST);
    let o = bounded(&a);
    let v = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (o, v)
}

fn profile(rules: impl Iterator<Item = String>) -> String {
    let rules: Vec<String> = rules.collect();
    format!(
        "{{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\"],\"syscalls\":[{}]}}",
        rules.join(",")
    )
}

fn allow(name: &str) -> String {
    format!("{{\"names\":[\"{name}\"],\"action\":\"SCMP_ACT_ALLOW\"}}")
}

fn conditions(n: usize) -> String {
    profile((0..n).map(|i| format!("{{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{{\"index\":0,\"value\":{i},\"op\":\"SCMP_CMP_EQ\"}}]}}")))
}

#[test]
fn rules_names_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["read", "write", "close", "execve", "futex"];
    let at = dir.path().join("100000.json");
    std::fs::write(&at, profile((0..100_000).map(|i| allow(names[i % 5])))).unwrap();
    let o = compile(&at);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let over = dir.path().join("100001.json");
    std::fs::write(&over, profile((0..100_001).map(|i| allow(names[i % 5])))).unwrap();
    let o = compile(&over);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("100001.json:1:"), "{}", stderr(&o));
    assert!(stderr(&o).contains("100001 rules; confine reads at most 100000 [too-many-rules]"));

    // 50,000 rules of 3 names: 150,000 names
    let three =
        format!("{{\"names\":[\"read\",\"write\",\"close\"],\"action\":\"SCMP_ACT_ALLOW\"}}");
    let names_over = dir.path().join("names.json");
    std::fs::write(&names_over, profile((0..50_000).map(|_| three.clone()))).unwrap();
    let o = compile(&names_over);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("[too-many-names]"), "{}", stderr(&o));

    // 16 MiB accepted, one byte more refused
    let pad = |bytes: usize| {
        let mut s = profile(std::iter::once(allow("read")));
        s.pop();
        s.push_str(",\"comment\":\"");
        let close = "\"}";
        s.push_str(&"x".repeat(bytes - s.len() - close.len()));
        s.push_str(close);
        assert_eq!(s.len(), bytes);
        s
    };
    let p16 = dir.path().join("16mib.json");
    std::fs::write(&p16, pad(16 << 20)).unwrap();
    let (o, v) = check_json(&p16);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(v["errors"], 0);
    std::fs::write(&p16, pad((16 << 20) + 1)).unwrap();
    let (o, _) = check_json(&p16);
    assert_eq!(code(&o), 2);
}

#[test]
fn conditions_on_one_syscall() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("1000.json");
    std::fs::write(&p, conditions(1000)).unwrap();
    let o = compile(&p);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let p = dir.path().join("4097.json");
    std::fs::write(&p, conditions(4097)).unwrap();
    let o = compile(&p);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o)
            .contains("rule 4096 (personality): on x86_64, more than 4096 argument conditions"),
        "{}",
        stderr(&o)
    );
}

/// One line: `n` unknown keys, or `n` duplicate defaultAction keys.
fn minified(n: usize, duplicates: bool) -> String {
    let mut s = String::from("{\"defaultAction\":\"SCMP_ACT_ALLOW\"");
    for i in 0..n {
        if duplicates {
            s.push_str(",\"defaultAction\":\"SCMP_ACT_ALLOW\"");
        } else {
            s.push_str(&format!(",\"k{i}\":0"));
        }
    }
    s.push('}');
    s
}

#[test]
fn diagnostics_on_one_long_line_are_linear_and_capped() {
    let dir = tempfile::tempdir().unwrap();
    for (n, dup, code_) in [
        (200_000, false, "unknown-key"),
        (932_000, false, "unknown-key"),
        (100_000, true, "duplicate-key"),
    ] {
        let p = dir.path().join(format!("{n}-{dup}.json"));
        let text = minified(n, dup);
        std::fs::write(&p, &text).unwrap();
        let (o, v) = check_json(&p);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        // n findings on the keys, and one more after them: `confines-nothing` (an ALLOW
        // default and no rules); 199 are shown, then one `not-shown` counting the rest
        let findings = n + 1;
        assert_eq!(v["warnings"], findings);
        assert_eq!(v["errors"], 0);
        let d = v["diagnostics"].as_array().unwrap();
        assert_eq!(d.len(), 200);
        assert_eq!(v["not_shown"], findings - 199);
        assert!(d[..199].iter().all(|d| d["code"] == code_));
        // columns still count characters on the one line: the 199th finding's key
        let key = if dup {
            text.match_indices("\"defaultAction\"").nth(199).unwrap().0
        } else {
            text.find("\"k198\"").unwrap()
        };
        assert_eq!(d[198]["column"], key + 1);
        assert_eq!(d[199]["code"], "not-shown");
        assert_eq!(d[199]["severity"], "warning");
        assert!(d[199]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{} more diagnostic(s)", findings - 199)));
    }
    // the text output: 200 lines and the summary, which counts every finding
    let p = dir.path().join("200000-false.json");
    let mut a = vec!["seccomp", "check", p.to_str().unwrap()];
    a.extend(HOST);
    let o = bounded(&a);
    assert_eq!(code(&o), 0);
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.lines().count(), 201, "{text}");
    assert!(text.contains(
        "199802 more diagnostic(s) from here on not shown (0 error(s), 199802 warning(s))"
    ));
    assert!(
        text.ends_with(": 0 error(s), 200001 warning(s)\n"),
        "{text}"
    );
}

#[test]
fn an_error_beyond_the_cap_still_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = minified(300, false);
    s.pop();
    s.push_str(",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_BOGUS\"}]}");
    let p = dir.path().join("late-error.json");
    std::fs::write(&p, s).unwrap();
    let (o, v) = check_json(&p);
    assert_eq!(code(&o), 2);
    // 300 unknown keys, the bad action (rule 0), and `confines-nothing` (no rule was read):
    // 199 keys shown, then the other 101, the error and the warning counted
    assert_eq!(v["errors"], 1);
    assert_eq!(v["warnings"], 301);
    let d = v["diagnostics"].as_array().unwrap();
    assert_eq!(d.len(), 200);
    assert_eq!(d[199]["severity"], "error");
    assert!(
        d[199]["message"].as_str().unwrap().starts_with(
            "103 more diagnostic(s) from here on not shown (1 error(s), 102 warning(s))"
        ),
        "{}",
        d[199]["message"]
    );
    assert_eq!(v["not_shown"], 103);
}

/// A raw program of `n` instructions that allows everything after argument tests.
fn program(n: usize) -> Vec<u8> {
    let mut insns: Vec<(u16, u8, u8, u32)> = vec![(0x20, 0, 0, 0)];
    let mut i = 0u32;
    while insns.len() + 2 < n {
        insns.push((0x20, 0, 0, 16 + 8 * (i % 6)));
        insns.push((0x25, 0, 0, i));
        i += 1;
    }
    while insns.len() + 1 < n {
        insns.push((0x20, 0, 0, 0));
    }
    insns.push((0x06, 0, 0, 0x7fff_0000));
    insns
        .iter()
        .flat_map(|&(c, jt, jf, k)| {
            let mut b = c.to_ne_bytes().to_vec();
            b.extend([jt, jf]);
            b.extend(k.to_ne_bytes());
            b
        })
        .collect()
}

#[test]
fn programs_of_4096_instructions() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("4096.bpf");
    std::fs::write(&p, program(4096)).unwrap();
    let p = p.to_str().unwrap();
    let mut eval = vec!["seccomp", "eval", "--bpf", p, "read"];
    eval.extend(HOST);
    let o = bounded(&eval);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = bounded(&["seccomp", "disasm", p]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut lint = vec!["seccomp", "lint", "--bpf", p];
    lint.extend(HOST);
    let o = bounded(&lint);
    assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));

    let q = dir.path().join("4097.bpf");
    std::fs::write(&q, program(4097)).unwrap();
    let q = q.to_str().unwrap();
    let o = bounded(&["seccomp", "disasm", q]);
    assert_eq!(code(&o), 2);
    let mut eval = vec!["seccomp", "eval", "--bpf", q, "read"];
    eval.extend(HOST);
    let o = bounded(&eval);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[test]
fn ten_thousand_saved_processes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("proc");
    for i in 0..10_000u32 {
        let pid = 100_000 + i;
        let d = root.join(pid.to_string());
        std::fs::create_dir_all(d.join("attr/apparmor")).unwrap();
        std::fs::write(
            d.join("status"),
            format!("Name:\tsleep\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nNSpid:\t{pid}\nCapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t2\nSeccomp_filters:\t1\n"),
        )
        .unwrap();
        std::fs::write(
            d.join("cgroup"),
            format!("0::/system.slice/docker-{i:064x}.scope\n"),
        )
        .unwrap();
        std::fs::write(d.join("cmdline"), b"sleep\x00600\x00").unwrap();
        std::fs::write(
            d.join("attr/apparmor/current"),
            "docker-default (enforce)\n",
        )
        .unwrap();
    }
    let o = bounded(&[
        "inspect",
        "--all",
        "--json",
        "--proc-copy",
        root.to_str().unwrap(),
        "--lsm",
        "apparmor",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let lines = String::from_utf8(o.stdout).unwrap();
    assert_eq!(lines.lines().count(), 10_000);
}
