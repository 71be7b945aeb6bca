//! The program the recording tests record (built by them with `rustc -C
//! target-feature=+crt-static`: static, std only). Each argument is one action; each prints
//! one line.
//!
//! * `i386` — getpid through `int 0x80` (i386 number 20): `i386 ok` when it returned a pid
//! * `x32` — getpid with the x32 bit (0x40000000 | 39): `x32 ok` or `x32 ENOSYS` (a kernel
//!   without the x32 ABI answers ENOSYS; the call still reaches seccomp first)
//! * `threads:N` — N threads, each calling getppid and exiting: `threads ok`
//! * `sysinfo` — sysinfo(2): `sysinfo ok` or `sysinfo E<errno>`
//! * `socket:DOMAIN:TYPE` — socket(2) with numbers, closed at once: `socket ok` or the errno
//! * `listener` — no_new_privs, then a seccomp filter (ALLOW) with its own user-notification
//!   listener: `listener ok` or `listener E<errno>`
//! * `clone3into:DIR` — a child created by clone3 with `CLONE_INTO_CGROUP` in the cgroup2
//!   directory DIR (opened read-only), which calls sysinfo and exits 0: `clone3 ok` when it
//!   ran and exited 0, `clone3 E<errno>` otherwise

extern "C" {
    fn syscall(nr: i64, a: i64, b: i64, c: i64, d: i64, e: i64) -> i64;
    fn __errno_location() -> *mut i32;
}

fn errno() -> i32 {
    // SAFETY: glibc's thread-local errno.
    unsafe { *__errno_location() }
}

fn call(nr: i64, a: i64, b: i64) -> Result<i64, i32> {
    // SAFETY: the calls made here take integers, or a buffer we own (sysinfo).
    let r = unsafe { syscall(nr, a, b, 0, 0, 0) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

#[cfg(target_arch = "x86_64")]
fn int80(nr: u32) -> i64 {
    let ret: u64;
    // SAFETY: an i386 getpid through int 0x80: no argument, result in eax.
    unsafe {
        std::arch::asm!("int 0x80", inlateout("rax") u64::from(nr) => ret);
    }
    i64::from(ret as u32 as i32)
}

fn main() {
    for a in std::env::args().skip(1) {
        let parts: Vec<&str> = a.split(':').collect();
        let line = match parts[0] {
            "i386" => {
                let r = int80(20);
                if r > 0 {
                    "i386 ok".to_string()
                } else {
                    format!("i386 {r}")
                }
            }
            "x32" => match call(0x4000_0000 | 39, 0, 0) {
                Ok(_) => "x32 ok".into(),
                Err(38) => "x32 ENOSYS".into(),
                Err(e) => format!("x32 E{e}"),
            },
            "threads" => {
                let n: usize = parts[1].parse().unwrap();
                let hs: Vec<_> = (0..n)
                    .map(|_| std::thread::spawn(|| call(110, 0, 0).is_ok()))
                    .collect();
                let ok = hs.into_iter().all(|h| h.join().unwrap());
                format!("threads {}", if ok { "ok" } else { "failed" })
            }
            "sysinfo" => {
                let mut buf = [0u8; 256];
                match call(99, buf.as_mut_ptr() as i64, 0) {
                    Ok(_) => "sysinfo ok".into(),
                    Err(e) => format!("sysinfo E{e}"),
                }
            }
            "socket" => {
                let d: i64 = parts[1].parse().unwrap();
                let t: i64 = parts[2].parse().unwrap();
                match call(41, d, t) {
                    Ok(fd) => {
                        let _ = call(3, fd, 0);
                        "socket ok".into()
                    }
                    Err(e) => format!("socket E{e}"),
                }
            }
            "listener" => {
                // struct sock_filter { u16 code; u8 jt, jf; u32 k } = ret SECCOMP_RET_ALLOW
                let insn: [u16; 4] = [0x06, 0, 0, 0x7fff];
                #[repr(C)]
                struct Fprog {
                    len: u16,
                    filter: *const u16,
                }
                let prog = Fprog {
                    len: 1,
                    filter: insn.as_ptr(),
                };
                let _ = call(157, 38, 1); // prctl(PR_SET_NO_NEW_PRIVS, 1)
                // seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog)
                // SAFETY: `prog` points at one instruction, both alive for the call.
                let r = unsafe { syscall(317, 1, 8, &prog as *const Fprog as i64, 0, 0) };
                if r >= 0 {
                    "listener ok".into()
                } else {
                    format!("listener E{}", errno())
                }
            }
            "clone3into" => clone3_into(parts[1]),
            other => format!("unknown action {other}"),
        };
        println!("{line}");
    }
}

/// clone3(CLONE_INTO_CGROUP) into `dir`; the child calls sysinfo and exits.
fn clone3_into(dir: &str) -> String {
    use std::os::fd::AsRawFd;
    let d = match std::fs::File::open(dir) {
        Ok(d) => d,
        Err(e) => return format!("clone3 E{}", e.raw_os_error().unwrap_or(0)),
    };
    // struct clone_args (CLONE_ARGS_SIZE_VER2, 88 bytes): flags, pidfd, child_tid,
    // parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup
    let mut args = [0u64; 11];
    args[0] = 0x2_0000_0000; // CLONE_INTO_CGROUP
    args[4] = 17; // SIGCHLD
    args[10] = d.as_raw_fd() as u64;
    // SAFETY: clone3 reads the 88-byte block; the child (a copy of this process, not
    // sharing its memory) makes raw calls only and exits.
    let pid = unsafe { syscall(435, args.as_ptr() as i64, 88, 0, 0, 0) };
    if pid == 0 {
        let mut buf = [0u8; 256];
        let _ = call(99, buf.as_mut_ptr() as i64, 0);
        // SAFETY: exit_group ends the child.
        unsafe { syscall(231, 0, 0, 0, 0, 0) };
    }
    if pid < 0 {
        return format!("clone3 E{}", errno());
    }
    let mut status = 0i32;
    // SAFETY: wait4 writes the status into `status`.
    let r = unsafe { syscall(61, pid, &mut status as *mut i32 as i64, 0, 0, 0) };
    if r == pid && status == 0 {
        "clone3 ok".into()
    } else {
        format!("clone3 status {status}")
    }
}
