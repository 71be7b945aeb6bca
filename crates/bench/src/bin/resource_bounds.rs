//! `cargo run --release -p confine-bench --bin resource_bounds`: the time and peak memory of
//! the release `confine` on the largest inputs it accepts, against the bounds documented in
//! the README ("Resource bounds"), and the refusal of inputs beyond them. Inputs are generated
//! in a private temporary directory (on /dev/shm when it exists). Prints a Markdown table;
//! exit 1 when a row fails.
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
/// the child's `ru_maxrss`, and this process holds the generated inputs. The command's
/// standard output goes to `out`.
fn measure(confine: &Path, args: &[&str], limit: Duration, out: &Path) -> Run {
    let o = Command::new(std::env::current_exe().unwrap())
        .arg("--measure")
        .arg(limit.as_secs_f64().to_string())
        .arg(out)
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

/// `--measure SECS OUT CONFINE ARGS…`: run, print `secs rss_mib code` (`-` when killed).
fn measure_here(argv: &[String]) {
    let limit = Duration::from_secs_f64(argv[0].parse().unwrap());
    let args: Vec<&str> = argv[3..].iter().map(String::as_str).collect();
    let r = measure_child(Path::new(&argv[2]), &args, limit, Path::new(&argv[1]));
    println!(
        "{} {} {}",
        r.secs,
        r.rss_mib,
        r.code.map_or("-".to_string(), |c| c.to_string())
    );
}

/// Run `args` under `confine`, stdout to `out`, stderr discarded, killed after `limit`.
fn measure_child(confine: &Path, args: &[&str], limit: Duration, out: &Path) -> Run {
    let out = std::fs::File::create(out).expect("the output file");
    let t = Instant::now();
    let child = Command::new(confine)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
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

/// A valid profile of exactly `bytes`: [`many_rules`]`(rules)`, each rule padded with a
/// comment.
fn sized(rules: usize, bytes: usize) -> String {
    let bare = many_rules(rules).len();
    let each = (bytes - bare) / rules - ",\"comment\":\"\"".len();
    let table = confine_abi::SyscallTable::for_arch(confine_abi::Arch::X86_64).unwrap();
    let names: Vec<&str> = (0..512).filter_map(|nr| table.name_of(nr)).collect();
    let comment = "x".repeat(each);
    let mut body: Vec<String> = (0..rules)
        .map(|i| {
            format!(
                "{{\"names\":[\"{}\"],\"action\":\"SCMP_ACT_ALLOW\",\"comment\":\"{comment}\"}}",
                names[i % names.len()]
            )
        })
        .collect();
    let short = bytes - profile(&body).len();
    let last = body.pop().unwrap();
    body.push(last.replace(&comment, &"x".repeat(each + short)));
    let p = profile(&body);
    assert_eq!(p.len(), bytes);
    p
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

/// The fuzzer's slow program (issue 20): `n` instructions, twelve independent two-way tests
/// of arg0's bits (4,096 paths per syscall), each path then walking the rest of the program
/// before it allows: 4,096 × about 4,070 instructions per syscall for an explorer, more than
/// its work bound.
fn long_program(n: usize) -> Vec<u8> {
    const LD_ABS: u16 = 0x20;
    const JSET_K: u16 = 0x45;
    const TAX: u16 = 0x07;
    const ADD_K: u16 = 0x04;
    const RET_K: u16 = 0x06;
    let mut insns: Vec<(u16, u8, u8, u32)> = vec![(LD_ABS, 0, 0, 16)];
    for bit in 0..12 {
        insns.push((JSET_K, 0, 1, 1 << bit));
        insns.push((TAX, 0, 0, 0));
    }
    while insns.len() + 1 < n {
        insns.push((ADD_K, 0, 0, 1));
    }
    insns.push((RET_K, 0, 0, 0x7fff_0000));
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
            format!("0::/system.slice/docker-{i:064x}.scope\n"),
        )
        .unwrap();
        std::fs::write(d.join("cmdline"), b"sleep\x00600\x00").unwrap();
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

/// What a row expects: accepted (exit 0, or 1 for findings) or refused (exit 2).
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    Accept,
    Refuse,
}

/// One row of the table: an input, the command run on it, and its documented bound.
struct Row {
    input: String,
    command: &'static str,
    args: Vec<String>,
    secs: f64,
    mib: f64,
    expect: Expect,
}

/// How many numbers `inspect --syscalls` left undecided, from its per-ABI lines
/// (`  x86_64: 472 numbers: 472 undecided`).
fn undecided(stdout: &str) -> Option<(usize, usize)> {
    let mut counts = (0, 0);
    for line in stdout.lines() {
        let Some((_, rest)) = line.split_once(" numbers: ") else {
            continue;
        };
        let Some(all) = line.trim().split(' ').nth(1) else {
            continue;
        };
        counts.1 += all.parse::<usize>().ok()?;
        counts.0 += rest
            .split(", ")
            .filter_map(|g| g.strip_suffix(" undecided"))
            .filter_map(|n| n.parse::<usize>().ok())
            .sum::<usize>();
    }
    (counts.1 > 0).then_some(counts)
}

/// The row's verdict: accepted or refused as expected, within its bound; `FAIL` otherwise.
fn verdict(row: &Row, r: &Run, stdout: &str) -> (bool, String) {
    let code_ok = match row.expect {
        Expect::Accept => matches!(r.code, Some(0 | 1)),
        Expect::Refuse => r.code == Some(2),
    };
    let ok = code_ok && r.secs <= row.secs && r.rss_mib <= row.mib;
    let mut text = match (code_ok, row.expect) {
        (true, Expect::Accept) => "accepted".to_string(),
        (true, Expect::Refuse) => "refused (exit 2)".to_string(),
        (false, _) => format!("FAIL: exit {:?}", r.code),
    };
    if row.command == "inspect --syscalls" {
        match undecided(stdout) {
            Some((u, n)) => write!(text, "; {u} of {n} numbers undecided").unwrap(),
            None => text.push_str("; FAIL: no per-ABI summary"),
        }
    }
    if row.command.starts_with("seccomp lint") && row.expect == Expect::Accept {
        let n = stdout
            .lines()
            .filter(|l| l.starts_with("MEDIUM undecided"))
            .count();
        write!(text, "; {n} `undecided` finding(s)").unwrap();
    }
    if code_ok && !ok {
        text.push_str("; FAIL: over its bound");
    }
    (ok, text)
}

/// The table's header.
const HEADER: &str = "| Input | Command | Wall time | Peak RSS | Documented bound | Result |\n|---|---|---|---|---|---|\n";

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
    // on tmpfs where there is one: 10,000 saved processes take minutes to create and remove
    // on a VM's disk
    let dir = tempfile::Builder::new()
        .prefix("confine-bounds")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let put = |name: &str, bytes: &[u8]| -> String {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    let p16 = put("16mib.json", sized(100_000, 16 << 20).as_bytes());
    let big = put("too-large.json", sized(100_000, (16 << 20) + 1).as_bytes());
    let r100k = put("100k-rules.json", many_rules(100_000).as_bytes());
    let r100k1 = put("100001-rules.json", many_rules(100_001).as_bytes());
    let three = "{\"names\":[\"read\",\"write\",\"close\"],\"action\":\"SCMP_ACT_ALLOW\"}";
    let names = put(
        "150k-names.json",
        profile(&vec![three.to_string(); 50_000]).as_bytes(),
    );
    let c1000 = put("1000-conds.json", conditions(1000).as_bytes());
    let c4097 = put("4097-conds.json", conditions(4097).as_bytes());
    let u200k = put("200k-unknown.json", minified(200_000, false).as_bytes());
    let u932k = put("932k-unknown.json", minified(932_000, false).as_bytes());
    let d100k = put("100k-dup.json", minified(100_000, true).as_bytes());
    let prog = put("4096.bpf", &long_program(4096));
    let prog4097 = put("4097.bpf", &long_program(4097));
    let snaps = dir.path().join("proc");
    snapshots(&snaps, 10_000);
    let snaps = snaps.to_str().unwrap().to_string();
    // one saved process whose status is one byte over the 16 MiB a file may have
    let huge = dir.path().join("huge-proc");
    snapshots(&huge, 1);
    let mut status = std::fs::read(huge.join("100000/status")).unwrap();
    status.resize((16 << 20) + 1, b'\n');
    std::fs::write(huge.join("100000/status"), status).unwrap();
    let huge = huge.to_str().unwrap().to_string();

    // a live process under the 4,096-instruction filter, and 1,000 sleeping ones
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
    let filtered = c.id().to_string();
    kids.0.push(c);
    assert_eq!(
        line.trim(),
        "up",
        "the filtered child did not start (run as root)"
    );
    for _ in 0..1000 {
        kids.0.push(
            Command::new("sleep")
                .arg("600")
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
    }

    let host = ["--arch", "amd64", "--kernel", "6.8"];
    let with = |a: &[&str]| -> Vec<String> {
        a.iter().chain(host.iter()).map(|s| s.to_string()).collect()
    };
    let plain = |a: &[&str]| -> Vec<String> { a.iter().map(|s| s.to_string()).collect() };
    use Expect::*;
    let row = |input: &str, command, args, secs, mib, expect| Row {
        input: input.to_string(),
        command,
        args,
        secs,
        mib,
        expect,
    };
    let compile = "seccomp compile";
    let check = "seccomp check";
    let rows = vec![
        row(
            "16 MiB profile (100,000 rules)",
            check,
            with(&["seccomp", "check", &p16]),
            1.0,
            256.0,
            Accept,
        ),
        row(
            "16 MiB profile (100,000 rules)",
            compile,
            with(&["seccomp", "compile", &p16]),
            1.0,
            256.0,
            Accept,
        ),
        row(
            "16 MiB + 1 byte",
            compile,
            with(&["seccomp", "compile", &big]),
            1.0,
            256.0,
            Refuse,
        ),
        row(
            "100,000 rules",
            compile,
            with(&["seccomp", "compile", &r100k]),
            1.0,
            256.0,
            Accept,
        ),
        row(
            "100,001 rules",
            compile,
            with(&["seccomp", "compile", &r100k1]),
            1.0,
            256.0,
            Refuse,
        ),
        row(
            "150,000 names (50,000 rules)",
            compile,
            with(&["seccomp", "compile", &names]),
            1.0,
            256.0,
            Refuse,
        ),
        row(
            "1,000 conditions on one syscall",
            compile,
            with(&["seccomp", "compile", &c1000]),
            1.0,
            256.0,
            Accept,
        ),
        row(
            "4,097 conditions on one syscall",
            compile,
            with(&["seccomp", "compile", &c4097]),
            1.0,
            256.0,
            Refuse,
        ),
        row(
            "200,000 unknown keys on one line",
            check,
            with(&["seccomp", "check", &u200k]),
            1.0,
            256.0,
            Accept,
        ),
        row(
            "932,000 unknown keys on one line (14.9 MB)",
            check,
            with(&["seccomp", "check", &u932k]),
            1.0,
            256.0,
            Accept,
        ),
        row(
            "100,000 duplicate keys on one line",
            check,
            with(&["seccomp", "check", &d100k]),
            1.0,
            256.0,
            Accept,
        ),
        row(
            "4,096-instruction program, 4,096 paths per syscall",
            "seccomp eval --bpf",
            with(&["seccomp", "eval", "--bpf", &prog, "read"]),
            1.0,
            64.0,
            Accept,
        ),
        row(
            "4,096-instruction program, 4,096 paths per syscall",
            "seccomp disasm",
            plain(&["seccomp", "disasm", &prog]),
            1.0,
            64.0,
            Accept,
        ),
        row(
            "4,096-instruction program, 4,096 paths per syscall",
            "seccomp lint --bpf (decode)",
            with(&["seccomp", "lint", "--bpf", &prog]),
            5.0,
            256.0,
            Accept,
        ),
        row(
            "4,096-instruction filter, 4,096 paths per syscall, on a live process",
            "inspect --syscalls",
            plain(&["inspect", "--syscalls", &filtered]),
            5.0,
            256.0,
            Accept,
        ),
        row(
            "4,097-instruction program",
            "seccomp eval --bpf",
            with(&["seccomp", "eval", "--bpf", &prog4097, "read"]),
            1.0,
            64.0,
            Refuse,
        ),
        row(
            "4,097-instruction program",
            "seccomp disasm",
            plain(&["seccomp", "disasm", &prog4097]),
            1.0,
            64.0,
            Refuse,
        ),
        row(
            "4,097-instruction program",
            "seccomp lint --bpf (decode)",
            with(&["seccomp", "lint", "--bpf", &prog4097]),
            1.0,
            64.0,
            Refuse,
        ),
        row(
            "1,000 live processes (and the machine's own)",
            "inspect --all",
            plain(&["inspect", "--all"]),
            5.0,
            256.0,
            Accept,
        ),
        row(
            "10,000 saved /proc snapshots",
            "inspect --all --proc-copy",
            plain(&[
                "inspect",
                "--all",
                "--proc-copy",
                &snaps,
                "--lsm",
                "apparmor",
            ]),
            5.0,
            256.0,
            Accept,
        ),
        row(
            "a saved process whose status is 16 MiB + 1 byte",
            "inspect --proc-copy",
            plain(&[
                "inspect",
                "--proc-copy",
                &huge,
                "--lsm",
                "apparmor",
                "100000",
            ]),
            1.0,
            64.0,
            Refuse,
        ),
    ];

    let mut out = String::from(HEADER);
    let mut failed = false;
    let stdout = dir.path().join("stdout");
    for r in &rows {
        let a: Vec<&str> = r.args.iter().map(String::as_str).collect();
        let run = measure(
            &confine,
            &a,
            Duration::from_secs_f64(r.secs * 30.0),
            &stdout,
        );
        let text = std::fs::read_to_string(&stdout).unwrap_or_default();
        let (ok, result) = verdict(r, &run, &text);
        failed |= !ok;
        let line = format!(
            "| {} | `{}` | {:.3} s | {:.1} MiB | {} s, {} MiB | {result} |",
            r.input, r.command, run.secs, run.rss_mib, r.secs, r.mib
        );
        eprintln!("{line}");
        writeln!(out, "{line}").unwrap();
    }
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
    fn the_long_programs_have_their_lengths() {
        assert_eq!(long_program(4096).len(), 4096 * 8);
        assert_eq!(long_program(4097).len(), 4097 * 8);
    }
}
