//! Every error and warning the issue lists, each located (line, column, rule, first name).

use confine_profile::{parse_profile, Action, Diagnostic, Flag, Format, Operator, Severity};

fn diags(src: &str) -> (Option<confine_profile::Profile>, Vec<Diagnostic>) {
    let p = parse_profile(src.as_bytes(), "p.json");
    (p.profile, p.diagnostics)
}

/// The single diagnostic with `code`, checked for severity.
fn one(src: &str, code: &str, sev: Severity) -> Diagnostic {
    let (profile, d) = diags(src);
    let found: Vec<_> = d.iter().filter(|d| d.code == code).collect();
    assert_eq!(found.len(), 1, "expected one `{code}` in {d:#?}");
    assert_eq!(found[0].severity, sev, "{:?}", found[0]);
    assert_eq!(
        profile.is_none(),
        sev == Severity::Error || d.iter().any(|d| d.severity == Severity::Error)
    );
    found[0].clone()
}

const HEAD: &str = "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [\n";

fn with_rule(rule: &str) -> String {
    format!("{HEAD}    {{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}},\n    {rule}\n  ]\n}}\n")
}

#[test]
fn clean_profiles_have_no_findings() {
    let (p, d) = diags(&with_rule(
        r#"{"names": ["getpid", "kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}"#,
    ));
    assert!(d.is_empty(), "{d:?}");
    let p = p.unwrap();
    assert_eq!(p.syscalls.len(), 2);
    assert_eq!(p.syscalls[1].errno_ret, Some(38));
    assert_eq!(p.flags, None);
}

#[test]
fn errors_name_file_line_column_rule_and_syscall() {
    let d = one(
        &with_rule(r#"{"names": ["ptrace"], "action": "SCMP_ACT_FLY"}"#),
        "bad-action",
        Severity::Error,
    );
    assert_eq!((d.file.as_str(), d.line, d.column), ("p.json", 5, 37));
    assert_eq!((d.rule, d.syscall.as_deref()), (Some(1), Some("ptrace")));
    assert_eq!(d.to_string(), "p.json:5:37: error: rule 1 (ptrace): unknown action `SCMP_ACT_FLY` (valid: SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY) [bad-action]");
}

#[test]
fn every_listed_error() {
    let e = Severity::Error;
    one(
        &with_rule(r#"{"name": "a", "names": ["b"], "action": "SCMP_ACT_ALLOW"}"#),
        "name-and-names",
        e,
    );
    let src = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}], "syscalls": []}"#;
    one(src, "arch-and-archmap", e);
    let d = one(
        &with_rule(
            r#"{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}"#,
        ),
        "bad-arg-index",
        e,
    );
    assert_eq!(d.syscall.as_deref(), Some("socket"));
    one(
        &with_rule(
            r#"{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQUAL"}]}"#,
        ),
        "bad-operator",
        e,
    );
    one(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_VAX"]}"#,
        "bad-arch",
        e,
    );
    let d = one(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["x86_64"]}"#,
        "bad-arch",
        e,
    );
    assert!(
        d.message.contains("did you mean SCMP_ARCH_X86_64"),
        "{}",
        d.message
    );
    one(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_FAST"]}"#,
        "bad-flag",
        e,
    );
    one(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "listenerMetadata": "x"}"#,
        "metadata-without-listener",
        e,
    );
    one(
        r#"{"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/run/a.sock"}"#,
        "notify-default",
        e,
    );
    let src = r#"{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/s", "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_NOTIFY"}]}"#;
    let d = one(src, "notify-write", e);
    assert_eq!((d.rule, d.syscall.as_deref()), (Some(0), Some("read")));
    one(
        &with_rule(r#"{"names": [], "action": "SCMP_ACT_ALLOW"}"#),
        "empty-names",
        e,
    );
    one(
        &with_rule(r#"{"action": "SCMP_ACT_ALLOW"}"#),
        "empty-names",
        e,
    );
    one(
        &with_rule(r#"{"names": ["x"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4096}"#),
        "range",
        e,
    );
    one(
        &with_rule(r#"{"names": ["x"], "action": "SCMP_ACT_ERRNO", "errnoRet": -1}"#),
        "type",
        e,
    );
    one(
        &with_rule(r#"{"names": ["x"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1.0}"#),
        "type",
        e,
    );
    one(
        &with_rule(r#"{"names": "read", "action": "SCMP_ACT_ALLOW"}"#),
        "type",
        e,
    );
    one(
        &with_rule(
            r#"{"names": ["x"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4"}}"#,
        ),
        "bad-min-kernel",
        e,
    );
    one(
        &with_rule(
            r#"{"names": ["x"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "0.0"}}"#,
        ),
        "bad-min-kernel",
        e,
    );
    one(
        &with_rule(
            r#"{"names": ["x"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_EQ"}]}"#,
        ),
        "range",
        e,
    );
    one(&with_rule("null"), "null-rule", e);
    one(
        r#"{"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
        "missing-default-action",
        e,
    );
    one("[1, 2]", "type", e);
    one("{\"defaultAction\": ", "syntax", e);
}

#[test]
fn leniencies_are_warnings() {
    let w = Severity::Warning;
    let d = one(
        &with_rule(r#"{"names": ["x"], "action": "SCMP_ACT_ERRNO", "errno": "ENOSYS"}"#),
        "unknown-key",
        w,
    );
    assert!(d.message.contains("Podman"), "{}", d.message);
    let (p, _) = diags(r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultAction": "SCMP_ACT_ALLOW"}"#);
    assert_eq!(
        p.unwrap().default_action,
        Some(Action::Allow),
        "last duplicate wins"
    );
    one(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultAction": "SCMP_ACT_ALLOW"}"#,
        "duplicate-key",
        w,
    );
    one(
        &with_rule(r#"{"names": ["x"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}"#),
        "errno-ignored",
        w,
    );
    let d = one(r#"{"DefaultAction": "SCMP_ACT_LOG"}"#, "key-case", w);
    assert_eq!(d.line, 1);
    assert_eq!(
        diags(r#"{"DefaultAction": "SCMP_ACT_LOG"}"#)
            .0
            .unwrap()
            .default_action,
        Some(Action::Log)
    );
    one(
        &with_rule(
            r#"{"names": ["x"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["sys_admin"]}}"#,
        ),
        "cap-spelling",
        w,
    );
    one(
        &with_rule(
            r#"{"names": ["x"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["x86_64"]}}"#,
        ),
        "unknown-native-arch",
        w,
    );
    one(
        &with_rule(
            r#"{"names": ["x"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "valueTwo": 2, "op": "SCMP_CMP_EQ"}]}"#,
        ),
        "value-two-ignored",
        w,
    );
}

#[test]
fn null_empty_and_absent_are_accepted() {
    let src = r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": null, "architectures": null,
        "archMap": [{"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}], "flags": [],
        "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": null, "includes": {},
                      "excludes": null, "comment": ""},
                     {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [], "includes": {"minKernel": ""}}]}"#;
    let (p, d) = diags(src);
    assert!(d.is_empty(), "{d:?}");
    let p = p.unwrap();
    assert_eq!(p.flags, Some(vec![]));
    assert!(p.syscalls[1].includes.is_empty());
}

#[test]
fn old_format_name_and_all_vocabulary() {
    let mut rules = Vec::new();
    for (i, a) in Action::ALL.iter().enumerate() {
        if *a == Action::Notify {
            continue;
        }
        rules.push(format!(r#"{{"name": "s{i}", "action": "{a}"}}"#));
    }
    for o in Operator::ALL {
        rules.push(format!(r#"{{"names": ["t"], "action": "SCMP_ACT_ALLOW", "args": [{{"index": 5, "value": 1, "valueTwo": 1, "op": "{o}"}}]}}"#));
    }
    let flags: Vec<_> = Flag::ALL.iter().map(|f| format!("\"{f}\"")).collect();
    let arches: Vec<_> = confine_abi::Arch::ALL
        .iter()
        .map(|a| format!("\"{}\"", a.scmp_name()))
        .collect();
    let src = format!(
        r#"{{"defaultAction": "SCMP_ACT_ERRNO", "architectures": [{}], "flags": [{}], "listenerPath": "/a", "listenerMetadata": "m", "syscalls": [{}, {{"names": ["getpid"], "action": "SCMP_ACT_NOTIFY"}}]}}"#,
        arches.join(","),
        flags.join(","),
        rules.join(",")
    );
    let (p, d) = diags(&src);
    let d: Vec<_> = d
        .into_iter()
        .filter(|d| d.code != "value-two-ignored")
        .collect();
    assert!(d.is_empty(), "{d:#?}");
    let p = p.unwrap();
    assert_eq!(p.architectures.len(), 23);
    assert_eq!(p.flags.as_ref().unwrap().len(), 4);
    assert_eq!(p.syscalls[0].names.to_vec(), vec!["s0".to_string()]);
    assert_eq!(p.syscalls.len(), 8 + 7 + 1);
}

#[test]
fn oci_config_json_takes_linux_seccomp() {
    let src = r#"{"ociVersion": "1.2.0", "process": {"args": ["sh"]},
      "linux": {"namespaces": [], "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}}}"#;
    let (p, d) = diags(src);
    let p = p.unwrap();
    assert_eq!(p.format, Format::OciConfig);
    assert_eq!(p.syscalls.len(), 1);
    assert!(
        p.syscalls[0].includes.is_empty(),
        "runc ignores Docker-only keys"
    );
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, "docker-only-key");
    one(
        r#"{"ociVersion": "1.2.0", "linux": {}}"#,
        "no-seccomp",
        Severity::Error,
    );
}

#[test]
fn shared_fixtures_parse() {
    let dir = confine_test_support::fixtures::dir().join("seccomp");
    for f in ["docker-default.json", "docker-default-2025-05.json"] {
        let bytes = std::fs::read(dir.join(f)).unwrap();
        let p = parse_profile(&bytes, f);
        assert!(p.diagnostics.is_empty(), "{f}: {:?}", p.diagnostics);
    }
    // Podman's profile carries errno strings next to the numbers: accepted, with warnings
    let bytes = std::fs::read(dir.join("podman-default.json")).unwrap();
    let p = parse_profile(&bytes, "podman-default.json");
    assert!(p.profile.is_some());
    assert!(p
        .diagnostics
        .iter()
        .all(|d| d.severity == Severity::Warning));
    assert!(p
        .diagnostics
        .iter()
        .any(|d| d.code == "unknown-key" && d.message.contains("`defaultErrno`")));
}

/// A profile that confines nothing is a located warning (fail-open), not silence; one rule
/// that denies, or an error elsewhere, means no such warning.
#[test]
fn a_profile_that_confines_nothing_is_a_warning() {
    let d = one("{}", "confines-nothing", Severity::Warning);
    assert_eq!((d.line, d.column, d.rule), (1, 1, None));
    assert!(
        d.message
            .contains("Docker runs the container without seccomp"),
        "{d:?}"
    );
    let d = one(
        "{\"linux\": {\"seccomp\": {}}}",
        "confines-nothing",
        Severity::Warning,
    );
    assert_eq!((d.line, d.column), (1, 23));
    let d = one(
        "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]\n}",
        "confines-nothing",
        Severity::Warning,
    );
    assert_eq!((d.line, d.column), (2, 20));
    assert!(d.message.contains("every rule allows too"), "{d:?}");
    let d = one(
        r#"{"defaultAction": "SCMP_ACT_LOG"}"#,
        "confines-nothing",
        Severity::Warning,
    );
    assert!(d.message.ends_with("(SCMP_ACT_LOG only logs)"), "{d:?}");
    for quiet in [
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]}"#,
        r#"{"defaultAction": "SCMP_ACT_ERRNO"}"#,
        // an error already: its meaning is not certain
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOPE"}]}"#,
    ] {
        let (_, d) = diags(quiet);
        assert!(
            d.iter().all(|d| d.code != "confines-nothing"),
            "{quiet}: {d:?}"
        );
    }
}

/// Fuzzing (fuzz target `profile_json`): a number beyond f64's range is valid JSON (RFC 8259's
/// grammar has no bound; Go's decoder skips it in an unknown key), so the parser accepts it and
/// keeps its text; serde_json, the target's oracle, refuses it ("number out of range"), which
/// was the target's bug, not the parser's. Where the profile needs an integer, it is a located
/// error.
#[test]
fn numbers_beyond_f64_range_are_json_and_an_error_only_where_an_integer_is_needed() {
    // the fuzzer's input
    let n = "99999999999929999999995999999999\t\t\t";
    let text = confine_profile::json::parse(n.as_bytes()).unwrap();
    assert_eq!(
        text.value,
        confine_profile::json::Value::Number("99999999999929999999995999999999".into())
    );
    let huge = "9".repeat(400);
    for n in ["1e999", "-1E+999", "1e-999", huge.as_str()] {
        assert!(confine_profile::json::parse(n.as_bytes()).is_ok(), "{n}");
        // in an unknown key: a warning for the key, nothing about the number
        let (p, d) = diags(&format!(
            "{{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"x\": {n}}}"
        ));
        assert!(p.is_some(), "{n}: {d:#?}");
        assert!(
            d.iter().all(|d| d.severity != Severity::Error),
            "{n}: {d:#?}"
        );
    }
    // where an integer is needed, an error on the number
    let (p, d) = diags(&with_rule(
        r#"{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1e999}"#,
    ));
    assert!(p.is_none());
    let e = d.iter().find(|d| d.severity == Severity::Error).unwrap();
    assert_eq!((e.line, e.column), (5, 65), "{e}");
}
