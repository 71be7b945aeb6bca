//! The syscall probe the Docker comparison runs in a container and under `confine run`.
//! Built by the test with `rustc -C target-feature=+crt-static` (static, std only) and put in
//! the image beside busybox. It prints the confinement lines of /proc/self/status, then the
//! result of a few syscalls whose arguments make them harmless whether or not they are
//! allowed: each is either refused by the filter or fails on its own arguments before doing
//! anything (a null pointer, a bad descriptor, a query-only flag).
use std::io::Error;

extern "C" {
    // glibc's variadic syscall(2) wrapper; the probe passes six integer arguments.
    fn syscall(nr: i64, a: i64, b: i64, c: i64, d: i64, e: i64, f: i64) -> i64;
}

/// (name, x86_64 number, arguments): harmless calls, chosen to cover the profile's shapes:
/// plain allow, plain deny, argument-filtered, and errno other than EPERM.
const PROBES: [(&str, i64, [i64; 6]); 12] = [
    ("getpid", 39, [0; 6]),
    ("personality_query", 135, [0xffff_ffff, 0, 0, 0, 0, 0]), // argument-filtered allow
    ("personality_bad", 135, [0x1234_5678, 0, 0, 0, 0, 0]),   // argument-filtered deny
    ("clone3_null", 435, [0; 6]),                             // ENOSYS in Docker's profile
    ("unshare_none", 272, [0; 6]),                            // flags 0: changes nothing
    ("mount_null", 165, [0; 6]),                              // null source/target
    ("keyctl_bad", 250, [-1, 0, 0, 0, 0, 0]),                 // no such operation
    ("setns_badfd", 308, [-1, 0, 0, 0, 0, 0]),
    ("bpf_bad", 321, [-1, 0, 0, 0, 0, 0]),
    ("reboot_badmagic", 169, [0; 6]),
    ("ptrace_bad", 101, [-1, 0, 0, 0, 0, 0]),
    ("io_uring_setup_null", 425, [0; 6]),
];

fn main() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status.lines() {
        if line.starts_with("Cap") || line.starts_with("NoNewPrivs") || line.starts_with("Seccomp")
        {
            println!("{line}");
        }
    }
    for (name, nr, a) in PROBES {
        // SAFETY: every probe's arguments are integers or null pointers, which the kernel
        // checks before using; none of them can change this process's memory.
        let r = unsafe { syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
        let errno = if r == -1 {
            Error::last_os_error().raw_os_error().unwrap_or(0)
        } else {
            0
        };
        println!("{name} {errno}");
    }
}
