//! The ways out a security review found in `confine run` (issue 13), each tried for real by a
//! static attacker program (tests/escape/attack.rs) under confine: the terminal (TIOCSTI), ids
//! that wrap to root, ptrace/kill/mem of processes outside, leaked descriptors and environment,
//! writable /proc/sys, signals and lifetime, supplementary groups (the other modes:
//! escape_modes.rs). Where it shows that the attack is real, the same attack is run once
//! without confine or with the explicit opt-out. Every confine run is bounded by a timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

#[path = "escape/support.rs"]
mod support;
use support::*;

// --- row 1: the terminal ---------------------------------------------------------------

/// Run `args` with a new pty's slave as standard input and controlling terminal (setsid -c),
/// the way an interactive shell runs a command; returns the output and the bytes left waiting
/// in the terminal's input (what a shell would read next).
fn on_terminal(args: &[&str]) -> (Output, usize) {
    let (master, slave) = confine_kernel::terminal::open_pty().unwrap();
    let slave = std::fs::File::from(slave);
    let o = Command::new("timeout")
        .args(["-s", "KILL", "30", "setsid", "-w", "-c"])
        .args(args)
        .stdin(slave.try_clone().unwrap())
        .output()
        .unwrap();
    let pending = confine_kernel::terminal::input_pending(slave.as_raw_fd()).unwrap();
    drop(master);
    (o, pending)
}

#[test]
fn tiocsti_cannot_reach_the_callers_terminal() {
    // the attack is real on this kernel: without confine, the line lands in the terminal
    let (o, pending) = on_terminal(&[a(), "tiocsti", "id\n"]);
    assert_eq!(out(&o).trim(), "tiocsti ok");
    assert_eq!(pending, 3);
    // the review's reproduction, and with CAP_SYS_ADMIN (for which TIOCSTI works on any
    // terminal, session or not): the command never gets the caller's terminal, only /dev/null
    // or pipes that confine relays, as docker run without -t
    for extra in [
        &[
            "--user",
            "65534",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
        ][..],
        &["--cap-add", "SYS_ADMIN"],
        &["--privileged"],
        &["-i", "--cap-add", "SYS_ADMIN"],
    ] {
        let mut args = vec![CONFINE, "run"];
        args.extend(extra);
        args.extend(["--", a(), "tiocsti", "id\n"]);
        let (o, pending) = on_terminal(&args);
        assert_eq!(out(&o).trim(), "tiocsti ENOTTY", "{extra:?}: {}", err(&o));
        assert_eq!(pending, 0, "{extra:?}");
    }
    // the caller's terminal by its path: a new devpts instance hides the host's terminals
    // (docker gives a container its own /dev/pts), even from a command with CAP_SYS_ADMIN
    let (master, slave) = confine_kernel::terminal::open_pty().unwrap();
    let slave = std::fs::File::from(slave);
    let path = std::fs::read_link(format!("/proc/self/fd/{}", slave.as_raw_fd())).unwrap();
    let path = path.to_str().unwrap();
    let direct = run(Command::new(a()).args(["tiocsti-path", path, "x"]));
    assert_eq!(
        out(&direct).trim(),
        "tiocsti ok",
        "the attack works outside"
    );
    let _ = confine_kernel::terminal::input_pending(slave.as_raw_fd());
    for extra in [
        &["--cap-add", "SYS_ADMIN"][..],
        &["-t", "--cap-add", "SYS_ADMIN"],
    ] {
        let before = confine_kernel::terminal::input_pending(slave.as_raw_fd()).unwrap();
        let mut args = vec!["run"];
        args.extend(extra);
        args.extend(["--", a(), "tiocsti-path", path, "id\n"]);
        let o = confine(&args);
        let after = confine_kernel::terminal::input_pending(slave.as_raw_fd()).unwrap();
        assert_eq!(after, before, "{extra:?}: {} {}", out(&o), err(&o));
    }
    drop(master);
    // -t: a new pty of its own; what it injects stays there
    let (o, pending) = on_terminal(&[CONFINE, "run", "-t", "--", a(), "tiocsti", "id\n"]);
    assert!(out(&o).contains("tiocsti ok"), "{}", err(&o));
    assert_eq!(pending, 0);
}

#[test]
fn interactive_shell_with_job_control() {
    let mut pty = OnPty::start(
        &["run", "-it", "--", "bash", "--norc", "--noprofile", "-i"],
        Stdio::piped(),
        false,
    );
    pty.master
        .write_all(b"sleep 77 &\njobs\ntty\nkill %1\nexit 7\n")
        .unwrap();
    let st = pty.child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let text = pty.output();
    let mut e = String::new();
    pty.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut e)
        .unwrap();
    assert_eq!(st.code(), Some(7), "{text}\n{e}");
    assert!(!text.contains("no job control"), "{text}");
    assert!(
        text.contains("Running") && text.contains("sleep 77"),
        "{text}"
    );
    assert!(text.contains("/dev/pts/"), "{text}");
}

// --- row 2: ids ------------------------------------------------------------------------

#[test]
fn ids_that_would_wrap_to_root_are_refused() {
    for user in [
        "4294967295",
        "2147483648",
        "1000:4294967295",
        "1000:2147483648",
    ] {
        let o = confine(&["run", "--user", user, "--", "id", "-u"]);
        assert_eq!(o.status.code(), Some(125), "{user}: {}", out(&o));
        assert!(err(&o).contains("out of range"), "{user}: {}", err(&o));
        assert!(o.stdout.is_empty());
    }
    let o = confine(&["run", "--group-add", "4294967295", "--", "id"]);
    assert_eq!(o.status.code(), Some(125));
    let o = confine(&["run", "--user", "2147483647", "--", "id", "-u"]);
    assert_eq!(out(&o).trim(), "2147483647", "{}", err(&o));
    for (args, what) in [
        (&["--user", ""][..], "--user"),
        (&["--security-opt", "seccomp"], "seccomp"),
        (&["--security-opt", "apparmor="], "apparmor"),
    ] {
        let mut v = vec!["run"];
        v.extend(args);
        v.extend(["--", "true"]);
        let o = confine(&v);
        assert_eq!(o.status.code(), Some(125));
        assert!(
            err(&o).contains(what) && err(&o).contains("empty"),
            "{args:?}: {}",
            err(&o)
        );
    }
}

// --- row 3: other processes ------------------------------------------------------------

fn ptrace_lines(o: &Output) -> Vec<String> {
    out(o).lines().map(str::to_string).collect()
}

#[test]
fn cannot_trace_or_signal_processes_outside() {
    let v = Victim::new(1000);
    // the opt-out shows the attack is real: same uid, no isolation
    let o = confine(&[
        "run",
        "--user",
        "1000",
        "--unsafe-share-processes",
        "--",
        a(),
        "ptrace",
        &v.pid(),
    ]);
    assert!(
        ptrace_lines(&o).contains(&"ptrace_attach ok".into()),
        "{}",
        out(&o)
    );
    // root confine: the pid namespace hides it
    let o = confine(&["run", "--user", "1000", "--", a(), "ptrace", &v.pid()]);
    let l = ptrace_lines(&o);
    for want in [
        "ptrace_attach ESRCH",
        "kill0 ESRCH",
        "mem_write ENOENT",
        "environ_read ENOENT",
        "process_vm_readv ESRCH",
    ] {
        assert!(l.contains(&want.to_string()), "{want}: {l:?} {}", err(&o));
    }
    // unprivileged confine: a user namespace, and the same pid namespace
    let v = Victim::new(65534);
    let o = confine_as_nobody(&["run", "--", a(), "ptrace", &v.pid()]);
    let l = ptrace_lines(&o);
    for want in ["ptrace_attach ESRCH", "kill0 ESRCH", "mem_write ENOENT"] {
        assert!(l.contains(&want.to_string()), "{want}: {l:?} {}", err(&o));
    }
    // where no namespace can be made (inside confine run, whose filter refuses it), the
    // Landlock domain refuses it; the opt-out shows the victim is within reach otherwise
    let script = format!(
        "setpriv --reuid=1000 --regid=1000 --clear-groups sleep 100 & v=$!; \
         {CONFINE} run --user 1000 {{}} -- {} ptrace $v; kill $v",
        a()
    );
    let o = confine(&["run", "--", "sh", "-c", &script.replace("{}", "")]);
    let l = ptrace_lines(&o);
    assert!(
        err(&o).contains("isolating the command with a Landlock domain"),
        "{}",
        err(&o)
    );
    for want in [
        "ptrace_attach EPERM",
        "kill0 EPERM",
        "mem_write EACCES",
        "environ_read EACCES",
        "process_vm_readv EPERM",
    ] {
        assert!(l.contains(&want.to_string()), "{want}: {l:?} {}", err(&o));
    }
    let o = confine(&[
        "run",
        "--",
        "sh",
        "-c",
        &script.replace("{}", "--unsafe-share-processes"),
    ]);
    let l = ptrace_lines(&o);
    assert!(l.contains(&"kill0 ok".into()), "{l:?} {}", err(&o));
    // even granted SYS_PTRACE, the command cannot reach confine's init (pid 1)
    let o = confine(&["run", "--cap-add", "SYS_PTRACE", "--", a(), "ptrace", "1"]);
    let l = ptrace_lines(&o);
    assert!(l.contains(&"ptrace_attach EPERM".into()), "{l:?}");
    assert!(l.contains(&"mem_write EACCES".into()), "{l:?}");
}

// --- row 4: descriptors ----------------------------------------------------------------

fn secret() -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(b"secret-bytes").unwrap();
    f
}

#[test]
fn inherited_descriptors_are_closed() {
    let s = secret();
    let p = s.path().to_str().unwrap();
    let sh = |script: &str| run(Command::new("bash").arg("-c").arg(script));
    let o = sh(&format!(
        "exec 7<{p} 251<{p}; exec {CONFINE} run --user 1000 -- {} fds",
        a()
    ));
    assert_eq!(out(&o).trim(), "fds []", "{}", err(&o));
    let o = sh(&format!(
        "exec 3<{p} 4<{p} 9<{p}; exec {CONFINE} run --preserve-fds 2 -- {} fds",
        a()
    ));
    assert_eq!(out(&o).trim(), "fds [3,4]", "{}", err(&o));
    // runc's socket activation: LISTEN_FDS for confine's own pid come first
    let o = sh(&format!(
        "exec 3<{p} 4<{p}; LISTEN_PID=$$ LISTEN_FDS=1 exec {CONFINE} run -- sh -c 'echo $LISTEN_FDS $LISTEN_PID; cat <&3; echo; {} fds'",
        a()
    ));
    assert_eq!(out(&o), "1 2\nsecret-bytes\nfds [3]\n", "{}", err(&o));
}

// --- row 5: environment ----------------------------------------------------------------

#[test]
fn environment_starts_clean() {
    let o = run(Command::new(CONFINE)
        .env("SECRET_TOKEN", "x")
        .args(["run", "--env", "A=1", "--", "env"]));
    let text = out(&o);
    assert!(!text.contains("SECRET_TOKEN"), "{text}");
    let mut names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k)
        .collect();
    names.sort();
    assert_eq!(names, ["A", "HOME", "HOSTNAME", "PATH"], "{text}");
    assert!(text.contains("HOME=/root\n"));
    let o = confine(&["run", "--user", "nobody", "--", "sh", "-c", "echo $HOME"]);
    assert_eq!(out(&o).trim(), "/nonexistent", "{}", err(&o));
    let o = confine(&["run", "-t", "--", "sh", "-c", "echo $TERM"]);
    assert!(out(&o).contains("xterm"), "{}", out(&o));
    // docker's env-file rules
    let dir = tempfile::tempdir().unwrap();
    for (text, want) in [
        ("=x\n", "line 1: no variable name"),
        (
            "A=1\nexport B=2\n",
            "line 2: variable `export B` contains white space",
        ),
        ("A = b\n", "white space"),
        ("A=\u{0}\n", ""),
    ] {
        let f = dir.path().join("env");
        std::fs::write(&f, text).unwrap();
        let o = confine(&["run", "--env-file", f.to_str().unwrap(), "--", "true"]);
        if want.is_empty() {
            assert_eq!(o.status.code(), Some(125), "{text:?}");
        } else {
            assert_eq!(o.status.code(), Some(125), "{text:?}");
            assert!(err(&o).contains(want), "{text:?}: {}", err(&o));
        }
    }
    let f = dir.path().join("bad-utf8");
    std::fs::write(&f, b"A=1\nB=\xff\n").unwrap();
    let o = confine(&["run", "--env-file", f.to_str().unwrap(), "--", "true"]);
    assert!(err(&o).contains("line 2: not UTF-8"), "{}", err(&o));
    // hostile inputs: refused at once, no hang, no memory
    for hostile in ["/dev/zero", "/proc/self/fd/0"] {
        let t = Instant::now();
        let o = run(Command::new("prlimit").arg("--as=1073741824").args([
            CONFINE,
            "run",
            "--env-file",
            hostile,
            "--",
            "true",
        ]));
        assert_eq!(o.status.code(), Some(125), "{hostile}: {}", err(&o));
        assert!(t.elapsed() < Duration::from_secs(10));
    }
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let o = confine(&["run", "--env-file", fifo.to_str().unwrap(), "--", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(err(&o).contains("FIFO"), "{}", err(&o));
}

#[test]
fn command_lookup_follows_execvp() {
    let dir = tempfile::tempdir().unwrap();
    let denied = dir.path().join("denied");
    std::fs::create_dir(&denied).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&denied, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // a directory the user cannot search is skipped, the next one is used
    let path = format!("PATH={}:/usr/bin:/bin", denied.display());
    let o = confine(&["run", "--user", "1000", "--env", &path, "--", "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = confine(&["run", "--", "/tmp"]);
    assert_eq!(o.status.code(), Some(126));
    assert!(err(&o).contains("is a directory"));
    let o = confine(&["run", "--", "no-such-command-here"]);
    assert_eq!(o.status.code(), Some(127));
    assert!(err(&o).contains("executable file not found in $PATH"));
}

// --- row 6: /proc/sys ------------------------------------------------------------------

#[test]
fn proc_sys_is_read_only_for_root() {
    let o = confine(&[
        "run",
        "--",
        a(),
        "paths",
        "/proc/sys/kernel/core_pattern",
        "/proc/kcore",
    ]);
    let text = out(&o);
    assert!(
        text.contains("/proc/sys/kernel/core_pattern read=ok write=EROFS"),
        "{text} {}",
        err(&o)
    );
    assert!(!text.contains("/proc/kcore read=ok"), "{text}");
    let o = confine(&[
        "run",
        "--security-opt",
        "systempaths=unconfined",
        "--",
        a(),
        "paths",
        "/proc/sys/kernel/core_pattern",
    ]);
    assert!(out(&o).contains("write=ok"), "{}", out(&o));
    // started in /proc or /sys, the command stands in the new mounts, not the host's beneath
    let o = run(Command::new(CONFINE).current_dir("/proc").args([
        "run",
        "--",
        a(),
        "paths",
        "sys/kernel/core_pattern",
        "1/environ",
    ]));
    let text = out(&o);
    assert!(
        text.contains("sys/kernel/core_pattern read=ok write=EROFS"),
        "{text} {}",
        err(&o)
    );
    assert!(text.contains("1/environ read=EACCES"), "{text}");
    let o = run(Command::new(CONFINE).current_dir("/sys/kernel").args([
        "run",
        "--",
        a(),
        "paths",
        "mm/transparent_hugepage/enabled",
    ]));
    assert!(out(&o).contains("write=EROFS"), "{}", out(&o));
}

// --- row 7: signals and lifetime -------------------------------------------------------

#[test]
fn every_signal_is_forwarded_and_the_command_dies_with_confine() {
    let script = "for s in ALRM VTALRM USR1 CONT 37 HUP; do trap \"echo got $s\" $s; done; echo ready; while :; do sleep 0.05; done";
    for (unprivileged, extra) in [
        (false, None),
        (true, None),
        (false, Some("--unsafe-share-processes")),
    ] {
        let mut cmd = if unprivileged {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", CONFINE]);
            c
        } else {
            Command::new(CONFINE)
        };
        let marker = format!("confine-signal-test-{unprivileged}-{extra:?}");
        let mut child = cmd
            .arg("run")
            .args(extra)
            .args(["--", "sh", "-c", script, &marker])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // setpriv execs confine: the child's pid is confine's
        let pid = child.id();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "ready");
        for (sig, name) in [
            ("ALRM", "ALRM"),
            ("VTALRM", "VTALRM"),
            ("USR1", "USR1"),
            ("CONT", "CONT"),
            ("37", "37"),
            ("HUP", "HUP"),
        ] {
            kill(pid, sig);
            assert_eq!(
                lines.next().unwrap().unwrap(),
                format!("got {name}"),
                "unprivileged={unprivileged}"
            );
        }
        assert!(!pids_with_arg(&marker).is_empty());
        kill(pid, "KILL");
        let _ = child.wait();
        assert!(
            gone_within(&marker, Duration::from_secs(5)),
            "the command outlived confine (unprivileged={unprivileged})"
        );
    }
}

// --- row 8: groups ---------------------------------------------------------------------

#[test]
fn supplementary_groups_as_runc_sets_them() {
    // every user of this machine's passwd file: the groups inside are those `id -G NAME`
    // (glibc, NSS) reports for the user
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let mut checked = 0;
    for name in passwd.lines().filter_map(|l| l.split(':').next()).take(40) {
        let want = Command::new("id").args(["-G", name]).output().unwrap();
        if !want.status.success() {
            continue;
        }
        let mut want: Vec<String> = out(&want).split_whitespace().map(String::from).collect();
        let o = confine(&["run", "--user", name, "--", "id", "-G"]);
        let mut got: Vec<String> = out(&o).split_whitespace().map(String::from).collect();
        want.sort();
        want.dedup();
        got.sort();
        got.dedup();
        assert_eq!(got, want, "{name}: {}", err(&o));
        checked += 1;
    }
    assert!(checked > 5);
}
