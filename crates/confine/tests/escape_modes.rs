//! confine run's isolation in each of its modes, tried for real with the attacker program:
//! unprivileged (a user namespace) and nested (a Landlock domain), the fail-open warnings, and
//! what a second attacker's review found (other mounts of procfs, sysfs and devpts; the
//! session keyring; orphans and the relay without a pid namespace; root without
//! CAP_SYS_ADMIN). Every confine run is bounded by a timeout.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "escape/support.rs"]
mod support;
use support::*;

// --- item 8: unprivileged and nested ---------------------------------------------------

#[test]
fn unprivileged_and_nested_use() {
    // an ordinary user: a user namespace with the same pid and mount namespaces as root's
    let o = run(Command::new("setpriv").args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        CONFINE,
        "run",
        "--",
        "sh",
        "-c",
        "cat /proc/self/status; ls /proc | grep -c '^[0-9]'",
    ]));
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(status_of(&o, "Seccomp"), "2");
    assert!(status_of(&o, "Uid").starts_with("65534"));
    assert_eq!(status_of(&o, "CapEff"), "0000000000000000");
    assert_eq!(status_of(&o, "CapBnd"), "00000000a80425fb");
    let pids: u32 = out(&o).lines().last().unwrap().trim().parse().unwrap();
    assert!(pids <= 5, "{pids} processes visible");
    assert!(!err(&o).contains("no_new_privs"), "{}", err(&o));
    // another uid needs CAP_SETUID: refused, named
    let o = confine_as_nobody(&["run", "--user", "1000", "--", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(err(&o).contains("CAP_SETUID"), "{}", err(&o));
    // nested: no namespace can be made inside (the outer filter refuses it), so a Landlock
    // domain with no_new_privs, said once each
    let o = confine(&[
        "run",
        "--",
        CONFINE,
        "run",
        "--user",
        "1000",
        "--",
        "cat",
        "/proc/self/status",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(status_of(&o, "Seccomp_filters"), "2");
    assert_eq!(status_of(&o, "NoNewPrivs"), "1");
    assert_eq!(
        err(&o).matches("setting no_new_privs").count(),
        1,
        "{}",
        err(&o)
    );
    assert_eq!(
        err(&o).matches("Landlock domain instead").count(),
        1,
        "{}",
        err(&o)
    );
    // as root too: the outer confine made /proc/sys read-only
    let o = confine(&[
        "run",
        "--",
        CONFINE,
        "run",
        "--",
        a(),
        "paths",
        "/proc/sys/kernel/core_pattern",
    ]);
    assert!(out(&o).contains("write=EROFS"), "{} {}", out(&o), err(&o));
    // without those protections inherited, a root command is refused without the privilege
    let o = confine(&[
        "run",
        "--security-opt",
        "systempaths=unconfined",
        "--",
        CONFINE,
        "run",
        "--",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
    assert!(err(&o).contains("/proc/sys writable"), "{}", err(&o));
}

// --- item 9: fail-open warnings --------------------------------------------------------

#[test]
fn profiles_that_confine_nothing_or_deny_execve_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let empty = write("empty.json", "{}");
    let o = confine(&[
        "run",
        "--seccomp",
        &empty,
        "--",
        "grep",
        "Seccomp:",
        "/proc/self/status",
    ]);
    assert!(err(&o).contains("confines nothing"), "{}", err(&o));
    assert!(out(&o).contains('0'), "{}", out(&o));
    let allow = write("allow.json", r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#);
    let o = confine(&["run", "--seccomp", &allow, "--", "true"]);
    assert!(err(&o).contains("confines nothing"), "{}", err(&o));
    // a profile path that is not UTF-8, both ways docker takes it
    {
        use std::os::unix::ffi::OsStrExt;
        let odd = dir
            .path()
            .join(std::ffi::OsStr::from_bytes(b"docker-\xff.json"));
        std::fs::write(
            &odd,
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["keyctl"],"action":"SCMP_ACT_ERRNO"}]}"#,
        )
        .unwrap();
        let mut opt = std::ffi::OsString::from("seccomp=");
        opt.push(&odd);
        for args in [
            vec![
                std::ffi::OsString::from("--seccomp"),
                odd.clone().into_os_string(),
            ],
            vec!["--security-opt".into(), opt],
        ] {
            let o = run(Command::new(CONFINE).arg("run").args(&args).args([
                "--security-opt",
                "no-new-privileges",
                "--",
                "/bin/true",
            ]));
            assert_eq!(o.status.code(), Some(0), "{args:?}: {}", err(&o));
        }
    }
    let no_exec = write(
        "noexec.json",
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["execve"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    for nnp in [false, true] {
        let mut args = vec!["run", "--seccomp", &no_exec];
        if nnp {
            args.extend(["--security-opt", "no-new-privileges"]);
        }
        args.extend(["--", "true"]);
        let o = confine(&args);
        assert_eq!(o.status.code(), Some(125));
        assert!(err(&o).contains("denies execve"), "{}", err(&o));
    }
}

// --- the second review ----------------------------------------------------------------

#[test]
fn other_mounts_of_proc_sysfs_and_devpts_are_covered() {
    // a chroot's /proc, /sys and /dev/pts on the host (made here in a private mount
    // namespace of the test's own, so the machine's mount table is untouched)
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let script = format!(
        "mkdir {d}/p {d}/s {d}/pts && mount -t proc proc {d}/p && mount -t sysfs sysfs {d}/s \
         && mount --bind /dev/pts {d}/pts && \
         {CONFINE} run -- sh -c 'ls {d}/p | grep -c \"^[0-9]\"; ls -A {d}/pts | wc -l; \
         {a} paths {d}/p/sys/kernel/core_pattern {d}/s/kernel/mm/transparent_hugepage/enabled'",
        a = a()
    );
    let o = run(Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(&script));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first().copied(), Some("0"), "{text} {}", err(&o));
    assert_eq!(lines.get(1).copied(), Some("0"), "{text}");
    assert!(
        text.contains("core_pattern read=ENOENT write=ENOENT"),
        "{text}"
    );
    assert!(text.contains("enabled read=ENOENT write=ENOENT"), "{text}");
}

#[test]
fn the_callers_session_keyring_stays_out_of_reach() {
    let script = format!(
        "keyctl add user confine-test-secret TOPSECRET @s >/dev/null && \
         keyctl search @s user confine-test-secret >/dev/null && echo outside && \
         {CONFINE} run --user 1000 --security-opt seccomp=unconfined -- \
         keyctl search @s user confine-test-secret"
    );
    let o = run(Command::new("keyctl").args(["session", "-", "sh", "-c", &script]));
    assert!(out(&o).contains("outside"), "{} {}", out(&o), err(&o));
    assert!(
        err(&o).contains("Required key not available"),
        "{} {}",
        out(&o),
        err(&o)
    );
    assert_ne!(o.status.code(), Some(0));
}

#[test]
fn what_the_command_leaves_behind_ends_with_it_without_a_pid_namespace() {
    for extra in [&["--unsafe-share-processes"][..], &[]] {
        let marker = format!("confine-orphan-{}", extra.len());
        let mut args = vec!["run"];
        args.extend(extra);
        let script = format!("(exec sh -c 'sleep 300' {marker} &); exit 0");
        args.extend(["--", "sh", "-c", &script]);
        let o = confine(&args);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        assert!(
            gone_within(&marker, Duration::from_secs(5)),
            "{extra:?}: an orphan outlived the command"
        );
    }
}

/// Run confine with a new pty as its standard input and output (and controlling terminal),
/// feed `input` to the terminal, and return what came out and the exit status; None when it
/// did not end within `limit`.
fn on_pty(args: &[&str], input: &[u8], limit: Duration) -> Option<(String, i32)> {
    let mut pty = OnPty::start(args, Stdio::null(), true);
    std::thread::sleep(Duration::from_millis(300));
    pty.master.write_all(input).unwrap();
    let t = Instant::now();
    while t.elapsed() < limit {
        if let Some(st) = pty.child.try_wait().unwrap() {
            return Some((pty.output(), st.code().unwrap_or(-1)));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = pty.child.kill();
    let _ = pty.child.wait();
    None
}

#[test]
fn the_relay_ends_with_the_command() {
    // -i: the end of input (^D on the terminal) reaches the command through the relay
    let (text, code) = on_pty(
        &["run", "-i", "--", "cat"],
        b"hello-through-the-relay\n\x04",
        Duration::from_secs(10),
    )
    .expect("cat never saw the end of its input");
    assert_eq!(code, 0);
    assert!(text.contains("hello-through-the-relay"), "{text}");
    // a writer left behind does not keep confine copying (nor does a slow terminal)
    for extra in [&["--unsafe-share-processes"][..], &[]] {
        let mut args = vec!["run"];
        args.extend(extra);
        args.extend([
            "--",
            "sh",
            "-c",
            "(exec yes confine-relay-flood &); sleep 0.2",
        ]);
        let r = on_pty(&args, b"", Duration::from_secs(10));
        assert!(
            r.is_some(),
            "{extra:?}: confine kept relaying after the command ended"
        );
    }
}

#[test]
fn root_without_cap_sys_admin_runs() {
    let o = run(Command::new("setpriv").args([
        "--bounding-set=-sys_admin",
        CONFINE,
        "run",
        "--",
        "id",
        "-u",
    ]));
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o).trim(), "0");
}

// --- the third review -----------------------------------------------------------------

#[test]
fn a_plain_directory_inside_proc_does_not_lead_back_to_it() {
    // a tmpfs mounted inside /proc/sys: from there, `..` led to the host's writable /proc/sys
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pattern");
    std::fs::write(&file, b"").unwrap();
    let script = format!(
        "mount -t tmpfs t /proc/sys/fs/binfmt_misc && mount --bind /proc/sys/kernel/core_pattern {f} \
         && cd /proc/sys/fs/binfmt_misc && \
         {CONFINE} run -- sh -c '{a} paths ../../kernel/core_pattern; wc -c < {f}'",
        f = file.display(),
        a = a()
    );
    let o = run(Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(&script));
    let text = out(&o);
    assert!(
        text.contains("../../kernel/core_pattern read=ok write=EROFS"),
        "{text} {}",
        err(&o)
    );
    // a kernel file bound onto a regular file is covered too (by /dev/null)
    assert_eq!(text.lines().last().map(str::trim), Some("0"), "{text}");
}
