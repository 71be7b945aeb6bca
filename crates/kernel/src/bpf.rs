//! eBPF through `bpf(2)`, the few commands `confine record --mode ebpf` needs: create a map,
//! load a program (the verifier's log comes back in the error), attach it to a raw
//! tracepoint, read a map, and enumerate the loaded programs (to check that none was left
//! behind). Everything is held by descriptors and never pinned: the objects go away with the
//! last descriptor, which the kernel closes even when its holder is killed.
//!
//! The attribute block is built here, field by field, from borrowed slices; one `unsafe fn`
//! makes the call.
//!
//! # References
//! * bpf(2); include/uapi/linux/bpf.h (`union bpf_attr`, `struct bpf_prog_info`)

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `BPF_MAP_TYPE_HASH`.
pub const MAP_HASH: u32 = 1;
/// `BPF_MAP_TYPE_ARRAY`.
pub const MAP_ARRAY: u32 = 2;
/// `BPF_PROG_TYPE_RAW_TRACEPOINT`.
pub const PROG_RAW_TRACEPOINT: u32 = 17;

const MAP_CREATE: u32 = 0;
const MAP_LOOKUP_ELEM: u32 = 1;
const MAP_GET_NEXT_KEY: u32 = 4;
const PROG_LOAD: u32 = 5;
const PROG_GET_NEXT_ID: u32 = 11;
const PROG_GET_FD_BY_ID: u32 = 13;
const OBJ_GET_INFO_BY_FD: u32 = 15;
const RAW_TRACEPOINT_OPEN: u32 = 17;

/// `union bpf_attr`, as bytes: 128 are more than any command here uses (the kernel checks
/// that the bytes past what it knows are zero).
#[derive(Clone)]
struct Attr([u8; 128]);

impl Attr {
    fn new() -> Attr {
        Attr([0; 128])
    }
    fn u32(&mut self, at: usize, v: u32) -> &mut Attr {
        self.0[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        self
    }
    fn u64(&mut self, at: usize, v: u64) -> &mut Attr {
        self.0[at..at + 8].copy_from_slice(&v.to_ne_bytes());
        self
    }
    fn get_u32(&self, at: usize) -> u32 {
        u32::from_ne_bytes(self.0[at..at + 4].try_into().expect("4 bytes"))
    }
    fn name(&mut self, at: usize, name: &str) -> &mut Attr {
        // BPF_OBJ_NAME_LEN is 16 with the NUL; the kernel takes [A-Za-z0-9_.]
        let n = name.len().min(15);
        self.0[at..at + n].copy_from_slice(&name.as_bytes()[..n]);
        self
    }
}

/// `bpf(cmd, attr, sizeof attr)`: the call's non-negative result.
///
/// # Safety
///
/// Every address in `attr` must point at memory valid for what `cmd` reads and writes through
/// it (the lengths given beside it), for the duration of the call.
unsafe fn sys_bpf(cmd: u32, attr: &mut Attr) -> io::Result<i64> {
    // SAFETY: `attr` is a live 128-byte buffer; the caller vouches for the addresses in it.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_long,
            attr.0.as_mut_ptr(),
            attr.0.len() as libc::c_long,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// A descriptor the kernel just returned.
fn owned(fd: i64) -> OwnedFd {
    // SAFETY: the kernel returned a new descriptor that nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// A new map (`BPF_MAP_CREATE`) named `name` (at most 15 bytes are kept).
///
/// # References
/// * bpf(2) `BPF_MAP_CREATE`
pub fn map_create(
    kind: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    name: &str,
) -> io::Result<OwnedFd> {
    let mut a = Attr::new();
    a.u32(0, kind)
        .u32(4, key_size)
        .u32(8, value_size)
        .u32(12, max_entries)
        .name(28, name);
    // SAFETY: no addresses in the block.
    unsafe { sys_bpf(MAP_CREATE, &mut a) }.map(owned)
}

/// The value at `key` (`BPF_MAP_LOOKUP_ELEM`) into `value`; false when there is none. The
/// slices must be the map's key and value sizes (the kernel reads and writes that many).
pub fn map_lookup(map: BorrowedFd<'_>, key: &[u8], value: &mut [u8]) -> io::Result<bool> {
    let (k, v) = map_sizes(map)?;
    if key.len() != k as usize || value.len() != v as usize {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    let mut a = Attr::new();
    a.u32(0, map.as_raw_fd() as u32)
        .u64(8, key.as_ptr() as u64)
        .u64(16, value.as_mut_ptr() as u64);
    // SAFETY: the key (read) and value (written) are the map's sizes, checked above.
    match unsafe { sys_bpf(MAP_LOOKUP_ELEM, &mut a) } {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The key after `key` (`BPF_MAP_GET_NEXT_KEY`; None: the first) into `next`; false at the
/// end. The slices must be the map's key size.
pub fn map_next_key(map: BorrowedFd<'_>, key: Option<&[u8]>, next: &mut [u8]) -> io::Result<bool> {
    let (k, _) = map_sizes(map)?;
    if key.is_some_and(|key| key.len() != k as usize) || next.len() != k as usize {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    let mut a = Attr::new();
    a.u32(0, map.as_raw_fd() as u32)
        .u64(8, key.map_or(0, |k| k.as_ptr() as u64))
        .u64(16, next.as_mut_ptr() as u64);
    // SAFETY: the key (read; null asks for the first) and the next key (written) are the
    // map's key size, checked above.
    match unsafe { sys_bpf(MAP_GET_NEXT_KEY, &mut a) } {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A map's key and value sizes, from `struct bpf_map_info`.
fn map_sizes(map: BorrowedFd<'_>) -> io::Result<(u32, u32)> {
    // struct bpf_map_info: type, id, key_size, value_size, max_entries, map_flags, name[16], …
    let mut info = [0u8; 40];
    obj_info(map, &mut info)?;
    let at = |i: usize| u32::from_ne_bytes(info[i..i + 4].try_into().expect("4 bytes"));
    Ok((at(8), at(12)))
}

/// `BPF_OBJ_GET_INFO_BY_FD` into `info` (the kernel writes at most its length).
fn obj_info(fd: BorrowedFd<'_>, info: &mut [u8]) -> io::Result<()> {
    let mut a = Attr::new();
    a.u32(0, fd.as_raw_fd() as u32)
        .u32(4, info.len() as u32)
        .u64(8, info.as_mut_ptr() as u64);
    // SAFETY: the kernel writes at most `info.len()` bytes at `info`.
    unsafe { sys_bpf(OBJ_GET_INFO_BY_FD, &mut a) }.map(|_| ())
}

/// Why a program was not loaded.
#[derive(Debug, thiserror::Error)]
#[error("{source}{}", if log.is_empty() { String::new() } else { format!("; the verifier said: {log}") })]
pub struct LoadError {
    /// The error of `BPF_PROG_LOAD`.
    pub source: io::Error,
    /// The verifier's log (empty when it said nothing).
    pub log: String,
}

/// Load the program `insns` (8-byte `struct bpf_insn`s, as bytes) of type `kind`
/// (`BPF_PROG_LOAD`) under `license`, named `name`; a rejected program comes back with the
/// verifier's log.
///
/// # References
/// * bpf(2) `BPF_PROG_LOAD`; Documentation/bpf/verifier.rst
pub fn prog_load(
    kind: u32,
    insns: &[u8],
    license: &CStr,
    name: &str,
) -> Result<OwnedFd, LoadError> {
    if insns.is_empty() || insns.len() % 8 != 0 {
        return Err(LoadError {
            source: io::Error::from(io::ErrorKind::InvalidInput),
            log: "a program is a non-empty list of 8-byte instructions".into(),
        });
    }
    let mut a = Attr::new();
    a.u32(0, kind)
        .u32(4, (insns.len() / 8) as u32)
        .u64(8, insns.as_ptr() as u64)
        .u64(16, license.as_ptr() as u64)
        .name(48, name);
    // SAFETY: the instructions (`insn_cnt` * 8 bytes) and the NUL-terminated license are read.
    if let Ok(fd) = unsafe { sys_bpf(PROG_LOAD, &mut a.clone()) } {
        return Ok(owned(fd));
    }
    // again, with a log to say why
    let mut log = vec![0u8; 64 << 10];
    a.u32(24, 1)
        .u32(28, log.len() as u32)
        .u64(32, log.as_mut_ptr() as u64);
    // SAFETY: as above, and the kernel writes at most `log_size` bytes to the log.
    match unsafe { sys_bpf(PROG_LOAD, &mut a) } {
        Ok(fd) => Ok(owned(fd)),
        Err(source) => {
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end]);
            // the end of the log says what failed
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(12)..].join("\n");
            Err(LoadError { source, log: tail })
        }
    }
}

/// Attach `prog` to the raw tracepoint `name` (`BPF_RAW_TRACEPOINT_OPEN`): it runs for as
/// long as the returned descriptor is open.
///
/// # References
/// * bpf(2) `BPF_RAW_TRACEPOINT_OPEN`
pub fn raw_tracepoint_open(name: &CStr, prog: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let mut a = Attr::new();
    a.u64(0, name.as_ptr() as u64)
        .u32(8, prog.as_raw_fd() as u32);
    // SAFETY: the NUL-terminated name is read.
    unsafe { sys_bpf(RAW_TRACEPOINT_OPEN, &mut a) }.map(owned)
}

/// The id of the loaded program after `id` (`BPF_PROG_GET_NEXT_ID`; 0: the first), None at
/// the end. Needs CAP_SYS_ADMIN.
pub fn prog_next_id(id: u32) -> io::Result<Option<u32>> {
    let mut a = Attr::new();
    a.u32(0, id);
    // SAFETY: no addresses in the block; the kernel writes next_id into it.
    match unsafe { sys_bpf(PROG_GET_NEXT_ID, &mut a) } {
        Ok(_) => Ok(Some(a.get_u32(4))),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A descriptor of the program with id `id` (`BPF_PROG_GET_FD_BY_ID`). Needs CAP_SYS_ADMIN.
pub fn prog_fd_by_id(id: u32) -> io::Result<OwnedFd> {
    let mut a = Attr::new();
    a.u32(0, id);
    // SAFETY: no addresses in the block.
    unsafe { sys_bpf(PROG_GET_FD_BY_ID, &mut a) }.map(owned)
}

/// What `BPF_OBJ_GET_INFO_BY_FD` says of a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgInfo {
    /// `BPF_PROG_TYPE_*`.
    pub kind: u32,
    /// Its id.
    pub id: u32,
    /// Its name (at most 15 bytes).
    pub name: String,
}

/// A program's type, id and name.
pub fn prog_info(prog: BorrowedFd<'_>) -> io::Result<ProgInfo> {
    // struct bpf_prog_info up to name[16], which is at 64
    let mut info = [0u8; 80];
    obj_info(prog, &mut info)?;
    let name = &info[64..80];
    let end = name.iter().position(|&b| b == 0).unwrap_or(16);
    Ok(ProgInfo {
        kind: u32::from_ne_bytes(info[0..4].try_into().expect("4 bytes")),
        id: u32::from_ne_bytes(info[4..8].try_into().expect("4 bytes")),
        name: String::from_utf8_lossy(&name[..end]).into_owned(),
    })
}

/// Every loaded program's info (programs that go away meanwhile are skipped). Needs
/// CAP_SYS_ADMIN.
pub fn loaded_programs() -> io::Result<Vec<ProgInfo>> {
    let mut out = Vec::new();
    let mut id = 0;
    while let Some(next) = prog_next_id(id)? {
        id = next;
        match prog_fd_by_id(next) {
            Ok(fd) => {
                use std::os::fd::AsFd;
                if let Ok(i) = prog_info(fd.as_fd()) {
                    out.push(i);
                }
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    fn root() -> bool {
        // SAFETY: geteuid cannot fail.
        let euid = unsafe { libc::geteuid() };
        if euid != 0 {
            eprintln!("skipped: bpf(2) needs root here");
        }
        euid == 0
    }

    // r0 = 0; exit
    const RETURN_0: [u8; 16] = [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];

    #[test]
    fn a_map_is_created_and_read() {
        if !root() {
            return;
        }
        let m = map_create(MAP_ARRAY, 4, 8, 2, "confine_test").unwrap();
        let mut v = [0xffu8; 8];
        // an array's entries exist, zeroed
        assert!(map_lookup(m.as_fd(), &1u32.to_ne_bytes(), &mut v).unwrap());
        assert_eq!(v, [0; 8]);
        assert!(!map_lookup(m.as_fd(), &2u32.to_ne_bytes(), &mut v).unwrap_or(false));
        // wrong sizes are refused before the kernel is asked
        assert!(map_lookup(m.as_fd(), &[0u8; 8], &mut v).is_err());
        let mut k = [0u8; 4];
        assert!(map_next_key(m.as_fd(), None, &mut k).unwrap());
        assert_eq!(u32::from_ne_bytes(k), 0);
        let first = k;
        assert!(map_next_key(m.as_fd(), Some(&first), &mut k).unwrap());
        assert_eq!(u32::from_ne_bytes(k), 1);
        let second = k;
        assert!(!map_next_key(m.as_fd(), Some(&second), &mut k).unwrap());
        // an empty hash map has no first key
        let h = map_create(MAP_HASH, 8, 8, 4, "confine_test").unwrap();
        assert!(!map_next_key(h.as_fd(), None, &mut [0u8; 8]).unwrap());
    }

    #[test]
    fn a_program_loads_attaches_and_is_listed_until_closed() {
        if !root() {
            return;
        }
        let p = prog_load(PROG_RAW_TRACEPOINT, &RETURN_0, c"GPL", "confine_t_load").unwrap();
        let info = prog_info(p.as_fd()).unwrap();
        assert_eq!(info.kind, PROG_RAW_TRACEPOINT);
        assert_eq!(info.name, "confine_t_load");
        let link = raw_tracepoint_open(c"sys_enter", p.as_fd()).unwrap();
        assert!(loaded_programs().unwrap().iter().any(|i| i.id == info.id));
        assert_eq!(
            prog_info(prog_fd_by_id(info.id).unwrap().as_fd()).unwrap(),
            info
        );
        assert!(raw_tracepoint_open(c"no_such_tracepoint_here", p.as_fd()).is_err());
        drop(link);
        drop(p);
        // freed after an RCU grace period
        let gone = (0..100).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            !loaded_programs().unwrap().iter().any(|i| i.id == info.id)
        });
        assert!(gone);
    }

    #[test]
    fn a_rejected_program_brings_the_verifiers_log() {
        if !root() {
            return;
        }
        // exit without setting r0
        let e =
            prog_load(PROG_RAW_TRACEPOINT, &RETURN_0[8..], c"GPL", "confine_t_bad").unwrap_err();
        assert_eq!(e.source.raw_os_error(), Some(libc::EACCES));
        assert!(e.log.contains("R0 !read_ok"), "{}", e.log);
        assert!(prog_load(PROG_RAW_TRACEPOINT, &RETURN_0[..5], c"GPL", "x").is_err());
    }
}
