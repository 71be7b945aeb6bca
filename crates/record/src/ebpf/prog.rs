//! The recording's four programs, assembled for one cgroup (its id and level) and one kernel
//! layout (offsets from BTF):
//!
//! * `count`, on `sys_enter`: counts the calls of the processes in the cgroup's subtree;
//! * `fork`, on `sched_process_fork`: a child created outside the subtree by a process in it
//!   (`clone3` with `CLONE_INTO_CGROUP`) has *left*; one created inside by a process outside
//!   has *entered*;
//! * `attach`, on `cgroup_attach_task` (fired after a migration through `cgroup.procs` or
//!   `cgroup.threads`): a process moved into the subtree that was not known in it is
//!   *joined* (the command's own join is exactly one), one known in it moved out has *left*;
//! * `exit`, on `sched_process_exit`: a process's end (its last thread's exit) forgets it.
//!
//! Which processes are "known in it" is a hash map of thread-group ids kept by `fork`,
//! `attach` and `exit`. Every kernel pointer is read with `bpf_probe_read_kernel`: a failed
//! read is counted (`TRACK_FAILED`), never taken as "outside".

use super::asm::{Alu, Asm, Cond, Label, Reg, R0, R1, R10, R2, R3, R4, R6, R7, R8, R9};
use super::{btf, Refusal};

// helpers (include/uapi/linux/bpf.h, `___BPF_FUNC_MAPPER`)
const MAP_LOOKUP_ELEM: i32 = 1;
const MAP_UPDATE_ELEM: i32 = 2;
const MAP_DELETE_ELEM: i32 = 3;
const GET_CURRENT_TASK: i32 = 35;
const PROBE_READ_KERNEL: i32 = 113;
const GET_CURRENT_ANCESTOR_CGROUP_ID: i32 = 123;
/// `BPF_ANY`: create or replace.
const ANY: i32 = 0;
/// `BPF_NOEXIST`: create only.
const NOEXIST: i32 = 1;

/// `TS_COMPAT` (arch/x86/include/asm/thread_info.h): the current call came through a 32-bit
/// entry.
const TS_COMPAT: i32 = 0x0002;

/// Indexes of the `errors` array's counters.
pub mod slot {
    /// Calls whose ABI could not be read.
    pub const READ_FAILED: u32 = 0;
    /// Calls not counted: the counts map was full.
    pub const OVERFLOW: u32 = 1;
    /// Processes that left the subtree (a fork into another cgroup, a move out).
    pub const LEFT: u32 = 2;
    /// Processes forked into the subtree by a process outside it.
    pub const ENTERED: u32 = 3;
    /// Processes moved into the subtree that were not in it (the command's join is one).
    pub const JOINED: u32 = 4;
    /// Forks, moves or exits whose cgroup or process could not be read, or not tracked (the
    /// members map was full).
    pub const TRACK_FAILED: u32 = 5;
    /// How many.
    pub const N: u32 = 6;
}

/// Where the programs read, in the running kernel (from BTF).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// `task_struct.thread_info.status`.
    pub status: u32,
    /// `task_struct.cgroups` (`struct css_set *`).
    pub task_cgroups: u32,
    /// `task_struct.pid`.
    pub task_pid: u32,
    /// `task_struct.tgid`.
    pub task_tgid: u32,
    /// `css_set.dfl_cgrp` (the default hierarchy's cgroup, `struct cgroup *`).
    pub dfl_cgrp: u32,
    /// `cgroup.level` (int).
    pub cgroup_level: u32,
    /// `cgroup.ancestors` (`struct cgroup *[]`, indexed by level).
    pub cgroup_ancestors: u32,
    /// `cgroup.kn` (`struct kernfs_node *`).
    pub cgroup_kn: u32,
    /// `kernfs_node.id` (u64: the cgroup's id).
    pub kn_id: u32,
    /// Whether `sched_process_exit` passes `group_dead` (its second argument, Linux 6.16 and
    /// later: its event struct has the field).
    pub exit_group_dead: bool,
}

impl Layout {
    /// The layout from `b`; a missing or unexpected member is the error.
    pub fn from_btf(b: &btf::Btf) -> Result<Layout, btf::BtfError> {
        // CONFIG_THREAD_INFO_IN_TASK (always on x86): thread_info is in task_struct, first
        let ti = b.member("task_struct", "thread_info")?;
        let status = b.int_member("thread_info", "status", 4)?;
        Ok(Layout {
            status: ti.offset + status.offset,
            task_cgroups: b.ptr_member("task_struct", "cgroups")?.offset,
            task_pid: b.int_member("task_struct", "pid", 4)?.offset,
            task_tgid: b.int_member("task_struct", "tgid", 4)?.offset,
            dfl_cgrp: b.ptr_member("css_set", "dfl_cgrp")?.offset,
            cgroup_level: b.int_member("cgroup", "level", 4)?.offset,
            cgroup_ancestors: b.ptr_array_member("cgroup", "ancestors")?.offset,
            cgroup_kn: b.ptr_member("cgroup", "kn")?.offset,
            kn_id: b.int_member("kernfs_node", "id", 8)?.offset,
            exit_group_dead: b
                .member("trace_event_raw_sched_process_exit", "group_dead")
                .is_ok(),
        })
    }
}

/// The recording's cgroup, as the programs see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// Its id (the kernfs node id).
    pub id: u64,
    /// Its level (depth below the hierarchy's root).
    pub level: u32,
}

/// The maps the programs use, by descriptor.
#[derive(Clone, Copy, Debug)]
pub struct Maps {
    /// (compat << 32 | nr) → count.
    pub counts: i32,
    /// The `slot` counters.
    pub errors: i32,
    /// tgid → 1, the processes known in the subtree.
    pub members: i32,
}

fn off(v: u32) -> Result<i32, Refusal> {
    i32::try_from(v)
        .ok()
        .filter(|v| *v < 1 << 20)
        .ok_or_else(|| Refusal::Btf(btf::BtfError::Malformed("an offset out of reach".into())))
}

/// `dst = *(size *)(base + off)` through `bpf_probe_read_kernel` (stack slot fp-8); a failed
/// read jumps to `failed`. Clobbers r0–r5 (`base` is read first, so it may be one of them).
fn read(a: &mut Asm, dst: Reg, base: Reg, at: i32, size: i32, failed: Label) {
    a.mov(R3, base)
        .alu_imm(Alu::Add, R3, at)
        .mov(R1, R10)
        .alu_imm(Alu::Add, R1, -8)
        .mov_imm(R2, size)
        .call(PROBE_READ_KERNEL)
        .jmp_imm(Cond::Ne, R0, 0, failed);
    if size == 8 {
        a.ldx_dw(dst, R10, -8);
    } else {
        a.ldx_w(dst, R10, -8);
    }
}

/// r0 = the default hierarchy's cgroup of the task at `task` (`task->cgroups->dfl_cgrp`).
fn cgroup_of(a: &mut Asm, l: &Layout, task: Reg, failed: Label) -> Result<(), Refusal> {
    read(a, R0, task, off(l.task_cgroups)?, 8, failed);
    a.jmp_imm(Cond::Eq, R0, 0, failed);
    read(a, R0, R0, off(l.dfl_cgrp)?, 8, failed);
    a.jmp_imm(Cond::Eq, R0, 0, failed);
    Ok(())
}

/// `flag` = 1 if the cgroup at r0 is in the target's subtree (its ancestor at the target's
/// level has the target's id), 0 otherwise.
fn in_subtree(a: &mut Asm, l: &Layout, t: Target, flag: Reg, failed: Label) -> Result<(), Refusal> {
    let no = a.label();
    let done = a.label();
    let level = off(t.level)?;
    // cgroup.level < target level: above it, or beside
    a.mov_imm(flag, 0).stx_dw(R10, -16, R0);
    read(a, R0, R0, off(l.cgroup_level)?, 4, failed);
    a.jmp_imm(Cond::Lt, R0, level, no);
    a.ldx_dw(R0, R10, -16);
    // the ancestor at the target's level, its kernfs node, its id
    read(a, R0, R0, off(l.cgroup_ancestors)? + 8 * level, 8, failed);
    a.jmp_imm(Cond::Eq, R0, 0, no);
    read(a, R0, R0, off(l.cgroup_kn)?, 8, failed);
    a.jmp_imm(Cond::Eq, R0, 0, failed);
    read(a, R0, R0, off(l.kn_id)?, 8, failed);
    a.ld_imm64(R1, t.id)
        .jmp_reg(Cond::Ne, R0, R1, no)
        .mov_imm(flag, 1)
        .ja(done)
        .place(no)
        .place(done);
    Ok(())
}

/// Add one to counter `slot` of `errors` (stack slot fp-28). Clobbers r0–r5.
fn bump(a: &mut Asm, errors: i32, slot: u32) {
    let skip = a.label();
    a.st_w(R10, -28, slot as i32)
        .ld_map_fd(R1, errors)
        .mov(R2, R10)
        .alu_imm(Alu::Add, R2, -28)
        .call(MAP_LOOKUP_ELEM)
        .jmp_imm(Cond::Eq, R0, 0, skip)
        .mov_imm(R1, 1)
        .atomic_add_dw(R0, 0, R1)
        .place(skip);
}

/// `members[*(u32 *)(fp-24)] = 1`; a failure (the map full) is counted as `TRACK_FAILED`.
fn remember(a: &mut Asm, m: Maps) {
    let ok = a.label();
    a.st_w(R10, -32, 1)
        .ld_map_fd(R1, m.members)
        .mov(R2, R10)
        .alu_imm(Alu::Add, R2, -24)
        .mov(R3, R10)
        .alu_imm(Alu::Add, R3, -32)
        .mov_imm(R4, ANY)
        .call(MAP_UPDATE_ELEM)
        .jmp_imm(Cond::Eq, R0, 0, ok);
    bump(a, m.errors, slot::TRACK_FAILED);
    a.place(ok);
}

/// `delete members[*(u32 *)(fp-24)]` (absent: nothing).
fn forget(a: &mut Asm, m: Maps) {
    a.ld_map_fd(R1, m.members)
        .mov(R2, R10)
        .alu_imm(Alu::Add, R2, -24)
        .call(MAP_DELETE_ELEM);
}

/// The end shared by the tracking programs: a failed read counted, return 0.
fn finish(a: &mut Asm, m: Maps, out: Label, failed: Label) {
    a.ja(out).place(failed);
    bump(a, m.errors, slot::TRACK_FAILED);
    a.place(out).mov_imm(R0, 0).exit();
}

/// `sys_enter`: count the call when the caller is in the target's subtree.
pub fn count(t: Target, l: &Layout, m: Maps) -> Result<Vec<u8>, Refusal> {
    let status = off(l.status)?;
    let mut a = Asm::new();
    let out = a.label();
    let insert = a.label();
    let overflow = a.label();
    let read_failed = a.label();
    let bump_l = a.label();
    // ctx is `struct bpf_raw_tracepoint_args`; sys_enter's are (struct pt_regs *, long id)
    a.ldx_dw(R7, R1, 8)
        // the current task's cgroup's ancestor at the target's level (0 when it is above)
        .mov_imm(R1, off(t.level)?)
        .call(GET_CURRENT_ANCESTOR_CGROUP_ID)
        .ld_imm64(R1, t.id)
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
        .ld_map_fd(R1, m.counts)
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
        .ld_map_fd(R1, m.counts)
        .mov(R2, R10)
        .alu_imm(Alu::Add, R2, -16)
        .mov(R3, R10)
        .alu_imm(Alu::Add, R3, -24)
        .mov_imm(R4, NOEXIST)
        .call(MAP_UPDATE_ELEM)
        .jmp_imm(Cond::Eq, R0, 0, out)
        .jmp_imm(Cond::Ne, R0, -libc::EEXIST, overflow)
        .ld_map_fd(R1, m.counts)
        .mov(R2, R10)
        .alu_imm(Alu::Add, R2, -16)
        .call(MAP_LOOKUP_ELEM)
        .jmp_imm(Cond::Eq, R0, 0, overflow)
        .mov_imm(R1, 1)
        .atomic_add_dw(R0, 0, R1)
        .ja(out)
        // the map is full: count the call as lost
        .place(overflow)
        .st_w(R10, -28, slot::OVERFLOW as i32)
        .ja(bump_l)
        .place(read_failed)
        .st_w(R10, -28, slot::READ_FAILED as i32)
        .place(bump_l)
        .ld_map_fd(R1, m.errors)
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

/// `sched_process_fork` (parent, child): left and entered by fork, and the members map.
pub fn fork(t: Target, l: &Layout, m: Maps) -> Result<Vec<u8>, Refusal> {
    let mut a = Asm::new();
    let out = a.label();
    let failed = a.label();
    let outside = a.label();
    let counted = a.label();
    let entered = a.label();
    // r6 and r7 are the tasks while their cgroups are read; in_subtree keeps r6
    a.ldx_dw(R6, R1, 0).ldx_dw(R7, R1, 8);
    // the child's tgid (key, fp-24) and whether it is a new process (pid == tgid: r9)
    read(&mut a, R8, R7, off(l.task_tgid)?, 4, failed);
    a.stx_w(R10, -24, R8);
    read(&mut a, R9, R7, off(l.task_pid)?, 4, failed);
    // r7 = child in the subtree
    cgroup_of(&mut a, l, R7, failed)?;
    in_subtree(&mut a, l, t, R7, failed)?;
    // r9 = 1 when the child is a thread group's leader (a new process)
    let thread = a.label();
    let leader_known = a.label();
    a.jmp_reg(Cond::Ne, R9, R8, thread)
        .mov_imm(R9, 1)
        .ja(leader_known)
        .place(thread)
        .mov_imm(R9, 0)
        .place(leader_known);
    // r8 = parent in the subtree
    cgroup_of(&mut a, l, R6, failed)?;
    in_subtree(&mut a, l, t, R8, failed)?;
    // the members map: a child inside is remembered; a new process outside is forgotten (its
    // tgid may be a reused one of a member that ended without its exit being seen)
    a.jmp_imm(Cond::Eq, R7, 0, outside);
    remember(&mut a, m);
    a.ja(counted).place(outside);
    let kept = a.label();
    a.jmp_imm(Cond::Eq, R9, 0, kept);
    forget(&mut a, m);
    a.place(kept).place(counted);
    // parent in, child out: left; parent out, child in: entered
    a.jmp_reg(Cond::Eq, R7, R8, out)
        .jmp_imm(Cond::Eq, R8, 0, entered);
    bump(&mut a, m.errors, slot::LEFT);
    a.ja(out).place(entered);
    bump(&mut a, m.errors, slot::ENTERED);
    finish(&mut a, m, out, failed);
    Ok(a.finish()?)
}

/// `sched_process_exit` (task[, group_dead]): the process's end forgets it. With
/// `group_dead` (the last thread of the process exits), exactly then; without it, at its
/// leader's exit (a process whose leader exits before its other threads is then forgotten
/// early: a later move of it is not seen for what it is).
pub fn exit(l: &Layout, m: Maps) -> Result<Vec<u8>, Refusal> {
    let mut a = Asm::new();
    let out = a.label();
    let failed = a.label();
    a.ldx_dw(R6, R1, 0);
    if l.exit_group_dead {
        // a bool, passed as a u64 argument
        a.ldx_dw(R7, R1, 8).alu_imm(Alu::And, R7, 0xff);
        a.jmp_imm(Cond::Eq, R7, 0, out);
        read(&mut a, R8, R6, off(l.task_tgid)?, 4, failed);
    } else {
        read(&mut a, R7, R6, off(l.task_pid)?, 4, failed);
        read(&mut a, R8, R6, off(l.task_tgid)?, 4, failed);
        a.jmp_reg(Cond::Ne, R7, R8, out);
    }
    a.stx_w(R10, -24, R8);
    forget(&mut a, m);
    finish(&mut a, m, out, failed);
    Ok(a.finish()?)
}

/// `cgroup_attach_task` (dst_cgrp, path, task, threadgroup), after the migration: a move
/// into the subtree of a process not known there is counted as joined, a move out of one
/// known there as left (by thread-group id: `task` is the thread group's leader, or the
/// thread moved through `cgroup.threads`).
pub fn attach(t: Target, l: &Layout, m: Maps) -> Result<Vec<u8>, Refusal> {
    let mut a = Asm::new();
    let out = a.label();
    let failed = a.label();
    let moved_out = a.label();
    a.ldx_dw(R6, R1, 0).ldx_dw(R7, R1, 16);
    // a move in another hierarchy (cgroup v1) is ignored: the destination's root
    // (`ancestors[0]`) must be the default hierarchy's, the root of the current task's default
    // cgroup. (Not "the task's cgroup is now the destination": a process whose leader has
    // exited is moved without its leader, which migration skips.)
    let root = off(l.cgroup_ancestors)?;
    a.call(GET_CURRENT_TASK).mov(R8, R0);
    cgroup_of(&mut a, l, R8, failed)?;
    read(&mut a, R9, R0, root, 8, failed);
    read(&mut a, R0, R6, root, 8, failed);
    a.jmp_reg(Cond::Ne, R0, R9, out);
    read(&mut a, R8, R7, off(l.task_tgid)?, 4, failed);
    a.stx_w(R10, -24, R8);
    // r8 = destination in the subtree
    a.mov(R0, R6);
    in_subtree(&mut a, l, t, R8, failed)?;
    // r9 = known in the subtree
    a.ld_map_fd(R1, m.members)
        .mov(R2, R10)
        .alu_imm(Alu::Add, R2, -24)
        .call(MAP_LOOKUP_ELEM)
        .mov(R9, R0);
    a.jmp_imm(Cond::Eq, R8, 0, moved_out)
        // in, and already known: a move within the subtree
        .jmp_imm(Cond::Ne, R9, 0, out);
    bump(&mut a, m.errors, slot::JOINED);
    remember(&mut a, m);
    a.ja(out).place(moved_out).jmp_imm(Cond::Eq, R9, 0, out);
    bump(&mut a, m.errors, slot::LEFT);
    forget(&mut a, m);
    finish(&mut a, m, out, failed);
    Ok(a.finish()?)
}
