//! Recording with eBPF (root only): a program on the raw tracepoint `sys_enter` counts the
//! calls of the processes in the recording's cgroup, per ABI and number, in a hash map read
//! once at the end. Counts only: no arguments, paths or ports, no order. Near-zero overhead
//! (no call waits for anyone), where seccomp user notification costs a round trip per call.
//!
//! The ABI of a call: x32 numbers carry the x32 bit in the id (as in `seccomp_data.nr`); an
//! i386 call (a 32-bit process, or `int 0x80` from a 64-bit one) is told by `TS_COMPAT` in
//! `current->thread_info.status`, which the x86 entry code sets on every 32-bit entry
//! (`syscall_32_enter`, arch/x86/entry/syscall_32.c) and clears on the way back to user
//! space (`arch_exit_to_user_mode_prepare`, arch/x86/include/asm/entry-common.h). Where
//! `status` is comes from BTF, read here; when it cannot be known, or a read of it fails in
//! the program, the recording refuses or says it is incomplete: it never guesses an ABI.
//!
//! Everything is held by descriptors and never pinned: the program, its attachment and the
//! maps go away when confine exits, however it exits.

pub mod asm;
pub mod btf;
pub mod cgroup;

use crate::event::Event;
use crate::recording::Recording;
use asm::{Alu, Asm, Cond, R0, R1, R10, R2, R3, R4, R7};
use confine_abi::Arch;
use confine_kernel::bpf;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// The name of the program and its maps (`bpftool prog` shows it).
pub const NAME: &str = "confine_rec";

/// `TS_COMPAT` (arch/x86/include/asm/thread_info.h): the current call came through a 32-bit
/// entry.
const TS_COMPAT: i32 = 0x0002;

/// Distinct (ABI, number) pairs the map holds; past it, the recording is incomplete.
const MAX_ENTRIES: u32 = 4096;

// helpers (include/uapi/linux/bpf.h, `___BPF_FUNC_MAPPER`)
const MAP_LOOKUP_ELEM: i32 = 1;
const MAP_UPDATE_ELEM: i32 = 2;
const GET_CURRENT_TASK: i32 = 35;
const GET_CURRENT_CGROUP_ID: i32 = 80;
const PROBE_READ_KERNEL: i32 = 113;
/// `BPF_NOEXIST`: create only.
const NOEXIST: i32 = 1;

/// Index of the error counters.
const READ_FAILED: u32 = 0;
const OVERFLOW: u32 = 1;

/// Why eBPF recording cannot be used here.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Another architecture than x86_64.
    #[error("eBPF recording tells ABIs apart on x86_64 only (this is {0})")]
    Arch(&'static str),
    /// BTF does not say where `thread_info.status` is.
    #[error("cannot find where the kernel keeps TS_COMPAT (without it i386 calls would be mislabelled): {0}")]
    Btf(#[from] btf::BtfError),
    /// No cgroup2 mount.
    #[error(
        "no cgroup2 hierarchy is mounted (the recording's processes are told by their cgroup)"
    )]
    NoCgroup2,
    /// A kernel operation failed.
    #[error("{what}: {source}")]
    Kernel {
        /// What was being done.
        what: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The verifier refused the program.
    #[error("the kernel refused the recording program: {0}")]
    Load(#[from] bpf::LoadError),
    /// The program could not be assembled (a bug).
    #[error("assembling the recording program: {0}")]
    Asm(#[from] asm::AsmError),
}

fn kernel(what: &'static str) -> impl FnOnce(std::io::Error) -> Refusal {
    move |source| Refusal::Kernel { what, source }
}

/// Where `current->thread_info.status` is, from the running kernel's BTF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Its offset in `struct task_struct`.
    pub status: u32,
}

/// The layout of the running kernel (x86_64 only).
pub fn layout() -> Result<Layout, Refusal> {
    if !cfg!(target_arch = "x86_64") {
        return Err(Refusal::Arch(std::env::consts::ARCH));
    }
    let b = btf::Btf::read(Path::new(btf::VMLINUX))?;
    // CONFIG_THREAD_INFO_IN_TASK (always on x86): thread_info is in task_struct, first
    let ti = b.member("task_struct", "thread_info")?;
    let status = b.int_member("thread_info", "status", 4)?;
    Ok(Layout {
        status: ti.offset + status.offset,
    })
}

/// The program: count the call in `counts` when the caller is in cgroup `cgroup_id`.
fn program(cgroup_id: u64, layout: Layout, counts: i32, errors: i32) -> Result<Vec<u8>, Refusal> {
    let status = i32::try_from(layout.status).map_err(|_| {
        Refusal::Btf(btf::BtfError::Malformed(
            "thread_info.status is out of reach".into(),
        ))
    })?;
    let mut a = Asm::new();
    let out = a.label();
    let insert = a.label();
    let overflow = a.label();
    let read_failed = a.label();
    let bump = a.label();
    // ctx is `struct bpf_raw_tracepoint_args`; sys_enter's are (struct pt_regs *, long id)
    a.ldx_dw(R7, R1, 8)
        .call(GET_CURRENT_CGROUP_ID)
        .ld_imm64(R1, cgroup_id)
        .jmp_reg(Cond::Ne, R0, R1, out)
        // status = current->thread_info.status
        .call(GET_CURRENT_TASK)
        .mov(R3, R0)
        .alu_imm(Alu::Add, R3, status)
        .st_dw(R10, -8, 0)
        .mov(R1, R10)
        .alu_imm(Alu::Add, R1, -8)
        .mov_imm(R2, 4)
        .call(PROBE_READ_KERNEL)
        .jmp_imm(Cond::Ne, R0, 0, read_failed)
        // key = (status & TS_COMPAT ? 1 << 32 : 0) | (u32) id
        .ldx_w(R1, R10, -8)
        .alu_imm(Alu::And, R1, TS_COMPAT)
        .alu_imm(Alu::Lsh, R1, 31)
        .alu_imm(Alu::Lsh, R7, 32)
        .alu_imm(Alu::Rsh, R7, 32)
        .alu_reg(Alu::Or, R7, R1)
        .stx_dw(R10, -16, R7)
        // the common case: the key is there, add one
        .ld_map_fd(R1, counts)
        .mov(R2, R10)
        .alu_imm(Alu::Add, R2, -16)
        .call(MAP_LOOKUP_ELEM)
        .jmp_imm(Cond::Eq, R0, 0, insert)
        .mov_imm(R1, 1)
        .atomic_add_dw(R0, 0, R1)
        .ja(out)
        // the first time: insert 1, unless another CPU just did (EEXIST: add to its)
        .place(insert)
        .st_dw(R10, -24, 1)
        .ld_map_fd(R1, counts)
        .mov(R2, R10)
        .alu_imm(Alu::Add, R2, -16)
        .mov(R3, R10)
        .alu_imm(Alu::Add, R3, -24)
        .mov_imm(R4, NOEXIST)
        .call(MAP_UPDATE_ELEM)
        .jmp_imm(Cond::Eq, R0, 0, out)
        .jmp_imm(Cond::Ne, R0, -libc::EEXIST, overflow)
        .ld_map_fd(R1, counts)
        .mov(R2, R10)
        .alu_imm(Alu::Add, R2, -16)
        .call(MAP_LOOKUP_ELEM)
        .jmp_imm(Cond::Eq, R0, 0, overflow)
        .mov_imm(R1, 1)
        .atomic_add_dw(R0, 0, R1)
        .ja(out)
        // the map is full: count the call as lost
        .place(overflow)
        .st_w(R10, -28, OVERFLOW as i32)
        .ja(bump)
        .place(read_failed)
        .st_w(R10, -28, READ_FAILED as i32)
        .place(bump)
        .ld_map_fd(R1, errors)
        .mov(R2, R10)
        .alu_imm(Alu::Add, R2, -28)
        .call(MAP_LOOKUP_ELEM)
        .jmp_imm(Cond::Eq, R0, 0, out)
        .mov_imm(R1, 1)
        .atomic_add_dw(R0, 0, R1)
        .place(out)
        .mov_imm(R0, 0)
        .exit();
    Ok(a.finish()?)
}

/// The loaded program and its maps; attached once [`Counter::attach`] is called.
#[derive(Debug)]
pub struct Counter {
    prog: OwnedFd,
    link: Option<OwnedFd>,
    counts: OwnedFd,
    errors: OwnedFd,
}

/// What the program lost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Losses {
    /// Calls whose ABI could not be read (`bpf_probe_read_kernel` failed).
    pub unread: u64,
    /// Calls not counted because the map was full.
    pub overflow: u64,
}

impl Counter {
    /// Load the program for cgroup `cgroup_id` (not attached yet).
    pub fn load(cgroup_id: u64, layout: Layout) -> Result<Counter, Refusal> {
        use std::os::fd::AsRawFd;
        let counts = bpf::map_create(bpf::MAP_HASH, 8, 8, MAX_ENTRIES, NAME)
            .map_err(kernel("creating the recording's map"))?;
        let errors = bpf::map_create(bpf::MAP_ARRAY, 4, 8, 2, NAME)
            .map_err(kernel("creating the recording's map"))?;
        let insns = program(cgroup_id, layout, counts.as_raw_fd(), errors.as_raw_fd())?;
        // bpf_probe_read_kernel and bpf_get_current_task are offered to GPL-compatible
        // programs only (their protos say gpl_only); this program is ours, under the
        // project's license, and dual-licensed to the kernel so that it may call them
        let prog = bpf::prog_load(bpf::PROG_RAW_TRACEPOINT, &insns, c"Dual MIT/GPL", NAME)?;
        Ok(Counter {
            prog,
            link: None,
            counts,
            errors,
        })
    }

    /// Start counting: attach to `sys_enter`.
    pub fn attach(&mut self) -> Result<(), Refusal> {
        let link = bpf::raw_tracepoint_open(c"sys_enter", self.prog.as_fd())
            .map_err(kernel("attaching the recording program to sys_enter"))?;
        self.link = Some(link);
        Ok(())
    }

    /// Stop counting (the maps stay readable).
    pub fn detach(&mut self) {
        self.link = None;
    }

    /// The map of counts (for a live reader).
    pub fn counts_map(&self) -> BorrowedFd<'_> {
        self.counts.as_fd()
    }

    /// Every (compat, number, count) counted.
    pub fn counts(&self) -> std::io::Result<Vec<(bool, u32, u64)>> {
        read_counts(self.counts.as_fd())
    }

    /// What was lost.
    pub fn losses(&self) -> std::io::Result<Losses> {
        let get = |i: u32| -> std::io::Result<u64> {
            let mut v = [0u8; 8];
            bpf::map_lookup(self.errors.as_fd(), &i.to_ne_bytes(), &mut v)?;
            Ok(u64::from_ne_bytes(v))
        };
        Ok(Losses {
            unread: get(READ_FAILED)?,
            overflow: get(OVERFLOW)?,
        })
    }
}

/// The keys and counts of a counts map.
pub fn read_counts(map: BorrowedFd<'_>) -> std::io::Result<Vec<(bool, u32, u64)>> {
    let mut out = Vec::new();
    let mut key = [0u8; 8];
    let mut prev: Option<[u8; 8]> = None;
    while bpf::map_next_key(map, prev.as_ref().map(|k| &k[..]), &mut key)? {
        let mut v = [0u8; 8];
        if bpf::map_lookup(map, &key, &mut v)? {
            let k = u64::from_ne_bytes(key);
            out.push(((k >> 32) & 1 == 1, k as u32, u64::from_ne_bytes(v)));
        }
        prev = Some(key);
    }
    Ok(out)
}

/// How many distinct keys a counts map holds (for the live line).
pub fn distinct(map: BorrowedFd<'_>) -> usize {
    read_counts(map).map_or(0, |v| v.len())
}

/// The live line's process: every quarter second, the number of distinct calls in the counts
/// map on standard error, until `end` (a pipe's read end) is closed or written to. Returns
/// its exit status.
pub fn live(map: OwnedFd, end: OwnedFd) -> i32 {
    use std::os::fd::AsRawFd;
    loop {
        match confine_kernel::notify::poll_one(end.as_raw_fd(), 250) {
            Ok(None) => eprint!(
                "\r\x1b[Kconfine record: {} syscalls (ebpf)",
                distinct(map.as_fd())
            ),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
            _ => {
                eprint!("\r\x1b[K");
                return 0;
            }
        }
    }
}

/// The event of a counted key: i386 for a compat call, x86_64's audit value otherwise (with
/// the x32 bit kept in the number, as `seccomp_data` gives it).
pub fn event_of(compat: bool, nr: u32) -> Event {
    Event {
        tid: 0,
        audit_arch: if compat { Arch::X86 } else { Arch::X86_64 }.audit_arch(),
        nr,
        args: [0; 6],
    }
}

/// Add the counts to `rec` (all the command's: its process joined the cgroup right before
/// its execve).
pub fn add_counts(rec: &mut Recording, counts: &[(bool, u32, u64)]) {
    for &(compat, nr, n) in counts {
        rec.add(&event_of(compat, nr), n);
    }
}

/// Whether the program loads here (for `--mode auto`): BTF, the layout, the maps, the
/// verifier.
pub fn probe() -> Result<Layout, Refusal> {
    let l = layout()?;
    Counter::load(0, l)?;
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> bool {
        use std::os::unix::fs::MetadataExt;
        let r = std::fs::metadata("/proc/self")
            .map(|m| m.uid())
            .unwrap_or(1)
            == 0;
        if !r || !Path::new(btf::VMLINUX).exists() {
            eprintln!("skipped: needs root and BTF");
            return false;
        }
        true
    }

    #[test]
    fn the_program_loads_and_counts_only_its_cgroup() {
        if !root() {
            return;
        }
        let l = probe().unwrap();
        assert_eq!(l.status, layout().unwrap().status);
        let root = cgroup::cgroup2_mount().unwrap().unwrap();
        let cg = cgroup::Cgroup::create(&root).unwrap();
        let mut c = Counter::load(cg.id(), l).unwrap();
        c.attach().unwrap();
        // this process is not in the cgroup: nothing
        for _ in 0..100 {
            let _ = std::fs::metadata("/");
        }
        // a child in it is counted
        let st = std::process::Command::new("/bin/true").status().unwrap();
        assert!(st.success());
        assert!(c.counts().unwrap().is_empty());
        let mut child = std::process::Command::new("sleep")
            .arg("0.2")
            .spawn()
            .unwrap();
        use std::io::Write;
        cg.procs()
            .write_all(child.id().to_string().as_bytes())
            .unwrap();
        child.wait().unwrap();
        c.detach();
        let counts = c.counts().unwrap();
        // exit_group (231) on x86_64, at least
        assert!(
            counts
                .iter()
                .any(|&(compat, nr, n)| !compat && nr == 231 && n == 1),
            "{counts:?}"
        );
        assert_eq!(c.losses().unwrap(), Losses::default());
        cg.remove(std::time::Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn compat_keys_are_i386_and_x32_keeps_its_bit() {
        let e = event_of(true, 20);
        assert_eq!(e.audit_arch, Arch::X86.audit_arch());
        let x32 = event_of(false, 0x4000_0027);
        assert_eq!(crate::event::Call::of(&x32).abi, "x32");
        assert_eq!(crate::event::Call::of(&event_of(false, 39)).abi, "x86_64");
    }
}
