//! `confine seccomp lint` (issue 18): findings judged on what the compiled program decides.
//! A profile with every weakness planted gives exactly the planted findings, each naming its
//! rule; a clean profile gives none; Docker's and Podman's defaults give their known
//! findings; every example call agrees with `seccomp eval`, and the 32-bit bypass of Docker's
//! default is shown on the real kernel.

use confine_test_support::fixtures;
use confine_test_support::run::confine;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `seccomp lint --json` of `profile` with extra arguments: (exit code, report).
fn lint(profile: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["seccomp", "lint", "--json", "--arch", "amd64", profile];
    args.extend(extra);
    let o = confine(&args);
    let code = o.status.code().unwrap();
    assert!(code <= 1, "lint {profile}: {}", text(&o.stderr));
    (code, serde_json::from_slice(&o.stdout).unwrap())
}

/// The (id, first syscall) pairs of a report.
fn ids(r: &Value) -> BTreeSet<(String, String)> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["syscalls"][0].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn finding<'a>(r: &'a Value, id: &str, syscall: &str) -> &'a Value {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id && (syscall.is_empty() || f["syscalls"][0] == syscall))
        .unwrap_or_else(|| panic!("no {id} finding for {syscall}: {r:#}"))
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    p.to_str().unwrap().to_string()
}

const ARCHES: [&str; 3] = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"];

/// An allow list with one of each weakness, rule by rule.
fn planted() -> Value {
    let allow = |names: &[&str]| json!({"names": names, "action": "SCMP_ACT_ALLOW"});
    json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ARCHES,
        "syscalls": [
            allow(&["read", "write", "close", "exit_group", "rt_sigreturn", "faccessat"]),
            allow(&["clone"]),
            allow(&["setns"]),
            allow(&["keyctl"]),
            allow(&["bpf"]),
            allow(&["perf_event_open"]),
            allow(&["userfaultfd"]),
            allow(&["io_uring_setup"]),
            allow(&["kexec_load"]),
            allow(&["init_module"]),
            allow(&["mount"]),
            allow(&["open_by_handle_at"]),
            allow(&["ptrace"]),
            allow(&["not_a_syscall", "arm_fadvise64_64"]),
            {"names": ["getpid"], "action": "SCMP_ACT_LOG"},
            {"names": ["getppid"], "action": "SCMP_ACT_TRACE"},
            {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
            {"names": ["unshare"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 268435456, "valueTwo": 268435456, "op": "SCMP_CMP_MASKED_EQ"}]}
        ]
    })
}

/// The same calls, each written so that nothing is exposed: Docker's namespace mask on
/// clone, clone3 answered ENOSYS, faccessat2 allowed with faccessat, 32-bit arguments
/// compared through a 32-bit mask, and no i386 ABI.
fn clean() -> Value {
    json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        // no i386: through its socketcall, socket's family is in memory, out of reach of any
        // rule (the planted profile's abi-bypass)
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"],
        "syscalls": [
            {"names": ["read", "write", "close", "exit_group", "rt_sigreturn", "faccessat", "faccessat2", "getpid"],
             "action": "SCMP_ACT_ALLOW"},
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 4294967295u64, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 4294967295u64, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}]}
        ]
    })
}

#[test]
fn every_planted_weakness_is_found_with_its_rule_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "planted.json", &planted());
    // kernel 6.1: ptrace is no finding
    let (code, r) = lint(&p, &["--kernel", "6.1"]);
    assert_eq!(code, 1, "findings exit 1");
    let expected = [
        ("user-namespaces", "clone"),
        ("user-namespaces", "unshare"),
        ("namespaces", "clone"),
        ("namespaces", "setns"),
        ("namespaces", "unshare"),
        ("kernel-keyring", "keyctl"),
        ("bpf", "bpf"),
        ("perf-events", "perf_event_open"),
        ("userfaultfd", "userfaultfd"),
        ("io-uring", "io_uring_setup"),
        ("kexec", "kexec_load"),
        ("kernel-modules", "init_module"),
        ("mount", "mount"),
        ("open-by-handle", "open_by_handle_at"),
        ("errno-not-enosys", "clone3"),
        ("errno-not-enosys", "faccessat2"),
        ("log-action", "getpid"),
        ("trace-action", "getppid"),
        ("unknown-name", "not_a_syscall"),
        ("arg-width-bypass", "socket"),
        ("arg-width-refusal", "personality"),
        ("abi-bypass", "socket (socketcall(1))"),
    ];
    assert_eq!(ids(&r), pairs(&expected), "{r:#}");
    // each names the rule that causes it (by its index in the profile)
    for (id, syscall, rule) in [
        ("user-namespaces", "clone", "rule 1 (clone)"),
        (
            "user-namespaces",
            "unshare",
            "18 (SCMP_ACT_ALLOW, 1 condition(s))",
        ),
        ("kernel-keyring", "keyctl", "rule 3 (keyctl)"),
        ("mount", "mount", "rule 10 (mount)"),
        ("log-action", "getpid", "rule 14 (getpid)"),
        ("trace-action", "getppid", "rule 15 (getppid)"),
        ("unknown-name", "not_a_syscall", "rule 13"),
        (
            "arg-width-bypass",
            "socket",
            "16 (SCMP_ACT_ALLOW, 1 condition(s))",
        ),
        (
            "arg-width-refusal",
            "personality",
            "17 (SCMP_ACT_ALLOW, 1 condition(s))",
        ),
        ("errno-not-enosys", "clone3", "the default action"),
    ] {
        let f = finding(&r, id, syscall);
        let got = f["rule"].as_str().unwrap_or_default();
        assert!(
            got.contains(rule),
            "{id} {syscall}: rule {got:?}, expected {rule:?}"
        );
        assert!(f["reference"].as_str().unwrap().starts_with("https://"));
    }
    assert_eq!(
        finding(&r, "unknown-name", "")["syscalls"],
        json!(["not_a_syscall", "arm_fadvise64_64"])
    );
    let bypass = finding(&r, "arg-width-bypass", "socket");
    assert_eq!(bypass["severity"], "high");
    assert!(
        bypass["examples"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["args"][0] == "0x100000028"),
        "{bypass:#}"
    );
    // the kernel version decides the ptrace finding
    let (_, old) = lint(&p, &["--kernel", "4.4"]);
    assert!(ids(&old).contains(&("ptrace-before-4.8".into(), "ptrace".into())));
    // --fail-on
    let (code, _) = lint(&p, &["--kernel", "6.1", "--fail-on", "never"]);
    assert_eq!(code, 0);
}

#[test]
fn a_clean_profile_gives_nothing_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "clean.json", &clean());
    let (code, r) = lint(&p, &[]);
    assert_eq!(ids(&r), BTreeSet::new(), "{r:#}");
    assert_eq!(code, 0);
    // the text form says so too
    let o = confine(&["seccomp", "lint", "--arch", "amd64", &p]);
    assert!(o.status.success());
    assert!(
        text(&o.stdout).contains(": 0 finding(s)"),
        "{}",
        text(&o.stdout)
    );
}

/// Every example call gets the same action from `seccomp eval` as the finding says.
#[test]
fn examples_agree_with_eval() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "planted.json", &planted());
    let (_, r) = lint(&p, &["--kernel", "6.1"]);
    let mut checked = 0;
    for f in r["findings"].as_array().unwrap() {
        for e in f["examples"].as_array().unwrap() {
            let mut args = vec![
                "seccomp",
                "eval",
                "--json",
                "--arch",
                "amd64",
                "--kernel",
                "6.1",
                "--profile",
                &p,
                "--abi",
            ];
            let abi = e["abi"].as_str().unwrap();
            let nr = e["nr"].as_u64().unwrap().to_string();
            args.push(abi);
            args.push(&nr);
            let words: Vec<String> = e["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            args.extend(words.iter().map(String::as_str));
            let o = confine(&args);
            assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
            let v: Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(v["action"], e["action"], "{} {e}", f["id"]);
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} examples");
}

/// A deny list: the default is a finding, and a call it refuses on amd64 by name runs on
/// i386 under its other name.
#[test]
fn a_deny_list_and_its_i386_way_round() {
    let dir = tempfile::tempdir().unwrap();
    let deny = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "syscalls": [{"names": ["setuid", "setgid"], "action": "SCMP_ACT_ERRNO"}]
    });
    let p = write(dir.path(), "deny.json", &deny);
    let (code, r) = lint(&p, &[]);
    assert_eq!(code, 1);
    let d = finding(&r, "default-allow", "");
    assert_eq!(d["rule"], "defaultAction");
    let b = finding(&r, "abi-bypass", "setuid (as setuid32)");
    assert_eq!(b["abis"], json!(["x86"]));
    assert_eq!(b["examples"][0]["syscall"], "setuid32");
    assert_eq!(b["examples"][0]["action"], "ALLOW");
    // only high findings fail under --fail-on high; there are high ones
    assert_eq!(lint(&p, &["--fail-on", "high"]).0, 1);
    assert_eq!(lint(&p, &["--fail-on", "never"]).0, 0);
}

/// A raw program (as given to `bwrap --seccomp`) that checks numbers but not the
/// architecture: every other ABI runs unfiltered, and the number it refuses on amd64 is
/// another call elsewhere.
#[test]
fn a_raw_program_without_an_arch_check() {
    let dir = tempfile::tempdir().unwrap();
    let insn = |code: u16, jt: u8, jf: u8, k: u32| {
        let mut v = code.to_ne_bytes().to_vec();
        v.extend([jt, jf]);
        v.extend(k.to_ne_bytes());
        v
    };
    let prog = [
        insn(0x20, 0, 0, 0),           // ld [0] (nr)
        insn(0x15, 0, 1, 304),         // jeq #304 (open_by_handle_at on x86_64)
        insn(0x06, 0, 0, 0x0005_0001), // ret ERRNO(EPERM)
        insn(0x06, 0, 0, 0x7fff_0000), // ret ALLOW
    ]
    .concat();
    let f = dir.path().join("prog.bpf");
    std::fs::write(&f, prog).unwrap();
    let (code, r) = lint("unused", &["--bpf", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    let bad = finding(&r, "unknown-arch", "");
    assert_eq!(bad["severity"], "info");
    let msg = bad["message"].as_str().unwrap();
    assert!(msg.contains("does not know gets ALLOW"), "{bad:#}");
    // the concrete way round: calls refused on amd64 run as i386 calls of the same name
    let i386 = finding(&r, "abi-bypass", "open_by_handle_at");
    assert_eq!(i386["abis"], json!(["x86"]), "{i386:#}");
    let h = finding(&r, "open-by-handle", "open_by_handle_at");
    assert_eq!(
        h["abis"],
        json!(["x86", "x32"]),
        "refused on amd64 only: {h:#}"
    );
    assert!(h["rule"].is_null(), "a raw program has no rules");
    assert!(ids(&r).contains(&("default-allow".into(), String::new())));
}

/// Docker's default gives its known findings (README): the AF_VSOCK/AF_ALG bypass through
/// socket's high half, personality's false refusals, and names no x86 ABI has. `clone`,
/// allowed only without namespace flags, is no finding.
#[test]
fn docker_default_known_findings() {
    let (code, r) = lint("docker-default", &[]);
    assert_eq!(code, 1);
    assert_eq!(
        ids(&r),
        pairs(&[
            ("abi-bypass", "socket (socketcall(1))"),
            ("arg-width-bypass", "socket"),
            ("arg-width-refusal", "personality"),
            ("unknown-name", "recv"),
        ]),
        "{r:#}"
    );
    let f = fixtures::seccomp("docker-default.json");
    let (_, file) = lint(f.to_str().unwrap(), &[]);
    assert_eq!(ids(&file), ids(&r), "the builtin and its source file agree");
    // with every capability, Docker's own rules open namespaces and mount
    let (_, all) = lint("docker-default", &["--caps", "all"]);
    for id in [
        "user-namespaces",
        "namespaces",
        "mount",
        "bpf",
        "open-by-handle",
    ] {
        assert!(ids(&all).iter().any(|p| p.0 == id), "--caps all: no {id}");
    }
    // Podman's default with the capability its socket rules hang on dropped: its
    // two-argument NETLINK_AUDIT rule is bypassed through either argument
    let podman = fixtures::seccomp("podman-default.json");
    let (_, pod) = lint(podman.to_str().unwrap(), &[]);
    assert!(ids(&pod).contains(&("kernel-keyring".into(), "keyctl".into())));
    assert!(!ids(&pod).iter().any(|p| p.0 == "arg-width-bypass"));
    let (_, pod) = lint(podman.to_str().unwrap(), &["--cap-drop", "AUDIT_WRITE"]);
    let socket: Vec<&Value> = r_findings(&pod, "arg-width-bypass");
    assert_eq!(socket.len(), 2, "{pod:#}");
}

fn r_findings<'a>(r: &'a Value, id: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

/// The bypass lint reports for Docker's default holds on the real kernel: under `confine
/// run` (Docker's default profile), socket(AF_VSOCK) is refused and socket with the same
/// family plus a high half is not; personality(8) runs and with a high half is refused.
#[test]
fn the_socket_bypass_on_the_real_kernel() {
    let script = r#"
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def call(nr, *a):
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(x) for x in a])
    return 0 if r >= 0 else ctypes.get_errno()
print("socket", call(41, 40, 5, 0), call(41, 0x100000028, 5, 0))
print("personality", call(135, 0xffffffff), call(135, 0x1ffffffff))
"#;
    let o = confine(&["run", "--", "python3", "-c", script]);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}{}", text(&o.stderr));
    let words: Vec<Vec<String>> = out
        .lines()
        .map(|l| l.split(' ').map(str::to_string).collect())
        .collect();
    assert_eq!(
        words[0][1], "1",
        "socket(AF_VSOCK) is refused with EPERM: {out}"
    );
    assert_ne!(
        words[0][2], "1",
        "socket(1<<32 | AF_VSOCK) passes the filter: {out}"
    );
    assert_eq!(words[1][1], "0", "personality(query) runs: {out}");
    assert_eq!(
        words[1][2], "1",
        "personality(1<<32 | query) is refused: {out}"
    );
    // and lint says exactly that
    let (_, r) = lint("docker-default", &[]);
    let b = finding(&r, "arg-width-bypass", "socket");
    assert!(b["examples"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["args"][0] == "0x100000028"));
    let p = finding(&r, "arg-width-refusal", "personality");
    assert!(
        p["message"].as_str().unwrap().contains("0x1ffffffff")
            || !p["examples"].as_array().unwrap().is_empty()
    );
}
