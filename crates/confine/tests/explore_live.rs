//! What fuzzing found in the path explorer, shown on the real kernel: a filter that divides by
//! X when X is 0 is ended by the kernel (KILL_THREAD, the thread dies of SIGSYS), and
//! `confine inspect --syscalls` of a process carrying it must say so; with X taken from an
//! argument, the kill depends on that argument being 0. Real-kernel test: the filters are
//! installed with prctl by /usr/bin/python3 (ctypes), and `--syscalls` needs root.

use confine_test_support::run::confine;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Installs the program given as `code,jt,jf,k` words (argv[1], `;`-separated), then either
/// prints "up" and sleeps (argv[2] == "sleep") or calls capget(argv[2], 0) and prints the
/// errno it got (a kill ends it with SIGSYS before it prints).
const INSTALL: &str = r#"
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
words = [tuple(int(x, 0) for x in w.split(",")) for w in sys.argv[1].split(";")]
raw = b"".join(struct.pack("=HBBI", *w) for w in words)
buf = ctypes.create_string_buffer(raw, len(raw))
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
prog = Prog(len(words), ctypes.cast(buf, ctypes.c_void_p))
assert libc.prctl(38, 1, 0, 0, 0) == 0                      # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0     # PR_SET_SECCOMP, FILTER
if sys.argv[2] == "sleep":
    print("up", flush=True)
    os.execv("/bin/sleep", ["sleep", "60"])
libc.syscall.restype = ctypes.c_long
r = libc.syscall(125, ctypes.c_ulong(int(sys.argv[2], 0)), ctypes.c_ulong(0))
print(r, ctypes.get_errno(), flush=True)
"#;

const LD_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const DIV_X: u16 = 0x3c;
const TAX: u16 = 0x07;
const RET_K: u16 = 0x06;
const ERRNO_EPERM: u32 = 0x0005_0001;
const ALLOW: u32 = 0x7fff_0000;

/// `ld nr; jeq capget; <body>; ret ERRNO(EPERM)`, else `ret ALLOW`.
fn capget_with(body: &[(u16, u32)]) -> String {
    let mut w = vec![(LD_ABS, 0, 0, 0), (JEQ_K, 0, body.len() as u8 + 1, 125)];
    w.extend(body.iter().map(|&(c, k)| (c, 0, 0, k)));
    w.push((RET_K, 0, 0, ERRNO_EPERM));
    w.push((RET_K, 0, 0, ALLOW));
    w.iter()
        .map(|(c, t, f, k)| format!("{c:#x},{t},{f},{k:#x}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// A child killed when the test ends.
struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A sleeping process carrying `prog`, once its filter is installed.
fn carrying(prog: &str) -> Guard {
    let mut c = Command::new("/usr/bin/python3")
        .args(["-c", INSTALL, prog, "sleep"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(c.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "up");
    Guard(c)
}

/// capget's verdict on x86_64 as `confine inspect --syscalls --json` decodes it.
fn inspected_capget(pid: u32) -> Value {
    let o = confine(&["inspect", "--json", "--syscalls", &pid.to_string()]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let arches = v["seccomp"]["decoded"]["arches"].as_array().unwrap();
    let a = arches.iter().find(|a| a["arch"] == "x86_64").unwrap();
    let s = a["syscalls"].as_array().unwrap();
    s.iter().find(|s| s["name"] == "capget").unwrap()["verdict"].clone()
}

/// What the real kernel does to capget(a0, 0) under `prog`: `Err(signal)` or `Ok(errno)`.
fn kernel_capget(prog: &str, a0: u64) -> Result<i32, i32> {
    use std::os::unix::process::ExitStatusExt;
    let o = Command::new("/usr/bin/python3")
        .args(["-c", INSTALL, prog, &a0.to_string()])
        .output()
        .unwrap();
    if let Some(sig) = o.status.signal() {
        return Err(sig);
    }
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let errno = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    Ok(errno)
}

fn eval(prog_file: &std::path::Path, a0: &str) -> String {
    let o = confine(&[
        "seccomp",
        "eval",
        "--bpf",
        prog_file.to_str().unwrap(),
        "capget",
        a0,
    ]);
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// The same program as raw `struct sock_filter` bytes, for `--bpf`.
fn raw(prog: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let mut b = Vec::new();
    for w in prog.split(';') {
        let f: Vec<u32> = w
            .split(',')
            .map(|x| match x.strip_prefix("0x") {
                Some(h) => u32::from_str_radix(h, 16).unwrap(),
                None => x.parse().unwrap(),
            })
            .collect();
        b.extend_from_slice(&(f[0] as u16).to_ne_bytes());
        b.push(f[1] as u8);
        b.push(f[2] as u8);
        b.extend_from_slice(&f[3].to_ne_bytes());
    }
    let p = dir.join("prog.bpf");
    std::fs::write(&p, b).unwrap();
    p
}

#[test]
fn dividing_by_a_zero_x_is_a_kill_for_inspect_eval_and_the_kernel() {
    // X is 0 from the start
    let prog = capget_with(&[(LD_ABS, 16), (DIV_X, 0)]);
    assert_eq!(
        kernel_capget(&prog, 7),
        Err(31),
        "the kernel kills with SIGSYS"
    );
    let g = carrying(&prog);
    let v = inspected_capget(g.0.id());
    assert_eq!(v["action"], "KILL_THREAD", "{v}");
    let dir = tempfile::tempdir().unwrap();
    let out = eval(&raw(&prog, dir.path()), "7");
    assert!(out.contains("KILL_THREAD"), "{out}");
}

#[test]
fn a_divisor_from_an_argument_kills_only_when_it_is_zero() {
    // X = arg0's low word, A = arg1's low word: killed when arg0's low word is 0
    let prog = capget_with(&[(LD_ABS, 16), (TAX, 0), (LD_ABS, 24), (DIV_X, 0)]);
    assert_eq!(kernel_capget(&prog, 0), Err(31));
    assert_eq!(
        kernel_capget(&prog, 1 << 32),
        Err(31),
        "only the low word divides"
    );
    assert_eq!(kernel_capget(&prog, 5), Ok(1), "EPERM");
    let g = carrying(&prog);
    let v = inspected_capget(g.0.id());
    let depends = v["depends"].as_array().unwrap_or_else(|| panic!("{v}"));
    let when = |action: &str| -> Vec<String> {
        let d = depends.iter().find(|d| d["action"] == action).unwrap();
        d["when"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(depends.len(), 2, "{v}");
    let kill = when("KILL_THREAD");
    assert_eq!(kill.len(), 1, "{kill:?}");
    assert!(
        kill[0].starts_with("arg0") && kill[0].ends_with("== 0x0"),
        "{kill:?}"
    );
    let eperm = when("ERRNO(EPERM)");
    assert!(
        eperm[0].starts_with("arg0") && eperm[0].contains("!= 0x0"),
        "{eperm:?}"
    );
}
