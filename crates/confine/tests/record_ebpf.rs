//! `confine record --mode ebpf` on this host's kernel (root and BTF needed; skipped with the
//! reason otherwise): it records the same (ABI, name) pairs as notify mode on the same
//! workloads, labels the i386 call i386, counts only the recorded tree (sub-cgroups included),
//! says it is incomplete when a process leaves or enters that tree, leaves no program and no
//! cgroup behind (after a normal end and after SIGKILL), and refuses what it cannot do.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

const CONFINE: &str = env!("CARGO_BIN_EXE_confine");
const PROGRAM: &str = "confine_rec";

/// One eBPF test at a time: the leftover checks look at every loaded program.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn usable() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"));
    if !root {
        eprintln!("skipped: eBPF recording needs root");
        return false;
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!("skipped: no BTF (/sys/kernel/btf/vmlinux)");
        return false;
    }
    true
}

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

/// Record `cmd` in `mode`; the output and the report.
fn record(dir: &Path, mode: &str, cmd: &[&str]) -> (Output, Value) {
    let report = dir.join(format!("report-{mode}.json"));
    let out = dir.join(format!("p-{mode}.json"));
    let mut a = vec![
        "record",
        "-q",
        "--mode",
        mode,
        "-o",
        out.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--",
    ];
    a.extend(cmd);
    let o = confine(&a);
    assert!(o.status.success(), "{mode}: {}", text(&o.stderr));
    let r = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    (o, r)
}

/// The (ABI, name or #nr) pairs of a report.
fn calls(r: &Value) -> BTreeSet<(String, String)> {
    r["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let name = c["name"]
                .as_str()
                .map_or_else(|| format!("#{}", c["nr"]), str::to_string);
            (c["abi"].as_str().unwrap().to_string(), name)
        })
        .collect()
}

/// The ids of loaded programs named as the recording's (the counter and its trackers).
fn ours() -> BTreeSet<u32> {
    confine_kernel::bpf::loaded_programs()
        .unwrap()
        .into_iter()
        .filter(|p| p.name.starts_with(PROGRAM))
        .map(|p| p.id)
        .collect()
}

/// Wait up to 5 s for the programs `ids` to be gone (they are freed after an RCU grace
/// period).
fn gone(ids: &BTreeSet<u32>) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        if ours().is_disjoint(ids) {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The cgroup2 mount.
fn cgroup2() -> PathBuf {
    let m = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    m.lines()
        .find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            (right.split(' ').next()? == "cgroup2").then(|| left.split(' ').nth(4).unwrap().into())
        })
        .unwrap()
}

fn cgroups_of(pid: u32) -> Vec<String> {
    std::fs::read_dir(cgroup2())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("confine-record-{pid}-")))
        .collect()
}

#[test]
fn ebpf_records_what_notify_records() {
    if !usable() {
        return;
    }
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let p = prog().to_str().unwrap();
    let late = dir.path().join("late");
    let script = format!(
        "echo abc | tr a x; ( ( sleep 0.3; echo late > {} ) & ); echo main",
        late.display()
    );
    let workloads: [Vec<&str>; 2] = [
        vec![p, "i386", "x32", "threads:8", "sysinfo"],
        vec!["/bin/busybox", "sh", "-c", &script],
    ];
    for cmd in &workloads {
        let (on, rn) = record(dir.path(), "notify", cmd);
        let _ = std::fs::remove_file(&late);
        let (oe, re) = record(dir.path(), "ebpf", cmd);
        assert_eq!(text(&on.stdout), text(&oe.stdout));
        assert_eq!(rn["mode"], "notify");
        assert_eq!(re["mode"], "ebpf");
        assert_eq!(re["arguments_recorded"], false);
        assert_eq!(re["complete"], true, "{re}");
        let (n, e) = (calls(&rn), calls(&re));
        // futex is a matter of timing between threads: either mode may or may not see it
        let timing = |s: &BTreeSet<(String, String)>| -> BTreeSet<(String, String)> {
            s.iter().filter(|(_, n)| n != "futex").cloned().collect()
        };
        assert_eq!(
            timing(&n),
            timing(&e),
            "{cmd:?}: notify only {:?}, ebpf only {:?}",
            n.difference(&e).collect::<Vec<_>>(),
            e.difference(&n).collect::<Vec<_>>()
        );
        // the profiles are the same (the names and the architectures)
        let load = |m: &str| -> Value {
            serde_json::from_slice(&std::fs::read(dir.path().join(format!("p-{m}.json"))).unwrap())
                .unwrap()
        };
        assert_eq!(
            load("notify")["architectures"],
            load("ebpf")["architectures"]
        );
    }
    // --until all waited for the double-forked writer
    assert!(late.exists());
    // the int 0x80 getpid is i386's, counted once; the x32 one x32's
    let (_, re) = record(dir.path(), "ebpf", &workloads[0]);
    let list = re["calls"].as_array().unwrap();
    let find = |abi: &str| list.iter().find(|c| c["abi"] == abi).cloned();
    let i386 = find("x86").expect("an i386 call");
    assert_eq!(
        (i386["name"].as_str(), i386["nr"].as_u64()),
        (Some("getpid"), Some(20))
    );
    assert_eq!(i386["count"], 1);
    assert_eq!(find("x32").unwrap()["name"], "getpid");
    assert!(!list
        .iter()
        .any(|c| c["abi"] == "x86_64" && c["name"] == "writev"));
}

#[test]
fn nothing_is_left_behind() {
    if !usable() {
        return;
    }
    let _one = serial();
    let before = ours();
    // a normal end: the program and the cgroup are gone
    let child = Command::new(CONFINE)
        .args([
            "record",
            "-q",
            "--mode",
            "ebpf",
            "--",
            "/bin/busybox",
            "sleep",
            "0.3",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut seen = BTreeSet::new();
    let until = Instant::now() + Duration::from_secs(10);
    // the counter and its three trackers
    while seen.len() < 4 && Instant::now() < until {
        seen = &ours() - &before;
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        seen.len(),
        4,
        "the recording's programs were never all seen loaded"
    );
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(gone(&seen), "programs {seen:?} remain after confine exited");
    assert!(cgroups_of(pid).is_empty(), "{:?}", cgroups_of(pid));

    // SIGKILL mid-recording: the program goes with confine's descriptors
    let mut child = Command::new(CONFINE)
        .args([
            "record",
            "-q",
            "--mode",
            "ebpf",
            "--",
            "/bin/busybox",
            "sleep",
            "30",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut seen = BTreeSet::new();
    let until = Instant::now() + Duration::from_secs(10);
    while (seen.len() < 4 || cgroups_of(pid).is_empty()) && Instant::now() < until {
        seen = &ours() - &before;
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(seen.len(), 4);
    let stale = cgroups_of(pid);
    assert_eq!(stale.len(), 1);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(gone(&seen), "programs {seen:?} remain after SIGKILL");
    // the stale cgroup (empty once the command's namespace is gone) is removed by the next
    // recording
    let events = cgroup2().join(&stale[0]).join("cgroup.events");
    let until = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&events).is_ok_and(|t| t.contains("populated 1"))
        && Instant::now() < until
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = confine(&[
        "record",
        "-q",
        "--mode",
        "ebpf",
        "--",
        "/bin/busybox",
        "true",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!cgroup2().join(&stale[0]).exists());
}

#[test]
fn processes_outside_the_tree_are_not_counted() {
    if !usable() {
        return;
    }
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    // beside the recording: a loop of sysinfo calls (the recorded sleep makes none)
    let p = prog().to_str().unwrap();
    let loop_ = format!("while :; do {p} sysinfo sysinfo sysinfo; done");
    let mut busy = Command::new("/bin/busybox")
        .args(["sh", "-c", &loop_])
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let (_, r) = record(dir.path(), "ebpf", &["/bin/busybox", "sleep", "0.5"]);
    let _ = busy.kill();
    let out = busy.wait_with_output().unwrap();
    assert!(
        text(&out.stdout).contains("sysinfo ok"),
        "the busy loop did not run"
    );
    let c = calls(&r);
    assert!(c.contains(&("x86_64".into(), "execve".into())), "{c:?}");
    assert!(!c.iter().any(|(_, n)| n == "sysinfo"), "{c:?}");
}

#[test]
fn notify_only_options_are_refused_and_auto_says_which_mode() {
    if !usable() {
        return;
    }
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x").to_str().unwrap().to_string();
    for extra in [
        vec!["--args"],
        vec!["--policy-out", &f],
        vec!["--trace", &f],
    ] {
        let mut a = vec!["record", "--mode", "ebpf"];
        a.extend(&extra);
        a.extend(["--", "/bin/true"]);
        let o = confine(&a);
        assert_eq!(o.status.code(), Some(125), "{extra:?}");
        let err = text(&o.stderr);
        assert!(
            err.contains(extra[0]) && err.contains("--mode notify"),
            "{err}"
        );
    }
    let o = confine(&["record", "--mode", "auto", "--", "/bin/true"]);
    assert!(o.status.success());
    assert!(
        text(&o.stderr).starts_with("confine record: mode ebpf ("),
        "{}",
        text(&o.stderr)
    );
    assert!(text(&o.stderr).contains("mode ebpf: calls counted"));
    let o = confine(&["record", "--mode", "auto", "--args", "--", "/bin/true"]);
    assert!(o.status.success());
    assert!(
        text(&o.stderr).starts_with("confine record: mode notify (--args needs it)"),
        "{}",
        text(&o.stderr)
    );
    // quiet: not said
    let o = confine(&["record", "-q", "--mode", "auto", "--", "/bin/true"]);
    assert!(!text(&o.stderr).contains("mode ebpf ("));
    // the command's status passes through
    let o = confine(&[
        "record", "-q", "--mode", "ebpf", "--", "/bin/sh", "-c", "exit 7",
    ]);
    assert_eq!(o.status.code(), Some(7));
}

#[test]
fn the_live_line_reads_the_map() {
    if !usable() {
        return;
    }
    let _one = serial();
    let cmd = format!("{CONFINE} record --mode ebpf -- /bin/busybox sleep 0.8");
    let o = Command::new("timeout")
        .args(["-s", "KILL", "60", "script", "-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("syscalls (ebpf)"),
        "{}",
        text(&o.stdout)
    );
}

/// `--until main` without a pid namespace: what the command left running in the cgroup is
/// killed with it (`cgroup.kill`), and the cgroup removed.
#[test]
fn until_main_kills_what_is_left_in_the_cgroup() {
    if !usable() {
        return;
    }
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let late = dir.path().join("late");
    let script = format!("( sleep 0.5; echo late > {} ) & echo main", late.display());
    let child = Command::new(CONFINE)
        .args(["record", "-q", "--mode", "ebpf", "--unsafe-share-processes"])
        .args(["--until", "main", "--", "/bin/busybox", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let child = child.wait_with_output().unwrap();
    assert!(child.status.success(), "{}", text(&child.stderr));
    assert_eq!(text(&child.stdout), "main\n");
    std::thread::sleep(Duration::from_millis(800));
    assert!(!late.exists(), "--until main left the writer running");
    assert!(cgroups_of(pid).is_empty(), "{:?}", cgroups_of(pid));
}

/// Wait up to 10 s for confine `pid`'s recording cgroup to hold a process; its directory.
fn populated_cgroup_of(pid: u32) -> PathBuf {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(name) = cgroups_of(pid).first() {
            let dir = cgroup2().join(name);
            if std::fs::read_to_string(dir.join("cgroup.events"))
                .is_ok_and(|t| t.contains("populated 1"))
            {
                return dir;
            }
        }
        assert!(Instant::now() < until, "no populated recording cgroup");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Record `cmd` with eBPF in the background, into `dir`'s report.
fn spawn_record(dir: &Path, cmd: &[&str]) -> (std::process::Child, PathBuf) {
    let report = dir.join("report-bg.json");
    let child = Command::new(CONFINE)
        .args(["record", "-q", "--mode", "ebpf", "-o"])
        .arg(dir.join("p-bg.json"))
        .arg("--report")
        .arg(&report)
        .arg("--")
        .args(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (child, report)
}

/// The command forks a child into the cgroup2 root (clone3 with CLONE_INTO_CGROUP and a
/// read-only descriptor of the directory): the child's calls are not counted, and the
/// recording says so.
#[test]
fn a_child_forked_out_of_the_cgroup_makes_the_recording_incomplete() {
    if !usable() {
        return;
    }
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let arg = format!("clone3into:{}", cgroup2().display());
    let (o, r) = record(dir.path(), "ebpf", &[prog().to_str().unwrap(), &arg]);
    assert_eq!(text(&o.stdout), "clone3 ok\n", "{}", text(&o.stderr));
    assert_eq!(r["complete"], false, "{r}");
    let why = r["incomplete"].as_str().unwrap();
    assert!(
        why.contains("1 process left the recording's cgroup"),
        "{why}"
    );
    assert_eq!(r["ebpf_losses"]["left"], 1, "{r}");
    assert_eq!(r["ebpf_losses"]["entered"], 0, "{r}");
    // the child's sysinfo happened outside: not counted
    assert!(!calls(&r).iter().any(|(_, n)| n == "sysinfo"), "{r}");
}

/// A process of the command moved into a sub-cgroup of the recording's cgroup: its calls (and
/// its children's) are counted, the recording is complete, and both cgroups are removed.
#[test]
fn a_sub_cgroup_is_counted_and_removed() {
    if !usable() {
        return;
    }
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("go");
    let script = format!(
        "while [ ! -e {} ]; do sleep 0.05; done; {} sysinfo",
        flag.display(),
        prog().display()
    );
    let (child, report) = spawn_record(dir.path(), &["/bin/busybox", "sh", "-c", &script]);
    let pid = child.id();
    let cg = populated_cgroup_of(pid);
    let shell = std::fs::read_to_string(cg.join("cgroup.procs")).unwrap();
    let shell = shell.lines().next().unwrap().to_string();
    let sub = cg.join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("cgroup.procs"), &shell).unwrap();
    std::fs::write(&flag, "").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "sysinfo ok\n");
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["complete"], true, "{r}");
    assert!(
        calls(&r).contains(&("x86_64".into(), "sysinfo".into())),
        "{r}"
    );
    assert!(cgroups_of(pid).is_empty(), "{:?}", cgroups_of(pid));
}

/// A root process outside forks a child into a running recording's cgroup (clone3 with
/// CLONE_INTO_CGROUP), and moves another process in through cgroup.procs: their calls would
/// widen the profile, and the recording says it is incomplete.
#[test]
fn processes_entering_from_outside_make_the_recording_incomplete() {
    if !usable() {
        return;
    }
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("go");
    let script = format!("while [ ! -e {} ]; do sleep 0.05; done", flag.display());
    let (child, report) = spawn_record(dir.path(), &["/bin/busybox", "sh", "-c", &script]);
    let pid = child.id();
    let cg = populated_cgroup_of(pid);
    // by fork
    let o = Command::new(prog())
        .arg(format!("clone3into:{}", cg.display()))
        .output()
        .unwrap();
    assert_eq!(text(&o.stdout), "clone3 ok\n");
    // by a move
    let mut sleeper = Command::new("/bin/busybox")
        .args(["sleep", "0.2"])
        .spawn()
        .unwrap();
    std::fs::write(cg.join("cgroup.procs"), sleeper.id().to_string()).unwrap();
    sleeper.wait().unwrap();
    std::fs::write(&flag, "").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["complete"], false, "{r}");
    let why = r["incomplete"].as_str().unwrap();
    assert!(
        why.contains("2 processes from outside entered the recording's cgroup"),
        "{why}"
    );
    assert_eq!(r["ebpf_losses"]["entered"], 2, "{r}");
    assert_eq!(r["ebpf_losses"]["joins"], 2, "{r}");
    assert_eq!(r["ebpf_losses"]["left"], 0, "{r}");
    // the injected sysinfo was counted: that is what the mark is for
    assert!(
        calls(&r).contains(&("x86_64".into(), "sysinfo".into())),
        "{r}"
    );
    assert!(cgroups_of(pid).is_empty(), "{:?}", cgroups_of(pid));
}

/// A process of the command moved out of the recording's cgroup through the root's
/// cgroup.procs: its calls afterwards are not counted, and the recording says so.
#[test]
fn a_process_moved_out_makes_the_recording_incomplete() {
    if !usable() {
        return;
    }
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("go");
    let script = format!(
        "while [ ! -e {} ]; do sleep 0.05; done; {} sysinfo",
        flag.display(),
        prog().display()
    );
    let (child, report) = spawn_record(dir.path(), &["/bin/busybox", "sh", "-c", &script]);
    let pid = child.id();
    let cg = populated_cgroup_of(pid);
    let shell = std::fs::read_to_string(cg.join("cgroup.procs")).unwrap();
    let shell = shell.lines().next().unwrap().to_string();
    std::fs::write(cgroup2().join("cgroup.procs"), &shell).unwrap();
    std::fs::write(&flag, "").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "sysinfo ok\n");
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["complete"], false, "{r}");
    assert_eq!(r["ebpf_losses"]["left"], 1, "{r}");
    assert_eq!(r["ebpf_losses"]["entered"], 0, "{r}");
    assert!(!calls(&r).iter().any(|(_, n)| n == "sysinfo"), "{r}");
    assert!(cgroups_of(pid).is_empty(), "{:?}", cgroups_of(pid));
}

/// A command with CAP_SYS_ADMIN mounts cgroup2 itself: a sub-cgroup it makes and moves into
/// is counted (complete, and removed at the end); a move of itself to the root's
/// cgroup.procs is a leaving, and the recording says so.
#[test]
fn a_command_moving_itself_is_counted_inside_and_caught_outside() {
    if !usable() {
        return;
    }
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let p = prog().to_str().unwrap().to_string();
    let mount = "m=$(mktemp -d) && mount -t cgroup2 none $m && \
                 d=$(grep '^0::' /proc/self/cgroup | cut -d: -f3)";
    let cases = [
        (
            format!("{mount} && mkdir $m$d/sub && echo 0 > $m$d/sub/cgroup.procs && {p} sysinfo"),
            true,
        ),
        (
            format!("{mount} && echo 0 > $m/cgroup.procs && {p} sysinfo"),
            false,
        ),
    ];
    for (script, inside) in cases {
        let cmd = [
            "--cap-add",
            "SYS_ADMIN",
            "--",
            "/bin/busybox",
            "sh",
            "-c",
            &script,
        ];
        let report = dir.path().join("report-self.json");
        let mut a = vec!["record", "-q", "--mode", "ebpf", "--report"];
        a.push(report.to_str().unwrap());
        a.extend(cmd);
        let o = confine(&a);
        assert!(o.status.success(), "{script}: {}", text(&o.stderr));
        assert_eq!(text(&o.stdout), "sysinfo ok\n", "{script}");
        let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        let counted = calls(&r).contains(&("x86_64".into(), "sysinfo".into()));
        assert_eq!(counted, inside, "{script}: {r}");
        assert_eq!(r["complete"], inside, "{script}: {r}");
        assert_eq!(r["ebpf_losses"]["left"], u64::from(!inside), "{r}");
        assert_eq!(r["ebpf_losses"]["joins"], 1, "{r}");
    }
    // the sub-cgroup went with the recording's cgroup: no recording cgroup has one left
    let subs: Vec<PathBuf> = std::fs::read_dir(cgroup2())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("confine-record-")
        })
        .map(|e| e.path().join("sub"))
        .filter(|s| s.exists())
        .collect();
    assert!(subs.is_empty(), "{subs:?}");
}
