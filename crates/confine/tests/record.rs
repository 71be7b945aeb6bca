//! `confine record` (issue 16) on this host's kernel: real programs are recorded, then run
//! again under the recorded profile with `confine run`, which must let them do the same — and
//! a profile with a call taken out must not. The static test program (tests/record/prog.rs)
//! makes i386 and x32 calls from a 64-bit process. Every run is bounded by a timeout.

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const CONFINE: &str = env!("CARGO_BIN_EXE_confine");

/// The test program, built once into a directory of its own (0755: the unprivileged test runs
/// it as another user).
fn prog() -> &'static Path {
    static BIN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &BIN.get_or_init(|| {
        confine_test_support::run::static_program(
            env!("CARGO_MANIFEST_DIR"),
            "tests/record/prog.rs",
            "prog",
        )
    })
    .1
}

/// `confine ARGS` under a 120 s timeout, standard input closed.
fn confine(args: &[&str]) -> Output {
    Command::new("timeout")
        .args(["-s", "KILL", "120", CONFINE])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn load(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Every name the profile allows (with or without conditions).
fn allowed(p: &Value) -> Vec<String> {
    p["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "SCMP_ACT_ALLOW")
        .flat_map(|r| r["names"].as_array().unwrap().iter())
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

/// `confine seccomp check` is clean on `p`.
fn check_clean(p: &Path) {
    let o = confine(&["seccomp", "check", "--strict", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
}

/// Record `cmd` with `args` into DIR/p.json; the run's output.
fn record(dir: &Path, args: &[&str], cmd: &[&str]) -> (Output, PathBuf) {
    let out = dir.join("p.json");
    let mut a = vec!["record", "-q", "-o", out.to_str().unwrap()];
    a.extend(args);
    a.push("--");
    a.extend(cmd);
    (confine(&a), out)
}

fn run_under(profile: &Path, args: &[&str], cmd: &[&str]) -> Output {
    let mut a = vec!["run", "-q", "--security-opt"];
    let opt = format!("seccomp={}", profile.display());
    a.push(&opt);
    a.extend(args);
    a.push("--");
    a.extend(cmd);
    confine(&a)
}

#[test]
fn calls_are_named_on_their_own_abi_and_the_rerun_passes() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    let p = prog().to_str().unwrap();
    let cmd = [p, "i386", "x32", "threads:8", "sysinfo"];
    let (o, out) = record(dir.path(), &["--trace", trace.to_str().unwrap()], &cmd);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let first = text(&o.stdout);
    assert!(first.starts_with("i386 ok\n"), "{first}");
    let profile = load(&out);
    let arches: Vec<&str> = profile["architectures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        arches,
        ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32"]
    );
    // the i386 call is getpid (20 on i386; writev on x86_64), the x32 one getpid too
    let events: Vec<Value> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let on = |abi: &str| -> Vec<&Value> { events.iter().filter(|e| e["abi"] == abi).collect() };
    assert_eq!(on("x86").len(), 1);
    assert_eq!(on("x86")[0]["name"], "getpid");
    assert_eq!(on("x86")[0]["nr"], 20);
    assert_eq!(on("x32").len(), 1);
    assert_eq!(on("x32")[0]["name"], "getpid");
    assert!(!allowed(&profile).contains(&"writev".to_string()));
    // nothing of confine's before the execve is the command's: the first command event is it
    let first_cmd = events.iter().position(|e| e["phase"] == "command").unwrap();
    assert_eq!(events[first_cmd]["name"], "execve");
    assert!(events[..first_cmd].iter().all(|e| e["phase"] == "runtime"));
    // threads: every thread's calls were seen (8 × getppid)
    let getppid = events
        .iter()
        .filter(|e| e["name"] == "getppid" && e["phase"] == "command")
        .count();
    assert_eq!(getppid, 8);
    check_clean(&out);

    let again = run_under(&out, &[], &cmd);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout), first);
    // and the profile is far smaller than Docker's
    assert!(allowed(&profile).len() < 100, "{}", allowed(&profile).len());
}

#[test]
fn a_call_taken_out_of_the_profile_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = prog().to_str().unwrap();
    let (o, out) = record(dir.path(), &[], &[p, "sysinfo"]);
    assert_eq!(text(&o.stdout), "sysinfo ok\n", "{}", text(&o.stderr));
    let mut profile = load(&out);
    let names = profile["syscalls"][0]["names"].as_array_mut().unwrap();
    let before = names.len();
    names.retain(|n| n != "sysinfo");
    assert_eq!(names.len(), before - 1);
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, serde_json::to_string(&profile).unwrap()).unwrap();
    let again = run_under(&cut, &[], &[p, "sysinfo"]);
    // the profile's default: EPERM
    assert_eq!(
        text(&again.stdout),
        "sysinfo E1\n",
        "{}",
        text(&again.stderr)
    );
    let e = confine(&[
        "seccomp",
        "eval",
        "--profile",
        cut.to_str().unwrap(),
        "sysinfo",
    ]);
    assert!(
        text(&e.stdout).contains("ERRNO(1)") || text(&e.stdout).contains("EPERM"),
        "{}",
        text(&e.stdout)
    );
}

#[test]
fn argument_values_become_conditions_the_emulator_and_the_kernel_agree_with() {
    let dir = tempfile::tempdir().unwrap();
    let p = prog().to_str().unwrap();
    let (o, out) = record(
        dir.path(),
        &["--args=socket:0-1"],
        &[p, "socket:1:1", "socket:2:2"],
    );
    assert_eq!(
        text(&o.stdout),
        "socket ok\nsocket ok\n",
        "{}",
        text(&o.stderr)
    );
    check_clean(&out);
    let profile = load(&out);
    let socket_rules: Vec<&Value> = profile["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["names"][0] == "socket")
        .collect();
    assert_eq!(socket_rules.len(), 2, "{profile}");
    let f = out.to_str().unwrap();
    let verdict = |a: &str, b: &str| {
        let e = confine(&["seccomp", "eval", "--profile", f, "socket", a, b]);
        text(&e.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert!(verdict("1", "1").contains("ALLOW"));
    assert!(verdict("2", "2").contains("ALLOW"));
    assert!(!verdict("2", "1").contains("ALLOW"));
    assert!(!verdict("10", "1").contains("ALLOW"));
    let again = run_under(
        &out,
        &[],
        &[p, "socket:1:1", "socket:2:2", "socket:2:1", "socket:10:1"],
    );
    assert_eq!(
        text(&again.stdout),
        "socket ok\nsocket ok\nsocket E1\nsocket E1\n",
        "{}",
        text(&again.stderr)
    );
}

/// A busybox shell script with a pipe and a daemon that double-forks: recording goes on until
/// the daemon is done (`--until main` stops at the script's end, killing it), in each process
/// arrangement confine can choose.
#[test]
fn a_shell_pipeline_and_a_double_forking_daemon() {
    let busybox = Path::new("/bin/busybox");
    assert!(
        busybox.exists(),
        "busybox-static is needed (.ci/run installs it)"
    );
    for mode in [None, Some("--unsafe-share-processes")] {
        let dir = tempfile::tempdir().unwrap();
        let late = dir.path().join("late");
        let script = format!(
            "echo abc | tr a x; ( ( sleep 0.5; echo late > {} ) & ); echo main",
            late.display()
        );
        let cmd = ["/bin/busybox", "sh", "-c", script.as_str()];
        let args: Vec<&str> = mode.into_iter().collect();
        let (o, out) = record(dir.path(), &args, &cmd);
        assert_eq!(
            text(&o.stdout),
            "xbc\nmain\n",
            "{mode:?} {}",
            text(&o.stderr)
        );
        assert!(
            late.exists(),
            "{mode:?}: the daemon's end was not waited for"
        );
        let profile = load(&out);
        // the daemon's own calls: its sleep
        assert!(
            allowed(&profile).iter().any(|n| n.contains("nanosleep")),
            "{mode:?}"
        );
        check_clean(&out);
        std::fs::remove_file(&late).unwrap();
        let again = run_under(&out, &args, &cmd);
        assert_eq!(
            text(&again.stdout),
            "xbc\nmain\n",
            "{}",
            text(&again.stderr)
        );

        // --until main: the daemon ends with the script
        std::fs::remove_file(&late).ok();
        let mut a = args.clone();
        a.extend(["--until", "main"]);
        let (o, _) = record(dir.path(), &a, &cmd);
        assert!(o.status.success(), "{}", text(&o.stderr));
        std::thread::sleep(std::time::Duration::from_millis(800));
        assert!(
            !late.exists(),
            "{mode:?}: --until main left the daemon running"
        );
    }
}

const PYTHON: &str = "
import threading, subprocess, socket, os, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', int(sys.argv[2]))); srv.listen(1)
port = srv.getsockname()[1]
def serve():
    c, _ = srv.accept(); c.sendall(c.recv(16).upper()); c.close()
t = threading.Thread(target=serve, daemon=True); t.start()
cl = socket.create_connection(('127.0.0.1', port)); cl.sendall(b'ping')
print(cl.recv(16).decode()); t.join()
print(subprocess.run(['/bin/busybox', 'echo', 'sub'], capture_output=True, text=True).stdout.strip())
with open(sys.argv[1], 'w') as f: f.write('x')
print(open(sys.argv[1]).read())
";

/// python3 with threads, a subprocess, a TCP connection and a file written: recorded with
/// --policy-out, then run under both the profile and the policy (Landlock on this kernel).
#[test]
fn python_recorded_then_run_under_profile_and_policy() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let file = work.join("out.txt");
    let policy = dir.path().join("policy.yaml");
    // a private port, the same in both runs (a recorded policy names the ports it saw)
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port().to_string()
    };
    let cmd = [
        "/usr/bin/python3",
        "-c",
        PYTHON,
        file.to_str().unwrap(),
        &port,
    ];
    let (o, out) = record(
        dir.path(),
        &["--args", "--policy-out", policy.to_str().unwrap()],
        &cmd,
    );
    assert_eq!(text(&o.stdout), "PING\nsub\nx\n", "{}", text(&o.stderr));
    check_clean(&out);
    let profile = load(&out);
    let names = allowed(&profile);
    assert!(names.len() < 150, "{}", names.len());
    let policy_text = std::fs::read_to_string(&policy).unwrap();
    assert!(policy_text.contains("/usr/bin/python3"), "{policy_text}");
    assert!(
        policy_text.contains(&format!("\"{}/\"", work.display())),
        "{policy_text}"
    );
    std::fs::remove_file(&file).unwrap();
    let pol = format!("--policy={}", policy.display());
    let again = run_under(&out, &[&pol, "--lsm", "landlock"], &cmd);
    assert_eq!(
        text(&again.stdout),
        "PING\nsub\nx\n",
        "{}",
        text(&again.stderr)
    );
    // the policy holds: a file elsewhere cannot be written
    let elsewhere = dir.path().join("elsewhere.txt");
    let denied = run_under(
        &out,
        &[&pol, "--lsm", "landlock"],
        &[
            "/usr/bin/python3",
            "-c",
            PYTHON,
            elsewhere.to_str().unwrap(),
            &port,
        ],
    );
    assert!(!denied.status.success());
    assert!(
        text(&denied.stderr).contains("PermissionError"),
        "{}",
        text(&denied.stderr)
    );
}

#[test]
fn verify_runs_the_command_again_under_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let p = prog().to_str().unwrap();
    let (o, _) = record(
        dir.path(),
        &["--verify", "--report", report.to_str().unwrap()],
        &[p, "sysinfo", "threads:2"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    // the command's output, once recorded and once verified
    assert_eq!(text(&o.stdout), "sysinfo ok\nthreads ok\n".repeat(2));
    let r = load(&report);
    assert_eq!(r["verify"]["same"], true, "{r}");
    assert_eq!(r["complete"], true);
    assert!(r["docker_default_unused"].as_u64().unwrap() > 250, "{r}");
    assert!(r["recorder_peak_kib"].as_u64().unwrap() > 0);
}

#[test]
fn bad_input_and_exit_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let p = prog().to_str().unwrap();
    for (args, want) in [
        (vec!["--args=nosuchcall:1"], "not a system call"),
        (vec!["--args=ioctl:6"], "arguments 0 to 5"),
        (
            vec!["--security-opt", "seccomp=unconfined"],
            "cannot be given to record",
        ),
    ] {
        let (o, _) = record(dir.path(), &args, &[p, "sysinfo"]);
        assert_eq!(o.status.code(), Some(125), "{args:?}");
        assert!(
            text(&o.stderr).contains(want),
            "{args:?}: {}",
            text(&o.stderr)
        );
        assert!(o.stdout.is_empty(), "{args:?}: the command ran");
    }
    let (o, out) = record(dir.path(), &[], &["/no/such/program"]);
    assert_eq!(o.status.code(), Some(127), "{}", text(&o.stderr));
    assert!(!out.exists());
    let (o, _) = record(dir.path(), &[], &["/bin/busybox", "sh", "-c", "exit 7"]);
    assert_eq!(o.status.code(), Some(7));
    let (o, _) = record(
        dir.path(),
        &[],
        &["/bin/busybox", "sh", "-c", "kill -TERM $$"],
    );
    assert_eq!(o.status.code(), Some(128 + 15));
}

/// SIGINT to confine record: passed on to the command, and what was seen is written, marked
/// incomplete.
#[test]
fn an_interrupted_recording_is_written_marked_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.json");
    let child = Command::new(CONFINE)
        .args([
            "record",
            "-q",
            "-o",
            out.to_str().unwrap(),
            "--",
            "/bin/busybox",
            "sleep",
            "30",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", text(&o.stderr));
    let profile = load(&out);
    let comment = profile["syscalls"][0]["comment"].as_str().unwrap();
    assert!(comment.starts_with("INCOMPLETE"), "{comment}");
    assert!(
        text(&o.stderr).contains("INCOMPLETE"),
        "{}",
        text(&o.stderr)
    );
    assert!(allowed(&profile).contains(&"execve".to_string()));
    check_clean(&out);
}

/// An ordinary user records without any privilege (seccomp user notification needs
/// no_new_privs, which confine sets), and the re-run as that user passes.
#[test]
fn an_unprivileged_user_records() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = dir.path().join("p.json");
    let p = prog().to_str().unwrap();
    let as_nobody = |args: &[&str]| {
        Command::new("timeout")
            .args([
                "-s",
                "KILL",
                "60",
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
                CONFINE,
            ])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = as_nobody(&[
        "record",
        "-q",
        "-o",
        out.to_str().unwrap(),
        "--",
        p,
        "i386",
        "threads:2",
    ]);
    assert_eq!(
        text(&o.stdout),
        "i386 ok\nthreads ok\n",
        "{}",
        text(&o.stderr)
    );
    let opt = format!("seccomp={}", out.display());
    let again = as_nobody(&[
        "run",
        "-q",
        "--security-opt",
        &opt,
        "--",
        p,
        "i386",
        "threads:2",
    ]);
    assert_eq!(
        text(&again.stdout),
        "i386 ok\nthreads ok\n",
        "{}",
        text(&again.stderr)
    );
}

/// Two recordings of one program, each exercising one socket kind, joined with `confine
/// seccomp merge`: the union runs both.
#[test]
fn recordings_merge_with_their_argument_values_joined() {
    let dir = tempfile::tempdir().unwrap();
    let p = prog().to_str().unwrap();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    for (out, kind) in [(&a, "socket:1:1"), (&b, "socket:2:2")] {
        let o = confine(&[
            "record",
            "-q",
            "--args",
            "-o",
            out.to_str().unwrap(),
            "--",
            p,
            kind,
        ]);
        assert_eq!(text(&o.stdout), "socket ok\n", "{}", text(&o.stderr));
    }
    let merged = dir.path().join("m.json");
    let o = confine(&[
        "seccomp",
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "-o",
        merged.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    check_clean(&merged);
    let again = run_under(
        &merged,
        &[],
        &[p, "socket:1:1", "socket:2:2", "socket:10:1"],
    );
    assert_eq!(
        text(&again.stdout),
        "socket ok\nsocket ok\nsocket E1\n",
        "{}",
        text(&again.stderr)
    );
}

/// `--runtime runc` adds runc's measured list (crates/record/data/runtime-runc.txt) instead
/// of confine's own calls.
#[test]
fn runtime_lists_are_added() {
    let dir = tempfile::tempdir().unwrap();
    let p = prog().to_str().unwrap();
    let (o, out) = record(dir.path(), &["--runtime", "runc"], &[p, "sysinfo"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let names = allowed(&load(&out));
    let data = include_str!("../../record/data/runtime-runc.txt");
    for n in data
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        assert!(names.contains(&n.trim().to_string()), "{n} missing");
    }
    let (o, out) = record(dir.path(), &["--runtime", "none"], &[p, "sysinfo"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // confine's own setresuid (before the execve) is not the command's
    assert!(!allowed(&load(&out)).contains(&"setresuid".to_string()));
}

/// The live line is shown on a terminal only, and not with --quiet.
#[test]
fn the_live_line_is_for_terminals() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.json");
    let busy = "import os\nfor _ in range(150000): os.getppid()";
    let line = |quiet: bool| {
        let cmd = format!(
            "{CONFINE} record {} -o {} -- /usr/bin/python3 -c '{busy}'",
            if quiet { "-q" } else { "" },
            out.display()
        );
        let o = Command::new("timeout")
            .args(["-s", "KILL", "60", "script", "-qec", &cmd, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    assert!(line(false).contains("events/s"));
    assert!(!line(true).contains("events/s"));
    // not a terminal: no live line either
    let (o, _) = record(dir.path(), &[], &["/usr/bin/python3", "-c", busy]);
    assert!(!text(&o.stderr).contains("events/s"));
}

/// No call escapes: for a deterministic program, the recording counts every call strace
/// counts, per ABI and name (strace -c leaves out exit and exit_group, which do not return).
#[test]
fn every_call_strace_sees_is_recorded_as_often() {
    use std::collections::BTreeMap;
    let dir = tempfile::tempdir().unwrap();
    let p = prog().to_str().unwrap();
    let cmd = [p, "sysinfo", "i386", "x32", "socket:1:1", "sysinfo"];
    let counts = dir.path().join("strace.txt");
    let st = Command::new("strace")
        .args(["-f", "-qq", "-c", "-o", counts.to_str().unwrap()])
        .args(cmd)
        .stdout(Stdio::null())
        .status()
        .expect("strace (.ci/run installs it)");
    assert!(st.success());
    let mut seen_by_strace: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut abi = "x86_64";
    for l in std::fs::read_to_string(&counts).unwrap().lines() {
        if l.contains("32 bit mode") {
            abi = "x86";
        } else if l.contains("x32 mode") {
            abi = "x32";
        }
        let f: Vec<&str> = l.split_whitespace().collect();
        // % time, seconds, usecs/call, calls, [errors,] syscall
        if f.len() >= 5 && f[0].contains('.') && f[f.len() - 1] != "total" {
            let calls: u64 = f[3].parse().unwrap();
            *seen_by_strace
                .entry((abi.to_string(), f[f.len() - 1].to_string()))
                .or_default() += calls;
        }
    }
    let trace = dir.path().join("t.jsonl");
    let (o, _) = record(dir.path(), &["--trace", trace.to_str().unwrap()], &cmd);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut recorded: BTreeMap<(String, String), u64> = BTreeMap::new();
    for l in std::fs::read_to_string(&trace).unwrap().lines() {
        let e: Value = serde_json::from_str(l).unwrap();
        let name = e["name"].as_str().unwrap_or("?").to_string();
        if e["phase"] == "command" && name != "exit" && name != "exit_group" {
            *recorded
                .entry((e["abi"].as_str().unwrap().to_string(), name))
                .or_default() += 1;
        }
    }
    assert!(recorded.contains_key(&("x32".to_string(), "getpid".to_string())));
    assert_eq!(recorded, seen_by_strace);
}

/// The limits are said: a command's own seccomp listener gets EBUSY while recorded (it works
/// without recording), and the summary says why.
#[test]
fn a_commands_own_listener_is_refused_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let p = prog().to_str().unwrap();
    let (o, _) = record(dir.path(), &[], &[p, "listener"]);
    assert_eq!(text(&o.stdout), "listener E16\n");
    assert!(
        text(&o.stderr).contains(
            "note: the command installed a seccomp filter with its own listener: it got EBUSY"
        ),
        "{}",
        text(&o.stderr)
    );
    let bare = Command::new(p).arg("listener").output().unwrap();
    assert_eq!(text(&bare.stdout), "listener ok\n");
}

/// Executions in the policy are the ones that happened: an execve that failed (a file that
/// is not executable) gives no right, and one made by a thread that is not its process's
/// leader (the program then runs as the leader) is found.
#[test]
fn executions_are_the_ones_that_happened() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.yaml");
    let script = "import threading, os\n\
        try:\n    os.execv('/etc/hostname', ['x'])\nexcept OSError as e:\n    print('failed', e.errno, flush=True)\n\
        t = threading.Thread(target=lambda: os.execv('/bin/busybox', ['busybox', 'true']))\n\
        t.start(); t.join()";
    let (o, _) = record(
        dir.path(),
        &["--policy-out", policy.to_str().unwrap()],
        &["/usr/bin/python3", "-c", script],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).starts_with("failed "),
        "{}",
        text(&o.stdout)
    );
    let p = std::fs::read_to_string(&policy).unwrap();
    let executables: Vec<&str> = p
        .lines()
        .skip_while(|l| !l.contains("allowedExecutables"))
        .skip(1)
        .take_while(|l| l.starts_with("    - "))
        .collect();
    assert!(executables.iter().any(|l| l.contains("/busybox\"")), "{p}");
    assert!(
        !executables.iter().any(|l| l.contains("/etc/hostname")),
        "{p}"
    );
}

/// `--preserve-fds N` with fewer than N descriptors open: the command's 3 .. 3+N are
/// /dev/null, never the recorder's socket or pipe (notify) nor the recording's cgroup.procs
/// and eBPF descriptors (ebpf), which were once opened before the range was reserved.
#[test]
fn preserved_descriptors_are_never_the_recordings_own() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.json");
    let script = "for f in 3 4 5 6 7 8; do readlink /proc/self/fd/$f; done";
    let mut modes = vec!["notify"];
    // the eBPF mode needs root (effective uid 0) and BTF
    if std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
        && Path::new("/sys/kernel/btf/vmlinux").exists()
    {
        modes.push("ebpf");
    }
    for mode in modes {
        let o = confine(&[
            "record",
            "-q",
            "--mode",
            mode,
            "--preserve-fds",
            "6",
            "-o",
            out.to_str().unwrap(),
            "--",
            "/bin/busybox",
            "sh",
            "-c",
            script,
        ]);
        assert!(o.status.success(), "{mode}: {}", text(&o.stderr));
        assert_eq!(text(&o.stdout), "/dev/null\n".repeat(6), "{mode}");
    }
}
