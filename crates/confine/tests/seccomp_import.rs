//! `confine seccomp import` (issue 18): systemd's `SystemCallFilter=` read as systemd reads
//! it (its groups as `systemd-analyze syscall-filter` of systemd 252 defines them), SPO
//! profiles with their base, and the round trips: export, import, `seccomp diff` against the
//! original — empty, or exactly the losses the export warned of.

use confine_profile::systemd;
use confine_test_support::run::confine;
use serde_json::Value;
use std::collections::BTreeSet;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn host_names() -> &'static confine_abi::SyscallTable {
    confine_abi::SyscallTable::for_arch(confine_abi::Arch::native()).unwrap()
}

/// The names whose verdict differs between two profiles (`seccomp diff --json`), native ABI.
fn differing(a: &str, b: &str) -> BTreeSet<String> {
    let o = confine(&["seccomp", "diff", "--json", a, b]);
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "{}",
        text(&o.stderr)
    );
    text(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["arch"] == confine_abi::Arch::native().kernel_name())
        .filter_map(|v| v["name"].as_str().map(str::to_string))
        .collect()
}

/// `SystemCallFilter=@system-service` imported: its members (and `@default`'s) are allowed on
/// the host, and nothing else is.
#[test]
fn system_service_decides_as_systemd_says() {
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("svc.conf");
    std::fs::write(
        &unit,
        "[Service]\nSystemCallFilter=@system-service\nSystemCallErrorNumber=EPERM\n",
    )
    .unwrap();
    let out = dir.path().join("p.json");
    let o = confine(&[
        "seccomp",
        "import",
        unit.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let p: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let allowed: BTreeSet<String> = p["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "SCMP_ACT_ALLOW")
        .flat_map(|r| r["names"].as_array().unwrap().iter())
        .map(|n| n.as_str().unwrap().to_string())
        .filter(|n| host_names().number(n).is_some())
        .collect();
    let mut want: BTreeSet<String> = systemd::expand("system-service")
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    want.extend(
        systemd::expand("default")
            .unwrap()
            .iter()
            .map(|s| s.to_string()),
    );
    want.retain(|n| host_names().number(n).is_some());
    assert_eq!(allowed, want);
    // and the profile decides so: a member allowed, something else refused with EPERM
    let eval = |call: &str| {
        let o = confine(&["seccomp", "eval", "--profile", out.to_str().unwrap(), call]);
        text(&o.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        eval("io_submit").ends_with("ALLOW"),
        "{}",
        eval("io_submit")
    );
    assert!(eval("mount").ends_with("ERRNO(EPERM)"), "{}", eval("mount"));
}

/// Export then import: OCI, Docker and SPO come back deciding alike; systemd comes back
/// differing exactly where the export warned (argument conditions allowed whole, a per-rule
/// errno, @default).
#[test]
fn round_trips_differ_only_where_the_export_warned() {
    let dir = tempfile::tempdir().unwrap();
    let record = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/record-1.json");
    for profile in ["docker-default", record] {
        for to in ["oci", "docker", "spo"] {
            let ex = dir.path().join(format!("ex.{to}"));
            let back = dir.path().join(format!("back-{to}.json"));
            let o = confine(&[
                "seccomp",
                "export",
                profile,
                "--to",
                to,
                "-o",
                ex.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{profile} {to}: {}", text(&o.stderr));
            let o = confine(&[
                "seccomp",
                "import",
                ex.to_str().unwrap(),
                "-o",
                back.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{profile} {to}: {}", text(&o.stderr));
            let d = differing(back.to_str().unwrap(), profile);
            assert!(d.is_empty(), "{profile} {to}: {d:?}");
        }
    }
    // systemd: record-1 allows read, write, exit_group, execve, brk, mmap, personality (for
    // one persona) and answers clone3 ENOSYS
    let ex = dir.path().join("ex.conf");
    let back = dir.path().join("back-systemd.json");
    let o = confine(&[
        "seccomp",
        "export",
        record,
        "--to",
        "systemd",
        "-o",
        ex.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let warned = text(&o.stderr);
    let o = confine(&[
        "seccomp",
        "import",
        ex.to_str().unwrap(),
        "-o",
        back.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let d = differing(back.to_str().unwrap(), record);
    let recorded: BTreeSet<&str> = ["read", "write", "exit_group", "execve", "brk", "mmap"].into();
    let mut want: BTreeSet<String> = systemd::expand("default")
        .unwrap()
        .iter()
        .filter(|n| host_names().number(n).is_some() && !recorded.contains(**n))
        .map(|s| s.to_string())
        .collect();
    want.insert("personality".into());
    want.insert("clone3".into());
    // and, with them, runc's ENOSYS stub: numbers above a profile's highest named one answer
    // ENOSYS; @default names futex_waitv (449) where record-1's highest is clone3 (435), so
    // the numbers between, unnamed in both, go from ENOSYS to the default errno
    let names_of = |path: &str| -> BTreeSet<String> {
        let p: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        p["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["names"].as_array().unwrap().iter())
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    };
    let highest = |names: &BTreeSet<String>| {
        names
            .iter()
            .filter_map(|n| host_names().number(n))
            .max()
            .unwrap()
    };
    let (orig, new) = (names_of(record), names_of(back.to_str().unwrap()));
    let (lo, hi) = (highest(&orig), highest(&new));
    assert!(lo < hi, "{lo} {hi}");
    want.extend(
        host_names()
            .entries()
            .filter(|(nr, n)| *nr > lo && *nr < hi && !new.contains(*n) && !orig.contains(*n))
            .map(|(_, n)| n.to_string()),
    );
    assert_eq!(d, want);
    assert!(
        warned.contains("rule 1 (personality)")
            && warned.contains("rule 2 (clone3)")
            && warned.contains("@default"),
        "{warned}"
    );
}

/// An SPO profile that names a base: unioned in from --base-dir, as SPO does; without it, an
/// error that says what is needed. SPO's own example imports.
#[test]
fn an_spo_base_is_unioned_in() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("runc-base.yaml");
    std::fs::write(
        &base,
        "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\nmetadata:\n  name: runc-base\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - action: SCMP_ACT_ALLOW\n    names: [futex, getpid]\n",
    )
    .unwrap();
    let app = dir.path().join("app.yaml");
    std::fs::write(
        &app,
        "apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata:\n  name: app\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  baseProfileName: runc-base\n  syscalls:\n  - action: SCMP_ACT_ALLOW\n    names: [read, write]\n",
    )
    .unwrap();
    let o = confine(&["seccomp", "import", app.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("--base-dir"),
        "{}",
        text(&o.stderr)
    );
    let out = dir.path().join("app.json");
    let o = confine(&[
        "seccomp",
        "import",
        app.to_str().unwrap(),
        "--base-dir",
        dir.path().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let eval = |call: &str| {
        let o = confine(&["seccomp", "eval", "--profile", out.to_str().unwrap(), call]);
        text(&o.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    for allowed in ["read", "write", "futex", "getpid"] {
        assert!(
            eval(allowed).ends_with("ALLOW"),
            "{allowed}: {}",
            eval(allowed)
        );
    }
    assert!(eval("mount").ends_with("ERRNO(EPERM)"));
    // a base name that would leave --base-dir, and bases in a loop, are refused
    let head = |me: &str, base: &str| {
        format!("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata:\n  name: {me}\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  baseProfileName: {base}\n")
    };
    let evil = dir.path().join("evil.yaml");
    std::fs::write(&evil, head("evil", "../../etc/passwd")).unwrap();
    let d = dir.path().to_str().unwrap();
    let o = confine(&["seccomp", "import", evil.to_str().unwrap(), "--base-dir", d]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("not a Kubernetes object name"),
        "{}",
        text(&o.stderr)
    );
    std::fs::write(dir.path().join("loop-a.yaml"), head("loop-a", "loop-b")).unwrap();
    std::fs::write(dir.path().join("loop-b.yaml"), head("loop-b", "loop-a")).unwrap();
    let a = dir.path().join("loop-a.yaml");
    let o = confine(&["seccomp", "import", a.to_str().unwrap(), "--base-dir", d]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("a loop of baseProfileName"),
        "{}",
        text(&o.stderr)
    );
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/spo/example-seccompprofile.yaml"
    );
    let o = confine(&["seccomp", "import", example]);
    assert!(o.status.success(), "{}", text(&o.stderr));
}

/// `export --to spo --base FILE`: SPO unions the base in, so a base that allows more than the
/// profile is refused, naming what it would add; a narrower one is named as
/// `baseProfileName`, the export lists only what it adds, and importing it with the base
/// gives the profile back.
#[test]
fn an_spo_export_on_a_base_lists_only_what_it_adds() {
    let dir = tempfile::tempdir().unwrap();
    let record = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/record-1.json");
    let spo = |name: &str, names: &str| {
        format!("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\nmetadata:\n  name: {name}\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  architectures: [SCMP_ARCH_X86_64]\n  syscalls:\n  - action: SCMP_ACT_ALLOW\n    names: [{names}]\n")
    };
    let wide = dir.path().join("wide.yaml");
    std::fs::write(&wide, spo("wide", "read, futex, getpid")).unwrap();
    let o = confine(&[
        "seccomp",
        "export",
        record,
        "--to",
        "spo",
        "--base",
        wide.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let e = text(&o.stderr);
    assert!(
        e.contains("the base would add 2 call(s)") && e.contains("futex") && e.contains("getpid"),
        "{e}"
    );

    let base = dir.path().join("rw-base.yaml");
    std::fs::write(&base, spo("rw-base", "read, write")).unwrap();
    let out = dir.path().join("app.yaml");
    let o = confine(&[
        "seccomp",
        "export",
        record,
        "--to",
        "spo",
        "--base",
        base.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let y = std::fs::read_to_string(&out).unwrap();
    assert!(y.contains("baseProfileName: rw-base"), "{y}");
    assert!(!y.contains("- read\n") && !y.contains("- write\n"), "{y}");
    let back = dir.path().join("back.json");
    let o = confine(&[
        "seccomp",
        "import",
        out.to_str().unwrap(),
        "--base-dir",
        dir.path().to_str().unwrap(),
        "-o",
        back.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(differing(back.to_str().unwrap(), record).is_empty());
}
