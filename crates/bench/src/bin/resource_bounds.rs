//! `cargo run --release -p confine-bench --bin resource_bounds`: the time and peak memory of
//! the release `confine` on the largest inputs it accepts, against the bounds documented in
//! the README ("Resource bounds"), and the refusal of inputs beyond them. Inputs are generated
//! in a private temporary directory. Prints a Markdown table; exit 1 when a row fails.
//!
//! `inspect --syscalls` needs CAP_SYS_ADMIN (run as root); `CONFINE` names the binary
//! [default: `$CARGO_TARGET_DIR/release/confine`, else `target/release/confine`].

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A child's end: its status and peak resident set size in KiB.
struct Ended {
    status: ExitStatus,
    max_rss_kib: i64,
}

/// Wait for process `pid` with wait4(2) and return its status and `ru_maxrss`.
///
/// # Safety
///
/// `pid` must be a child of this process that nobody else waits for (a [`Child`] whose
/// `wait` is never called afterwards): once reaped, its id may be reused by another process.
///
/// # References
///
/// * [wait4(2)](https://man7.org/linux/man-pages/man2/wait4.2.html)
/// * [getrusage(2)](https://man7.org/linux/man-pages/man2/getrusage.2.html) (`ru_maxrss`)
unsafe fn wait4(pid: u32) -> std::io::Result<Ended> {
    let mut status = 0;
    // SAFETY: rusage is plain data; zeroed is a valid value
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: the pointers are to live locals; the caller vouches for pid
        let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut ru) };
        if r >= 0 {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(Ended {
        status: ExitStatus::from_raw(status),
        max_rss_kib: ru.ru_maxrss,
    })
}

/// One measurement: the command's wall time, peak RSS and exit code (`None`: killed).
struct Run {
    secs: f64,
    rss_mib: f64,
    code: Option<i32>,
}

/// Run `args` under `confine` from a fresh copy of this binary (`--measure`), whose own peak
/// memory is small: Linux carries the parent's high-water RSS through vfork and exec into
/// the child's `ru_maxrss`, and this process holds the generated inputs.
fn measure(confine: &Path, args: &[&str], limit: Duration) -> Run {
    let o = Command::new(std::env::current_exe().unwrap())
        .arg("--measure")
        .arg(limit.as_secs_f64().to_string())
        .arg(confine)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("spawn the measuring copy");
    let text = String::from_utf8(o.stdout).unwrap();
    let f: Vec<&str> = text.split_whitespace().collect();
    Run {
        secs: f[0].parse().unwrap(),
        rss_mib: f[1].parse().unwrap(),
        code: f[2].parse().ok(),
    }
}

/// `--measure SECS CONFINE ARGS…`: run, print `secs rss_mib code` (`-` when killed).
fn measure_here(argv: &[String]) {
    let limit = Duration::from_secs_f64(argv[0].parse().unwrap());
    let args: Vec<&str> = argv[2..].iter().map(String::as_str).collect();
    let r = measure_child(Path::new(&argv[1]), &args, limit);
    println!(
        "{} {} {}",
        r.secs,
        r.rss_mib,
        r.code.map_or("-".to_string(), |c| c.to_string())
    );
}

/// Run `args` under `confine`, stdout and stderr discarded, killed after `limit`.
fn measure_child(confine: &Path, args: &[&str], limit: Duration) -> Run {
    let t = Instant::now();
    let child = Command::new(confine)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn confine");
    let pid = child.id();
    // a watchdog kills a runaway child; wait4 then reaps it
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let d = done.clone();
    let dog = std::thread::spawn(move || {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if d.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    });
    // SAFETY: `child` is ours and never waited for through std (forgotten below)
    let ended = unsafe { wait4(pid) }.expect("wait4");
    std::mem::forget(child);
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = dog.join();
    Run {
        secs: t.elapsed().as_secs_f64(),
        rss_mib: ended.max_rss_kib as f64 / 1024.0,
        code: ended.status.code(),
    }
}

/// A Docker profile with `rules` (already JSON objects), default ERRNO.
fn profile(rules: &[String]) -> String {
    format!(
        "{{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\"],\"syscalls\":[{}]}}",
        rules.join(",")
    )
}

/// `n` unconditional ALLOW rules over the syscall names of x86_64, round robin.
fn many_rules(n: usize) -> String {
    let table = confine_abi::SyscallTable::for_arch(confine_abi::Arch::X86_64).unwrap();
    let names: Vec<&str> = (0..512).filter_map(|nr| table.name_of(nr)).collect();
    let rules: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "{{\"names\":[\"{}\"],\"action\":\"SCMP_ACT_ALLOW\"}}",
                names[i % names.len()]
            )
        })
        .collect();
    profile(&rules)
}

/// `n` conditions on personality: one rule per value of its first argument.
fn conditions(n: usize) -> String {
    let rules: Vec<String> = (0..n)
        .map(|i| format!("{{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{{\"index\":0,\"value\":{i},\"op\":\"SCMP_CMP_EQ\"}}]}}"))
        .collect();
    profile(&rules)
}

/// A valid profile of just under `bytes`: read and execve allowed, padded with comments.
fn padded(bytes: usize) -> String {
    let mut rules = Vec::new();
    let mut size = 200;
    while size + 20_000 < bytes {
        let r = format!(
            "{{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"comment\":\"{}\"}}",
            "x".repeat(16_000)
        );
        size += r.len() + 1;
        rules.push(r);
    }
    rules.push("{\"names\":[\"execve\"],\"action\":\"SCMP_ACT_ALLOW\"}".into());
    profile(&rules)
}

/// One line: `n` unknown keys (or duplicate defaultAction keys) in a minified profile.
fn minified(n: usize, duplicates: bool) -> String {
    let mut s = String::from("{\"defaultAction\":\"SCMP_ACT_ALLOW\"");
    for i in 0..n {
        if duplicates {
            s.push_str(",\"defaultAction\":\"SCMP_ACT_ALLOW\"");
        } else {
            write!(s, ",\"k{i}\":0").unwrap();
        }
    }
    s.push('}');
    s
}

/// A 4,096-instruction program that allows every call after 2,047 argument tests whose
/// branches meet again (2^2047 paths for an explorer that follows both).
fn long_program() -> Vec<u8> {
    const LD_ABS: u16 = 0x20;
    const JGT_K: u16 = 0x25;
    const RET_K: u16 = 0x06;
    let mut insns: Vec<(u16, u8, u8, u32)> = Vec::new();
    insns.push((LD_ABS, 0, 0, 0));
    for i in 0..2047u32 {
        insns.push((LD_ABS, 0, 0, 16 + 8 * (i % 6)));
        insns.push((JGT_K, 0, 0, i));
    }
    insns.push((RET_K, 0, 0, 0x7fff_0000));
    assert_eq!(insns.len(), 4096);
    let mut out = Vec::new();
    for (code, jt, jf, k) in insns {
        out.extend_from_slice(&code.to_ne_bytes());
        out.push(jt);
        out.push(jf);
        out.extend_from_slice(&k.to_ne_bytes());
    }
    out
}

/// Install the raw program argv[1] (no_new_privs, SECCOMP_MODE_FILTER), say so, sleep.
const INSTALL: &str = r#"
import ctypes, os, sys
data = open(sys.argv[1], "rb").read()
libc = ctypes.CDLL(None, use_errno=True)
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
buf = ctypes.create_string_buffer(data, len(data))
prog = Prog(len(data) // 8, ctypes.cast(buf, ctypes.c_void_p))
assert libc.prctl(38, 1, 0, 0, 0) == 0
assert libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0, os.strerror(ctypes.get_errno())
print("up", flush=True)
os.execv("/bin/sleep", ["sleep", "600"])
"#;

/// Children killed and reaped at the end.
struct Kids(Vec<Child>);
impl Drop for Kids {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
        }
        for c in &mut self.0 {
            let _ = c.wait();
        }
    }
}

/// 10,000 saved processes under `root`, like `/proc`.
fn snapshots(root: &Path, n: u32) {
    for i in 0..n {
        let pid = 100_000 + i;
        let d = root.join(pid.to_string());
        std::fs::create_dir_all(d.join("attr/apparmor")).unwrap();
        std::fs::write(
            d.join("status"),
            format!("Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nNSpid:\t{pid}\nCapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t2\nSeccomp_filters:\t1\n"),
        )
        .unwrap();
        std::fs::write(
            d.join("cgroup"),
            format!("0::/system.slice/docker-{:064x}.scope\n", i),
        )
        .unwrap();
        std::fs::write(d.join("cmdline"), b"sleep\0600\0").unwrap();
        std::fs::write(
            d.join("attr/apparmor/current"),
            "docker-default (enforce)\n",
        )
        .unwrap();
    }
}

fn confine_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CONFINE") {
        return p.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target.join("release/confine")
}

/// What a row expects: success (exit 0 or 1: findings) or a refusal (exit 2).
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    Accept,
    Refuse,
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some("--measure") {
        return measure_here(&argv[1..]);
    }
    let confine = confine_path();
    assert!(
        confine.exists(),
        "build confine first: cargo build --release -p confine ({})",
        confine.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let put = |name: &str, bytes: &[u8]| -> String {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    let p16 = put("16mib.json", padded(16 << 20).as_bytes());
    let big = put("too-large.json", padded((16 << 20) + 40_000).as_bytes());
    let r100k = put("100k-rules.json", many_rules(100_000).as_bytes());
    let r100k1 = put("100001-rules.json", many_rules(100_001).as_bytes());
    let c1000 = put("1000-conds.json", conditions(1000).as_bytes());
    let c4097 = put("4097-conds.json", conditions(4097).as_bytes());
    let u200k = put("200k-unknown.json", minified(200_000, false).as_bytes());
    let u932k = put("932k-unknown.json", minified(932_000, false).as_bytes());
    let d100k = put("100k-dup.json", minified(100_000, true).as_bytes());
    let prog = put("4096.bpf", &long_program());
    let mut prog4097 = long_program();
    prog4097.splice(0..0, long_program()[8..16].iter().copied());
    let prog4097 = put("4097.bpf", &prog4097);
    let snaps = dir.path().join("proc");
    snapshots(&snaps, 10_000);
    let snaps = snaps.to_str().unwrap().to_string();

    // (input, command, args, bound: seconds, MiB, expectation)
    let mut rows: Vec<(String, String, Vec<String>, f64, f64, Expect)> = Vec::new();
    let mut row = |input: &str, cmd: &str, args: &[&str], secs: f64, mib: f64, e: Expect| {
        rows.push((
            input.into(),
            cmd.into(),
            args.iter().map(|s| s.to_string()).collect(),
            secs,
            mib,
            e,
        ))
    };
    use Expect::*;
    let x = ["--arch", "amd64", "--kernel", "6.8"];
    let with =
        |a: &[&str]| -> Vec<String> { a.iter().chain(x.iter()).map(|s| s.to_string()).collect() };
    let comp = |p: &str| with(&["seccomp", "compile", p]);
    let chk = |p: &str| with(&["seccomp", "check", p]);
    let owned: Vec<(&str, &str, Vec<String>, f64, f64, Expect)> = vec![
        (
            "16 MiB profile",
            "seccomp compile",
            comp(&p16),
            1.0,
            256.0,
            Accept,
        ),
        (
            "16 MiB profile",
            "seccomp check",
            chk(&p16),
            1.0,
            256.0,
            Accept,
        ),
        (
            "16 MiB + 40 kB profile",
            "seccomp compile",
            comp(&big),
            1.0,
            256.0,
            Refuse,
        ),
        (
            "100,000 rules",
            "seccomp compile",
            comp(&r100k),
            1.0,
            256.0,
            Accept,
        ),
        (
            "100,001 rules",
            "seccomp compile",
            comp(&r100k1),
            1.0,
            256.0,
            Refuse,
        ),
        (
            "1,000 conditions on one syscall",
            "seccomp compile",
            comp(&c1000),
            1.0,
            256.0,
            Accept,
        ),
        (
            "4,097 conditions on one syscall",
            "seccomp compile",
            comp(&c4097),
            1.0,
            256.0,
            Refuse,
        ),
        (
            "200k unknown keys, one line",
            "seccomp check",
            chk(&u200k),
            1.0,
            256.0,
            Accept,
        ),
        (
            "932k unknown keys, one line (15 MB)",
            "seccomp check",
            chk(&u932k),
            1.0,
            256.0,
            Accept,
        ),
        (
            "100k duplicate defaultAction, one line",
            "seccomp check",
            chk(&d100k),
            1.0,
            256.0,
            Accept,
        ),
        (
            "4,096-instruction program",
            "seccomp eval --bpf",
            with(&["seccomp", "eval", "--bpf", &prog, "read"]),
            1.0,
            64.0,
            Accept,
        ),
        (
            "4,096-instruction program",
            "seccomp disasm",
            vec!["seccomp".into(), "disasm".into(), prog.clone()],
            1.0,
            64.0,
            Accept,
        ),
        (
            "4,096-instruction program",
            "seccomp lint --bpf (decode)",
            with(&["seccomp", "lint", "--bpf", &prog]),
            5.0,
            256.0,
            Accept,
        ),
        (
            "4,097-instruction program",
            "seccomp disasm",
            vec!["seccomp".into(), "disasm".into(), prog4097.clone()],
            1.0,
            64.0,
            Refuse,
        ),
        (
            "10,000 saved /proc snapshots",
            "inspect --all --proc-copy",
            vec![
                "inspect".into(),
                "--all".into(),
                "--proc-copy".into(),
                snaps.clone(),
                "--lsm".into(),
                "apparmor".into(),
            ],
            5.0,
            256.0,
            Accept,
        ),
    ];
    for (i, c, a, s, m, e) in &owned {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        row(i, c, &a, *s, *m, *e);
    }

    let mut out = String::from(
        "| Input | Command | Wall time | Peak RSS | Bound | Result |\n|---|---|---|---|---|---|\n",
    );
    let mut failed = false;
    let mut emit = |input: &str, cmd: &str, r: &Run, secs: f64, mib: f64, e: Expect| {
        let ok_code = match e {
            Accept => matches!(r.code, Some(0 | 1)),
            Refuse => r.code == Some(2),
        };
        let ok = ok_code && r.secs <= secs && r.rss_mib <= mib;
        failed |= !ok;
        let verdict = match (ok, e) {
            (true, Accept) => "pass".to_string(),
            (true, Refuse) => "pass (refused, exit 2)".to_string(),
            (false, _) => format!("FAIL (exit {:?})", r.code),
        };
        writeln!(
            out,
            "| {input} | `{cmd}` | {:.3} s | {:.1} MiB | {secs} s, {mib} MiB | {verdict} |",
            r.secs, r.rss_mib
        )
        .unwrap();
        eprintln!(
            "{input}: {cmd}: {:.3} s {:.1} MiB {:?}",
            r.secs, r.rss_mib, r.code
        );
    };
    for (input, cmd, args, secs, mib, e) in &rows {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = measure(&confine, &a, Duration::from_secs_f64(secs * 30.0));
        emit(input, cmd, &r, *secs, *mib, *e);
    }

    // a live process under the 4,096-instruction filter
    let mut kids = Kids(Vec::new());
    let mut c = Command::new("python3")
        .args(["-c", INSTALL, &prog])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(c.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid = c.id().to_string();
    kids.0.push(c);
    if line.trim() == "up" {
        let r = measure(
            &confine,
            &["inspect", "--syscalls", &pid],
            Duration::from_secs(150),
        );
        emit(
            "4,096-instruction filter on a live process",
            "inspect --syscalls",
            &r,
            5.0,
            256.0,
            Accept,
        );
    } else {
        eprintln!("the filtered child did not start: inspect --syscalls not measured");
    }
    // 1,000 live processes
    for _ in 0..1000 {
        kids.0.push(
            Command::new("sleep")
                .arg("600")
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    let r = measure(&confine, &["inspect", "--all"], Duration::from_secs(150));
    emit(
        "1,000 live processes (and the machine's own)",
        "inspect --all",
        &r,
        5.0,
        256.0,
        Accept,
    );
    drop(kids);
    print!("{out}");
    if failed {
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait4_reports_the_status_and_peak_memory_of_a_child() {
        let c = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        let pid = c.id();
        // SAFETY: c is ours and forgotten, never waited for otherwise
        let e = unsafe { wait4(pid) }.unwrap();
        std::mem::forget(c);
        assert_eq!(e.status.code(), Some(3));
        assert!(e.max_rss_kib > 0);
    }

    #[test]
    fn the_long_program_has_4096_instructions() {
        assert_eq!(long_program().len(), 4096 * 8);
    }
}
