//! `confine inspect` on live processes started here (plain, under `confine run`, under two
//! stacked libseccomp filters with argument conditions, in a user namespace), checked against
//! /proc and against the emulator run on the filters the kernel returns; saved /proc snapshots
//! for what this kernel cannot show (AppArmor, SELinux, the seed's redis-server, an old kernel);
//! a hidepid procfs in a private mount namespace.

use confine_bpf::emu::{Emulator, SeccompData};
use confine_test_support::run::confine;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn json_of(args: &[&str]) -> Vec<Value> {
    let o = confine(args);
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A child that is killed when the test ends.
struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `cmd`, wait until it prints its first line (it is then confined), return it.
fn start(cmd: &mut Command) -> Guard {
    let mut c = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(c.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    Guard(c)
}

fn pid_of_sleeper(g: &Guard) -> u32 {
    // the sleeper is the child itself or a descendant (under confine run: its child, or the
    // child of confine's init in the command's pid namespace); it may still be exec'ing
    let comm = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let children = |pid: u32| -> Vec<u32> {
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .map(|k| k.parse().unwrap())
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut todo = vec![g.0.id()];
        while let Some(p) = todo.pop() {
            if comm(p).trim() == "sleep" {
                return p;
            }
            todo.extend(children(p));
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no sleep under {}",
            g.0.id()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn verdict<'a>(v: &'a Value, arch: &str, name: &str) -> &'a Value {
    let a = v["seccomp"]["decoded"]["arches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["arch"] == arch)
        .unwrap();
    &a["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name} on {arch}"))["verdict"]
}

#[test]
fn a_plain_process_matches_proc() {
    let g = start(Command::new("sh").args(["-c", "echo up; exec sleep 60"]));
    // once it has exec'd: before, `comm` could still read `sh`
    let pid = pid_of_sleeper(&g);
    let v = &json_of(&["inspect", "--json", &pid.to_string()])[0];
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |k: &str| confine_test_support::status::get(&status, k).unwrap();
    assert_eq!(v["pid"], pid);
    assert_eq!(v["comm"], "sleep");
    assert_eq!(v["capabilities"]["bounding"]["hex"], field("CapBnd"));
    assert_eq!(v["capabilities"]["effective"]["hex"], field("CapEff"));
    assert_eq!(v["seccomp"]["mode"], "disabled");
    assert_eq!(v["no_new_privs"], field("NoNewPrivs") == "1");
    let uid: Vec<u64> = field("Uid")
        .split('\t')
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(v["uid"], serde_json::json!(uid));
    for ns in v["namespaces"].as_array().unwrap() {
        let link =
            std::fs::read_link(format!("/proc/{pid}/ns/{}", ns["kind"].as_str().unwrap())).unwrap();
        assert!(
            link.to_string_lossy().contains(&ns["inode"].to_string()),
            "{ns}"
        );
        assert_eq!(ns["verdict"], "host", "{ns}");
    }
    assert_eq!(v["exe"], "/usr/bin/sleep");
    assert_eq!(v["landlock"]["available"], true);
    assert_eq!(v["landlock"]["process"], "not exposed by the kernel");
}

#[test]
fn a_process_under_confine_run_is_identified() {
    let g = start(Command::new(env!("CARGO_BIN_EXE_confine")).args([
        "run",
        "--",
        "sh",
        "-c",
        "echo up; exec sleep 60",
    ]));
    let pid = pid_of_sleeper(&g).to_string();
    let v = &json_of(&["inspect", "--json", "--syscalls", &pid])[0];
    assert_eq!(v["seccomp"]["mode"], "filter");
    assert_eq!(v["capabilities"]["bounding"]["docker_default"], true);
    let d = &v["seccomp"]["decoded"];
    assert!(d["identified"]
        .as_str()
        .unwrap()
        .starts_with("docker-default, confine's compilation for this host"));
    assert_eq!(verdict(v, "x86_64", "read")["action"], "ALLOW");
    assert_eq!(verdict(v, "x86_64", "mount")["action"], "ERRNO(EPERM)");
    assert_eq!(verdict(v, "x86_64", "clone3")["action"], "ERRNO(ENOSYS)");
    assert!(verdict(v, "x86_64", "personality")["depends"].is_array());
    // the compare mode: equivalent to the builtin profile (exit 0), not to a stricter one
    let o = confine(&["inspect", "--compare", "builtin", &pid]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("equivalent"));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("strict.json");
    std::fs::write(
        &p,
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write","exit_group"],"action":"SCMP_ACT_ALLOW"}]}"#,
    )
    .unwrap();
    let o = confine(&["inspect", "--compare", p.to_str().unwrap(), &pid]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("differences"));
}

/// `--compare` (issue 13): an unreadable or wrong profile is bad input (exit 2, before any
/// process is read); a profile that resolves to no filter (`{}`) differs from a filtered
/// process (exit 1, the differences listed); a process without a filter differs from a
/// profile that installs one, and the report says so.
#[test]
fn compare_exit_codes_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let empty = write("empty.json", "{}");
    let bad = write("bad.json", r#"{"defaultAction": "SCMP_ACT_NOPE"}"#);
    let missing = dir.path().join("missing.json");
    let missing = missing.to_str().unwrap();
    let filtered = start(Command::new(env!("CARGO_BIN_EXE_confine")).args([
        "run",
        "--",
        "sh",
        "-c",
        "echo up; exec sleep 60",
    ]));
    let filtered = pid_of_sleeper(&filtered).to_string();
    let plain = start(Command::new("sh").args(["-c", "echo up; exec sleep 60"]));
    let plain = plain.0.id().to_string();

    // before: exit 0, the error shown as "unreadable" in the report
    for (p, want) in [
        (missing, "cannot read seccomp profile"),
        (bad.as_str(), "unknown action `SCMP_ACT_NOPE`"),
    ] {
        let o = confine(&["inspect", "--compare", p, &filtered]);
        assert_eq!(o.status.code(), Some(2), "{p}");
        assert!(o.stdout.is_empty());
        assert!(String::from_utf8_lossy(&o.stderr).contains(want), "{p}");
    }

    // before: `{}` against a filtered process was "unreadable" and exit 0
    let o = confine(&["inspect", "--compare", &empty, &filtered]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("compared with {empty}: "))
            && out.contains(" differences: the profile resolves to no filter"),
        "{out}"
    );
    assert!(
        out.contains("    x86_64 mount: running ERRNO(EPERM) / profile ALLOW\n"),
        "{out}"
    );
    let v = &json_of(&["inspect", "--json", "--compare", &empty, &filtered])[0];
    assert_eq!(v["seccomp"]["decoded"]["compared"]["equivalent"], false);

    // before: exit 1 with no line saying why
    let o = confine(&["inspect", "--compare", "builtin", &plain]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("  none: seccomp is disabled (every syscall is allowed)\n")
            && out.contains(": the process has no seccomp filter (every syscall is allowed); the profile installs one\n")
            && out.contains("    x86_64 uselib: running ALLOW / profile ERRNO(EPERM)\n"),
        "{out}"
    );
    // a process without a filter and a profile without one decide alike
    let o = confine(&["inspect", "--compare", &empty, &plain]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("equivalent"));
    // the --all table names the processes that differ
    let o = confine(&["inspect", "--all", "--compare", &empty]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(&format!("  {filtered}: differs on ")), "{out}");
}

const STACKED: &str = r#"
import errno, os, sys, seccomp
f = seccomp.SyscallFilter(seccomp.ALLOW)
f.add_rule(seccomp.ERRNO(errno.EPERM), "personality", seccomp.Arg(0, seccomp.EQ, 0xffffffff))
f.add_rule(seccomp.ERRNO(errno.EACCES), "mkdir")
f.load()
g = seccomp.SyscallFilter(seccomp.ALLOW)
g.add_rule(seccomp.ERRNO(errno.ENOENT), "rmdir")
g.add_rule(seccomp.ERRNO(errno.EPERM), "mkdir")
g.add_rule(seccomp.KILL_PROCESS, "acct")
g.load()
print("up", flush=True)
os.execv("/bin/sleep", ["sleep", "60"])
"#;

#[test]
fn stacked_libseccomp_filters_decode_like_the_emulator() {
    let g = start(Command::new("/usr/bin/python3").args(["-c", STACKED]));
    let pid = g.0.id();
    let v = &json_of(&["inspect", "--json", "--syscalls", &pid.to_string()])[0];
    assert_eq!(v["seccomp"]["filters"], 2);
    assert_eq!(v["no_new_privs"], true);
    // precedence: the newest filter's EPERM wins the tie with the older EACCES (both ERRNO)
    assert_eq!(verdict(v, "x86_64", "mkdir")["action"], "ERRNO(EPERM)");
    assert_eq!(verdict(v, "x86_64", "rmdir")["action"], "ERRNO(ENOENT)");
    assert_eq!(verdict(v, "x86_64", "acct")["action"], "KILL_PROCESS");
    let p = verdict(v, "x86_64", "personality")["depends"]
        .as_array()
        .unwrap()
        .clone();
    assert!(p.iter().any(|c| c["action"] == "ERRNO(EPERM)"
        && c["when"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("0xffffffff"))));
    assert_eq!(verdict(v, "x86_64", "read")["action"], "ALLOW");

    // the kernel's programs, run in the emulator, agree with every decoded fixed verdict
    let filters = confine_kernel::ptrace::seccomp_filters(pid as i32).unwrap();
    assert_eq!(filters.len(), 2);
    let emus: Vec<Emulator> = filters.iter().map(|f| Emulator::new(f).unwrap()).collect();
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut rnd = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut checked = 0;
    for a in v["seccomp"]["decoded"]["arches"].as_array().unwrap() {
        let arch = confine_abi::Arch::parse(a["arch"].as_str().unwrap()).unwrap();
        for s in a["syscalls"].as_array().unwrap() {
            let Some(ret) = s["verdict"]["ret"].as_u64() else {
                continue;
            };
            for _ in 0..3 {
                let d = SeccompData {
                    nr: s["nr"].as_u64().unwrap() as u32,
                    arch: arch.audit_arch(),
                    instruction_pointer: rnd(),
                    args: [rnd(), rnd(), rnd(), rnd(), rnd(), rnd()],
                };
                let got = confine_bpf::stack::eval_stack(&emus, &d, arch.is_little_endian());
                assert_eq!(u64::from(got), ret, "{arch} {}", s["nr"]);
                checked += 1;
            }
        }
    }
    assert!(checked > 3000, "{checked}");
}

#[test]
fn a_user_namespace_is_private() {
    let g = start(Command::new("unshare").args(["-U", "-r", "sh", "-c", "echo up; exec sleep 60"]));
    let pid = g.0.id().to_string();
    let v = &json_of(&["inspect", "--json", &pid])[0];
    let user = v["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "user")
        .unwrap();
    assert_eq!(user["verdict"], "private");
    assert_eq!(
        v["uid_map"],
        serde_json::json!([{"inside": 0, "outside": 0, "count": 1}])
    );
    // the pid namespace is still the host's
    let pidns = v["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "pid")
        .unwrap();
    assert_eq!(pidns["verdict"], "host");
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proc")
}

#[test]
fn saved_snapshots_render_field_by_field() {
    let root = fixtures();
    let r = root.to_str().unwrap();
    // the seed's redis-server, verbatim status, AppArmor docker-default, in Docker
    let v = &json_of(&[
        "inspect",
        "--proc-copy",
        r,
        "--lsm",
        "capability,apparmor",
        "--json",
        "4711",
    ])[0];
    assert_eq!(v["apparmor"]["label"], "docker-default");
    assert_eq!(v["apparmor"]["mode"], "enforce");
    assert_eq!(v["seccomp"]["mode"], "filter");
    assert_eq!(v["seccomp"]["filters"], 1);
    assert_eq!(v["no_new_privs"], false);
    assert_eq!(v["capabilities"]["bounding"]["docker_default"], true);
    assert_eq!(v["capabilities"]["inheritable"]["hex"], "00000000a80425fb");
    assert_eq!(v["capabilities"]["inheritable_nonempty"], true);
    assert_eq!(
        v["capabilities"]["effective"]["names"],
        serde_json::json!([])
    );
    assert_eq!(v["uid"], serde_json::json!([999, 999, 999, 999]));
    assert_eq!(v["container"]["runtime"], "docker");
    assert_eq!(v["cmdline"], "redis-server *:6379");
    let text = String::from_utf8(
        confine(&["inspect", "--proc-copy", r, "--lsm", "apparmor", "4711"]).stdout,
    )
    .unwrap();
    assert!(
        text.contains("  apparmor      docker-default (enforce)\n"),
        "{text}"
    );
    assert!(text.contains("CVE-2022-24769"));
    assert!(text.contains("  effective     none\n"));
    assert!(text.contains("  container     docker 3f1c2b9d8e7a (from cgroup)\n"));

    // SELinux container_t under CRI-O (Podman's 11 default caps), SELinux active
    let v = &json_of(&[
        "inspect",
        "--proc-copy",
        r,
        "--lsm",
        "capability,selinux",
        "--json",
        "5000",
    ])[0];
    assert_eq!(
        v["selinux"]["context"],
        "system_u:system_r:container_t:s0:c123,c456"
    );
    assert_eq!(v["apparmor"]["state"], "no LSM");
    assert_eq!(v["container"]["runtime"], "cri-o");
    assert_eq!(
        v["capabilities"]["bounding_vs_docker"]["missing"],
        serde_json::json!(["net_raw", "mknod", "audit_write"])
    );
    assert_eq!(v["no_new_privs"], true);

    // an old kernel without NoNewPrivs / Seccomp_filters, and a non-UTF-8 name
    let v = &json_of(&[
        "inspect",
        "--proc-copy",
        r,
        "--lsm",
        "capability",
        "--json",
        "6000",
    ])[0];
    assert_eq!(v["no_new_privs"], Value::Null);
    assert_eq!(v["seccomp"]["filters"], Value::Null);
    assert_eq!(v["capabilities"]["ambient"], Value::Null);
    assert_eq!(v["comm"], "sl\u{fffd}eep");
    let text = String::from_utf8(
        confine(&["inspect", "--proc-copy", r, "--lsm", "capability", "6000"]).stdout,
    )
    .unwrap();
    assert!(
        text.contains("  no_new_privs  not shown by this kernel\n"),
        "{text}"
    );
    assert!(text.contains("  ambient       not shown by this kernel\n"));

    // the table groups by container
    let t = String::from_utf8(
        confine(&["inspect", "--proc-copy", r, "--lsm", "apparmor", "--all"]).stdout,
    )
    .unwrap();
    let heads: Vec<&str> = t.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(
        heads,
        [
            "host (1 processes)",
            "cri-o 9d8e7a6f5e4d (1 processes)",
            "docker 3f1c2b9d8e7a (1 processes)"
        ]
    );
}

#[test]
fn all_processes_and_errors() {
    let g = start(Command::new("sh").args(["-c", "echo up; exec sleep 60"]));
    let pid = g.0.id();
    let all = json_of(&["inspect", "--all", "--json"]);
    assert!(all.len() > 3);
    assert!(all.iter().any(|v| v["pid"] == pid));
    let o = confine(&["inspect", "--all"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("PID    PPID"));
    // a pid that does not exist: a message, exit 2, nothing invented
    let o = confine(&["inspect", "4194304"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no process 4194304"));
    // no colour unless asked (stdout is a pipe here)
    let o = confine(&["inspect", &pid.to_string()]);
    assert!(!String::from_utf8_lossy(&o.stdout).contains('\x1b'));
    let o = confine(&["inspect", "--color", "always", &pid.to_string()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("\x1b[1m"));
    // --threads on a multi-threaded process (the test harness itself)
    let o = confine(&["inspect", "--threads", &std::process::id().to_string()]);
    assert!(o.status.success());
}

/// The pids of the kernel's threads as /proc shows them (Kthread: 1, or PF_KTHREAD in stat).
fn kernel_threads() -> Vec<u64> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u64>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let flags: u64 = stat[stat.rfind(')').unwrap() + 1..]
            .split_whitespace()
            .nth(6)
            .unwrap()
            .parse()
            .unwrap();
        if flags & 0x0020_0000 != 0 {
            v.push(pid);
        }
    }
    v
}

#[test]
fn all_leaves_out_kernel_threads_unless_asked() {
    let g = start(Command::new("sh").args(["-c", "echo up; exec sleep 60"]));
    let pid = u64::from(g.0.id());
    let kthreads = kernel_threads();
    assert!(!kthreads.is_empty(), "this kernel shows no kernel thread");
    let pids = |args: &[&str]| -> Vec<u64> {
        json_of(args)
            .iter()
            .map(|v| v["pid"].as_u64().unwrap())
            .collect()
    };
    let default = pids(&["inspect", "--all", "--json"]);
    assert!(default.contains(&pid));
    assert!(
        !default.iter().any(|p| kthreads.contains(p)),
        "kernel threads in --all: {:?}",
        default
            .iter()
            .filter(|p| kthreads.contains(p))
            .collect::<Vec<_>>()
    );
    let every = pids(&["inspect", "--all", "--kernel-threads", "--json"]);
    assert!(every.contains(&pid));
    // threads that ended between the two scans aside, every kernel thread is there
    let shown = kthreads.iter().filter(|p| every.contains(p)).count();
    assert!(
        shown * 10 >= kthreads.len() * 9,
        "{shown} of {}",
        kthreads.len()
    );
    // and the JSON says which they are
    for v in json_of(&["inspect", "--all", "--kernel-threads", "--json"]) {
        let p = v["pid"].as_u64().unwrap();
        if kthreads.contains(&p) {
            assert_eq!(v["kernel_thread"], true, "{v}");
        }
        if p == pid || default.contains(&p) {
            assert_eq!(v["kernel_thread"], false, "{v}");
        }
    }
    // the table says how many it left out
    let o = confine(&["inspect", "--all"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("kernel threads left out: --kernel-threads shows them"),
        "{text}"
    );
    // --kernel-threads alone is a usage error
    assert_eq!(
        confine(&["inspect", "--kernel-threads"]).status.code(),
        Some(2)
    );
}

#[test]
fn a_hidepid_procfs_hides_without_breaking_anything() {
    // a fresh procfs with hidepid=2, mounted in a private mount namespace (the machine's /proc
    // is never touched), read by an unprivileged user
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("proc");
    std::fs::create_dir(&mnt).unwrap();
    let script = r#"mount -t proc -o hidepid=2 proc "$1" && exec setpriv --reuid 65534 --regid 65534 --clear-groups "$2" inspect --proc "$1" --all --json"#;
    let o = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script, "sh"])
        .arg(&mnt)
        .arg(env!("CARGO_BIN_EXE_confine"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // only the user's own processes are visible: confine itself
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|v| v["uid"][0] == 65534), "{lines:?}");
    // and PID 1 is reported missing, not invented
    let script = r#"mount -t proc -o hidepid=2 proc "$1" && exec setpriv --reuid 65534 --regid 65534 --clear-groups "$2" inspect --proc "$1" 1"#;
    let o = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script, "sh"])
        .arg(&mnt)
        .arg(env!("CARGO_BIN_EXE_confine"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no process 1"));
}

#[test]
fn syscalls_need_cap_sys_admin() {
    let o = Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_confine"))
        .args(["inspect", "--syscalls", "1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("needs CAP_SYS_ADMIN"));
}

const THREADED: &str = r#"
import errno, os, threading, time, seccomp
t = threading.Thread(target=lambda: time.sleep(60), daemon=True)
t.start()
f = seccomp.SyscallFilter(seccomp.ALLOW)
f.add_rule(seccomp.ERRNO(errno.EPERM), "mkdir")
f.load()  # without TSYNC: only the main thread gets the filter
print("up", flush=True)
time.sleep(60)
"#;

#[test]
fn threads_that_differ_are_shown() {
    let g = start(Command::new("/usr/bin/python3").args(["-c", THREADED]));
    let pid = g.0.id().to_string();
    let v = &json_of(&["inspect", "--json", "--threads", &pid])[0];
    let threads = v["threads"].as_array().expect("a thread differs");
    assert_eq!(threads.len(), 1, "{threads:?}");
    let d: Vec<&str> = threads[0]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(d.iter().any(|x| x.starts_with("Seccomp:")), "{d:?}");
    assert!(d.contains(&"Seccomp_filters: 0 (main thread: 1)"), "{d:?}");
    let text = String::from_utf8(confine(&["inspect", "--threads", &pid]).stdout).unwrap();
    assert!(text.contains("  thread "), "{text}");
}

/// `--color auto` on a real terminal (script(1) gives confine a pty): colour unless NO_COLOR is
/// non-empty or TERM is dumb (issue 13: an empty NO_COLOR turned colour off, TERM=dumb did not).
#[test]
fn colour_follows_no_color_and_term_on_a_terminal() {
    let run = |env: &[(&str, &str)]| -> bool {
        let mut c = Command::new("script");
        c.args([
            "-qec",
            &format!("{} inspect", env!("CARGO_BIN_EXE_confine")),
            "/dev/null",
        ])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm");
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.stdin(Stdio::null()).output().unwrap();
        assert!(o.status.success(), "{env:?}");
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("confinement"), "{env:?}: {out}");
        out.contains("\x1b[")
    };
    assert!(run(&[]));
    assert!(run(&[("NO_COLOR", "")]));
    assert!(!run(&[("NO_COLOR", "1")]));
    assert!(!run(&[("TERM", "dumb")]));
}

/// A zombie (exited, not reaped) is called one (issue 13: it was reported as a kernel thread
/// with an empty command and namespaces "not exposed by this kernel").
#[test]
fn a_zombie_is_called_a_zombie() {
    // never waited for until the end: the child stays a zombie of this test process
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .contains("State:\tZ")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{pid} never became a zombie"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let o = confine(&["inspect", &pid.to_string()]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let v = &json_of(&["inspect", "--json", &pid.to_string()])[0];
    let all = confine(&["inspect", "--all"]);
    child.wait().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(
        out.starts_with(&format!("process {pid}  true (zombie)\n")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  state         zombie: exited, not yet reaped by its parent {}",
            std::process::id()
        )),
        "{out}"
    );
    assert!(out.contains("  command       none (zombie)\n"), "{out}");
    assert!(
        out.contains("  executable    none (zombie: exited, not yet reaped)\n"),
        "{out}"
    );
    assert!(
        !out.contains("kernel thread") && !out.contains("not exposed by this kernel"),
        "{out}"
    );
    assert!(
        out.contains("  mnt           none (zombie: released at exit)\n"),
        "{out}"
    );
    assert_eq!(v["state"], "zombie");
    assert_eq!(v["exe"]["unknown"], "none (zombie: exited, not yet reaped)");
    let table = String::from_utf8_lossy(&all.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.trim_start().starts_with(&format!("{pid} ")) && l.contains("true <zombie>")),
        "{table}"
    );
}

/// `--proc DIR` must be a procfs (statfs f_type PROC_SUPER_MAGIC); a saved copy is read with
/// --proc-copy, where a FIFO planted in the copy is refused by type instead of blocking.
#[test]
fn proc_must_be_a_procfs_and_a_copy_is_read_safely() {
    let copy = tempfile::tempdir().unwrap();
    let d = copy.path().to_str().unwrap();
    let o = confine(&["inspect", "--proc", d, "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains(&format!("--proc {d}: not a procfs (filesystem type 0x"))
            && e.contains("use --proc-copy DIR"),
        "{e}"
    );
    // --syscalls would ptrace live processes that merely share the copy's numbers
    let o = confine(&["inspect", "--proc-copy", d, "--syscalls", "1"]);
    assert_eq!(o.status.code(), Some(2));

    // a copy whose status is a FIFO that nobody writes to; run under a timeout and a 1 GiB
    // address-space limit so that a regression fails instead of hanging
    std::fs::create_dir(copy.path().join("7")).unwrap();
    let fifo = copy.path().join("7/status");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let o = Command::new("timeout")
        .args(["20", "prlimit", "--as=1073741824", "--"])
        .arg(env!("CARGO_BIN_EXE_confine"))
        .args(["inspect", "--proc-copy", d, "7"])
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(124), "confine hung on a FIFO");
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains(&format!(
            "cannot read the status of process 7: {}: is a FIFO (named pipe), not a regular file",
            fifo.display()
        )),
        "{e}"
    );
}
