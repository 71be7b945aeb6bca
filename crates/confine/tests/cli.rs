//! The `confine` binary end to end: outputs, exit codes, and nothing on stdout on error.

use confine_test_support::run::confine_stdin;
use std::io::Write;
use std::process::{Command, Output, Stdio};

/// confine with standard input an empty pipe (not /dev/null, which confine would refuse as a
/// device where it reads standard input).
fn confine(args: &[&str]) -> Output {
    confine_stdin(args, None)
}

fn fixture(name: &str) -> String {
    confine_test_support::fixtures::seccomp(name)
        .display()
        .to_string()
}

/// Write `json` as `name` in the private directory `dir`; its path.
fn profile(dir: &tempfile::TempDir, name: &str, json: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, json).unwrap();
    p.display().to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn allow_names(json: &str) -> (usize, usize) {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let rules = v["syscalls"].as_array().unwrap();
    let mut names: Vec<&str> = rules
        .iter()
        .filter(|r| r["action"] == "SCMP_ACT_ALLOW")
        .flat_map(|r| {
            r["names"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
        })
        .collect();
    names.sort();
    names.dedup();
    (rules.len(), names.len())
}

#[test]
fn resolve_figures_through_the_cli() {
    let host = ["--kernel", "6.8"];
    for (arch, extra, want) in [
        ("amd64", vec![], (15, 370)),
        ("x86_64", vec![], (15, 370)),
        ("arm64", vec![], (14, 374)),
        ("SCMP_ARCH_S390X", vec![], (14, 371)),
        ("riscv64", vec![], (14, 369)),
        ("amd64", vec!["--cap-add", "sys_admin"], (14, 395)),
    ] {
        let mut args = vec!["seccomp", "resolve", "--arch", arch];
        args.extend(host);
        args.extend(extra.iter().copied());
        let o = confine(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(allow_names(&stdout(&o)), want, "{args:?}");
    }
    let o = confine(&["seccomp", "resolve", "--arch", "amd64", "--kernel", "4.4"]);
    assert_eq!(allow_names(&stdout(&o)).1, 367);
}

#[test]
fn resolve_is_byte_stable_and_builtin_equals_fixture() {
    let args = ["seccomp", "resolve", "--arch", "amd64", "--kernel", "6.8"];
    let a = confine(&args);
    let b = confine(&args);
    assert_eq!(a.stdout, b.stdout);
    let mut with_file = args.to_vec();
    let f = fixture("docker-default.json");
    with_file.insert(2, &f);
    let c = confine(&with_file);
    assert_eq!(
        a.stdout, c.stdout,
        "builtin and fixture resolve to the same bytes"
    );
    // and the output is itself a valid profile that resolves to itself
    let again = confine_stdin(
        &[
            "seccomp", "resolve", "-", "--arch", "amd64", "--kernel", "6.8",
        ],
        Some(&a.stdout),
    );
    assert_eq!(stdout(&again), stdout(&a));
}

#[test]
fn resolve_writes_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.json");
    let o = confine(&[
        "seccomp",
        "resolve",
        "--arch",
        "s390x",
        "--format",
        "docker",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert!(o.stdout.is_empty());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("\"comment\""), "docker format keeps comments");
}

#[test]
fn bad_profile_exits_2_with_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(&dir, "bad.json", "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [{\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_NOPE\"}]\n}\n");
    let o = confine(&["seccomp", "resolve", &p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let e = stderr(&o);
    assert!(
        e.contains("bad.json:3:48: error: rule 0 (ptrace): unknown action `SCMP_ACT_NOPE`"),
        "{e}"
    );
    for input in [&b"\xff\xfe"[..], b"", b"[]", b"{\"defaultAction\": 1}"] {
        let o = confine_stdin(&["seccomp", "resolve", "-"], Some(input));
        assert_eq!(o.status.code(), Some(2), "{input:?}");
        assert!(o.stdout.is_empty());
    }
    let o = confine(&["seccomp", "resolve", "/nonexistent/profile.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/profile.json"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["seccomp", "resolve", "--arch", "vax"],
        vec!["seccomp", "resolve", "--kernel", "six"],
        vec!["seccomp", "resolve", "--cap-add", "CAP_FLY"],
        vec!["seccomp", "resolve", "--caps", "chown,nope"],
        vec!["seccomp", "frobnicate"],
        vec!["seccomp", "syscalls", "--arch", "parisc"],
        vec!["seccomp", "syscalls", "no_such_call"],
    ] {
        let o = confine(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn check_exit_codes_and_json() {
    let o = confine(&[
        "seccomp",
        "check",
        &fixture("docker-default.json"),
        "--arch",
        "amd64",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        // `recv` and `send` are not listed: on x86 libseccomp routes them through socketcall
        stdout(&o).contains("riscv_hwprobe") && !stdout(&o).contains("recv"),
        "{}",
        stdout(&o)
    );
    let o = confine(&[
        "seccomp",
        "check",
        "--strict",
        &fixture("docker-default.json"),
        "--arch",
        "amd64",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean.json");
    // (with execve: a profile that denies it gets a warning, as no command could start)
    std::fs::write(&clean, r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write", "execve"], "action": "SCMP_ACT_ALLOW"}]}"#).unwrap();
    let o = confine(&["seccomp", "check", "--strict", clean.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 7, "op": "SCMP_CMP_EQ"}]}]}"#).unwrap();
    let o = confine(&[
        "seccomp",
        "check",
        "--json",
        clean.to_str().unwrap(),
        bad.to_str().unwrap(),
        &fixture("podman-default.json"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["errors"], 0);
    assert_eq!(lines[1]["errors"], 1);
    let d = &lines[1]["diagnostics"][0];
    assert_eq!(
        (
            d["code"].as_str(),
            d["rule"].as_u64(),
            d["syscall"].as_str()
        ),
        (Some("bad-arg-index"), Some(0), Some("read"))
    );
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(1), Some(117))
    );
    assert!(lines[2]["warnings"].as_u64().unwrap() > 5);
}

#[test]
fn oci_config_json_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.json");
    std::fs::write(&cfg, r#"{"ociVersion": "1.2.0", "linux": {"seccomp": {"defaultAction": "SCMP_ACT_KILL_PROCESS", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["read", "exit"], "action": "SCMP_ACT_ALLOW"}]}}}"#).unwrap();
    let o = confine(&["seccomp", "resolve", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["defaultAction"], "SCMP_ACT_KILL_PROCESS");
    // names keep the profile's order: runc adds them to the filter in that order
    assert_eq!(
        v["syscalls"][0]["names"],
        serde_json::json!(["read", "exit"])
    );
}

#[test]
fn syscalls_table_and_lookup() {
    let o = confine(&["seccomp", "syscalls", "--arch", "x86_64"]);
    assert!(stdout(&o).lines().any(|l| l == "469\tfile_setattr"));
    let o = confine(&["seccomp", "syscalls", "file_setattr"]);
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["x32", "1073742293"]),
        "{out}"
    );
    let o = confine(&["seccomp", "syscalls", "--json", "--arch", "i386", "0x5"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["name"], "open");
}

#[test]
fn help_version_completions_man() {
    let o = confine(&["--version"]);
    assert!(stdout(&o).starts_with("confine "));
    for sub in [
        vec!["--help"],
        vec!["seccomp", "--help"],
        vec!["seccomp", "resolve", "--help"],
        vec!["seccomp", "check", "--help"],
        vec!["seccomp", "syscalls", "--help"],
        vec!["completions", "--help"],
        vec!["man", "--help"],
    ] {
        let o = confine(&sub);
        assert!(
            o.status.success() && stdout(&o).contains("Usage:"),
            "{sub:?}"
        );
    }
    for sh in ["bash", "zsh", "fish"] {
        let o = confine(&["completions", sh]);
        assert!(o.status.success() && stdout(&o).contains("resolve"), "{sh}");
    }
    let o = confine(&["man"]);
    let page = stdout(&o);
    assert!(
        page.starts_with(".ie") || page.contains(".TH confine"),
        "{}",
        &page[..200]
    );
    assert!(page.contains("CONFINE SECCOMP RESOLVE") && page.contains("\\-\\-cap\\-add"));
}

/// The man page is one page: it refers to no other confine page (issue 13: its SUBCOMMANDS
/// section named confine-seccomp(1) and others that do not exist), and every subcommand it
/// lists has its section in the page.
#[test]
fn the_man_page_refers_only_to_its_own_sections() {
    let o = confine(&["man"]);
    assert!(o.status.success());
    let page = stdout(&o);
    assert!(!page.contains("(1)"), "refers to another page");
    let sections: Vec<&str> = page
        .lines()
        .filter_map(|l| l.strip_prefix(".SH "))
        .map(|t| t.trim_matches('"'))
        .collect();
    let listed: Vec<&str> = page
        .lines()
        .filter_map(|l| l.strip_prefix("\\fBconfine "))
        .map(|l| l.split_once("\\fR").unwrap().0)
        .collect();
    assert_eq!(
        listed,
        [
            "seccomp",
            "run",
            "record",
            "apparmor",
            "inspect",
            "score",
            "completions",
            "man"
        ]
    );
    for name in listed {
        let title = format!("CONFINE {}", name.to_uppercase());
        assert!(
            sections.contains(&title.as_str()),
            "{title} in {sections:?}"
        );
        assert!(
            page.contains(&format!("See the section {title} ")),
            "{title}"
        );
    }
    for sub in ["SECCOMP EVAL", "APPARMOR LOAD"] {
        assert!(
            sections.contains(&format!("CONFINE {sub}").as_str()),
            "{sub}"
        );
    }
    // and man(1) renders it without warnings, when man is installed
    if let Ok(mut man) = Command::new("man")
        .args(["--warnings", "-l", "-"])
        .env("MANWIDTH", "80")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
    {
        man.stdin
            .take()
            .unwrap()
            .write_all(page.as_bytes())
            .unwrap();
        let o = man.wait_with_output().unwrap();
        assert!(
            o.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// A two-rule profile on which libseccomp 2.5.4's tree merge loops forever (found by the
/// random differential test): confine refuses it with a located error instead of hanging.
#[test]
fn a_profile_libseccomp_loops_on_is_refused_not_hung() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(
        &dir,
        "loop.json",
        r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_S390X","SCMP_ARCH_S390"],"syscalls":[
{"names":["bind"],"action":"SCMP_ACT_KILL","args":[{"index":0,"value":8,"op":"SCMP_CMP_NE"},{"index":1,"value":8,"op":"SCMP_CMP_LE"}]},
{"names":["bind"],"action":"SCMP_ACT_TRACE","errnoRet":3,"args":[{"index":0,"value":8,"op":"SCMP_CMP_NE"},{"index":2,"value":4294967297,"op":"SCMP_CMP_NE"}]}]}"#,
    );
    let start = std::time::Instant::now();
    let o = confine(&[
        "seccomp", "compile", "--arch", "s390x", "--format", "disasm", &p,
    ]);
    assert!(start.elapsed().as_secs() < 20);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("rule 1 (bind)") && e.contains("loop forever"),
        "{e}"
    );
    assert!(o.stdout.is_empty());
}

/// libseccomp gives a name an ABI lacks (`ipc` on x86_64) a pseudo-syscall number and merges
/// its rules like any other on ABIs without a rule hook: two conflicting `ipc` rules make it
/// fail with EEXIST on an x86_64-only filter (runc refuses the profile), so confine refuses too.
/// On x86 the multiplexing hook drops such rules; there `ipc` is a real syscall and the same
/// two rules merge (found by the random differential test).
#[test]
fn conflicting_rules_for_a_name_the_abi_lacks_are_refused_as_libseccomp_does() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(
        &dir,
        "ipc.json",
        r#"{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[
{"names":["ipc"],"action":"SCMP_ACT_ALLOW","args":[{"index":3,"value":1,"op":"SCMP_CMP_EQ"},{"index":2,"value":3,"op":"SCMP_CMP_GE"}]},
{"names":["ipc"],"action":"SCMP_ACT_TRAP","args":[{"index":2,"value":2114060288,"op":"SCMP_CMP_GT"}]}]}"#,
    );
    let compile =
        |arch: &str| confine(&["seccomp", "compile", "--arch", arch, "-o", "/dev/null", &p]);
    let o = compile("amd64");
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("rule 1 (ipc)") && e.contains("EEXIST"), "{e}");
    // on i386 `ipc` exists and libseccomp accepts the two rules (its program was checked)
    let o = compile("386");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// libseccomp drops a rule that an earlier rule with the same action and a subset of its
/// conditions already covers (its prune step), so a later rule that would have conflicted with
/// the dropped one is accepted. Here `semop` reaches s390x's `ipc` as `a0 == 1 && a1 == 5`,
/// covered by the `ipc` rule `a1 == 5`; the unconditional `semop` rule then merges as
/// `a0 == 1` → ERRNO. libseccomp 2.5.4 accepts the profile and decides as below (checked with
/// python3-seccomp; found by the random differential test).
#[test]
fn a_rule_covered_by_an_earlier_one_is_dropped_as_libseccomp_does() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(
        &dir,
        "covered.json",
        r#"{"defaultAction":"SCMP_ACT_LOG","syscalls":[
{"names":["ipc","semop"],"action":"SCMP_ACT_KILL","args":[{"index":1,"value":5,"op":"SCMP_CMP_EQ"}]},
{"names":["semop"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    for (args, want) in [
        (["1", "5"], "KILL_THREAD"),
        (["1", "4"], "ERRNO(EPERM)"),
        (["2", "5"], "KILL_THREAD"),
        (["2", "4"], "LOG"),
    ] {
        let o = confine(&[
            "seccomp",
            "eval",
            "--arch",
            "s390x",
            "--profile",
            &p,
            "ipc",
            args[0],
            args[1],
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.lines().next().unwrap_or("").ends_with(want),
            "{args:?}: {out}"
        );
    }
}

/// An unreadable profile is named once with its reason, not with the reason repeated.
#[test]
fn a_missing_profile_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let o = confine(&["seccomp", "compile", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("cannot read seccomp profile"), "{e}");
    assert_eq!(e.matches("os error 2").count(), 1, "{e}");
}

/// `seccomp diff` prints example arguments as `seccomp eval` reads them (issue 13: it printed
/// 131072 as `20000`, which `eval` reads as decimal 20000 and allows): evaluating the example
/// gives the verdicts the diff line states.
#[test]
fn diff_examples_read_back_into_eval() {
    let dir = tempfile::tempdir().unwrap();
    let admin = dir.path().join("admin.json");
    let o = confine(&[
        "seccomp",
        "resolve",
        "--cap-add",
        "SYS_ADMIN",
        "-o",
        admin.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = confine(&["seccomp", "diff", "docker-default", admin.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let line = out
        .lines()
        .find(|l| l.contains(" clone(") && l.contains("e.g. args ["))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.ends_with("(e.g. args [0x20000, 0, 0, 0, 0, 0]: ERRNO(EPERM) vs ALLOW)"),
        "{line}"
    );
    let args = line
        .split_once("e.g. args [")
        .unwrap()
        .1
        .split_once(']')
        .unwrap()
        .0;
    let args: Vec<&str> = args.split(", ").collect();
    for (profile, want) in [
        ("docker-default", "ERRNO(EPERM)"),
        (admin.to_str().unwrap(), "ALLOW"),
    ] {
        let mut a = vec!["seccomp", "eval", "--profile", profile, "clone"];
        a.extend(&args);
        let o = confine(&a);
        assert!(o.status.success(), "{}", stderr(&o));
        let first = stdout(&o).lines().next().unwrap_or_default().to_string();
        assert!(first.ends_with(&format!(": {want}")), "{profile}: {first}");
    }
}

/// Shell completion offers capability names for --cap-add/--cap-drop (of `run` and of the host
/// flags), taken from confine's capability table; what is accepted is unchanged: any case, with
/// or without CAP_, lists, ALL, and unknown names refused in confine's words.
#[test]
fn capability_names_complete_and_parse_as_before() {
    for sh in ["bash", "zsh", "fish"] {
        let out = stdout(&confine(&["completions", sh]));
        for name in ["ALL", "NET_ADMIN", "CAP_NET_ADMIN", "CHECKPOINT_RESTORE"] {
            assert!(out.contains(name), "{sh}: {name}");
        }
    }
    let bash = stdout(&confine(&["completions", "bash"]));
    let cap_add_lines: Vec<&str> = bash
        .split("--cap-add)")
        .skip(1)
        .filter_map(|s| s.lines().nth(1))
        .collect();
    // run, resolve, check, compile, eval and diff
    assert!(cap_add_lines.len() >= 6, "{}", cap_add_lines.len());
    assert!(cap_add_lines
        .iter()
        .all(|l| l.contains("compgen -W \"ALL CHOWN DAC_OVERRIDE")));
    let o = confine(&[
        "seccomp",
        "resolve",
        "--arch",
        "amd64",
        "--cap-add",
        "sys_admin,Cap_Net_Admin",
        "--cap-drop",
        "CAP_chown",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = confine(&["seccomp", "resolve", "--cap-add", "CAP_FLY"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(
        "--cap-add/--cap-drop: unknown capability `CAP_FLY` (expected a name such as CAP_NET_ADMIN or net_admin)"
    ));
    // the 40-odd names are for completion, not for --help
    let help = stdout(&confine(&["seccomp", "resolve", "--help"]));
    assert!(!help.contains("CAP_CHECKPOINT_RESTORE"), "{help}");
}

/// `seccomp check` warns about a profile that confines nothing (issue 13, item 9), located;
/// `--strict` makes it exit 1.
#[test]
fn check_warns_when_a_profile_confines_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (name, json, at, words) in [
        ("empty.json", "{}", "1:1", "with no defaultAction and no rules, Docker runs the container without seccomp (an empty profile is not a strict one)"),
        ("allow.json", "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\"\n}", "2:20", "defaultAction is SCMP_ACT_ALLOW and there are no rules, so the filter denies no syscall"),
        (
            "allow-rules.json",
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_LOG"}, {"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
            "1:19",
            "defaultAction is SCMP_ACT_ALLOW and every rule allows too, so the filter denies no syscall (SCMP_ACT_LOG only logs)",
        ),
    ] {
        let p = profile(&dir, name, json);
        let o = confine(&["seccomp", "check", &p]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stdout(&o));
        let want = format!("{p}:{at}: warning: the profile confines nothing: {words} [confines-nothing]");
        assert!(stdout(&o).contains(&want), "{name}: {}", stdout(&o));
        let o = confine(&["seccomp", "check", "--strict", &p]);
        assert_eq!(o.status.code(), Some(1), "{name}");
    }
    // one rule that denies is enough
    let p = profile(
        &dir,
        "one.json",
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]}"#,
    );
    let o = confine(&["seccomp", "check", "--strict", &p]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

/// `seccomp check` compiles for the host and reports what `confine run` would meet there: a
/// program over 4096 instructions and a rule libseccomp refuses (errors), filter flags the
/// kernel lacks and a denied execve (warnings).
#[test]
fn check_reports_what_confine_run_would_refuse_on_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let check = |args: &[&str]| {
        let mut a = vec!["seccomp", "check", "--arch", "amd64"];
        a.extend(args);
        confine(&a)
    };
    // 3,000 argument values for one syscall: more than the kernel's 4096 instructions
    let rules: Vec<String> = (0..3000)
        .map(|i| format!(r#"{{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{{"index": 0, "value": {i}, "op": "SCMP_CMP_EQ"}}]}}"#))
        .collect();
    let long = profile(
        &dir,
        "long.json",
        &format!(
            r#"{{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{{"names": ["execve"], "action": "SCMP_ACT_ALLOW"}}, {}]}}"#,
            rules.join(", ")
        ),
    );
    let o = check(&[&long]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!("{long}:1:1: error: the compiled program has "))
            && stdout(&o).contains(" instructions; the kernel accepts at most 4096 per filter"),
        "{}",
        stdout(&o)
    );

    // flags: LOG needs 4.14, and SPEC_ALLOW (runc's default when no flags are set) 4.17
    let log = profile(
        &dir,
        "log.json",
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_LOG"], "syscalls": [{"names": ["execve"], "action": "SCMP_ACT_ALLOW"}]}"#,
    );
    let o = check(&["--kernel", "4.4", &log]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("warning: filter flag SECCOMP_FILTER_FLAG_LOG needs Linux 4.14; kernel 4.4 refuses it (EINVAL), so confine run would fail to install the filter [kernel-flag]"), "{}", stdout(&o));
    let o = check(&["--strict", "--kernel", "4.14", &log]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = check(&["--kernel", "4.16", "docker-default"]);
    assert!(
        stdout(&o).contains(
            "filter flag SECCOMP_FILTER_FLAG_SPEC_ALLOW needs Linux 4.17; kernel 4.16 refuses it"
        ),
        "{}",
        stdout(&o)
    );
    let o = check(&["--kernel", "6.8", "docker-default"]);
    assert!(!stdout(&o).contains("[kernel-flag]"), "{}", stdout(&o));

    // execve denied: located at the rule that denies it
    let noexec = profile(
        &dir,
        "noexec.json",
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [\n  {\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ERRNO\"},\n  {\"names\": [\"execve\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"}\n]}",
    );
    let o = check(&["--strict", &noexec]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains(&format!("{noexec}:3:3: warning: rule 1 (execve): execve on x86_64 is KILL_PROCESS: a command run with this profile (confine run, docker run) could never start [denies-execve]")), "{}", stdout(&o));

    // a rule libseccomp refuses (EEXIST): before, check said "ok" and only compile failed
    let ipc = profile(
        &dir,
        "ipc.json",
        r#"{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[
{"names":["ipc"],"action":"SCMP_ACT_ALLOW","args":[{"index":3,"value":1,"op":"SCMP_CMP_EQ"},{"index":2,"value":3,"op":"SCMP_CMP_GE"}]},
{"names":["ipc"],"action":"SCMP_ACT_TRAP","args":[{"index":2,"value":2114060288,"op":"SCMP_CMP_GT"}]}]}"#,
    );
    let o = check(&[&ipc]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stdout(&o).contains(&format!("{ipc}:3:1: error: rule 1 (ipc): conflicts on "))
            && stdout(&o).contains("(EEXIST)"),
        "{}",
        stdout(&o)
    );
}
