//! Every file named on the command line is read the same way (crates/input): regular files
//! only, at most a fixed size, `-` for standard input where the command documents it, and
//! any path, UTF-8 or not. Hostile inputs (`/dev/zero`, a FIFO nobody writes to, a huge file)
//! run confine under `timeout` and a 1 GiB address-space limit (`prlimit --as`), so that a
//! regression fails the test instead of hanging or exhausting the machine.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Run confine with `args` under a 20 s timeout and a 1 GiB address-space limit, standard
/// input from `stdin` (a file such as /dev/zero) or empty.
fn confine_limited<S: AsRef<OsStr>>(args: &[S], stdin: Option<&Path>) -> Output {
    let input = match stdin {
        Some(p) => Stdio::from(std::fs::File::open(p).unwrap()),
        None => Stdio::null(),
    };
    let o = Command::new("timeout")
        .args(["20", "prlimit", "--as=1073741824", "--"])
        .arg(env!("CARGO_BIN_EXE_confine"))
        .args(args)
        .stdin(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run timeout, prlimit and confine");
    assert_ne!(
        o.status.code(),
        Some(124),
        "confine {:?} hung (killed after 20 s)",
        args.iter().map(|a| a.as_ref()).collect::<Vec<_>>()
    );
    o
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

use confine_test_support::fixtures::kernel_6_1_features as features;

fn mkfifo(p: &Path) {
    assert!(Command::new("mkfifo").arg(p).status().unwrap().success());
}

fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|s| s.trim() == "Y")
        && Path::new("/sys/kernel/security/apparmor").exists()
}

/// Assert exit status `code` and `want` in the error (`seccomp check` reports on standard
/// output, everything else on standard error with nothing on standard output).
#[track_caller]
fn refused<S: AsRef<OsStr>>(args: &[S], stdin: Option<&Path>, code: i32, want: &str) {
    let o = confine_limited(args, stdin);
    let shown: Vec<_> = args.iter().map(|a| a.as_ref()).collect();
    let report = if shown[..2] == ["seccomp", "check"] {
        String::from_utf8_lossy(&o.stdout).into_owned()
    } else {
        assert!(o.stdout.is_empty(), "{shown:?}");
        stderr(&o)
    };
    assert_eq!(o.status.code(), Some(code), "{shown:?}: {report}");
    assert!(report.contains(want), "{shown:?}: {report}");
}

#[test]
fn devices_are_refused_by_type_and_standard_input_is_bounded() {
    let f = features();
    let f = f.to_str().unwrap();
    let zero = Some(Path::new("/dev/zero"));
    let device = "/dev/zero: is a character device, not a regular file";
    // before: eval --bpf and apparmor compile read /dev/zero until memory ran out
    refused(
        &["seccomp", "eval", "--bpf", "/dev/zero", "read"],
        None,
        2,
        device,
    );
    refused(&["seccomp", "disasm", "/dev/zero"], None, 2, device);
    refused(&["seccomp", "check", "/dev/zero"], None, 2, device);
    refused(
        &["apparmor", "compile", "/dev/zero", "--features", f],
        None,
        2,
        device,
    );
    refused(
        &[
            "apparmor",
            "compile",
            "/etc/hostname",
            "--features",
            "/dev/zero",
        ],
        None,
        2,
        "cannot read the features file /dev/zero: is a character device",
    );
    // standard input is read up to the limit, never further
    refused(
        &["seccomp", "eval", "--bpf", "-", "read"],
        zero,
        2,
        "standard input: larger than 1 MiB",
    );
    refused(
        &["seccomp", "disasm", "-"],
        zero,
        2,
        "standard input: larger than 1 MiB",
    );
    refused(
        &["seccomp", "resolve", "-"],
        zero,
        2,
        "standard input: larger than 16 MiB",
    );
    refused(
        &["apparmor", "compile", "-", "--features", f],
        zero,
        2,
        "standard input: larger than 16 MiB",
    );
    // apparmor load: on a kernel without AppArmor nothing is read at all; with AppArmor the
    // type check refuses the device
    for (args, stdin) in [
        (vec!["apparmor", "load", "/dev/zero"], None),
        (vec!["apparmor", "load", "-"], zero),
    ] {
        if apparmor_enabled() {
            refused(&args, stdin, 2, "/dev/zero");
        } else {
            refused(&args, stdin, 2, "AppArmor is not enabled");
        }
    }
}

#[test]
fn a_fifo_is_refused_wherever_a_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("profile.json");
    mkfifo(&fifo);
    let p = fifo.to_str().unwrap();
    let f = features();
    let f = f.to_str().unwrap();
    let named = format!("{p}: is a FIFO (named pipe), not a regular file");
    // nobody ever writes to the FIFO: opening it would block forever
    for args in [
        vec!["seccomp", "check", p],
        vec!["seccomp", "resolve", p],
        vec!["seccomp", "compile", p, "-o", "/dev/null"],
        vec!["seccomp", "eval", "--profile", p, "read"],
        vec!["seccomp", "eval", "--bpf", p, "read"],
        vec!["seccomp", "diff", p, "builtin"],
        vec!["seccomp", "diff", "builtin", p],
        vec!["seccomp", "disasm", p],
        vec!["seccomp", "merge", p, "builtin"],
        vec!["apparmor", "compile", p, "--features", f],
        vec!["apparmor", "compile", "/etc/hostname", "--features", p],
        vec!["inspect", "--compare", p],
    ] {
        refused(&args, None, 2, &named);
    }
    if apparmor_enabled() {
        refused(&["apparmor", "load", p], None, 2, &named);
    }
    // confine run reads its profile through the same loader (exit 125 as docker run)
    refused(&["run", "--seccomp", p, "--", "true"], None, 125, &named);
}

#[test]
fn directories_and_oversized_files_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    refused(
        &["seccomp", "check", d],
        None,
        2,
        &format!("{d}: is a directory, not a regular file"),
    );
    // a sparse 17 MiB file: refused by its size, without reading it
    let big = dir.path().join("big.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(17 << 20)
        .unwrap();
    let b = big.to_str().unwrap();
    refused(
        &["seccomp", "resolve", b],
        None,
        2,
        &format!("cannot read seccomp profile {b}: larger than 16 MiB"),
    );
    refused(
        &["seccomp", "disasm", b],
        None,
        2,
        &format!("{b}: larger than 1 MiB; a seccomp program is at most 4096 instructions"),
    );
}

#[test]
fn eval_reads_a_program_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let prog = dir.path().join("prog.bpf");
    let o = confine_limited(
        &[
            OsStr::new("seccomp"),
            OsStr::new("compile"),
            OsStr::new("-o"),
            prog.as_os_str(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let from_file = confine_limited(
        &[
            OsStr::new("seccomp"),
            OsStr::new("eval"),
            OsStr::new("--bpf"),
            prog.as_os_str(),
            OsStr::new("mount"),
        ],
        None,
    );
    // before: `--bpf -` looked for a file named `-`
    let from_stdin = confine_limited(&["seccomp", "eval", "--bpf", "-", "mount"], Some(&prog));
    assert!(from_stdin.status.success(), "{}", stderr(&from_stdin));
    assert_eq!(from_stdin.stdout, from_file.stdout);
    let out = String::from_utf8(from_stdin.stdout).unwrap();
    assert!(
        out.starts_with("mount() on ") && out.contains("ERRNO(EPERM)"),
        "{out}"
    );
}

/// A path with byte 0xff (not UTF-8) works wherever a profile or program is named.
#[test]
fn non_utf8_paths_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let name = |s: &[u8]| -> OsString { dir.path().join(OsStr::from_bytes(s)).into() };
    let profile = name(b"prof\xff.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write", "execve", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}"#,
    )
    .unwrap();
    let prog = name(b"prog\xff.bpf");
    let aa = name(b"aa\xff.profile");
    std::fs::write(&aa, "profile t {\n}\n").unwrap();
    let os = |v: &[&str]| -> Vec<OsString> { v.iter().map(OsString::from).collect() };
    let with = |head: &[&str], path: &OsString, tail: &[&str]| -> Vec<OsString> {
        let mut v = os(head);
        v.push(path.clone());
        v.extend(os(tail));
        v
    };
    for args in [
        with(&["seccomp", "check", "--strict"], &profile, &[]),
        with(&["seccomp", "resolve"], &profile, &[]),
        with(&["seccomp", "compile"], &profile, &["-o"]),
        with(&["seccomp", "eval", "--profile"], &profile, &["read"]),
        with(&["seccomp", "diff", "builtin"], &profile, &[]),
    ] {
        let mut args = args;
        if args[1] == "compile" {
            args.push(prog.clone());
        }
        let o = confine_limited(&args, None);
        let code = if args[1] == "diff" { 1 } else { 0 };
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
    }
    for args in [
        with(&["seccomp", "disasm"], &prog, &[]),
        with(&["seccomp", "eval", "--bpf"], &prog, &["read"]),
    ] {
        let o = confine_limited(&args, None);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
    // confine itself has no filter: it differs from the profile (exit 1), which was read
    let o = confine_limited(&with(&["inspect", "--compare"], &profile, &[]), None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("compared with "));
    let f = features();
    let o = confine_limited(
        &with(
            &["apparmor", "compile"],
            &aa,
            &["--features", f.to_str().unwrap()],
        ),
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // the name is shown lossily in messages
    let missing = name(b"missing\xff.json");
    let o = confine_limited(&with(&["seccomp", "resolve"], &missing, &[]), None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("missing\u{fffd}.json: No such file"),
        "{}",
        stderr(&o)
    );
}
