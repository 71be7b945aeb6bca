//! Arguments as the kernel reads them (issue 19), on the real kernel: a statically linked
//! probe under `confine run` shows the 32-bit bypass of Docker's default (socket's family
//! with a high half) and of a TIOCSTI rule (ioctl's command), and `--security-opt
//! arg-width=kernel` closing both; `seccomp diff` between the modes, `lint`, `eval` and
//! `inspect --syscalls` say the same; the captured argument types match the running kernel's.

use confine_test_support::run::{confine, confine_bin};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn probe() -> &'static Path {
    static P: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &P.get_or_init(|| {
        confine_test_support::run::static_program(
            env!("CARGO_MANIFEST_DIR"),
            "tests/argwidth/probe.rs",
            "argwidth-probe",
        )
    })
    .1
}

/// The errno of one raw call (0: it succeeded), made by the probe under `confine run` with
/// `opts`, or unconfined when `opts` is `None`.
fn call(opts: Option<&[&str]>, args: &[&str]) -> i32 {
    let mut c = match opts {
        Some(o) => {
            let mut c = Command::new(confine_bin());
            c.arg("run").args(o).arg("--").arg(probe());
            c
        }
        None => Command::new(probe()),
    };
    let o = c
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the probe");
    assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
    text(&o.stdout).trim().parse().expect("an errno")
}

const FAITHFUL: &[&str] = &[];
const KERNEL: &[&str] = &["--security-opt", "arg-width=kernel"];
const EPERM: i32 = 1;
const EAFNOSUPPORT: i32 = 97;

/// socket(AF_VSOCK, SOCK_SEQPACKET, 0) with and without a high half in the family.
#[test]
fn the_vsock_bypass_and_its_closing() {
    let plain = ["41", "40", "5", "0"];
    let high = ["41", "0x100000028", "5", "0"];
    if call(None, &plain) == EAFNOSUPPORT {
        eprintln!("SKIP: this kernel has no vsock support (socket(AF_VSOCK) gives EAFNOSUPPORT unconfined)");
        return;
    }
    assert_eq!(call(None, &plain), 0, "AF_VSOCK sockets work unconfined");
    // Docker-faithful: the plain call is refused, the high half gets through
    assert_eq!(call(Some(FAITHFUL), &plain), EPERM);
    assert_eq!(
        call(Some(FAITHFUL), &high),
        0,
        "the bypass creates the socket"
    );
    // kernel mode: both refused
    assert_eq!(call(Some(KERNEL), &plain), EPERM);
    assert_eq!(
        call(Some(KERNEL), &high),
        EPERM,
        "kernel mode closes the bypass"
    );
    // an ordinary socket still works in both
    for o in [FAITHFUL, KERNEL] {
        assert_eq!(
            call(Some(o), &["41", "1", "1", "0"]),
            0,
            "AF_UNIX under {o:?}"
        );
    }
}

/// ioctl(0, TIOCSTI) refused by argument: with a high half in the command, the call passes
/// the filter (and fails on its own: standard input is not a terminal) unless kernel mode.
#[test]
fn the_tiocsti_bypass_and_its_closing() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("no-tiocsti.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["ioctl"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 1, "value": 21522, "op": "SCMP_CMP_EQ"}]}]}"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", profile.display());
    let faithful = ["--security-opt", opt.as_str()];
    let kernel = [
        "--security-opt",
        opt.as_str(),
        "--security-opt",
        "arg-width=kernel",
    ];
    let plain = ["16", "0", "0x5412", "0"];
    let high = ["16", "0", "0x100005412", "0"];
    assert_eq!(call(Some(&faithful), &plain), EPERM);
    let through = call(Some(&faithful), &high);
    assert_ne!(through, EPERM, "the high half passes the TIOCSTI rule");
    assert_eq!(
        through,
        call(None, &plain),
        "and meets the kernel as plain TIOCSTI does"
    );
    assert_eq!(call(Some(&kernel), &plain), EPERM);
    assert_eq!(call(Some(&kernel), &high), EPERM, "kernel mode closes it");
}

/// `seccomp diff` between the two modes of Docker's default: exactly socket and personality
/// on x86_64 (x32's filter compares 32 bits already, i386 has no high half); `lint` of the
/// kernel-mode program has no width finding left; `eval` and `inspect --syscalls` mark the
/// faithful program's conditions.
#[test]
fn the_modes_compared_and_marked() {
    let o = confine(&[
        "seccomp",
        "diff",
        "--json",
        "--arch",
        "amd64",
        "docker-default",
        "docker-default",
        "--b-arg-width",
        "kernel",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let differ: BTreeSet<(String, String)> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| {
            (
                v["arch"].as_str().unwrap().to_string(),
                v["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [("x86_64", "personality"), ("x86_64", "socket")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(differ, expected);

    let ids = |extra: &[&str]| -> Vec<String> {
        let mut args = vec![
            "seccomp",
            "lint",
            "--json",
            "--arch",
            "amd64",
            "--fail-on",
            "never",
        ];
        args.extend(extra);
        let o = confine(&args);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(ids(&[]).contains(&"arg-width-bypass".to_string()));
    assert!(!ids(&["--arg-width", "kernel"])
        .iter()
        .any(|i| i.starts_with("arg-width")));

    let o = confine(&["seccomp", "eval", "--arch", "amd64", "socket", "40", "5"]);
    let t = text(&o.stdout);
    assert!(
        t.contains("note: arg0 is an `int`") && t.contains("0x100000028 gets ALLOW"),
        "{t}"
    );
    let o = confine(&[
        "seccomp",
        "eval",
        "--arch",
        "amd64",
        "--arg-width",
        "kernel",
        "socket",
        "40",
        "5",
    ]);
    assert!(
        !text(&o.stdout).contains("note: arg0"),
        "{}",
        text(&o.stdout)
    );
}

/// `inspect --syscalls` of a process `confine run` started marks socket's condition in the
/// faithful mode's filter and not in kernel mode's.
#[test]
fn inspect_marks_the_live_filter() {
    if !nix_root() {
        eprintln!("SKIP: reading seccomp filters needs root");
        return;
    }
    for (opts, marked) in [(FAITHFUL, true), (KERNEL, false)] {
        let mut child = Command::new(confine_bin())
            .arg("run")
            .args(opts)
            .args(["--", "sleep", "30"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // the sleeper: a descendant (confine's init in the command's pid namespace, then
        // sleep), once it has exec'd
        let pid = sleeper(child.id()).to_string();
        let o = confine(&["inspect", "--syscalls", &pid]);
        let t = text(&o.stdout);
        let _ = child.kill();
        let _ = child.wait();
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert_eq!(
            t.contains("! arg-width-bypass: socket's arg0"),
            marked,
            "{opts:?}:\n{t}"
        );
    }
}

/// The first descendant of `root` named `sleep`, waited for up to 10 s.
fn sleeper(root: u32) -> u32 {
    let comm = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let children = |pid: u32| -> Vec<u32> {
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|k| k.parse().ok())
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut todo = vec![root];
        while let Some(p) = todo.pop() {
            if comm(p).trim() == "sleep" {
                return p;
            }
            todo.extend(children(p));
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no sleep under {root}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn nix_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// A value without a 32-bit meaning on a 32-bit argument stops kernel mode before anything
/// runs, naming the rule; faithful mode takes it.
#[test]
fn a_meaningless_value_stops_kernel_mode() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["socket"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 0, "value": 4294967336, "op": "SCMP_CMP_EQ"}]}]}"#,
    )
    .unwrap();
    let p = profile.to_str().unwrap();
    let o = confine(&[
        "seccomp",
        "compile",
        "--arg-width",
        "kernel",
        p,
        "-o",
        "/dev/null",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = text(&o.stderr);
    assert!(
        e.contains("rule 0 (socket)") && e.contains("0x100000028"),
        "{e}"
    );
    assert!(confine(&["seccomp", "compile", p, "-o", "/dev/null"])
        .status
        .success());
    let opt = format!("seccomp={p}");
    let o = confine(&[
        "run",
        "--security-opt",
        &opt,
        "--security-opt",
        "arg-width=kernel",
        "--",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125), "{}", text(&o.stderr));
}

/// The captured argument types match a fresh capture from this machine's kernel (tracefs,
/// root only). Kernels differ: a difference is a warning naming the syscalls, not a failure.
#[test]
fn captured_types_match_this_kernel() {
    if !nix_root() {
        eprintln!("SKIP: mounting tracefs needs root");
        return;
    }
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/capture-arg-types");
    let o = Command::new(&tool)
        .arg("--check")
        .output()
        .expect("run the capture tool");
    match o.status.code() {
        Some(0) => eprintln!("the captured argument types match this kernel"),
        Some(1) => eprintln!(
            "WARNING: the argument types of this kernel differ from the captured ones for: {}",
            text(&o.stdout)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => panic!("capture-arg-types --check failed: {}", text(&o.stderr)),
    }
}
