//! Just enough of BTF (the kernel's type information, /sys/kernel/btf/vmlinux) to find where
//! a member of a kernel struct is: the header, the type section walked type by type (each
//! kind's trailing data skipped by its size), and names from the string section. Every read
//! is checked against the section it belongs to; a malformed file is an error, never a panic
//! or a guess.
//!
//! # References
//! * Documentation/bpf/btf.rst; include/uapi/linux/btf.h

use std::path::Path;

/// The running kernel's BTF.
pub const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

const MAGIC: u16 = 0xeb9f;

// kinds (include/uapi/linux/btf.h)
const INT: u32 = 1;
const PTR: u32 = 2;
const ARRAY: u32 = 3;
const STRUCT: u32 = 4;
const UNION: u32 = 5;
const ENUM: u32 = 6;
const FWD: u32 = 7;
const TYPEDEF: u32 = 8;
const VOLATILE: u32 = 9;
const CONST: u32 = 10;
const RESTRICT: u32 = 11;
const FUNC: u32 = 12;
const FUNC_PROTO: u32 = 13;
const VAR: u32 = 14;
const DATASEC: u32 = 15;
const FLOAT: u32 = 16;
const DECL_TAG: u32 = 17;
const TYPE_TAG: u32 = 18;
const ENUM64: u32 = 19;

/// Why BTF could not say.
#[derive(Debug, thiserror::Error)]
pub enum BtfError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not BTF, or cut short, or with a kind this parser does not know.
    #[error("malformed BTF: {0}")]
    Malformed(String),
    /// No struct of that name.
    #[error("BTF has no struct {0}")]
    NoStruct(String),
    /// The struct has no such member.
    #[error("BTF's struct {0} has no member {1}")]
    NoMember(String, String),
    /// The member is not what it must be.
    #[error("BTF's {0}.{1} is {2}")]
    Unexpected(String, String, String),
}

fn bad(what: impl Into<String>) -> BtfError {
    BtfError::Malformed(what.into())
}

/// One type, as the parser keeps it.
#[derive(Clone, Debug)]
struct Type {
    name_off: u32,
    kind: u32,
    kind_flag: bool,
    /// Size (struct, union, int, enum) or the referred type (pointer, typedef, qualifiers).
    size_or_type: u32,
    /// Where its trailing data (a struct's members) starts in the type section.
    at: usize,
    /// How many members (structs and unions).
    vlen: usize,
}

/// Parsed BTF: the file as read, and where each type starts (decoded when asked for: a
/// vmlinux has over 100,000 types, of which a lookup needs a handful).
#[derive(Debug)]
pub struct Btf {
    data: Vec<u8>,
    /// The type section's range in `data`.
    types: std::ops::Range<usize>,
    /// The string section's range in `data`.
    strings: std::ops::Range<usize>,
    /// Offsets of the types in the type section, by id from 1 (0 is void).
    starts: Vec<u32>,
}

/// A member's place, in bytes, and size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    /// Its offset from the start of the struct, in bytes.
    pub offset: u32,
    /// Its size in bytes.
    pub size: u32,
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn u32(&mut self) -> Result<u32, BtfError> {
        let b = self
            .data
            .get(self.at..self.at + 4)
            .ok_or_else(|| bad("the type section ends inside a type"))?;
        self.at += 4;
        Ok(u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }

    fn skip(&mut self, n: usize) -> Result<(), BtfError> {
        if self.at + n > self.data.len() {
            return Err(bad("the type section ends inside a type"));
        }
        self.at += n;
        Ok(())
    }
}

fn word(b: &[u8], at: usize) -> Result<u32, BtfError> {
    b.get(at..at + 4)
        .map(|w| u32::from_le_bytes(w.try_into().expect("4 bytes")))
        .ok_or_else(|| bad("the header is cut short"))
}

impl Btf {
    /// Read and parse `path`.
    pub fn read(path: &Path) -> Result<Btf, BtfError> {
        let data = std::fs::read(path).map_err(|source| BtfError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Btf::parse(data)
    }

    /// Parse BTF (little-endian, as on x86_64).
    pub fn parse(data: Vec<u8>) -> Result<Btf, BtfError> {
        if data.len() < 24 || u16::from_le_bytes([data[0], data[1]]) != MAGIC {
            return Err(bad("no BTF magic (0xeb9f, little-endian)"));
        }
        if data[2] != 1 {
            return Err(bad(format!("version {}", data[2])));
        }
        let hdr_len = word(&data, 4)? as usize;
        let (type_off, type_len) = (word(&data, 8)? as usize, word(&data, 12)? as usize);
        let (str_off, str_len) = (word(&data, 16)? as usize, word(&data, 20)? as usize);
        let section = |off: usize, len: usize, what: &str| {
            hdr_len
                .checked_add(off)
                .and_then(|s| Some(s..s.checked_add(len)?))
                .filter(|r| r.end <= data.len())
                .ok_or_else(|| bad(format!("the {what} section is outside the file")))
        };
        let types = section(type_off, type_len, "type")?;
        let strings = section(str_off, str_len, "string")?;
        if data.get(strings.start) != Some(&0) || strings.is_empty() {
            return Err(bad(
                "the string section does not start with an empty string",
            ));
        }
        let type_data = &data[types.clone()];
        if u32::try_from(type_data.len()).is_err() {
            return Err(bad("a type section over 4 GiB"));
        }
        let mut starts = Vec::with_capacity(type_data.len() / 16);
        let mut r = Reader {
            data: type_data,
            at: 0,
        };
        while r.at < type_data.len() {
            starts.push(r.at as u32);
            let _name_off = r.u32()?;
            let info = r.u32()?;
            let _size_or_type = r.u32()?;
            let vlen = (info & 0xffff) as usize;
            match (info >> 24) & 0x1f {
                INT => r.skip(4)?,
                PTR | FWD | TYPEDEF | VOLATILE | CONST | RESTRICT | FUNC | FLOAT | TYPE_TAG => {}
                ARRAY => r.skip(12)?,
                STRUCT | UNION => r.skip(12 * vlen)?,
                ENUM | FUNC_PROTO => r.skip(8 * vlen)?,
                VAR | DECL_TAG => r.skip(4)?,
                DATASEC | ENUM64 => r.skip(12 * vlen)?,
                k => return Err(bad(format!("unknown kind {k} at type {}", starts.len()))),
            }
        }
        Ok(Btf {
            data,
            types,
            strings,
            starts,
        })
    }

    /// The word at `at` of the type section (in bounds: the parse walked every type).
    fn type_word(&self, at: usize) -> u32 {
        let o = self.types.start + at;
        u32::from_le_bytes(self.data[o..o + 4].try_into().expect("4 bytes"))
    }

    /// The members of struct or union `t`: (name offset, type, offset word).
    fn members<'a>(&'a self, t: &Type) -> impl Iterator<Item = (u32, u32, u32)> + 'a {
        let at = t.at;
        (0..t.vlen).map(move |i| {
            let w = |k: usize| self.type_word(at + 12 * i + 4 * k);
            (w(0), w(1), w(2))
        })
    }

    fn name(&self, off: u32) -> Result<&[u8], BtfError> {
        let rest = self.data[self.strings.clone()]
            .get(off as usize..)
            .ok_or_else(|| bad("a name outside the string section"))?;
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| bad("an unterminated name"))?;
        Ok(&rest[..end])
    }

    /// Type `id` (from 1).
    fn get(&self, id: u32) -> Result<Type, BtfError> {
        let at = id
            .checked_sub(1)
            .and_then(|i| self.starts.get(i as usize))
            .ok_or_else(|| bad(format!("a reference to type {id}, which does not exist")))?;
        Ok(self.decode(*at as usize))
    }

    /// The type whose header is at `at`.
    fn decode(&self, at: usize) -> Type {
        let info = self.type_word(at + 4);
        Type {
            name_off: self.type_word(at),
            kind: (info >> 24) & 0x1f,
            kind_flag: info >> 31 == 1,
            size_or_type: self.type_word(at + 8),
            at: at + 12,
            vlen: (info & 0xffff) as usize,
        }
    }

    /// How many types there are (without void).
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The struct named `name` (the first one, as there is one per name in vmlinux).
    fn struct_named(&self, name: &str) -> Result<Type, BtfError> {
        for &at in &self.starts {
            let t = self.decode(at as usize);
            if t.kind == STRUCT && self.name(t.name_off)? == name.as_bytes() {
                return Ok(t);
            }
        }
        Err(BtfError::NoStruct(name.into()))
    }

    /// The size in bytes of type `id`, through typedefs and qualifiers.
    fn size_of(&self, mut id: u32) -> Result<(u32, u32), BtfError> {
        for _ in 0..32 {
            let t = self.get(id)?;
            match t.kind {
                TYPEDEF | VOLATILE | CONST | RESTRICT | TYPE_TAG => id = t.size_or_type,
                _ => return Ok((t.kind, t.size_or_type)),
            }
        }
        Err(bad("a chain of typedefs that does not end"))
    }

    /// Member `member` of `struct name`: its byte offset and size. A bitfield, or a member
    /// not on a byte boundary, is an error.
    pub fn member(&self, name: &str, member: &str) -> Result<Member, BtfError> {
        let t = self.struct_named(name)?;
        for (name_off, ty, off) in self.members(&t) {
            if self.name(name_off)? != member.as_bytes() {
                continue;
            }
            let unexpected = |what: String| BtfError::Unexpected(name.into(), member.into(), what);
            let bits = if t.kind_flag {
                if off >> 24 != 0 {
                    return Err(unexpected("a bitfield".into()));
                }
                off & 0xff_ffff
            } else {
                off
            };
            if bits % 8 != 0 {
                return Err(unexpected(format!("at bit {bits}")));
            }
            let (_, size) = self.size_of(ty)?;
            return Ok(Member {
                offset: bits / 8,
                size,
            });
        }
        Err(BtfError::NoMember(name.into(), member.into()))
    }

    /// The type id of member `member` of `struct name`.
    fn member_type(&self, name: &str, member: &str) -> Result<u32, BtfError> {
        let t = self.struct_named(name)?;
        self.members(&t)
            .find(|&(n, _, _)| self.name(n).is_ok_and(|n| n == member.as_bytes()))
            .map(|(_, ty, _)| ty)
            .ok_or_else(|| BtfError::NoMember(name.into(), member.into()))
    }

    /// The kind of type `id`, through typedefs and qualifiers, and the type it refers to (a
    /// pointer's target, an array's element).
    fn resolved(&self, mut id: u32) -> Result<(u32, u32), BtfError> {
        for _ in 0..32 {
            let t = self.get(id)?;
            match t.kind {
                TYPEDEF | VOLATILE | CONST | RESTRICT | TYPE_TAG => id = t.size_or_type,
                // struct btf_array { type, index_type, nelems } follows the header
                ARRAY => return Ok((ARRAY, self.type_word(t.at))),
                k => return Ok((k, t.size_or_type)),
            }
        }
        Err(bad("a chain of typedefs that does not end"))
    }

    /// Member `member` of `struct name`, which must be a pointer (8 bytes on 64-bit).
    pub fn ptr_member(&self, name: &str, member: &str) -> Result<Member, BtfError> {
        let m = self.member(name, member)?;
        let (kind, _) = self.resolved(self.member_type(name, member)?)?;
        if kind != PTR {
            return Err(BtfError::Unexpected(
                name.into(),
                member.into(),
                format!("of kind {kind}, not a pointer"),
            ));
        }
        Ok(Member {
            offset: m.offset,
            size: 8,
        })
    }

    /// Member `member` of `struct name`, which must be an array of pointers (its offset; the
    /// size is one element's, 8 bytes: a flexible array has no size of its own).
    pub fn ptr_array_member(&self, name: &str, member: &str) -> Result<Member, BtfError> {
        let m = self.member(name, member)?;
        let (kind, elem) = self.resolved(self.member_type(name, member)?)?;
        let elem_kind = if kind == ARRAY {
            self.resolved(elem)?.0
        } else {
            kind
        };
        if kind != ARRAY || elem_kind != PTR {
            return Err(BtfError::Unexpected(
                name.into(),
                member.into(),
                format!("of kind {kind}, not an array of pointers"),
            ));
        }
        Ok(Member {
            offset: m.offset,
            size: 8,
        })
    }

    /// Member `member` of `struct name`, which must be an integer of `size` bytes.
    pub fn int_member(&self, name: &str, member: &str, size: u32) -> Result<Member, BtfError> {
        let m = self.member(name, member)?;
        let (kind, got) = self.size_of(self.member_type(name, member)?)?;
        if kind != INT || got != size {
            return Err(BtfError::Unexpected(
                name.into(),
                member.into(),
                format!("of kind {kind}, {got} bytes, not a {size}-byte integer"),
            ));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vmlinux() -> Option<Btf> {
        if !Path::new(VMLINUX).exists() {
            eprintln!("skipped: no {VMLINUX}");
            return None;
        }
        Some(Btf::read(Path::new(VMLINUX)).unwrap())
    }

    #[test]
    fn the_running_kernels_thread_info_status_is_found() {
        let Some(b) = vmlinux() else { return };
        assert!(b.len() > 10_000, "{} types", b.len());
        let status = b.int_member("thread_info", "status", 4).unwrap();
        // x86_64 since 5.x: flags (u64), syscall_work (u64), status (u32)
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            status,
            Member {
                offset: 16,
                size: 4
            }
        );
        // CONFIG_THREAD_INFO_IN_TASK: thread_info is task_struct's first member
        let ti = b.member("task_struct", "thread_info").unwrap();
        assert_eq!(ti.offset, 0);
        assert!(ti.size >= 20);
        assert!(matches!(
            b.member("thread_info", "no_such_member"),
            Err(BtfError::NoMember(..))
        ));
        assert!(matches!(
            b.member("no_such_struct_here", "x"),
            Err(BtfError::NoStruct(_))
        ));
        // a pointer is not a 4-byte integer
        assert!(matches!(
            b.int_member("task_struct", "stack", 4),
            Err(BtfError::Unexpected(..))
        ));
    }

    #[test]
    fn the_cgroup_chain_is_found() {
        let Some(b) = vmlinux() else { return };
        // task_struct.cgroups -> css_set.dfl_cgrp -> cgroup.{level, ancestors[], kn} ->
        // kernfs_node.id: pointers, an int, an array of pointers, a 64-bit id
        let cgroups = b.ptr_member("task_struct", "cgroups").unwrap();
        assert!(cgroups.offset > 0);
        assert_eq!(cgroups.size, 8);
        b.ptr_member("css_set", "dfl_cgrp").unwrap();
        b.ptr_member("cgroup", "kn").unwrap();
        b.int_member("cgroup", "level", 4).unwrap();
        let anc = b.ptr_array_member("cgroup", "ancestors").unwrap();
        // the flexible array ends the struct
        assert!(anc.offset >= b.member("cgroup", "level").unwrap().offset);
        b.int_member("kernfs_node", "id", 8).unwrap();
        b.int_member("task_struct", "pid", 4).unwrap();
        b.int_member("task_struct", "tgid", 4).unwrap();
        // 6.16 and later: sched_process_exit says whether the thread group died
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        let mut v = release
            .split(['.', '-'])
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (v.next().unwrap_or(0), v.next().unwrap_or(0));
        assert_eq!(
            b.member("trace_event_raw_sched_process_exit", "group_dead")
                .is_ok(),
            (major, minor) >= (6, 16),
            "{release}"
        );
        // the wrong kinds are refused
        assert!(matches!(
            b.ptr_member("cgroup", "level"),
            Err(BtfError::Unexpected(..))
        ));
        assert!(matches!(
            b.ptr_array_member("cgroup", "kn"),
            Err(BtfError::Unexpected(..))
        ));
        assert!(matches!(
            b.ptr_member("cgroup", "no_such_member"),
            Err(BtfError::NoMember(..))
        ));
    }

    /// A hand-built BTF: one int, one struct with a member at bit 32.
    fn tiny() -> Vec<u8> {
        let strings = b"\0int\0s\0m\0".to_vec();
        let mut types = Vec::new();
        let w = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
        // [1] int "int", 4 bytes, 32 bits
        w(&mut types, 1);
        w(&mut types, INT << 24);
        w(&mut types, 4);
        w(&mut types, 32);
        // [2] struct "s", 8 bytes, one member "m" of type 1 at bit 32
        w(&mut types, 5);
        w(&mut types, (STRUCT << 24) | 1);
        w(&mut types, 8);
        w(&mut types, 7);
        w(&mut types, 1);
        w(&mut types, 32);
        let mut out = vec![0x9f, 0xeb, 1, 0];
        w(&mut out, 24);
        w(&mut out, 0);
        w(&mut out, types.len() as u32);
        w(&mut out, types.len() as u32);
        w(&mut out, strings.len() as u32);
        out.extend(types);
        out.extend(strings);
        out
    }

    #[test]
    fn a_small_file_parses_and_a_damaged_one_is_refused() {
        let b = Btf::parse(tiny()).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(
            b.int_member("s", "m", 4).unwrap(),
            Member { offset: 4, size: 4 }
        );
        assert!(b.int_member("s", "m", 8).is_err());
        // every truncation is an error, none a panic
        let full = tiny();
        for n in 0..full.len() {
            assert!(Btf::parse(full[..n].to_vec()).is_err(), "cut at {n}");
        }
        let mut wrong = full.clone();
        wrong[0] = 0;
        assert!(Btf::parse(wrong).is_err());
        // an unknown kind
        let mut unknown = full;
        unknown[24 + 7] = 30;
        assert!(matches!(Btf::parse(unknown), Err(BtfError::Malformed(_))));
    }
}
