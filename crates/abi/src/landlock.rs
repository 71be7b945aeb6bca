//! Landlock's ABI: the access-right and scope bits of `include/uapi/linux/landlock.h` (as of
//! Linux 6.15), with the ABI version that brought each, and the table of ABI versions. One
//! definition for the kernel crate (which builds rulesets) and the policy crate (which plans
//! them).

/// `LANDLOCK_ACCESS_FS_EXECUTE` (ABI 1).
pub const FS_EXECUTE: u64 = 1 << 0;
/// `LANDLOCK_ACCESS_FS_WRITE_FILE` (ABI 1).
pub const FS_WRITE_FILE: u64 = 1 << 1;
/// `LANDLOCK_ACCESS_FS_READ_FILE` (ABI 1).
pub const FS_READ_FILE: u64 = 1 << 2;
/// `LANDLOCK_ACCESS_FS_READ_DIR` (ABI 1).
pub const FS_READ_DIR: u64 = 1 << 3;
/// `LANDLOCK_ACCESS_FS_REMOVE_DIR` (ABI 1).
pub const FS_REMOVE_DIR: u64 = 1 << 4;
/// `LANDLOCK_ACCESS_FS_REMOVE_FILE` (ABI 1).
pub const FS_REMOVE_FILE: u64 = 1 << 5;
/// `LANDLOCK_ACCESS_FS_MAKE_CHAR` (ABI 1).
pub const FS_MAKE_CHAR: u64 = 1 << 6;
/// `LANDLOCK_ACCESS_FS_MAKE_DIR` (ABI 1).
pub const FS_MAKE_DIR: u64 = 1 << 7;
/// `LANDLOCK_ACCESS_FS_MAKE_REG` (ABI 1).
pub const FS_MAKE_REG: u64 = 1 << 8;
/// `LANDLOCK_ACCESS_FS_MAKE_SOCK` (ABI 1).
pub const FS_MAKE_SOCK: u64 = 1 << 9;
/// `LANDLOCK_ACCESS_FS_MAKE_FIFO` (ABI 1).
pub const FS_MAKE_FIFO: u64 = 1 << 10;
/// `LANDLOCK_ACCESS_FS_MAKE_BLOCK` (ABI 1).
pub const FS_MAKE_BLOCK: u64 = 1 << 11;
/// `LANDLOCK_ACCESS_FS_MAKE_SYM` (ABI 1).
pub const FS_MAKE_SYM: u64 = 1 << 12;
/// `LANDLOCK_ACCESS_FS_REFER` (ABI 2).
pub const FS_REFER: u64 = 1 << 13;
/// `LANDLOCK_ACCESS_FS_TRUNCATE` (ABI 3).
pub const FS_TRUNCATE: u64 = 1 << 14;
/// `LANDLOCK_ACCESS_FS_IOCTL_DEV` (ABI 5).
pub const FS_IOCTL_DEV: u64 = 1 << 15;
/// `LANDLOCK_ACCESS_NET_BIND_TCP` (ABI 4).
pub const NET_BIND_TCP: u64 = 1 << 0;
/// `LANDLOCK_ACCESS_NET_CONNECT_TCP` (ABI 4).
pub const NET_CONNECT_TCP: u64 = 1 << 1;
/// `LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET` (ABI 6).
pub const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
/// `LANDLOCK_SCOPE_SIGNAL` (ABI 6).
pub const SCOPE_SIGNAL: u64 = 1 << 1;

/// The rights a rule on a regular file (or any non-directory) may carry: the kernel's
/// `ACCESS_FILE`. Any other right on a file makes `landlock_add_rule` fail with `EINVAL`
/// ("inconsistent access rights", landrun #15).
pub const FS_FILE_RIGHTS: u64 =
    FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV;

/// Reading: files and directory listings.
pub const FS_READ: u64 = FS_READ_FILE | FS_READ_DIR;
/// Writing: files, truncation, creating and removing entries.
pub const FS_WRITE: u64 = FS_WRITE_FILE
    | FS_TRUNCATE
    | FS_REMOVE_DIR
    | FS_REMOVE_FILE
    | FS_MAKE_CHAR
    | FS_MAKE_DIR
    | FS_MAKE_REG
    | FS_MAKE_SOCK
    | FS_MAKE_FIFO
    | FS_MAKE_BLOCK
    | FS_MAKE_SYM;

/// Which Landlock ABI version brought what, with the first Linux release that has it.
pub const ABI_TABLE: [(u32, &str, &str); 7] = [
    (1, "5.13", "filesystem access rights"),
    (2, "5.19", "REFER (link and rename across directories)"),
    (3, "6.2", "TRUNCATE"),
    (4, "6.7", "TCP bind and connect"),
    (5, "6.10", "IOCTL_DEV"),
    (6, "6.12", "scopes (abstract unix sockets, signals)"),
    (7, "6.15", "audit logging flags"),
];

/// The Linux release that brought ABI `abi`.
pub fn linux_for(abi: u32) -> &'static str {
    ABI_TABLE
        .iter()
        .find(|(a, ..)| *a == abi)
        .map_or("?", |(_, l, _)| l)
}

/// The filesystem rights by name, one per bit, lowest bit first: the uapi names in lower case
/// without `LANDLOCK_ACCESS_FS_`.
pub const FS_NAMES: [(u64, &str); 16] = [
    (FS_EXECUTE, "execute"),
    (FS_WRITE_FILE, "write_file"),
    (FS_READ_FILE, "read_file"),
    (FS_READ_DIR, "read_dir"),
    (FS_REMOVE_DIR, "remove_dir"),
    (FS_REMOVE_FILE, "remove_file"),
    (FS_MAKE_CHAR, "make_char"),
    (FS_MAKE_DIR, "make_dir"),
    (FS_MAKE_REG, "make_reg"),
    (FS_MAKE_SOCK, "make_sock"),
    (FS_MAKE_FIFO, "make_fifo"),
    (FS_MAKE_BLOCK, "make_block"),
    (FS_MAKE_SYM, "make_sym"),
    (FS_REFER, "refer"),
    (FS_TRUNCATE, "truncate"),
    (FS_IOCTL_DEV, "ioctl_dev"),
];

/// The network rights by name (without `LANDLOCK_ACCESS_NET_`).
pub const NET_NAMES: [(u64, &str); 2] =
    [(NET_BIND_TCP, "bind_tcp"), (NET_CONNECT_TCP, "connect_tcp")];

/// The scopes by name (without `LANDLOCK_SCOPE_`).
pub const SCOPE_NAMES: [(u64, &str); 2] = [
    (SCOPE_ABSTRACT_UNIX_SOCKET, "abstract_unix_socket"),
    (SCOPE_SIGNAL, "signal"),
];

/// The names of the bits set in `mask`, lowest first, from one of [`FS_NAMES`], [`NET_NAMES`]
/// or [`SCOPE_NAMES`]; a bit the table does not name is `bit_N`, never dropped.
pub fn names(mask: u64, table: &[(u64, &str)]) -> Vec<String> {
    (0..64)
        .map(|i| 1u64 << i)
        .filter(|b| mask & b != 0)
        .map(|b| match table.iter().find(|(x, _)| *x == b) {
            Some((_, n)) => (*n).to_string(),
            None => format!("bit_{}", b.trailing_zeros()),
        })
        .collect()
}

/// The mask of `names` in `table`, or the first name it does not know.
pub fn mask_of<S: AsRef<str>>(names: &[S], table: &[(u64, &str)]) -> Result<u64, String> {
    names.iter().try_fold(0, |m, n| {
        let n = n.as_ref();
        table
            .iter()
            .find(|(_, x)| *x == n)
            .map(|(b, _)| m | b)
            .or_else(|| {
                n.strip_prefix("bit_")
                    .and_then(|i| i.parse::<u32>().ok())
                    .filter(|i| *i < 64)
                    .map(|i| m | 1 << i)
            })
            .ok_or_else(|| n.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_table_names_each_bit_once_in_order() {
        for table in [&FS_NAMES[..], &NET_NAMES, &SCOPE_NAMES] {
            for (i, (bit, _)) in table.iter().enumerate() {
                assert_eq!(*bit, 1 << i);
            }
        }
        assert_eq!(
            FS_NAMES.iter().fold(0, |m, (b, _)| m | b),
            FS_IOCTL_DEV * 2 - 1
        );
    }

    #[test]
    fn names_and_masks_round_trip_unknown_bits_included() {
        assert_eq!(names(FS_READ, &FS_NAMES), ["read_file", "read_dir"]);
        assert_eq!(names(NET_BIND_TCP, &NET_NAMES), ["bind_tcp"]);
        assert_eq!(
            names(SCOPE_SIGNAL | 1 << 9, &SCOPE_NAMES),
            ["signal", "bit_9"]
        );
        assert!(names(0, &FS_NAMES).is_empty());
        for m in [0, FS_WRITE, u64::MAX, 1 << 63 | FS_REFER] {
            assert_eq!(mask_of(&names(m, &FS_NAMES), &FS_NAMES), Ok(m));
        }
        assert_eq!(
            mask_of(&["read_file", "nope"], &FS_NAMES),
            Err("nope".into())
        );
        assert_eq!(mask_of(&["bit_64"], &FS_NAMES), Err("bit_64".into()));
    }
}
