//! The program the policy tests run under `confine run --policy` (and without it, to show that
//! each action succeeds outside the policy). Built by the tests with `rustc -C
//! target-feature=+crt-static` (static, std only: it needs no library, so the policies under
//! test need not allow any). Each argument is one action, `OP:ARG[:ARG]`; for each it prints
//! one line, `OP ok` or `OP ERRNO` (the errno's name).
//!
//! * `read:PATH` — read the file
//! * `list:DIR` — list the directory
//! * `write:PATH` — open for writing (appending) and write one byte
//! * `create:PATH` — create (or truncate) the file
//! * `truncate:PATH` — truncate(2) to 0 bytes
//! * `exec:PATH` — execute PATH (a program that exits 0)
//! * `link:FROM:TO`, `rename:FROM:TO` — link(2), rename(2)
//! * `connect:PORT`, `bind:PORT` — TCP on 127.0.0.1 (`connect` answers `ECONNREFUSED` when
//!   the port is allowed but nothing listens)
//! * `abstract:NAME` — connect to the abstract Unix socket NAME
//! * `kill:PID` — kill(PID, 0)
//! * `ioctl:PATH` — open the device and ask it TCGETS (`ENOTTY` is the device's own answer)
//! * `socket:DOMAIN:TYPE[:PROTOCOL]` — socket(2) with numbers, closed at once
//! * `io_uring` — io_uring_setup(2) of one entry, closed at once
use std::io::{Error, Write};
use std::os::unix::net::{SocketAddr, UnixStream};

extern "C" {
    fn ioctl(fd: i32, req: u64, arg: *mut u8) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
    fn truncate(path: *const u8, len: i64) -> i32;
    fn socket(domain: i32, ty: i32, proto: i32) -> i32;
    fn close(fd: i32) -> i32;
    // glibc's variadic syscall(2) wrapper, called with integer and pointer arguments.
    fn syscall(nr: i64, a: i64, b: i64) -> i64;
}

/// io_uring_setup(2) on x86_64.
const SYS_IO_URING_SETUP: i64 = 425;

const TCGETS: u64 = 0x5401;

fn name(e: &Error) -> String {
    let n = match e.raw_os_error().unwrap_or(0) {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        13 => "EACCES",
        18 => "EXDEV",
        22 => "EINVAL",
        25 => "ENOTTY",
        97 => "EAFNOSUPPORT",
        98 => "EADDRINUSE",
        111 => "ECONNREFUSED",
        n => return format!("errno{n}"),
    };
    n.to_string()
}

fn last<T>(r: i32, ok: T) -> std::io::Result<T> {
    if r < 0 {
        Err(Error::last_os_error())
    } else {
        Ok(ok)
    }
}

fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

fn act(op: &str, a: &str, b: &str, c: &str) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    match op {
        "read" => std::fs::read(a).map(drop),
        "list" => std::fs::read_dir(a).map(|d| d.for_each(drop)),
        "write" => std::fs::OpenOptions::new()
            .append(true)
            .open(a)?
            .write_all(b"x"),
        "create" => std::fs::File::create(a).map(drop),
        "truncate" => {
            let p = cstr(a);
            // SAFETY: a NUL-terminated path.
            last(unsafe { truncate(p.as_ptr(), 0) }, ())
        }
        "exec" => {
            let s = std::process::Command::new(a).status()?;
            if s.success() {
                Ok(())
            } else {
                Err(Error::other(format!("exited {s}")))
            }
        }
        "link" => std::fs::hard_link(a, b),
        "rename" => std::fs::rename(a, b),
        "connect" => std::net::TcpStream::connect(("127.0.0.1", a.parse::<u16>().unwrap())).map(drop),
        "bind" => std::net::TcpListener::bind(("127.0.0.1", a.parse::<u16>().unwrap())).map(drop),
        "abstract" => {
            use std::os::linux::net::SocketAddrExt;
            let addr = SocketAddr::from_abstract_name(a.as_bytes())?;
            UnixStream::connect_addr(&addr).map(drop)
        }
        "kill" => {
            // SAFETY: integer arguments.
            last(unsafe { kill(a.parse().unwrap(), 0) }, ())
        }
        "ioctl" => {
            let f = std::fs::File::open(a)?;
            let mut buf = [0u8; 64];
            // SAFETY: TCGETS writes a struct termios (60 bytes) into the 64-byte buffer.
            last(unsafe { ioctl(f.as_raw_fd(), TCGETS, buf.as_mut_ptr()) }, ())
        }
        "socket" => {
            // SAFETY: integer arguments; the descriptor is closed at once.
            let fd = unsafe { socket(a.parse().unwrap(), b.parse().unwrap(), c.parse().unwrap_or(0)) };
            if fd >= 0 {
                // SAFETY: our own descriptor.
                unsafe { close(fd) };
            }
            last(fd, ())
        }
        "io_uring" => {
            // struct io_uring_params is 120 bytes, zeroed: one entry, default flags
            let mut params = [0u8; 120];
            // SAFETY: the kernel writes into the 120-byte buffer we own; the descriptor is
            // closed at once.
            let fd = unsafe { syscall(SYS_IO_URING_SETUP, 1, params.as_mut_ptr() as i64) };
            if fd >= 0 {
                // SAFETY: our own descriptor.
                unsafe { close(fd as i32) };
            }
            last(fd as i32, ())
        }
        _ => panic!("unknown op {op}"),
    }
}

fn main() {
    for arg in std::env::args().skip(1) {
        let mut it = arg.splitn(4, ':');
        let op = it.next().unwrap();
        let mut next = || it.next().unwrap_or("");
        let (a, b, c) = (next(), next(), next());
        match act(op, a, b, c) {
            Ok(()) => println!("{op} ok"),
            Err(e) if e.raw_os_error().is_some() => println!("{op} {}", name(&e)),
            Err(e) => println!("{op} {e}"),
        }
    }
}
