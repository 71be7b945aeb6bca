//! Reading another process's seccomp filters with `PTRACE_SECCOMP_GET_FILTER`.
//!
//! Needs CAP_SYS_ADMIN in the initial user namespace, a caller that is not itself under
//! seccomp, and a kernel with CONFIG_CHECKPOINT_RESTORE. The tracee is seized, stopped with
//! PTRACE_INTERRUPT, read, and detached; index 0 is the oldest filter.
//!
//! # References
//! * ptrace(2): PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_SECCOMP_GET_FILTER (0x420c), PTRACE_DETACH

use confine_bpf::Insn;
use std::io;

// The request type is `c_uint` in glibc and `c_int` in musl; call sites cast with `as _`.
const PTRACE_SECCOMP_GET_FILTER: u32 = 0x420c;

fn last() -> io::Error {
    io::Error::last_os_error()
}

/// Every seccomp filter of `pid`, oldest first, as the original classic-BPF programs.
pub fn seccomp_filters(pid: i32) -> io::Result<Vec<Vec<Insn>>> {
    // SAFETY: ptrace requests with integer arguments; the tracee is released on every path.
    if unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0usize, 0usize) } != 0 {
        return Err(last());
    }
    let result = (|| {
        if unsafe { libc::ptrace(libc::PTRACE_INTERRUPT, pid, 0usize, 0usize) } != 0 {
            return Err(last());
        }
        let mut status = 0;
        // SAFETY: waiting for the group-stop of the seized tracee.
        if unsafe { libc::waitpid(pid, &mut status, libc::__WALL) } != pid {
            return Err(last());
        }
        let mut out = Vec::new();
        for index in 0usize.. {
            // SAFETY: with a NULL buffer the kernel only returns the instruction count.
            let n = unsafe {
                libc::ptrace(
                    PTRACE_SECCOMP_GET_FILTER as _,
                    pid,
                    index,
                    std::ptr::null_mut::<libc::c_void>(),
                )
            };
            if n < 0 {
                let e = last();
                if e.raw_os_error() == Some(libc::ENOENT)
                    || (index > 0 && e.raw_os_error() == Some(libc::EINVAL))
                {
                    break;
                }
                return Err(e);
            }
            let mut buf = vec![
                libc::sock_filter {
                    code: 0,
                    jt: 0,
                    jf: 0,
                    k: 0
                };
                n as usize
            ];
            // SAFETY: the buffer holds exactly the `n` instructions the kernel reported.
            let m = unsafe {
                libc::ptrace(PTRACE_SECCOMP_GET_FILTER as _, pid, index, buf.as_mut_ptr())
            };
            if m < 0 {
                return Err(last());
            }
            out.push(
                buf.iter()
                    .map(|f| Insn {
                        code: f.code,
                        jt: f.jt,
                        jf: f.jf,
                        k: f.k,
                    })
                    .collect(),
            );
        }
        Ok(out)
    })();
    // SAFETY: detaching restarts the tracee.
    unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, 0usize, 0usize) };
    result
}
