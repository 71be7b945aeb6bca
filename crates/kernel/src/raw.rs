//! Raw system calls with arbitrary numbers and arguments, for probing what a filter decides.
//!
//! # References
//! * syscall(2); x86 `int 0x80` calling convention: arch/x86/entry/entry_64_compat.S

/// Make system call `nr` with six arguments; returns the kernel's raw return value
/// (`-errno` on failure).
pub fn syscall6(nr: u64, a: [u64; 6]) -> i64 {
    // SAFETY: syscall(2) with integer arguments; the kernel validates every pointer it is
    // given, so arbitrary values can at worst make the call fail. Callers choose numbers that
    // a seccomp filter stops before they run (the live tests remap every verdict to an errno).
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
#[cfg(target_arch = "x86_64")]
pub fn int80(nr: u32, a: [u32; 6]) -> i64 {
    let ret: u64;
    // SAFETY: `int 0x80` takes eax (number), ebx, ecx, edx, esi, edi, ebp and returns in eax;
    // the compat entry preserves every other register. rbx cannot be named as an operand
    // (LLVM reserves it), so the first argument is swapped in and out; rbp may be the frame
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
