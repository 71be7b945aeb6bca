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
