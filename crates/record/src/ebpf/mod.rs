//! Recording with eBPF (root only): a program on the raw tracepoint `sys_enter` counts the
//! calls of the processes in the recording's cgroup and its sub-cgroups, per ABI and number,
//! in a hash map read once at the end. Counts only: no arguments, paths or ports, no order.
//! Near-zero overhead (no call waits for anyone), where seccomp user notification costs a
//! round trip per call. Three more programs (`prog.rs`) watch processes leave or enter that
//! subtree (by fork or by migration) and the recording says it is incomplete when one did.
//!
//! The ABI of a call: x32 numbers carry the x32 bit in the id (as in `seccomp_data.nr`); an
//! i386 call (a 32-bit process, or `int 0x80` from a 64-bit one) is told by `TS_COMPAT` in
//! `current->thread_info.status`, which the x86 entry code sets on every 32-bit entry
//! (`syscall_32_enter`, arch/x86/entry/syscall_32.c) and clears on the way back to user
//! space (`arch_exit_to_user_mode_prepare`, arch/x86/include/asm/entry-common.h). Where
//! `status` is comes from BTF, read here; when it cannot be known, or a read of it fails in
//! the program, the recording refuses or says it is incomplete: it never guesses an ABI.
//!
//! Everything is held by descriptors and never pinned: the programs, their attachments and
//! the maps go away when confine exits, however it exits.

pub mod asm;
pub mod btf;
pub mod cgroup;
pub mod prog;

use crate::event::Event;
use crate::recording::Recording;
use confine_abi::Arch;
use confine_kernel::bpf;
pub use prog::Layout;
use prog::{slot, Maps, Target};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// The name of the counting program and its maps (`bpftool prog` shows it); the others are
/// named after it (`confine_rec_fork`, `confine_rec_exit`, `confine_rec_mv`).
pub const NAME: &str = "confine_rec";

/// Distinct (ABI, number) pairs the map holds; past it, the recording is incomplete.
const MAX_ENTRIES: u32 = 4096;

/// Processes the members map tracks at once; past it, the recording is incomplete.
const MAX_MEMBERS: u32 = 65536;

/// Why eBPF recording cannot be used here.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Another architecture than x86_64.
    #[error("eBPF recording tells ABIs apart on x86_64 only (this is {0})")]
    Arch(&'static str),
    /// BTF does not say where `thread_info.status` or the cgroup chain is.
    #[error("cannot find in the kernel's BTF what the recording reads (TS_COMPAT, without which i386 calls would be mislabelled, or a task's cgroup, without which processes leaving or entering the recording would go unseen): {0}")]
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

/// The layout of the running kernel (x86_64 only).
pub fn layout() -> Result<Layout, Refusal> {
    if !cfg!(target_arch = "x86_64") {
        return Err(Refusal::Arch(std::env::consts::ARCH));
    }
    let b = btf::Btf::read(Path::new(btf::VMLINUX))?;
    Ok(Layout::from_btf(&b)?)
}

/// The loaded programs and their maps; attached once [`Counter::attach`] is called.
#[derive(Debug)]
pub struct Counter {
    /// (tracepoint, program), attached in this order.
    progs: Vec<(&'static std::ffi::CStr, OwnedFd)>,
    links: Vec<OwnedFd>,
    counts: OwnedFd,
    errors: OwnedFd,
    members: OwnedFd,
}

/// What the programs lost or saw go wrong.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Losses {
    /// Calls whose ABI could not be read (`bpf_probe_read_kernel` failed).
    pub unread: u64,
    /// Calls not counted because the map was full.
    pub overflow: u64,
    /// Processes that left the subtree (forked into another cgroup, or moved out): their
    /// calls afterwards are not counted.
    pub left: u64,
    /// Processes forked into the subtree by a process outside it: their calls are counted.
    pub entered: u64,
    /// Processes moved into the subtree that were not in it: the command's join is one, any
    /// other came from outside and its calls are counted.
    pub joined: u64,
    /// Forks, moves or exits the tracking programs could not read or track.
    pub untracked: u64,
}

impl Losses {
    /// Processes that came into the subtree from outside (by fork, or moved in besides the
    /// command's own join).
    pub fn came_in(&self) -> u64 {
        self.entered + self.joined.saturating_sub(1)
    }

    /// Each kind and its number, for the report.
    pub fn by_kind(&self) -> std::collections::BTreeMap<String, u64> {
        [
            ("unread", self.unread),
            ("map_full", self.overflow),
            ("left", self.left),
            ("entered", self.came_in()),
            ("joins", self.joined),
            ("untracked", self.untracked),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Every reason the counts are not the command's calls, all of them; empty when they
    /// are.
    pub fn reasons(&self) -> Vec<String> {
        let mut r = Vec::new();
        if self.unread > 0 {
            r.push(format!(
                "the ABI of {} calls could not be read (bpf_probe_read_kernel failed): they are not counted",
                self.unread
            ));
        }
        if self.overflow > 0 {
            r.push(format!(
                "{} calls were not counted: the recording's map was full",
                self.overflow
            ));
        }
        if self.left > 0 {
            r.push(format!(
                "{} left the recording's cgroup (clone3 with CLONE_INTO_CGROUP, or a move through cgroup.procs): their calls afterwards are not counted",
                processes(self.left)
            ));
        }
        if self.came_in() > 0 {
            r.push(format!(
                "{} from outside entered the recording's cgroup (clone3 with CLONE_INTO_CGROUP by a process outside, or a move through cgroup.procs): their calls are counted",
                processes(self.came_in())
            ));
        }
        if self.joined == 0 {
            r.push("the command's join of the recording's cgroup was not seen (the cgroup's level may not be what mountinfo says, as in a cgroup namespace): the counts cannot be trusted".into());
        }
        if self.untracked > 0 {
            r.push(format!(
                "{} forks, moves or exits could not be read or tracked: processes may have left or entered unseen",
                self.untracked
            ));
        }
        r
    }
}

/// "1 process", "2 processes".
fn processes(n: u64) -> String {
    if n == 1 {
        "1 process".into()
    } else {
        format!("{n} processes")
    }
}

impl Counter {
    /// Load the programs for the cgroup `id` at `level` (not attached yet).
    pub fn load(id: u64, level: u32, layout: Layout) -> Result<Counter, Refusal> {
        use std::os::fd::AsRawFd;
        let map = |kind, k, v, n| {
            bpf::map_create(kind, k, v, n, NAME).map_err(kernel("creating the recording's map"))
        };
        let counts = map(bpf::MAP_HASH, 8, 8, MAX_ENTRIES)?;
        let errors = map(bpf::MAP_ARRAY, 4, 8, slot::N)?;
        let members = map(bpf::MAP_HASH, 4, 4, MAX_MEMBERS)?;
        let m = Maps {
            counts: counts.as_raw_fd(),
            errors: errors.as_raw_fd(),
            members: members.as_raw_fd(),
        };
        let t = Target { id, level };
        // bpf_probe_read_kernel and bpf_get_current_task are offered to GPL-compatible
        // programs only (their protos say gpl_only); these programs are ours, under the
        // project's license, and dual-licensed to the kernel so that they may call them
        let load = |insns: Vec<u8>, name: &str| {
            bpf::prog_load(bpf::PROG_RAW_TRACEPOINT, &insns, c"Dual MIT/GPL", name)
        };
        // the trackers first: attached before the counter, they see every fork and move
        // from the moment calls are counted
        let progs = vec![
            (
                c"sched_process_fork",
                load(prog::fork(t, &layout, m)?, "confine_rec_fork")?,
            ),
            (
                c"sched_process_exit",
                load(prog::exit(&layout, m)?, "confine_rec_exit")?,
            ),
            (
                c"cgroup_attach_task",
                load(prog::attach(t, &layout, m)?, "confine_rec_mv")?,
            ),
            (c"sys_enter", load(prog::count(t, &layout, m)?, NAME)?),
        ];
        Ok(Counter {
            progs,
            links: Vec::new(),
            counts,
            errors,
            members,
        })
    }

    /// Start counting and tracking: attach every program.
    pub fn attach(&mut self) -> Result<(), Refusal> {
        for (tp, p) in &self.progs {
            let link = bpf::raw_tracepoint_open(tp, p.as_fd())
                .map_err(kernel("attaching a recording program to its tracepoint"))?;
            self.links.push(link);
        }
        Ok(())
    }

    /// Stop counting and tracking (the maps stay readable).
    pub fn detach(&mut self) {
        // the counter first: nothing is counted that the trackers no longer watch
        while let Some(l) = self.links.pop() {
            drop(l);
        }
    }

    /// The map of counts (for a live reader).
    pub fn counts_map(&self) -> BorrowedFd<'_> {
        self.counts.as_fd()
    }

    /// Every (compat, number, count) counted.
    pub fn counts(&self) -> std::io::Result<Vec<(bool, u32, u64)>> {
        read_counts(self.counts.as_fd())
    }

    /// How many processes the trackers know in the subtree now.
    pub fn tracked(&self) -> std::io::Result<usize> {
        let mut n = 0;
        let mut key = [0u8; 4];
        let mut prev: Option<[u8; 4]> = None;
        while bpf::map_next_key(
            self.members.as_fd(),
            prev.as_ref().map(|k| &k[..]),
            &mut key,
        )? {
            n += 1;
            prev = Some(key);
        }
        Ok(n)
    }

    /// What was lost, and what left or entered.
    pub fn losses(&self) -> std::io::Result<Losses> {
        let get = |i: u32| -> std::io::Result<u64> {
            let mut v = [0u8; 8];
            bpf::map_lookup(self.errors.as_fd(), &i.to_ne_bytes(), &mut v)?;
            Ok(u64::from_ne_bytes(v))
        };
        Ok(Losses {
            unread: get(slot::READ_FAILED)?,
            overflow: get(slot::OVERFLOW)?,
            left: get(slot::LEFT)?,
            entered: get(slot::ENTERED)?,
            joined: get(slot::JOINED)?,
            untracked: get(slot::TRACK_FAILED)?,
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
    Counter::load(0, 1, l)?;
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
    fn the_program_loads_and_counts_only_its_subtree() {
        if !root() {
            return;
        }
        let l = probe().unwrap();
        assert_eq!(l, layout().unwrap());
        // before 6.16 sched_process_exit has no group_dead: that variant loads too
        Counter::load(
            0,
            1,
            Layout {
                exit_group_dead: false,
                ..l
            },
        )
        .unwrap();
        let root = cgroup::cgroup2_mount().unwrap().unwrap();
        let cg = cgroup::Cgroup::create(&root).unwrap();
        let mut c = Counter::load(cg.id(), cg.level(), l).unwrap();
        c.attach().unwrap();
        // this process is not in the cgroup: nothing
        for _ in 0..100 {
            let _ = std::fs::metadata("/");
        }
        let st = std::process::Command::new("/bin/true").status().unwrap();
        assert!(st.success());
        assert!(c.counts().unwrap().is_empty());
        // a child moved into it (the join) is counted, and so is one in a sub-cgroup
        let sub = cg.dir().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("0.2")
            .spawn()
            .unwrap();
        use std::io::Write;
        cg.procs()
            .write_all(child.id().to_string().as_bytes())
            .unwrap();
        // moved within the subtree: still the same process, no second join
        std::fs::write(sub.join("cgroup.procs"), child.id().to_string()).unwrap();
        assert_eq!(c.tracked().unwrap(), 1);
        // a move in a cgroup v1 hierarchy (its root) changes nothing here
        let v1 = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .find_map(|l| {
                let (left, right) = l.split_once(" - ")?;
                (right.split(' ').next()? == "cgroup")
                    .then(|| left.split(' ').nth(4).map(String::from))?
            });
        if let Some(v1) = &v1 {
            std::fs::write(Path::new(v1).join("cgroup.procs"), child.id().to_string()).unwrap();
        }
        child.wait().unwrap();
        // its exit forgot it (sched_process_exit)
        assert_eq!(c.tracked().unwrap(), 0);
        c.detach();
        let counts = c.counts().unwrap();
        // exit_group (231) on x86_64, at least
        assert!(
            counts
                .iter()
                .any(|&(compat, nr, n)| !compat && nr == 231 && n == 1),
            "{counts:?}"
        );
        let lost = c.losses().unwrap();
        assert_eq!(
            lost,
            Losses {
                joined: 1,
                ..Losses::default()
            }
        );
        assert!(lost.reasons().is_empty(), "{:?}", lost.reasons());
        cg.remove(std::time::Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn every_loss_is_named() {
        let all = Losses {
            unread: 1,
            overflow: 2,
            left: 3,
            entered: 4,
            joined: 2,
            untracked: 5,
        };
        let r = all.reasons().join("; ");
        for word in [
            "could not be read",
            "map was full",
            "3 processes left",
            "5 processes from outside",
            "5 forks",
        ] {
            assert!(r.contains(word), "{word}: {r}");
        }
        assert!(Losses {
            joined: 1,
            ..Losses::default()
        }
        .reasons()
        .is_empty());
        assert!(Losses::default().reasons()[0].contains("join"));
        let one = Losses {
            left: 1,
            joined: 1,
            ..Losses::default()
        };
        assert_eq!(one.reasons().len(), 1);
        assert!(
            one.reasons()[0].starts_with("1 process left"),
            "{:?}",
            one.reasons()
        );
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
