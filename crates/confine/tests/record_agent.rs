//! `confine record --agent` (issue 17) with the real runc (Debian's 1.1.5): busybox containers
//! started with the agent profile are recorded; the recorded profile starts the same container
//! with no agent, and one call taken out of it stops it. Every runc state lives in a private
//! temporary directory (`runc --root`), removed afterwards; every run is bounded by a timeout.

#[path = "record_agent/harness.rs"]
mod harness;

use harness::{names, send_with_fd, text, without, Agent, Runc, CONFINE, WORK};
use serde_json::{json, Value};
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The main evidence: recorded with the agent, started again without it, broken by one call
/// fewer; as runc's spec starts it (no_new_privs) and as Docker does (no no_new_privs, its
/// capabilities). Every call runc's init made under the filter is one the measured list
/// (crates/record/data/runtime-runc.txt) or the assumed ones name.
#[test]
fn a_container_recorded_by_the_agent_starts_under_its_profile_without_it() {
    let measured: Vec<&str> = include_str!("../../record/data/runtime-runc.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    for nnp in [true, false] {
        let runc = Runc::new();
        let agent = Agent::start(runc.path());
        let ap = agent.profile();
        assert_eq!(ap["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(ap["listenerPath"], agent.socket.to_str().unwrap());
        assert!(names(&ap, "SCMP_ACT_ALLOW").contains(&"write".to_string()));
        assert!(!names(&ap, "SCMP_ACT_NOTIFY").contains(&"write".to_string()));
        assert!(names(&ap, "SCMP_ACT_NOTIFY").len() > 400);

        let o = runc.run(&runc.bundle_as("rec", &WORK, &ap, nnp), "rec-1");
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert_eq!(text(&o.stdout), "hello\nLinux\nmade\n");
        let reports = agent.wait_for(1);
        let r = &reports[0];
        assert_eq!(r["container"]["id"], "rec-1");
        assert_eq!(r["complete"], true, "{r}");
        let assumed: Vec<&str> = r["assumed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(assumed.contains(&"write"));
        // runc's init made calls under the filter before its execve, and they were recorded
        let runtime = r["runtime_recorded"].as_array().unwrap();
        assert!(!runtime.is_empty(), "{r}");
        for c in runtime {
            let c = c.as_str().unwrap();
            assert!(
                measured.contains(&c) || assumed.contains(&c),
                "runc's init called {c}, which neither the measured list nor the assumed calls name"
            );
        }
        if !nnp {
            // the filter comes before the ids and capabilities change
            for c in ["capset", "setuid"] {
                assert!(runtime.contains(&json!(c)), "{c}: {runtime:?}");
            }
        }
        let recorded = agent.recorded("rec-1");
        let allowed = names(&recorded, "SCMP_ACT_ALLOW");
        for n in ["uname", "execve", "write"] {
            assert!(allowed.contains(&n.to_string()), "{n}: {allowed:?}");
        }
        assert!(
            !allowed.contains(&"ptrace".to_string()) && !allowed.contains(&"mount".to_string()),
            "{allowed:?}"
        );
        let (code, log) = agent.stop();
        assert_eq!(code, 0, "{log}");

        // the same container, no agent, the recorded profile
        let o = runc.run(&runc.bundle_as("replay", &WORK, &recorded, nnp), "replay-1");
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert_eq!(text(&o.stdout), "hello\nLinux\nmade\n");

        // one call the command needs taken out: it fails there
        let mkdir = ["mkdir", "mkdirat"]
            .into_iter()
            .find(|n| allowed.contains(&n.to_string()))
            .expect("mkdir or mkdirat recorded");
        let o = runc.run(
            &runc.bundle_as("broken", &WORK, &without(&recorded, mkdir), nnp),
            "broken-1",
        );
        assert!(!o.status.success());
        assert_eq!(text(&o.stdout), "hello\nLinux\n");
        assert!(
            text(&o.stderr).contains("Operation not permitted"),
            "{}",
            text(&o.stderr)
        );
    }
}

/// Two containers at the same time get separate profiles; clients that send garbage or a
/// descriptor that is no listener are refused with the reason, and the recordings go on.
#[test]
fn two_containers_at_once_get_their_own_profiles_and_garbage_is_refused() {
    let runc = Runc::new();
    let agent = Agent::start(runc.path());
    let ap = agent.profile();
    // busybox's cat copies with sendfile
    let a = runc.bundle("a", &["/bin/sh", "-c", "sleep 1; cat /proc/version"], &ap);
    let b = runc.bundle("b", &["/bin/sh", "-c", "sleep 1; mkdir /m && echo m"], &ap);
    let ca = runc
        .run_cmd(&a, "ctr-a")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let cb = runc
        .run_cmd(&b, "ctr-b")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();

    // while both run: garbage, then a well-formed state with /dev/null as its descriptor
    let mut g = UnixStream::connect(&agent.socket).unwrap();
    g.write_all(b"{\"ociVersion\": 1.0.2, garbage").unwrap();
    drop(g);
    let f = UnixStream::connect(&agent.socket).unwrap();
    send_with_fd(
        &f,
        br#"{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":1,"metadata":"","state":{"ociVersion":"1.0.2","id":"fake","status":"creating","pid":1,"bundle":"/"}}"#,
        std::fs::File::open("/dev/null").unwrap(),
    );

    let oa = ca.wait_with_output().unwrap();
    let ob = cb.wait_with_output().unwrap();
    assert!(text(&oa.stdout).starts_with("Linux version "));
    assert_eq!(text(&ob.stdout), "m\n");
    agent.wait_for(2);
    let pa = agent.recorded("ctr-a");
    let pb = agent.recorded("ctr-b");
    let (na, nb) = (names(&pa, "SCMP_ACT_ALLOW"), names(&pb, "SCMP_ACT_ALLOW"));
    assert!(
        na.contains(&"sendfile".to_string()) && !nb.contains(&"sendfile".to_string()),
        "{na:?}\n{nb:?}"
    );
    let mk = |n: &Vec<String>| n.iter().any(|s| s == "mkdir" || s == "mkdirat");
    assert!(mk(&nb) && !mk(&na), "{na:?}\n{nb:?}");
    // two recordings of the same image join with `confine seccomp merge`
    let merged = runc.path().join("merged.json");
    let o = Command::new(CONFINE)
        .args(["seccomp", "merge", "-o"])
        .arg(&merged)
        .arg(agent.out.join("ctr-a.json"))
        .arg(agent.out.join("ctr-b.json"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let m: Value = serde_json::from_slice(&std::fs::read(&merged).unwrap()).unwrap();
    let nm = names(&m, "SCMP_ACT_ALLOW");
    assert!(nm.contains(&"sendfile".to_string()) && mk(&nm), "{nm:?}");
    let (code, log) = agent.stop();
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("refused: the state is not JSON: ") && log.contains("at line 1 column"),
        "{log}"
    );
    assert!(
        log.contains("refused: \"seccompFd\": /dev/null is not a seccomp listener"),
        "{log}"
    );
    assert!(
        log.contains("2 profile(s) written (0 incomplete), 2 connection(s) refused"),
        "{log}"
    );
}

/// 20 containers at once, each its own complete profile.
#[test]
fn twenty_containers_at_once() {
    let runc = Runc::new();
    let agent = Agent::start(runc.path());
    let ap = agent.profile();
    let mut children = Vec::new();
    for i in 0..20 {
        let cmd = format!("sleep 0.5; echo c{i}");
        let b = runc.bundle(&format!("b{i}"), &["/bin/sh", "-c", &cmd], &ap);
        children.push(
            runc.run_cmd(&b, &format!("many-{i}"))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
    }
    for (i, c) in children.into_iter().enumerate() {
        let o = c.wait_with_output().unwrap();
        assert_eq!(
            text(&o.stdout),
            format!("c{i}\n"),
            "{}\n{}",
            text(&o.stderr),
            agent.log()
        );
    }
    let reports = agent.wait_for(20);
    assert!(reports.iter().all(|r| r["complete"] == true));
    for i in 0..20 {
        let p = agent.recorded(&format!("many-{i}"));
        assert!(
            names(&p, "SCMP_ACT_ALLOW").contains(&"nanosleep".to_string())
                || names(&p, "SCMP_ACT_ALLOW").contains(&"clock_nanosleep".to_string())
        );
    }
    let (code, log) = agent.stop();
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("20 profile(s) written (0 incomplete)"),
        "{log}"
    );
}

/// A container killed while its calls wait for the agent, then one still running when the
/// agent is stopped: the agent goes on after the first and marks the second incomplete, and
/// that container can still exit.
#[test]
fn a_container_killed_mid_call_and_one_running_at_the_stop() {
    let runc = Runc::new();
    let agent = Agent::start(runc.path());
    let ap = agent.profile();
    let busy = runc.bundle(
        "busy",
        &[
            "/bin/sh",
            "-c",
            "while :; do cat /proc/self/stat >/dev/null; done",
        ],
        &ap,
    );
    let c = runc.run_cmd(&busy, "busy-1").spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let o = Command::new("runc")
        .arg("--root")
        .arg(runc.state())
        .args(["kill", "busy-1", "KILL"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = c.wait_with_output().unwrap();
    assert!(!o.status.success());
    let r = agent.wait_for(1);
    assert_eq!(r[0]["container"]["id"], "busy-1");
    assert!(r[0]["events"].as_u64().unwrap() > 100, "{}", r[0]);

    // the agent still records
    let o = runc.run(&runc.bundle("after", &WORK, &ap), "after-1");
    assert_eq!(text(&o.stdout), "hello\nLinux\nmade\n");
    agent.wait_for(2);

    let sleeper = runc.bundle("sleeper", &["/bin/sleep", "3"], &ap);
    let c = runc.run_cmd(&sleeper, "sleeper-1").spawn().unwrap();
    let start = Instant::now();
    while agent.reports().len() < 2 || !agent.log().contains("sleeper-1 (pid") {
        assert!(start.elapsed() < Duration::from_secs(20), "{}", agent.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let out = agent.out.clone();
    let (code, log) = agent.stop();
    assert_eq!(code, 0, "{log}");
    let p: Value =
        serde_json::from_slice(&std::fs::read(out.join("sleeper-1.json")).unwrap()).unwrap();
    let comment = p["syscalls"][0]["comment"].as_str().unwrap();
    assert!(
        comment
            .starts_with("INCOMPLETE recording by confine record --agent: the agent was stopped"),
        "{comment}"
    );
    // it ends (exit_group is allowed unseen), well within runc's 60 s timeout
    let status = c.wait_with_output().unwrap().status;
    assert!(status.code().is_some(), "{status:?}");
    assert!(start.elapsed() < Duration::from_secs(30));
}

/// Usage errors are located and exit 2 or 125 before anything listens.
#[test]
fn bad_agent_arguments_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(CONFINE)
        .args(["record", "--agent", "relative.sock", "-o"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(
        text(&o.stderr).contains("must be an absolute path"),
        "{}",
        text(&o.stderr)
    );
    let sock = dir.path().join("a.sock");
    let o = Command::new(CONFINE)
        .args(["record", "--agent"])
        .arg(&sock)
        .arg("-o")
        .arg(dir.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(text(&o.stderr).contains("missing"), "{}", text(&o.stderr));
    // a file in the socket's place is not replaced
    std::fs::write(&sock, "x").unwrap();
    let o = Command::new(CONFINE)
        .args(["record", "--agent"])
        .arg(&sock)
        .arg("-o")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(
        text(&o.stderr).contains("exists and is not a socket"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(std::fs::read_to_string(&sock).unwrap(), "x");
    // a base that allows by default would let calls run unseen
    let base = dir.path().join("allow.json");
    std::fs::write(&base, r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["ptrace"],"action":"SCMP_ACT_ERRNO"}]}"#).unwrap();
    let o = Command::new(CONFINE)
        .args([
            "record",
            "--agent",
            "/run/x.sock",
            "--agent-profile",
            "--base",
        ])
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(
        text(&o.stderr).contains("would run unseen by the agent"),
        "{}",
        text(&o.stderr)
    );
    // options about starting the command do not apply: the runtime starts the containers
    let o = Command::new(CONFINE)
        .args(["record", "--agent", "/run/x.sock", "-o"])
        .arg(dir.path())
        .args(["--user", "1000"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(
        text(&o.stderr).contains("--user does not apply to --agent"),
        "{}",
        text(&o.stderr)
    );
    // a command is not taken with --agent (a usage error: 125, as docker run's)
    let o = Command::new(CONFINE)
        .args(["record", "--agent", "/run/x.sock", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(
        text(&o.stderr).contains("cannot be used with"),
        "{}",
        text(&o.stderr)
    );
}

/// crun (Podman's runtime) hands its containers to the agent the same way; with `--runtime
/// crun` nothing of runc's Go runtime is assumed, and the recorded profile starts the
/// container under crun with no agent.
#[test]
fn crun_hands_its_containers_to_the_agent_too() {
    let runc = Runc::new();
    let dir = runc.path().join("agent");
    std::fs::create_dir(&dir).unwrap();
    let agent = Agent::start_with(&dir, &[], &["--runtime", "crun"]);
    let o = Command::new(CONFINE)
        .args([
            "record",
            "-q",
            "--runtime",
            "crun",
            "--agent-profile",
            "--agent",
        ])
        .arg(&agent.socket)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let ap: Value = serde_json::from_slice(&o.stdout).unwrap();
    // crun is C: no Go runtime to keep from waiting
    assert!(names(&ap, "SCMP_ACT_NOTIFY").contains(&"futex".to_string()));
    let crun = |bundle: &Path, id: &str| {
        // crun 1.8 refuses a hybrid cgroup host whose v2 hierarchy has controllers: it runs
        // without a cgroup manager, in a private mount namespace where a tmpfs hides the v2
        // hierarchy (the host is not changed; no caller data goes into the script text)
        Command::new("timeout")
            .args([
                "-s",
                "KILL",
                "60",
                "unshare",
                "--mount",
                "--propagation",
                "private",
            ])
            .args([
                "sh",
                "-c",
                "mount -t tmpfs none /sys/fs/cgroup/unified 2>/dev/null; exec \"$@\"",
                "sh",
            ])
            .args(["crun", "--cgroup-manager=disabled", "--root"])
            .arg(runc.path().join("crun-state"))
            .args(["run", "--bundle"])
            .arg(bundle)
            .arg(id)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = crun(&runc.bundle("c", &WORK, &ap), "crun-1");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "hello\nLinux\nmade\n");
    let r = agent.wait_for(1);
    assert_eq!(r[0]["complete"], true, "{}", r[0]);
    assert!(!r[0]["assumed"]
        .as_array()
        .unwrap()
        .contains(&json!("futex")));
    let recorded = agent.recorded("crun-1");
    let (code, log) = agent.stop();
    assert_eq!(code, 0, "{log}");
    let o = crun(&runc.bundle("c2", &WORK, &recorded), "crun-2");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "hello\nLinux\nmade\n");
}

/// A process started in the running container (`runc exec`, as `docker exec` and health
/// checks) is recorded apart, as NAME.exec.json; a name that comes again, or whose file is
/// already in DIR, gets the next free one (NAME~2.json); nothing is overwritten.
#[test]
fn execs_are_recorded_apart_and_nothing_is_overwritten() {
    let runc = Runc::new();
    let agent = Agent::start(runc.path());
    let ap = agent.profile();
    std::fs::write(agent.out.join("pre.json"), "planted").unwrap();
    let long = runc.bundle("long", &["/bin/sleep", "2"], &ap);
    let c = runc.run_cmd(&long, "long-1").spawn().unwrap();
    let start = Instant::now();
    while !agent.log().contains("container long-1 (pid") {
        assert!(start.elapsed() < Duration::from_secs(20), "{}", agent.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = Command::new("timeout")
        .args(["-s", "KILL", "30", "runc", "--root"])
        .arg(runc.state())
        .args([
            "exec",
            "long-1",
            "/bin/sh",
            "-c",
            "mkdir /from-exec && echo done",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(text(&o.stdout), "done\n", "{}", text(&o.stderr));
    assert!(c.wait_with_output().unwrap().status.success());
    for id in ["pre", "again", "again"] {
        let o = runc.run(
            &runc.bundle(
                &format!("b-{id}-{}", agent.reports().len()),
                &["/bin/true"],
                &ap,
            ),
            id,
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    agent.wait_for(5);
    let exec = agent.recorded("long-1.exec");
    let main = agent.recorded("long-1");
    let mk = |p: &Value| {
        names(p, "SCMP_ACT_ALLOW")
            .iter()
            .any(|n| n == "mkdir" || n == "mkdirat")
    };
    assert!(mk(&exec) && !mk(&main));
    assert_eq!(
        std::fs::read_to_string(agent.out.join("pre.json")).unwrap(),
        "planted"
    );
    agent.recorded("pre~2");
    agent.recorded("again");
    agent.recorded("again~2");
    let (code, log) = agent.stop();
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("exec in container long-1"), "{log}");
}

/// Out of descriptors, the agent waits instead of spinning on a connection it cannot accept,
/// says so once, and records again when descriptors are free.
#[test]
fn out_of_descriptors_the_agent_waits_without_spinning() {
    let runc = Runc::new();
    let dir = runc.path();
    let agent = Agent::start_with(dir, &["prlimit", "--nofile=100:100", "--"], &[]);
    // clients that send the start of a state with 16 descriptors, then nothing: each holds 17
    // of the agent's descriptors until its 5 s state timeout; then silent ones, which the
    // agent cannot accept any more
    use std::os::fd::{AsFd, AsRawFd};
    let null = std::fs::File::open("/dev/null").unwrap();
    let sixteen = [null.as_raw_fd(); 16];
    let mut clients: Vec<UnixStream> = Vec::new();
    for _ in 0..5 {
        let c = UnixStream::connect(&agent.socket).unwrap();
        confine_kernel::unix::send_with_fds(c.as_fd(), br#"{"ociVersion":"1","fds":["#, &sixteen)
            .unwrap();
        clients.push(c);
    }
    // (the agent has taken their descriptors before the silent ones come)
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..20 {
        clients.push(UnixStream::connect(&agent.socket).unwrap());
    }
    std::thread::sleep(Duration::from_millis(500));
    let ticks = || {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", agent.child.id())).unwrap();
        let f: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    };
    let before = ticks();
    std::thread::sleep(Duration::from_secs(2));
    let used = ticks() - before;
    // a spinning accept loop burns the 2 s (about 200 ticks); waiting, a few
    assert!(used < 40, "{used} ticks in 2 s");
    // once per period without descriptors (a refused connection frees some, and the next
    // period is said again), not once per turn of the loop
    let said = agent.log().matches("out of descriptors").count();
    assert!((1..=5).contains(&said), "{said}: {}", agent.log());
    drop(clients);
    // the silent clients time out; a container is recorded again
    let ap = agent.profile();
    let o = runc.run(&runc.bundle("after", &WORK, &ap), "after-fds");
    assert_eq!(
        text(&o.stdout),
        "hello\nLinux\nmade\n",
        "{}",
        text(&o.stderr)
    );
    let r = agent.wait_for(1);
    assert_eq!(r[0]["complete"], true, "{}", r[0]);
    let (code, log) = agent.stop();
    assert_eq!(code, 0, "{log}");
}
