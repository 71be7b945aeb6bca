//! The only place confine talks to the kernel through `unsafe`: installing seccomp filters,
//! `prctl(2)` bits, and raw syscalls for probing. Every `unsafe` block is a thin wrapper with a
//! comment saying why it is sound and a `# References` list; everything else in confine is
//! `#![forbid(unsafe_code)]`.
//!
//! It must not depend on profiles or the compiler: it installs programs and applies steps it is
//! given; only `confine-bpf`'s instruction type and `confine-abi`'s Landlock bits cross into it.
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(clippy::missing_safety_doc)]

pub mod bpf;
pub mod fs;
pub mod landlock;
pub mod memfd;
pub mod mounts;
pub mod notify;
pub mod process;
pub mod ptrace;
pub mod raw;
pub mod seccomp;
pub mod spawn;
pub mod terminal;
pub mod unix;

pub use seccomp::{install, set_no_new_privs, InstallError, InstallFlags};

/// Pin the calling thread to one CPU (for benchmarks).
///
/// # References
/// * sched_setaffinity(2)
pub fn pin_to_cpu(cpu: usize) -> std::io::Result<()> {
    // SAFETY: cpu_set_t is plain data; zeroed is the empty set, CPU_SET writes within it, and
    // sched_setaffinity only reads `size_of::<cpu_set_t>()` bytes from the pointer.
    let r = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
