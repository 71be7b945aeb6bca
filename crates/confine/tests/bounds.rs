//! Resource bounds (README, "Resource bounds"): inputs at the bounds are accepted and inputs
//! beyond them refused with exit 2 and a located message, each run under an address-space
//! limit (`prlimit --as`) and killed after a wall-clock limit (`timeout -s KILL`), so that a
//! regression fails the test instead of hanging it. Inputs are generated in a private
//! temporary directory (on /dev/shm when it exists).

use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

/// The address-space limit for every run (the release binary peaks under 150 MiB of RSS on
/// these inputs; debug builds and address-space reservations need more room).
const AS_LIMIT: &str = "1073741824";
/// Seconds before a run is killed.
const KILL_AFTER: &str = "30";

/// `confine ARGS` under the memory and time limits.
fn bounded(args: &[&str]) -> Output {
    Command::new("timeout")
        .args(["-s", "KILL", KILL_AFTER, "prlimit"])
        .arg(format!("--as={AS_LIMIT}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_confine"))
        .args(args)
        .output()
        .expect("timeout and prlimit (coreutils, util-linux)")
}

/// A private directory for the inputs, on tmpfs (/dev/shm) where there is one: creating and
/// removing 10,000 saved processes on a VM's disk takes minutes, on tmpfs about a second.
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("confine-bounds")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap()
}

fn code(o: &Output) -> i32 {
    let code = o.status.code();
    assert_ne!(code, Some(137), "killed after {KILL_AFTER} s: {o:?}");
    code.unwrap_or_else(|| panic!("killed by a signal: {:?}", o.status))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const HOST: [&str; 4] = ["--arch", "amd64", "--kernel", "6.8"];

fn compile(p: &Path) -> Output {
    let mut a = vec!["seccomp", "compile", p.to_str().unwrap()];
    a.extend(HOST);
    bounded(&a)
}

fn check_json(p: &Path) -> (Output, Value) {
    let mut a = vec!["seccomp", "check", "--json", p.to_str().unwrap()];
    a.extend(HOST);
    let o = bounded(&a);
    let v = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (o, v)
}

fn profile(rules: impl Iterator<Item = String>) -> String {
    let rules: Vec<String> = rules.collect();
    format!(
        "{{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\"],\"syscalls\":[{}]}}",
        rules.join(",")
    )
}

fn allow(name: &str) -> String {
    format!("{{\"names\":[\"{name}\"],\"action\":\"SCMP_ACT_ALLOW\"}}")
}

fn conditions(n: usize) -> String {
    profile((0..n).map(|i| format!("{{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{{\"index\":0,\"value\":{i},\"op\":\"SCMP_CMP_EQ\"}}]}}")))
}

#[test]
fn rules_names_and_size() {
    let dir = scratch();
    let names = ["read", "write", "close", "execve", "futex"];
    let at = dir.path().join("100000.json");
    std::fs::write(&at, profile((0..100_000).map(|i| allow(names[i % 5])))).unwrap();
    let o = compile(&at);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let over = dir.path().join("100001.json");
    std::fs::write(&over, profile((0..100_001).map(|i| allow(names[i % 5])))).unwrap();
    let o = compile(&over);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("100001.json:1:"), "{}", stderr(&o));
    assert!(stderr(&o).contains("100001 rules; confine reads at most 100000 [too-many-rules]"));

    // 50,000 rules of 3 names: 150,000 names
    let three = "{\"names\":[\"read\",\"write\",\"close\"],\"action\":\"SCMP_ACT_ALLOW\"}";
    let names_over = dir.path().join("names.json");
    std::fs::write(&names_over, profile((0..50_000).map(|_| three.to_string()))).unwrap();
    let o = compile(&names_over);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("[too-many-names]"), "{}", stderr(&o));

    // 16 MiB accepted, one byte more refused
    let pad = |bytes: usize| {
        let mut s = profile(std::iter::once(allow("read")));
        s.pop();
        s.push_str(",\"comment\":\"");
        let close = "\"}";
        s.push_str(&"x".repeat(bytes - s.len() - close.len()));
        s.push_str(close);
        assert_eq!(s.len(), bytes);
        s
    };
    let p16 = dir.path().join("16mib.json");
    std::fs::write(&p16, pad(16 << 20)).unwrap();
    let (o, v) = check_json(&p16);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(v["errors"], 0);
    std::fs::write(&p16, pad((16 << 20) + 1)).unwrap();
    let (o, _) = check_json(&p16);
    assert_eq!(code(&o), 2);
}

#[test]
fn conditions_on_one_syscall() {
    let dir = scratch();
    let p = dir.path().join("1000.json");
    std::fs::write(&p, conditions(1000)).unwrap();
    let o = compile(&p);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let p = dir.path().join("4097.json");
    std::fs::write(&p, conditions(4097)).unwrap();
    let o = compile(&p);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o)
            .contains("rule 4096 (personality): on x86_64, more than 4096 argument conditions"),
        "{}",
        stderr(&o)
    );
}

/// One line: `n` unknown keys, or `n` duplicate defaultAction keys.
fn minified(n: usize, duplicates: bool) -> String {
    let mut s = String::from("{\"defaultAction\":\"SCMP_ACT_ALLOW\"");
    for i in 0..n {
        if duplicates {
            s.push_str(",\"defaultAction\":\"SCMP_ACT_ALLOW\"");
        } else {
            s.push_str(&format!(",\"k{i}\":0"));
        }
    }
    s.push('}');
    s
}

#[test]
fn diagnostics_on_one_long_line_are_linear_and_capped() {
    let dir = scratch();
    for (n, dup, code_) in [
        (200_000, false, "unknown-key"),
        (932_000, false, "unknown-key"),
        (100_000, true, "duplicate-key"),
    ] {
        let p = dir.path().join(format!("{n}-{dup}.json"));
        let text = minified(n, dup);
        std::fs::write(&p, &text).unwrap();
        let (o, v) = check_json(&p);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        // n findings on the keys, and one more after them: `confines-nothing` (an ALLOW
        // default and no rules); 199 are shown, then one `not-shown` counting the rest
        let findings = n + 1;
        assert_eq!(v["warnings"], findings);
        assert_eq!(v["errors"], 0);
        let d = v["diagnostics"].as_array().unwrap();
        assert_eq!(d.len(), 200);
        assert_eq!(v["not_shown"], findings - 199);
        assert!(d[..199].iter().all(|d| d["code"] == code_));
        // columns still count characters on the one line: the 199th finding's key
        let key = if dup {
            text.match_indices("\"defaultAction\"").nth(199).unwrap().0
        } else {
            text.find("\"k198\"").unwrap()
        };
        assert_eq!(d[198]["column"], key + 1);
        assert_eq!(d[199]["code"], "not-shown");
        assert_eq!(d[199]["severity"], "warning");
        assert!(d[199]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{} more diagnostic(s)", findings - 199)));
    }
    // the text output: 200 lines and the summary, which counts every finding
    let p = dir.path().join("200000-false.json");
    let mut a = vec!["seccomp", "check", p.to_str().unwrap()];
    a.extend(HOST);
    let o = bounded(&a);
    assert_eq!(code(&o), 0);
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.lines().count(), 201, "{text}");
    assert!(text.contains(
        "199802 more diagnostic(s) from here on not shown (0 error(s), 199802 warning(s))"
    ));
    assert!(
        text.ends_with(": 0 error(s), 200001 warning(s)\n"),
        "{text}"
    );
}

#[test]
fn an_error_beyond_the_cap_still_refuses() {
    let dir = scratch();
    let mut s = minified(300, false);
    s.pop();
    s.push_str(",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_BOGUS\"}]}");
    let p = dir.path().join("late-error.json");
    std::fs::write(&p, s).unwrap();
    let (o, v) = check_json(&p);
    assert_eq!(code(&o), 2);
    // 300 unknown keys, the bad action (rule 0), and `confines-nothing` (no rule was read):
    // 199 keys shown, then the other 101, the error and the warning counted
    assert_eq!(v["errors"], 1);
    assert_eq!(v["warnings"], 301);
    let d = v["diagnostics"].as_array().unwrap();
    assert_eq!(d.len(), 200);
    assert_eq!(d[199]["severity"], "error");
    assert!(
        d[199]["message"].as_str().unwrap().starts_with(
            "103 more diagnostic(s) from here on not shown (1 error(s), 102 warning(s))"
        ),
        "{}",
        d[199]["message"]
    );
    assert_eq!(v["not_shown"], 103);
}

/// The fuzzer's slow program (issue 20), `n` instructions: twelve independent two-way tests
/// of arg0's bits (4,096 paths per syscall), each path then walking the rest of the program
/// before it allows: more work per syscall than the explorer may spend.
fn program(n: usize) -> Vec<u8> {
    let mut insns: Vec<(u16, u8, u8, u32)> = vec![(0x20, 0, 0, 16)]; // ld [16]: arg0
    for bit in 0..12 {
        insns.push((0x45, 0, 1, 1 << bit)); // jset #bit
        insns.push((0x07, 0, 0, 0)); // tax
    }
    while insns.len() + 1 < n {
        insns.push((0x04, 0, 0, 1)); // add #1
    }
    insns.push((0x06, 0, 0, 0x7fff_0000)); // ret ALLOW
    insns
        .iter()
        .flat_map(|&(c, jt, jf, k)| {
            let mut b = c.to_ne_bytes().to_vec();
            b.extend([jt, jf]);
            b.extend(k.to_ne_bytes());
            b
        })
        .collect()
}

#[test]
fn programs_of_4096_instructions() {
    let dir = scratch();
    let p = dir.path().join("4096.bpf");
    std::fs::write(&p, program(4096)).unwrap();
    let p = p.to_str().unwrap();
    let mut eval = vec!["seccomp", "eval", "--bpf", p, "read"];
    eval.extend(HOST);
    let o = bounded(&eval);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = bounded(&["seccomp", "disasm", p]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // lint decodes every number of every ABI: past the work bound it names what it left
    let mut lint = vec!["seccomp", "lint", "--bpf", p];
    lint.extend(HOST);
    let o = bounded(&lint);
    assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("too complex to decode within the explorer's work bound"),
        "{text}"
    );
    // and it claims nothing it could not decide: no call counted as refused, no way around a
    // refusal it never saw
    assert!(text.contains("(0 amd64 syscall(s) refused, "), "{text}");
    assert!(!text.contains("abi-bypass"), "{text}");

    // one instruction more than the kernel's BPF_MAXINSNS
    let q = dir.path().join("4097.bpf");
    std::fs::write(&q, program(4097)).unwrap();
    let q = q.to_str().unwrap();
    let o = bounded(&["seccomp", "disasm", q]);
    assert_eq!(code(&o), 2);
    let mut eval = vec!["seccomp", "eval", "--bpf", q, "read"];
    eval.extend(HOST);
    let mut lint = vec!["seccomp", "lint", "--bpf", q];
    lint.extend(HOST);
    for args in [eval, lint] {
        let o = bounded(&args);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        assert!(o.stdout.is_empty());
        assert!(stderr(&o).contains("4097"), "{}", stderr(&o));
    }
}

/// Installs the raw program of file argv[1] (no_new_privs, SECCOMP_MODE_FILTER), prints "up"
/// and sleeps.
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
os.execv("/bin/sleep", ["sleep", "60"])
"#;

/// A child killed when the test ends.
struct Guard(std::process::Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reading a live process's filters needs CAP_SYS_ADMIN: root (as CI runs).
fn root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
}

/// `inspect --syscalls` of a process carrying the 4,096-path program ends within the limits
/// and says every number is undecided, by the work bound, rather than guessing a verdict
/// (the issue measured over 60 s before the bound).
#[test]
fn a_live_filter_past_the_work_bound_is_undecided() {
    if !root() {
        eprintln!("skipped: inspect --syscalls reads filters as root only");
        return;
    }
    use std::io::BufRead;
    let dir = scratch();
    let p = dir.path().join("4096.bpf");
    std::fs::write(&p, program(4096)).unwrap();
    let mut c = Command::new("/usr/bin/python3")
        .args(["-c", INSTALL, p.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(c.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid = c.id().to_string();
    let _guard = Guard(c);
    assert_eq!(line.trim(), "up");
    let o = bounded(&["inspect", "--syscalls", &pid]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("filter 0: 4096 instructions"), "{text}");
    assert!(!text.contains("not accepted"), "{text}");
    let abis: Vec<&str> = text.lines().filter(|l| l.contains(" numbers: ")).collect();
    assert_eq!(abis.len(), 3, "{text}");
    for l in abis {
        // `  x86_64: 471 numbers: 471 undecided`
        let n = l.split_whitespace().nth(1).unwrap();
        assert!(l.ends_with(&format!("numbers: {n} undecided")), "{l}");
    }
    assert!(text.contains("undecided: too complex to decode within the work bound"));

    // the JSON says it per number too
    let o = bounded(&["inspect", "--syscalls", "--json", &pid]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let s = v.to_string();
    assert!(
        s.contains("\"undecided\":\"too complex to decode within the work bound\""),
        "{}",
        &s[..s.len().min(2000)]
    );
    assert!(!s.contains("\"allow\"") && !s.contains("\"ALLOW\""));
}

#[test]
fn ten_thousand_saved_processes() {
    let dir = scratch();
    let root = dir.path().join("proc");
    for i in 0..10_000u32 {
        let pid = 100_000 + i;
        let d = root.join(pid.to_string());
        std::fs::create_dir_all(d.join("attr/apparmor")).unwrap();
        std::fs::write(
            d.join("status"),
            format!("Name:\tsleep\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nNSpid:\t{pid}\nCapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t2\nSeccomp_filters:\t1\n"),
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
    let o = bounded(&[
        "inspect",
        "--all",
        "--json",
        "--proc-copy",
        root.to_str().unwrap(),
        "--lsm",
        "apparmor",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let lines = String::from_utf8(o.stdout.clone()).unwrap();
    assert_eq!(lines.lines().count(), 10_000);
    assert!(o.stderr.is_empty(), "{}", stderr(&o));

    // one more, whose status is one byte over the 16 MiB a saved file may have: refused
    // alone (exit 2), named and left out of --all
    let big = root.join("99999");
    std::fs::create_dir(&big).unwrap();
    let mut status = b"Name:\tsleep\nPid:\t99999\n".to_vec();
    status.resize((16 << 20) + 1, b'\n');
    std::fs::write(big.join("status"), status).unwrap();
    let root = root.to_str().unwrap();
    let o = bounded(&["inspect", "--proc-copy", root, "--lsm", "apparmor", "99999"]);
    assert_eq!(code(&o), 2);
    assert!(o.stdout.is_empty());
    let refusal = "cannot read the status of process 99999: ";
    assert!(stderr(&o).contains(refusal), "{}", stderr(&o));
    assert!(stderr(&o).contains("larger than 16 MiB"), "{}", stderr(&o));
    let all = [
        "inspect",
        "--all",
        "--json",
        "--proc-copy",
        root,
        "--lsm",
        "apparmor",
    ];
    let o = bounded(&all);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        String::from_utf8(o.stdout.clone()).unwrap().lines().count(),
        10_000
    );
    assert!(stderr(&o).contains(refusal), "{}", stderr(&o));
}

/// The Landlock record lookup is bounded: a chain of processes holding many descriptors each
/// (any user can make one; the review's 200 × 19,900 took 44 s) is looked at up to 65,536
/// descriptors, then said to be incomplete, within the time limit.
#[test]
fn a_record_lookup_over_ancestors_full_of_descriptors_is_bounded() {
    if !Path::new("/usr/bin/python3").exists() {
        eprintln!("skipped: /usr/bin/python3 is missing");
        return;
    }
    // each level raises its soft limit, opens as many descriptors as it may (at most 30,000),
    // then starts the next; the last prints its pid and sleeps
    let chain = r#"
import os, resource, subprocess, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
n = min(hard - 64, 30000)
base = os.open("/dev/null", os.O_RDONLY)
fds = [os.dup(base) for _ in range(n)]
left = int(sys.argv[1]) - n
if left > 0:
    p = subprocess.Popen([sys.executable, "-c", sys.argv[2], str(left), sys.argv[2]], close_fds=True)
    p.wait()
else:
    print(os.getpid(), flush=True)
    import time; time.sleep(60)
"#;
    // a process group of its own, killed as a whole (no scan of every process, as pkill does)
    let mut top = Command::new("/usr/bin/python3")
        .args(["-c", chain, "80000", chain])
        .stdout(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(top.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let leaf = line.trim().to_string();
    let o = bounded(&["inspect", "--json", &leaf]);
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{}", top.id())])
        .status();
    let _ = top.wait();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let incomplete = v["landlock"]["incomplete"].as_str().unwrap_or_default();
    assert!(
        incomplete.contains("more than 65536 descriptors among the ancestors"),
        "{}",
        v["landlock"]
    );
}
