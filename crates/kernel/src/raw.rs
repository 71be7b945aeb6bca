//! Raw system calls with arbitrary numbers and arguments, for probing what a filter decides.
//!
//! Both functions are `unsafe`: a raw system call can do anything the process may do to
//! itself — unmap or overwrite memory Rust believes it owns, close descriptors an `OwnedFd`
//! holds, exit without unwinding — so it is the caller who must show that a particular call
//! cannot break an invariant of the program.
//!
//! # References
//! * syscall(2); x86 `int 0x80` calling convention: arch/x86/entry/entry_64_compat.S

/// Make system call `nr` with six arguments; returns the kernel's raw return value
/// (`-errno` on failure).
///
/// # Safety
///
/// The call must be sound for the calling program as the kernel will execute it (or as a
/// seccomp filter the caller has installed is known to stop it): every pointer argument must
/// be valid for what that system call reads or writes through it, and the call must not
/// change memory, descriptors, signal dispositions or other process state that safe Rust code
/// relies on (unmapping, writing into memory borrowed elsewhere, closing an `OwnedFd`'s
/// descriptor, creating threads behind the runtime's back, …). Calls that end the process
/// (`exit_group`) are allowed.
///
/// # References
/// * syscall(2)
pub unsafe fn syscall6(nr: u64, a: [u64; 6]) -> i64 {
    // SAFETY: the caller guarantees that this system call with these arguments is sound (see
    // the function's `# Safety`); syscall(2) itself only passes the integers on.
    let r = unsafe {
        libc::syscall(
            nr as libc::c_long,
            a[0] as libc::c_long,
            a[1] as libc::c_long,
            a[2] as libc::c_long,
            a[3] as libc::c_long,
            a[4] as libc::c_long,
            a[5] as libc::c_long,
        )
    };
    if r == -1 {
        // libc's syscall() returns -1 and sets errno; give back the kernel's -errno
        -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        r as i64
    }
}

/// Make an i386 system call through `int 0x80` from a 64-bit process (the kernel sees
/// `AUDIT_ARCH_I386` and i386 numbers); returns the raw 32-bit return value sign-extended.
///
/// # Safety
///
/// As for [`syscall6`], with the i386 numbering and argument meaning: the call must be sound
/// for the calling program as the kernel executes it (or as an installed seccomp filter is
/// known to stop it). Pointer arguments are truncated to 32 bits, so a call that takes a
/// pointer must not be made unless the filter stops it or the memory lies below 4 GiB.
///
/// # References
/// * arch/x86/entry/entry_64_compat.S (`entry_INT80_compat`)
#[cfg(target_arch = "x86_64")]
pub unsafe fn int80(nr: u32, a: [u32; 6]) -> i64 {
    let ret: u64;
    // SAFETY: the caller guarantees the system call itself is sound. The assembly is:
    // `int 0x80` takes eax (number), ebx, ecx, edx, esi, edi, ebp and returns in eax; the
    // compat entry preserves every other register. rbx cannot be named as an operand (LLVM
    // reserves it), so the first argument is swapped in and out; rbp may be the frame
    // pointer, so it is saved on the stack around the call.
    unsafe {
        std::arch::asm!(
            "xchg rbx, {a0}",
            "push rbp",
            "mov ebp, {a5:e}",
            "int 0x80",
            "pop rbp",
            "xchg rbx, {a0}",
            a0 = inout(reg) u64::from(a[0]) => _,
            a5 = in(reg) a[5],
            inlateout("rax") u64::from(nr) => ret,
            in("rcx") u64::from(a[1]),
            in("rdx") u64::from(a[2]),
            in("rsi") u64::from(a[3]),
            in("rdi") u64::from(a[4]),
        );
    }
    i64::from(ret as u32 as i32)
}
