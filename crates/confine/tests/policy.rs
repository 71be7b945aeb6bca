//! The file-and-network policy enforced by Landlock in `confine run` (issue 15), on this
//! host's kernel: each denial is checked with its errno, and the same action is checked to
//! succeed outside the policy (without it, or with the right granted), so that the denial is
//! the policy's. The program under test is a static probe (tests/policy/probe.rs) that needs
//! no library. Every run is bounded by a timeout.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const CONFINE: &str = env!("CARGO_BIN_EXE_confine");

#[path = "policy/table.rs"]
mod table;

/// The probe, built once into a directory of its own (0755: the `--user` tests run it as
/// another uid).
fn probe() -> &'static Path {
    static BIN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &BIN.get_or_init(|| {
        confine_test_support::run::static_program(
            env!("CARGO_MANIFEST_DIR"),
            "tests/policy/probe.rs",
            "probe",
        )
    })
    .1
}

fn probe_dir() -> String {
    probe().parent().unwrap().display().to_string()
}

/// `confine run ARGS -- probe ACTIONS` under a 30 s timeout.
fn run(args: &[&str], actions: &[String]) -> Output {
    Command::new("timeout")
        .args(["-s", "KILL", "30", CONFINE, "run", "-q"])
        .args(args)
        .arg("--")
        .arg(probe())
        .args(actions)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The probe's answers, one per action (`read ok`, `read EACCES`).
fn answers(o: &Output) -> Vec<String> {
    assert!(
        o.status.success(),
        "confine run failed: {:?}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |(_, r)| r).to_string())
        .collect()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch directory (0755) with the files of each test.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Scratch { dir }
    }

    fn path(&self, rel: &str) -> String {
        self.dir.path().join(rel).display().to_string()
    }

    /// A file with some content (its directories made).
    fn file(&self, rel: &str) -> String {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, b"content\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
        p.display().to_string()
    }

    fn mkdir(&self, rel: &str) -> String {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777)).unwrap();
        p.display().to_string()
    }

    /// A policy file with `text`.
    fn policy(&self, text: &str) -> String {
        let p = self.dir.path().join("policy.yaml");
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

fn acts(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn reading_outside_the_allowed_paths_is_denied() {
    let s = Scratch::new();
    let (inside, outside) = (s.file("in/f"), s.file("out/f"));
    let a = acts(&[
        &format!("read:{inside}"),
        &format!("read:{outside}"),
        &format!("list:{}", s.path("out")),
    ]);
    let pd = probe_dir();
    let o = run(&["--rox", &pd, "--ro", &s.path("in")], &a);
    assert_eq!(answers(&o), ["ok", "EACCES", "EACCES"]);
    assert_eq!(answers(&run(&[], &a)), ["ok", "ok", "ok"]);
}

#[test]
fn writing_to_a_read_only_path_is_denied() {
    let s = Scratch::new();
    let f = s.file("d/f");
    let a = acts(&[
        &format!("write:{f}"),
        &format!("create:{}", s.path("d/new")),
    ]);
    let pd = probe_dir();
    let d = s.path("d");
    assert_eq!(
        answers(&run(&["--rox", &pd, "--ro", &d], &a)),
        ["EACCES", "EACCES"]
    );
    assert_eq!(answers(&run(&["--rox", &pd, "--rw", &d], &a)), ["ok", "ok"]);
}

#[test]
fn executing_outside_rox_is_denied() {
    let s = Scratch::new();
    // a copy of the probe in a read-only directory: readable, not executable
    let copy = s.path("bin/probe");
    std::fs::create_dir_all(s.path("bin")).unwrap();
    std::fs::copy(probe(), &copy).unwrap();
    let a = acts(&[&format!("exec:{copy}")]);
    let pd = probe_dir();
    let bin = s.path("bin");
    assert_eq!(answers(&run(&["--rox", &pd, "--ro", &bin], &a)), ["EACCES"]);
    assert_eq!(answers(&run(&["--rox", &pd, "--rox", &bin], &a)), ["ok"]);
}

#[test]
fn truncating_without_the_right_is_denied() {
    let s = Scratch::new();
    let f = s.file("d/f");
    let a = acts(&[&format!("truncate:{f}")]);
    let pd = probe_dir();
    let d = s.path("d");
    assert_eq!(answers(&run(&["--rox", &pd, "--ro", &d], &a)), ["EACCES"]);
    assert_eq!(answers(&run(&["--rox", &pd, "--rw", &d], &a)), ["ok"]);
}

#[test]
fn linking_or_renaming_across_directories_needs_refer() {
    let s = Scratch::new();
    let (da, db) = (s.mkdir("a"), s.mkdir("b"));
    let pd = probe_dir();
    let a = |n: &str| {
        let f = s.file(&format!("a/{n}"));
        acts(&[
            &format!("link:{f}:{db}/{n}-link"),
            &format!("rename:{f}:{db}/{n}"),
            &format!("rename:{db}/{n}:{da}/{n}-back"),
        ])
    };
    let o = run(&["--rox", &pd, "--rw", &da, "--rw", &db], &a("one"));
    assert_eq!(answers(&o), ["EXDEV", "EXDEV", "ENOENT"]);
    // the same with refer granted on both: a policy file (refer has no quick flag)
    let policy = s.policy(&format!(
        "filesystem:\n  readWritePaths: [{da}, {db}]\nexecutable:\n  allowedExecutables: [{pd}/**]\nconfine:\n  version: 1\n  refer: [{da}, {db}]\n"
    ));
    let o = run(&["--policy", &policy], &a("two"));
    assert_eq!(answers(&o), ["ok", "ok", "ok"]);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn tcp_connect_and_bind_are_limited_to_the_ports_given() {
    let allowed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (p1, p2) = (
        allowed.local_addr().unwrap().port(),
        other.local_addr().unwrap().port(),
    );
    let a = acts(&[&format!("connect:{p1}"), &format!("connect:{p2}")]);
    let o = run(&["--connect-tcp", &p1.to_string()], &a);
    assert_eq!(answers(&o), ["ok", "EACCES"]);
    assert_eq!(answers(&run(&[], &a)), ["ok", "ok"]);

    let (b1, b2) = (free_port(), free_port());
    let a = acts(&[&format!("bind:{b1}"), &format!("bind:{b2}")]);
    let o = run(&["--bind-tcp", &b1.to_string()], &a);
    assert_eq!(answers(&o), ["ok", "EACCES"]);
    assert_eq!(answers(&run(&[], &a)), ["ok", "ok"]);
}

#[test]
fn the_abstract_unix_scope_stops_connections_outside() {
    use std::os::linux::net::SocketAddrExt;
    let name = format!("confine-policy-test-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let _l = std::os::unix::net::UnixListener::bind_addr(&addr).unwrap();
    let a = acts(&[&format!("abstract:{name}")]);
    // without process isolation (which has the same scope), the policy's own scope decides
    let share = "--unsafe-share-processes";
    assert_eq!(answers(&run(&[share], &a)), ["ok"]);
    assert_eq!(
        answers(&run(&[share, "--scope", "abstract-unix"], &a)),
        ["EPERM"]
    );
}

#[test]
fn the_signal_scope_stops_signals_outside() {
    let mut victim = Command::new("sleep").arg("60").spawn().unwrap();
    let a = acts(&[&format!("kill:{}", victim.id())]);
    let share = "--unsafe-share-processes";
    let without = answers(&run(&[share], &a));
    let with = answers(&run(&[share, "--scope", "signal"], &a));
    victim.kill().unwrap();
    victim.wait().unwrap();
    assert_eq!(without, ["ok"]);
    assert_eq!(with, ["EPERM"]);
}

#[test]
fn device_ioctl_is_limited_to_the_paths_given() {
    let s = Scratch::new();
    let policy = s.policy("confine:\n  version: 1\n  deviceIoctl: [/dev/zero]\n");
    let a = acts(&["ioctl:/dev/null", "ioctl:/dev/zero"]);
    // a device's own answer to TCGETS is ENOTTY; Landlock's is EACCES
    assert_eq!(
        answers(&run(&["--policy", &policy], &a)),
        ["EACCES", "ENOTTY"]
    );
    assert_eq!(answers(&run(&[], &a)), ["ENOTTY", "ENOTTY"]);
}

#[test]
fn security_opt_landlock_is_the_same_as_policy() {
    let s = Scratch::new();
    let (inside, outside) = (s.file("in/f"), s.file("out/f"));
    let pd = probe_dir();
    let policy = s.policy(&format!(
        "filesystem:\n  readOnlyPaths: [{}/]\nexecutable:\n  allowedExecutables: [{pd}/probe]\n",
        s.path("in")
    ));
    let a = acts(&[&format!("read:{inside}"), &format!("read:{outside}")]);
    for args in [
        vec!["--policy", &policy],
        vec!["--security-opt", &format!("landlock={policy}")],
    ] {
        let args: Vec<&str> = args.iter().map(|s| &**s).collect();
        assert_eq!(answers(&run(&args, &a)), ["ok", "EACCES"], "{args:?}");
    }
}

/// Landlock with Docker's default seccomp filter and `--user 999`: the three layers hold at
/// once (the policy's denial, the seccomp filter and the ids are all in place).
#[test]
fn landlock_stacks_with_docker_default_seccomp_and_a_user() {
    let s = Scratch::new();
    let (inside, outside) = (s.file("in/f"), s.file("out/f"));
    let pd = probe_dir();
    let a = acts(&[
        &format!("read:{inside}"),
        &format!("read:{outside}"),
        "read:/proc/self/status",
    ]);
    let args = [
        "--user",
        "999",
        "--rox",
        &pd,
        "--ro",
        &s.path("in"),
        "--ro",
        "/proc",
    ];
    assert_eq!(answers(&run(&args, &a)), ["ok", "EACCES", "ok"]);
    // and what the process is: uid 999, Docker's filter, no capabilities; no_new_privs stays
    // off as in Docker (confine enters the domain while it still holds CAP_SYS_ADMIN)
    let o = Command::new("timeout")
        .args(["-s", "KILL", "30", CONFINE, "run", "-q"])
        .args(args)
        .args(["--rox", "/usr", "--", "cat", "/proc/self/status"])
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&o.stdout).into_owned();
    let field = |k: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}:")))
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(field("Uid"), "999 999 999 999");
    assert_eq!(field("Seccomp"), "2");
    assert_eq!(field("Seccomp_filters"), "1");
    assert_eq!(field("CapEff"), "0000000000000000");
    assert_eq!(field("NoNewPrivs"), "0");
}

// --- bad input ------------------------------------------------------------------------

fn fails(args: &[&str]) -> String {
    let o = run(args, &acts(&["read:/etc/hostname"]));
    assert_eq!(o.status.code(), Some(125), "{args:?}: {}", stderr(&o));
    assert!(o.stdout.is_empty(), "the command ran: {args:?}");
    stderr(&o)
}

#[test]
fn relative_and_missing_paths_stop_the_run_under_require() {
    let e = fails(&["--ro", "relative/dir"]);
    assert!(e.contains("--ro relative/dir: not an absolute path"), "{e}");
    let e = fails(&["--ro", "/nonexistent-confine-policy-test"]);
    assert!(e.contains("/nonexistent-confine-policy-test"), "{e}");
    assert!(e.contains("best-effort"), "{e}");
    // best-effort drops the rule, says so, and runs
    let pd = probe_dir();
    let o = run(
        &[
            "--landlock-compat",
            "best-effort",
            "--rox",
            &pd,
            "--ro",
            "/nonexistent-confine-policy-test",
        ],
        &acts(&["read:/etc/hostname"]),
    );
    assert_eq!(answers(&o), ["EACCES"]);
    let e = stderr(&o);
    assert!(
        e.contains("dropped (best-effort)") && e.contains("/nonexistent-confine-policy-test"),
        "{e}"
    );
}

#[test]
fn ports_out_of_range_are_usage_errors() {
    for p in ["0", "65536", "http"] {
        let e = fails(&["--connect-tcp", p]);
        assert!(e.contains("--connect-tcp"), "{p}: {e}");
    }
}

#[test]
fn policy_file_errors_are_located() {
    let s = Scratch::new();
    let policy = s.policy("filesystem:\n  readOnlyPaths: 7\n");
    let e = fails(&["--policy", &policy]);
    assert!(e.contains(&format!("{policy}:2:")), "{e}");
    let policy = s.policy("filesystem:\n  readOnlyPaths: [relative/path]\n");
    let e = fails(&["--policy", &policy]);
    assert!(e.contains(&format!("{policy}:2:")), "{e}");
    // not a file
    let e = fails(&["--policy", "/dev/zero"]);
    assert!(e.contains("/dev/zero"), "{e}");
    let e = fails(&["--policy", "/nonexistent-policy.yaml"]);
    assert!(e.contains("/nonexistent-policy.yaml"), "{e}");
}

/// A rule on a symlink is a rule on what it points to, resolved when confine builds the
/// ruleset (as Landlock sees only the opened file): the target is readable, its neighbour
/// is not.
#[test]
fn a_symlink_is_resolved_when_the_ruleset_is_built() {
    let s = Scratch::new();
    let (target, other) = (s.file("real/f"), s.file("other/f"));
    std::os::unix::fs::symlink(s.path("real"), s.path("link")).unwrap();
    let pd = probe_dir();
    let a = acts(&[
        &format!("read:{target}"),
        &format!("read:{}", s.path("link/f")),
        &format!("read:{other}"),
    ]);
    let o = run(&["--rox", &pd, "--ro", &s.path("link")], &a);
    assert_eq!(answers(&o), ["ok", "ok", "EACCES"]);
    // and said: the rule is on the target
    let e = stderr(&o);
    assert!(
        e.contains(&format!(
            "`{}` resolves to `{}`",
            s.path("link"),
            s.path("real")
        )),
        "{e}"
    );
}

/// A literal path without `/` that is a directory: Landlock allows everything beneath it,
/// AppArmor would not; a located warning says so and how to write it.
#[test]
fn a_literal_directory_is_said_to_cover_what_is_beneath() {
    let s = Scratch::new();
    let f = s.file("d/f");
    let pd = probe_dir();
    let policy = s.policy(&format!(
        "filesystem:\n  readOnlyPaths: [{}]\nexecutable:\n  allowedExecutables: [{pd}/probe]\n",
        s.path("d")
    ));
    let o = run(&["--policy", &policy], &acts(&[&format!("read:{f}")]));
    assert_eq!(answers(&o), ["ok"]);
    let e = stderr(&o);
    assert!(
        e.contains(&format!("{policy}:2:")) && e.contains("[literal-directory]"),
        "{e}"
    );
}

#[test]
fn ten_thousand_rules_load_and_hold() {
    let s = Scratch::new();
    let mut text = String::from("filesystem:\n  readOnlyPaths:\n");
    for i in 0..10_000 {
        let f = s.file(&format!("many/{i}"));
        text.push_str(&format!("  - {f}\n"));
    }
    let outside = s.file("outside");
    let pd = probe_dir();
    text.push_str(&format!(
        "executable:\n  allowedExecutables: [{pd}/probe]\n"
    ));
    let policy = s.policy(&text);
    let a = acts(&[
        &format!("read:{}", s.path("many/9999")),
        &format!("read:{outside}"),
    ]);
    let o = run(&["--policy", &policy], &a);
    assert_eq!(answers(&o), ["ok", "EACCES"]);
}

/// Without privilege: confine as uid 65534 with no capabilities enters the domain in a user
/// namespace (or, where none can be had, with no_new_privs set): the policy holds either way.
#[test]
fn an_unprivileged_caller_gets_the_same_policy() {
    let s = Scratch::new();
    let (inside, outside) = (s.file("in/f"), s.file("out/f"));
    let pd = probe_dir();
    let o = Command::new("timeout")
        .args([
            "-s",
            "KILL",
            "30",
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
        ])
        .arg("--clear-groups")
        .args([
            CONFINE,
            "run",
            "-q",
            "--rox",
            &pd,
            "--ro",
            &s.path("in"),
            "--",
        ])
        .arg(probe())
        .args([format!("read:{inside}"), format!("read:{outside}")])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(answers(&o), ["ok", "EACCES"]);
}

/// `confine inspect --json PID`, parsed.
fn inspect_json(pid: u32) -> serde_json::Value {
    let o = Command::new(CONFINE)
        .args(["inspect", "--json", &pid.to_string()])
        .output()
        .unwrap();
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The pid of the `sleep MARKER` a run started, once it runs (at most 20 s).
fn sleeping(marker: &str) -> u32 {
    let t = std::time::Instant::now();
    loop {
        let found = std::fs::read_dir("/proc").unwrap().flatten().find_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            (cmd == format!("sleep\0{marker}\0").as_bytes()).then_some(pid)
        });
        if let Some(p) = found {
            return p;
        }
        assert!(t.elapsed().as_secs() < 20, "the command did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Under best-effort, what was dropped is kept where `confine inspect` reads it (the kernel
/// does not show a process's Landlock domain), for as long as the command runs.
#[test]
fn inspect_lists_what_best_effort_dropped() {
    let marker = format!("{}.{}", 40 + std::process::id() % 10, std::process::id());
    let mut run = Command::new("timeout")
        .args(["-s", "KILL", "60", CONFINE, "run", "-q"])
        .args(["--landlock-compat", "best-effort", "--rox", "/usr"])
        .args([
            "--ro",
            "/nonexistent-confine-inspect-test",
            "--",
            "sleep",
            &marker,
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = sleeping(&marker);
    let v = inspect_json(pid);
    let rec = &v["landlock"]["recorded"][0];
    assert_eq!(rec["in_domain"], true, "{v}");
    // the record is a memfd in confine's own descriptor table; a SIGKILL of confine frees it
    let writer = rec["writer"].as_u64().unwrap();
    let held = |name: &str| {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .flat_map(|p| std::fs::read_dir(p.path().join("fd")).into_iter().flatten())
            .flatten()
            .filter(|e| {
                std::fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().contains(name))
            })
            .count()
    };
    let name = format!("/memfd:confine-landlock:{writer}-");
    assert!(held(&name) >= 1, "{v}");
    assert!(rec["file"]
        .as_str()
        .unwrap()
        .starts_with(&format!("/proc/{writer}/fd/")));
    assert!(Command::new("kill")
        .args(["-s", "KILL", &writer.to_string()])
        .status()
        .unwrap()
        .success());
    run.kill().unwrap();
    run.wait().unwrap();
    let t = std::time::Instant::now();
    while held(&name) > 0 && t.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(held(&name), 0, "a record outlived confine");
    assert_eq!(rec["record"]["compat"], "best-effort");
    let dropped = rec["record"]["dropped"].to_string();
    assert!(
        dropped.contains("/nonexistent-confine-inspect-test"),
        "{dropped}"
    );
}

/// A record memfd planted before confine starts (named after the process that then becomes
/// confine by exec, sealed, inheritable, saying a weaker policy) is closed by confine before it
/// writes its own: `confine inspect` shows the real record alone, verified.
#[test]
fn a_planted_record_is_closed_and_the_real_one_shown() {
    if !Path::new("/usr/bin/python3").exists() {
        eprintln!("skipped: /usr/bin/python3 is missing");
        return;
    }
    let marker = format!("{}.{}", 50 + std::process::id() % 10, std::process::id());
    let mut fake = confine_inspect::landlock::Record::new(
        0,
        0,
        0,
        "planted weak policy",
        confine_inspect::landlock::Compat::Require,
        3,
    );
    fake.set_handled(0, 0, 0);
    let planter = r#"
import fcntl, json, os, sys
pid = os.getpid()
start = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19])
rec = json.loads(sys.argv[1]); rec["pid"] = pid; rec["starttime"] = start; rec["uid"] = os.getuid()
fd = os.memfd_create("confine-landlock:%d-%d" % (pid, start), os.MFD_ALLOW_SEALING)
os.write(fd, json.dumps(rec).encode())
fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)
os.set_inheritable(fd, True)
os.execv(sys.argv[2], sys.argv[2:])
"#;
    let mut run = Command::new("timeout")
        .args(["-s", "KILL", "60", "/usr/bin/python3", "-c", planter])
        .arg(serde_json::to_string(&fake).unwrap())
        .args([
            CONFINE, "run", "-q", "--rox", "/usr", "--", "sleep", &marker,
        ])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let pid = sleeping(&marker);
    let v = inspect_json(pid);
    let l = &v["landlock"];
    // confine (the record's holder), then the rest with it: its init and the command die with it
    if let Some(w) = l["recorded"][0]["writer"].as_u64() {
        let _ = Command::new("kill")
            .args(["-s", "KILL", &w.to_string()])
            .status();
    }
    let _ = Command::new("kill")
        .args(["-s", "KILL", &pid.to_string()])
        .status();
    run.kill().unwrap();
    run.wait().unwrap();
    assert_eq!(l["recorded"].as_array().unwrap().len(), 1, "{l}");
    assert_eq!(l["ignored"], serde_json::json!([]), "{l}");
    let rec = &l["recorded"][0];
    assert_eq!(rec["verified"], true, "{l}");
    assert_eq!(rec["record"]["policy"], "command line", "{l}");
    assert_ne!(rec["record"]["handled_fs"], 0, "{l}");
}

/// `allowUdp: false` and `allowRaw: false`, which Landlock cannot refuse, are seccomp socket
/// rules in front of the filter (or alone, without one): UDP, raw, packet (SOCK_PACKET
/// included) and XDP sockets fail with EACCES, whatever flags the type carries; TCP and Unix
/// sockets are made as before. Outside the policy none of them is refused with EACCES (a
/// kernel may lack a family: EAFNOSUPPORT).
#[test]
fn udp_and_raw_sockets_are_refused_by_seccomp_rules() {
    let s = Scratch::new();
    let policy = s.policy(
        "network:\n  allowRaw: false\n  allowedProtocols: {allowTcp: true, allowUdp: false}\n",
    );
    let denied = [
        "socket:2:2",      // AF_INET, SOCK_DGRAM
        "socket:2:524290", // AF_INET, SOCK_DGRAM | SOCK_CLOEXEC
        "socket:10:2",     // AF_INET6, SOCK_DGRAM
        "socket:2:3:1",    // AF_INET, SOCK_RAW, IPPROTO_ICMP
        "socket:17:3",     // AF_PACKET, SOCK_RAW
        "socket:17:10",    // AF_PACKET, SOCK_PACKET
        "socket:2:10:768", // AF_INET, SOCK_PACKET, htons(ETH_P_ALL): made AF_PACKET
        "socket:44:3",     // AF_XDP, SOCK_RAW
    ];
    let allowed = ["socket:2:1", "socket:1:2"]; // AF_INET stream, AF_UNIX dgram
    let a = acts(&[&denied[..], &allowed[..]].concat());
    let want: Vec<&str> = denied
        .iter()
        .map(|_| "EACCES")
        .chain(allowed.iter().map(|_| "ok"))
        .collect();
    for extra in [&[][..], &["--security-opt", "seccomp=unconfined"]] {
        let mut args = extra.to_vec();
        args.extend(["--policy", &policy]);
        assert_eq!(answers(&run(&args, &a)), want, "{extra:?}");
    }
    let outside = answers(&run(&[], &a));
    assert!(!outside.iter().any(|x| x == "EACCES"), "{outside:?}");
    assert_eq!(outside[0], "ok");
    // an io_uring would make sockets without socket(2) (IORING_OP_SOCKET): refused with the
    // rules even where no filter refuses it (Docker's default does)
    let unconfined = ["--security-opt", "seccomp=unconfined"];
    let io = acts(&["io_uring"]);
    assert_eq!(answers(&run(&unconfined, &io)), ["ok"]);
    let mut args = unconfined.to_vec();
    args.extend(["--policy", &policy]);
    assert_eq!(answers(&run(&args, &io)), ["EACCES"]);
}

/// Landlock's TCP rights cover IPPROTO_TCP sockets only: with TCP restricted, Multipath TCP
/// sockets are refused (they would connect and bind anywhere), plain TCP ones are not.
#[test]
fn multipath_tcp_cannot_get_around_the_tcp_rules() {
    let a = acts(&[
        "socket:2:1:262",
        "socket:10:1:262",
        "socket:2:1:6",
        "socket:2:1",
    ]);
    let outside = answers(&run(&[], &a));
    assert!(!outside.iter().any(|x| x == "EACCES"), "{outside:?}");
    for flag in ["--connect-tcp", "--bind-tcp"] {
        assert_eq!(
            answers(&run(&[flag, "443"], &a)),
            ["EACCES", "EACCES", "ok", "ok"],
            "{flag}"
        );
    }
}

/// The table of accesses the AppArmor VM test also runs (tests/policy/table.rs), here under
/// Landlock: the same policy file, the same answers.
#[test]
fn the_lsm_table_under_landlock() {
    let s = Scratch::new();
    for d in table::DIRS {
        s.mkdir(d);
    }
    for f in table::FILES {
        s.file(f);
    }
    for p in table::PROGRAMS {
        std::fs::copy(probe(), s.path(p)).unwrap();
    }
    let root = s.path("");
    let root = root.trim_end_matches('/');
    let policy = s.policy(&table::policy(root, probe().to_str().unwrap()));
    let o = run(
        &["--lsm", "landlock", "--policy", &policy],
        &table::actions(root),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let got: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(got, table::expected());
}

/// Where AppArmor is not enabled (this host), `--lsm apparmor` and `--lsm both` stop the run
/// before anything starts, and the automatic choice is Landlock, said on stderr.
#[test]
fn lsm_choice_without_apparmor() {
    if std::path::Path::new("/sys/kernel/security/apparmor").exists() {
        eprintln!("skipped: this kernel has AppArmor");
        return;
    }
    for lsm in ["apparmor", "both"] {
        let e = fails(&["--lsm", lsm, "--ro", "/etc"]);
        assert!(
            e.contains(&format!("--lsm {lsm}: ")) && e.contains("--lsm landlock"),
            "{e}"
        );
    }
    let o = Command::new("timeout")
        .args([
            "-s", "KILL", "30", CONFINE, "run", "--ro", "/etc", "--rox", "/usr",
        ])
        .args(["--", "true"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("confine: policy command line: enforced by Landlock (ABI "),
        "{}",
        stderr(&o)
    );
}
