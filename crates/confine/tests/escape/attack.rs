//! The attacker the escape tests run under `confine run` (and in a Docker container, for the
//! /proc and /sys comparison). Built by the tests with `rustc -C target-feature=+crt-static`
//! (static, std only). Each subcommand tries one way out and prints what happened, one line
//! per attempt, `ok` or the errno name; it never writes a byte to a system file: write probes
//! only open with O_WRONLY and close.
//!
//! * `tiocsti TEXT` — push TEXT into the terminal on fd 0 (ioctl TIOCSTI)
//! * `tiocsti-path PATH TEXT` — open the terminal PATH (as another of the caller's terminals
//!   would be reached through /dev/pts) and push TEXT into it
//! * `ptrace PID` — PTRACE_ATTACH (then detach), kill(PID, 0), open /proc/PID/mem for writing,
//!   process_vm_readv of one byte
//! * `paths PATH...` — for each path: open for reading, open for writing
//! * `fds` — the open descriptors above 2
//! * `unshare-user` — unshare(CLONE_NEWUSER)
use std::io::Error;

extern "C" {
    // glibc's variadic syscall(2) wrapper; the attacker passes six integer arguments.
    fn syscall(nr: i64, a: i64, b: i64, c: i64, d: i64, e: i64, f: i64) -> i64;
    fn ioctl(fd: i32, req: u64, arg: *const u8) -> i32;
    fn open(path: *const u8, flags: i32, mode: u32) -> i32;
    fn close(fd: i32) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
}

const SYS_PTRACE: i64 = 101;
const SYS_PROCESS_VM_READV: i64 = 310;
const SYS_UNSHARE: i64 = 272;
const TIOCSTI: u64 = 0x5412;
const O_RDONLY: i32 = 0;
const O_WRONLY: i32 = 1;
const O_CLOEXEC: i32 = 0o2000000;

fn errno_name() -> String {
    let e = Error::last_os_error().raw_os_error().unwrap_or(0);
    let n = match e {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        9 => "EBADF",
        13 => "EACCES",
        14 => "EFAULT",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        25 => "ENOTTY",
        30 => "EROFS",
        38 => "ENOSYS",
        _ => return format!("errno{e}"),
    };
    n.to_string()
}

fn report(what: &str, r: i64) {
    if r < 0 {
        println!("{what} {}", errno_name());
    } else {
        println!("{what} ok");
    }
}

fn cpath(p: &str) -> Vec<u8> {
    let mut v = p.as_bytes().to_vec();
    v.push(0);
    v
}

fn try_open(p: &str, flags: i32) -> i64 {
    let c = cpath(p);
    // SAFETY: a NUL-terminated path.
    let fd = unsafe { open(c.as_ptr(), flags | O_CLOEXEC, 0) };
    if fd >= 0 {
        // SAFETY: closing the descriptor just opened, without writing anything.
        unsafe { close(fd) };
    }
    fd as i64
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("tiocsti") => {
            let text = args.get(1).map_or("id\n", String::as_str);
            let mut r = 0;
            for b in text.bytes() {
                // SAFETY: TIOCSTI reads one byte from a valid pointer.
                r = unsafe { ioctl(0, TIOCSTI, &b) } as i64;
                if r < 0 {
                    break;
                }
            }
            report("tiocsti", r);
        }
        Some("tiocsti-path") => {
            let c = cpath(&args[1]);
            const O_RDWR: i32 = 2;
            const O_NOCTTY: i32 = 0o400;
            // SAFETY: a NUL-terminated path.
            let fd = unsafe { open(c.as_ptr(), O_RDWR | O_NOCTTY | O_CLOEXEC, 0) };
            if fd < 0 {
                report("open", -1);
                return;
            }
            let mut r = 0;
            for b in args.get(2).map_or("id\n", String::as_str).bytes() {
                // SAFETY: TIOCSTI reads one byte from a valid pointer.
                r = unsafe { ioctl(fd, TIOCSTI, &b) } as i64;
                if r < 0 {
                    break;
                }
            }
            report("tiocsti", r);
        }
        Some("ptrace") => {
            let pid: i64 = args[1].parse().expect("pid");
            // SAFETY: integer arguments only.
            let r = unsafe { syscall(SYS_PTRACE, 16, pid, 0, 0, 0, 0) }; // PTRACE_ATTACH
            report("ptrace_attach", r);
            if r == 0 {
                // SAFETY: PTRACE_DETACH of the process just attached.
                unsafe { syscall(SYS_PTRACE, 17, pid, 0, 0, 0, 0) };
            }
            // SAFETY: kill with signal 0 only checks permission.
            report("kill0", unsafe { kill(pid as i32, 0) } as i64);
            report("mem_write", try_open(&format!("/proc/{pid}/mem"), O_WRONLY));
            report("environ_read", try_open(&format!("/proc/{pid}/environ"), O_RDONLY));
            let mut byte = [0u8; 1];
            let local = [byte.as_mut_ptr() as i64, 1i64];
            // the remote address does not matter: permission is checked first
            let remote = [0x1000i64, 1i64];
            // SAFETY: iovecs on local arrays; the kernel writes at most one byte into `byte`.
            let r = unsafe {
                syscall(
                    SYS_PROCESS_VM_READV,
                    pid,
                    local.as_ptr() as i64,
                    1,
                    remote.as_ptr() as i64,
                    1,
                    0,
                )
            };
            // EFAULT means the permission check passed
            report("process_vm_readv", r);
        }
        Some("paths") => {
            for p in &args[1..] {
                let r = try_open(p, O_RDONLY);
                let rs = if r < 0 { errno_name() } else { "ok".into() };
                let w = try_open(p, O_WRONLY);
                let ws = if w < 0 { errno_name() } else { "ok".into() };
                println!("{p} read={rs} write={ws}");
            }
        }
        Some("fds") => {
            let mut fds: Vec<u32> = std::fs::read_dir("/proc/self/fd")
                .expect("/proc/self/fd")
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .filter(|&fd| fd > 2)
                .collect();
            fds.sort();
            // the directory listing itself holds one descriptor, which is gone now
            let open: Vec<String> = fds
                .iter()
                .filter(|&&fd| std::path::Path::new(&format!("/proc/self/fd/{fd}")).exists())
                .map(|fd| fd.to_string())
                .collect();
            println!("fds [{}]", open.join(","));
        }
        Some("unshare-user") => {
            // SAFETY: integer arguments only (CLONE_NEWUSER).
            report("unshare_user", unsafe {
                syscall(SYS_UNSHARE, 0x1000_0000, 0, 0, 0, 0, 0)
            });
        }
        _ => {
            eprintln!("usage: attack tiocsti|ptrace|paths|fds|unshare-user ...");
            std::process::exit(2);
        }
    }
}
