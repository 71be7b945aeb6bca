//! The argument-width probe: makes a call with raw 64-bit arguments (`probe NR A0 A1 A2`,
//! decimal or 0x…) through glibc's syscall(2) and prints `0` when it succeeded or the errno.
//! A descriptor it returns is closed. Built static by the test (std only).
use std::io::Error;

extern "C" {
    fn syscall(nr: i64, a: i64, b: i64, c: i64, d: i64, e: i64, f: i64) -> i64;
    fn close(fd: i32) -> i32;
}

fn num(s: &str) -> i64 {
    let v = match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse::<u64>(),
    };
    v.expect("a number") as i64
}

fn main() {
    let a: Vec<i64> = std::env::args().skip(1).map(|s| num(&s)).collect();
    let arg = |i: usize| a.get(i).copied().unwrap_or(0);
    // SAFETY: the test passes integer arguments only (socket's family, type and protocol;
    // ioctl's descriptor, command and a null pointer), which the kernel checks before use.
    let r = unsafe { syscall(arg(0), arg(1), arg(2), arg(3), 0, 0, 0) };
    if r < 0 {
        println!("{}", Error::last_os_error().raw_os_error().unwrap_or(-1));
    } else {
        if arg(0) == 41 {
            // SAFETY: r is the descriptor socket(2) just returned
            unsafe { close(r as i32) };
        }
        println!("0");
    }
}
