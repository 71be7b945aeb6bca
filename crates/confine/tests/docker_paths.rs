//! /proc and /sys under `confine run` against a real container of Debian's Docker 20.10
//! (docker.io 20.10.24 with its runc 1.1.5), both as root with everything at its default.
//!
//! The static attacker program (tests/escape/attack.rs) opens each path of Docker's masked and
//! read-only lists, and a few more an attacker would go for, once for reading and once for
//! writing (it only opens and closes: not a byte is written), in a busybox container and under
//! `confine run`. The answers must be the same line for line, apart from the paths current moby
//! masks and Docker 20.10 does not (confine follows current moby) and the differences listed
//! below with their reason. Since opening a /dev/null mask or an empty read-only tmpfs answers
//! like the real file or directory would, the mounts at each path are compared too, from
//! /proc/self/mountinfo in the container and under confine.
//!
//! Every confine run must leave the host's /proc/self/mountinfo byte-identical, and with
//! `--security-opt systempaths=unconfined` both let root open /proc/sys/kernel/core_pattern
//! for writing.
//!
//! The test starts its own dockerd (/usr/sbin/dockerd) on a private socket, data root and
//! exec root (no iptables, no bridge, vfs storage), talks to it with Debian's 20.10 client
//! (/usr/bin/docker, not whatever `docker` comes first on PATH), imports a busybox-static
//! image (no pull), and stops the daemon by pid when done.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

#[path = "support/docker.rs"]
mod docker_support;
use docker_support::{build_static, docker, import_busybox, start_dockerd, Daemon};

const CONFINE: &str = env!("CARGO_BIN_EXE_confine");
const IMAGE: &str = "confine-paths:1";

/// runc's `maskedPaths` as current moby sets them (`oci/defaults.go`), without the
/// per-CPU `thermal_throttle` directories, which [`thermal_throttle`] finds.
const MASKED: [&str; 12] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// runc's `readonlyPaths` as Docker sets them.
const READONLY: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// What else an attacker would open.
const ALSO: [&str; 9] = [
    "/proc/sys/kernel/core_pattern",
    "/proc/sys/kernel/modprobe",
    "/proc/sysrq-trigger",
    "/proc/kcore",
    "/sys/kernel/uevent_helper",
    "/sys/fs/cgroup",
    "/sys/kernel/mm/transparent_hugepage/enabled",
    "/proc/self/mem",
    "/proc/1/environ",
];

/// `/sys/devices/system/cpu/cpuN/thermal_throttle` for every CPU that has one.
fn thermal_throttle() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("/sys/devices/system/cpu")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| {
                    n.strip_prefix("cpu")
                        .is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
                })
                .map(|n| format!("/sys/devices/system/cpu/{n}/thermal_throttle"))
                .filter(|p| Path::new(p).exists())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Masked by current moby and not by Docker 20.10: the only paths where confine may be
/// stricter than the container.
fn newer_moby_mask(path: &str) -> bool {
    path == "/proc/interrupts"
        || (path.starts_with("/sys/devices/system/cpu/cpu") && path.ends_with("/thermal_throttle"))
}

/// Why the open probes of `path` may legitimately differ.
fn probe_difference(path: &str) -> Option<&'static str> {
    if newer_moby_mask(path) {
        return Some("masked by current moby, not by Docker 20.10");
    }
    // In the container /proc/1 is the attacker itself (runc execs the command as pid 1), so
    // it reads its own environ. Under confine run, pid 1 is confine's init and the command is
    // pid 2: the init holds every capability confine holds and sits outside the command's
    // Landlock domain, which keeps the command from tracing it, so PTRACE_MODE_READ fails
    // (EACCES). Seen by hand: `confine run -- busybox sh -c 'echo $$; grep Name /proc/1/status;
    // attack paths /proc/1/environ /proc/$$/environ'` prints 2, `Name: confine`, EACCES for
    // /proc/1 and ok for /proc/2.
    if path == "/proc/1/environ" {
        return Some("pid 1 is the command in the container, confine's init under confine");
    }
    None
}

/// Why the mounts at `path` may legitimately differ.
fn mount_difference(path: &str, docker: &str, confine: &str) -> Option<&'static str> {
    if newer_moby_mask(path) {
        return Some("masked by current moby, not by Docker 20.10");
    }
    // On a cgroup v1 host runc 1.1.5 mounts a tmpfs at /sys/fs/cgroup read-write (only the
    // controller mounts inside it are read-only; the container's mountinfo shows
    // `/sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs`), while confine makes /sys
    // read-only with every mount under it, the host's cgroup tmpfs included. The container's
    // tmpfs is its own; the host's is not, so confine is the stricter one here.
    if path == "/sys/fs/cgroup" && docker == "rw mount" && confine == "ro mount" {
        return Some(
            "runc's cgroup v1 tmpfs is read-write; confine's /sys is read-only throughout",
        );
    }
    None
}

/// The paths to probe, without repeats, in list order.
fn paths() -> Vec<String> {
    let mut seen = BTreeSet::new();
    MASKED
        .iter()
        .map(|s| s.to_string())
        .chain(thermal_throttle())
        .chain(READONLY.iter().map(|s| s.to_string()))
        .chain(ALSO.iter().map(|s| s.to_string()))
        .filter(|p| seen.insert(p.clone()))
        .collect()
}

/// Whether AppArmor is an active LSM here (then Docker and confine both apply docker-default).
fn apparmor_active() -> bool {
    confine_kernel::process::active_lsms()
        .map(|l| l.contains(&"apparmor"))
        .unwrap_or_else(|_| {
            std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
                .is_ok_and(|s| s.starts_with('Y'))
        })
}

fn host_mountinfo() -> Vec<u8> {
    std::fs::read("/proc/self/mountinfo").expect("/proc/self/mountinfo")
}

/// `confine run ARGS`, checking that the host's mount table is byte-identical afterwards.
fn confine(args: &[&str]) -> String {
    let before = host_mountinfo();
    let out = Command::new(CONFINE)
        .arg("run")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let after = host_mountinfo();
    assert!(
        out.status.success(),
        "confine run {args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        before == after,
        "confine run {args:?} changed the host's /proc/self/mountinfo:\nbefore:\n{}\nafter:\n{}",
        String::from_utf8_lossy(&before),
        String::from_utf8_lossy(&after)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn in_container(d: &Daemon, args: &[&str]) -> String {
    let out = docker(d, args);
    assert!(
        out.status.success(),
        "docker {args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `PATH read=R write=W` lines → (path, "R/W"), in order.
fn probes(out: &str) -> Vec<(String, String)> {
    out.lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            match f[..] {
                [p, r, w] if r.starts_with("read=") && w.starts_with("write=") => {
                    (p.to_string(), format!("{}/{}", &r[5..], &w[6..]))
                }
                _ => panic!("unexpected probe line {l:?}"),
            }
        })
        .collect()
}

struct Mount {
    id: u32,
    parent: u32,
    root: String,
    point: String,
    readonly: bool,
    fstype: String,
    super_readonly: bool,
}

fn mounts(mountinfo: &str) -> Vec<Mount> {
    mountinfo
        .lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let f: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            Some(Mount {
                id: f.first()?.parse().ok()?,
                parent: f.get(1)?.parse().ok()?,
                root: f.get(3)?.to_string(),
                point: f.get(4)?.to_string(),
                readonly: f.get(5)?.split(',').any(|o| o == "ro"),
                fstype: r.first()?.to_string(),
                super_readonly: r.get(2).is_some_and(|o| o.split(',').any(|o| o == "ro")),
            })
        })
        .collect()
}

/// The mount one sees at `point`: on the visible mount of the nearest ancestor that has one
/// (a mount on a mount since covered from higher up is hidden), then the last stacked on it.
fn visible<'a>(ms: &'a [Mount], point: &str) -> Option<&'a Mount> {
    let here = || ms.iter().filter(move |m| m.point == point);
    let mut m = if point == "/" {
        here().find(|m| !here().any(|o| o.id == m.parent))?
    } else {
        let mut up = Path::new(point);
        let under = loop {
            up = up.parent()?;
            if let Some(v) = visible(ms, up.to_str()?) {
                break v;
            }
        };
        here().find(|m| m.parent == under.id)?
    };
    while let Some(over) = here().find(|o| o.parent == m.id) {
        m = over;
    }
    Some(m)
}

/// What the mount table makes of `path`: masked with /dev/null or an empty read-only tmpfs,
/// a mount of its own (read-only or not), or the state of the mount it lies under.
fn mount_state(ms: &[Mount], path: &str) -> String {
    let rw = |m: &Mount| if m.readonly { "ro" } else { "rw" };
    if let Some(m) = visible(ms, path) {
        if m.root == "/null" || m.root.ends_with("/null") {
            return "masked: /dev/null".into();
        }
        if m.fstype == "tmpfs" && m.super_readonly {
            return "masked: empty ro tmpfs".into();
        }
        return format!("{} mount", rw(m));
    }
    let mut p = Path::new(path);
    while let Some(parent) = p.parent() {
        p = parent;
        let s = p.to_str().unwrap();
        if let Some(m) = visible(ms, s) {
            return format!("{} (under {s})", rw(m));
        }
    }
    "no mount".into()
}

fn table(head: [&str; 4], rows: &[[String; 4]]) -> String {
    let mut w = head.map(str::len);
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.len());
        }
    }
    let line = |c: [&str; 4]| {
        format!(
            "| {:w0$} | {:w1$} | {:w2$} | {:w3$} |\n",
            c[0],
            c[1],
            c[2],
            c[3],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        )
    };
    let mut s = line(head);
    s += &format!(
        "|{}|{}|{}|{}|\n",
        "-".repeat(w[0] + 2),
        "-".repeat(w[1] + 2),
        "-".repeat(w[2] + 2),
        "-".repeat(w[3] + 2)
    );
    for r in rows {
        s += &line([&r[0], &r[1], &r[2], &r[3]]);
    }
    s
}

#[test]
fn proc_and_sys_as_in_docker_run() {
    let dir = tempfile::tempdir().unwrap();
    let attack = dir.path().join("attack");
    build_static("escape/attack.rs", &attack);
    let attack_s = attack.to_str().unwrap();
    let paths = paths();
    let path_args: Vec<&str> = paths.iter().map(String::as_str).collect();

    // under confine first, before dockerd (which bind-mounts its data root in the host's
    // mount namespace) runs: each run checks that the host's mount table did not change
    let mut args = vec!["--", attack_s, "paths"];
    args.extend(&path_args);
    let under_confine = confine(&args);
    let confine_unconfined = confine(&[
        "--security-opt",
        "systempaths=unconfined",
        "--",
        attack_s,
        "paths",
        "/proc/sys/kernel/core_pattern",
    ]);
    let confine_mountinfo = confine(&["--", "/usr/bin/busybox", "cat", "/proc/self/mountinfo"]);

    // the container: busybox-static and the attacker, imported (no pull)
    let d = start_dockerd(dir.path());
    import_busybox(
        &d,
        dir.path(),
        &["sh", "cat"],
        &[(&attack, "attack")],
        IMAGE,
    );
    let server = in_container(&d, &["version", "--format", "{{.Server.Version}}"]);
    let mut args = vec!["run", "--rm", IMAGE, "/attack", "paths"];
    args.extend(&path_args);
    let in_docker = in_container(&d, &args);
    let docker_unconfined = in_container(
        &d,
        &[
            "run",
            "--rm",
            "--security-opt",
            "systempaths=unconfined",
            IMAGE,
            "/attack",
            "paths",
            "/proc/sys/kernel/core_pattern",
        ],
    );
    let docker_mountinfo = in_container(
        &d,
        &["run", "--rm", IMAGE, "/bin/cat", "/proc/self/mountinfo"],
    );
    drop(d);

    // the open probes, line by line
    let (theirs, ours) = (probes(&in_docker), probes(&under_confine));
    let listed: Vec<&String> = theirs.iter().map(|(p, _)| p).collect();
    assert_eq!(
        listed,
        paths.iter().collect::<Vec<_>>(),
        "docker run output:\n{in_docker}"
    );
    let listed: Vec<&String> = ours.iter().map(|(p, _)| p).collect();
    assert_eq!(
        listed,
        paths.iter().collect::<Vec<_>>(),
        "confine run output:\n{under_confine}"
    );
    let mut rows = Vec::new();
    let mut unexpected = Vec::new();
    for ((path, t), (_, o)) in theirs.iter().zip(&ours) {
        let same = if t == o {
            "yes".to_string()
        } else if let Some(why) = probe_difference(path) {
            format!("no, expected: {why}")
        } else {
            unexpected.push(path.clone());
            "NO".to_string()
        };
        rows.push([path.clone(), t.clone(), o.clone(), same]);
    }
    let probe_table = table(
        ["path", "docker read/write", "confine read/write", "same?"],
        &rows,
    );
    println!(
        "open probes as root, docker run (Docker {}) vs confine run:\n{probe_table}",
        server.trim()
    );

    // the mounts at each path
    let (tm, om) = (mounts(&docker_mountinfo), mounts(&confine_mountinfo));
    let mut rows = Vec::new();
    let mut unexpected_mounts = Vec::new();
    for path in &paths {
        let (t, o) = (mount_state(&tm, path), mount_state(&om, path));
        let same = if t == o {
            "yes".to_string()
        } else if let Some(why) = mount_difference(path, &t, &o) {
            format!("no, expected: {why}")
        } else {
            unexpected_mounts.push(path.clone());
            "NO".to_string()
        };
        rows.push([path.clone(), t, o, same]);
    }
    let mount_table = table(["path", "docker mount", "confine mount", "same?"], &rows);
    println!("mounts at those paths (from /proc/self/mountinfo):\n{mount_table}");

    // root may open core_pattern for writing once the read-only /proc/sys is given up, unless
    // AppArmor is on: then docker-default (in the container and under confine alike) denies
    // it (`deny @{PROC}/sys/kernel/{?,??,[^s][^h][^m]**} w`), after the open got past the
    // read-only mount check, which comes first (hence EROFS, not EACCES, by default)
    let unconfined = if apparmor_active() {
        "/proc/sys/kernel/core_pattern read=ok write=EACCES"
    } else {
        "/proc/sys/kernel/core_pattern read=ok write=ok"
    };
    println!(
        "with --security-opt systempaths=unconfined: docker run `{}`, confine run `{}`",
        docker_unconfined.trim(),
        confine_unconfined.trim()
    );

    assert!(
        unexpected.is_empty(),
        "confine run and docker run differ on {unexpected:?}:\n{probe_table}"
    );
    assert!(
        unexpected_mounts.is_empty(),
        "the mounts under confine run and docker run differ on {unexpected_mounts:?}:\n{mount_table}"
    );
    // the comparison is not vacuous: what exists on this host is masked or read-only under
    // confine, current moby's additions included
    for p in MASKED
        .iter()
        .map(|s| s.to_string())
        .chain(thermal_throttle())
    {
        if Path::new(&p).exists() {
            let s = mount_state(&om, &p);
            assert!(s.starts_with("masked"), "{p} under confine run: {s}");
        }
    }
    for p in READONLY {
        if Path::new(p).exists() {
            assert_eq!(mount_state(&om, p), "ro mount", "{p} under confine run");
        }
    }
    // root opening core_pattern: read-only by default, writable with the opt-out, in both
    for (who, probe) in [("docker run", &in_docker), ("confine run", &under_confine)] {
        assert!(
            probe
                .lines()
                .any(|l| l == "/proc/sys/kernel/core_pattern read=ok write=EROFS"),
            "{who}:\n{probe}"
        );
    }
    assert_eq!(
        docker_unconfined.trim(),
        unconfined,
        "docker run, systempaths=unconfined"
    );
    assert_eq!(
        confine_unconfined.trim(),
        unconfined,
        "confine run, systempaths=unconfined"
    );
}
