//! Argument values the seccomp tests probe filters with.

/// The argument values at which Docker's default profile changes its verdict, or next to
/// them: `personality(2)` personas (`8` = PER_LINUX32 … `0x20008` = UNAME26|PER_LINUX32,
/// `0xffff_ffff` = the query), `socket(2)` families around AF_VSOCK (40) and AF_ALG (38), and
/// `clone(2)` with the namespace flags Docker refuses without CAP_SYS_ADMIN (`0x7E02_0000`).
/// Each test adds the values of its own on either side (0, 1, values above 32 bits, …).
pub const DOCKER_ARG_VALUES: [u64; 9] = [
    8,
    38,
    39,
    40,
    41,
    0x20000,
    0x20008,
    0xffff_ffff,
    0x7E02_0000,
];

/// `v` and what lies on either side of it for a 64-bit comparison: `v - 1`, `v`, `v + 1`
/// (wrapping) and `v` with bit 32 flipped (the same low half, another high half).
pub fn neighbours(v: u64) -> [u64; 4] {
    [v.wrapping_sub(1), v, v.wrapping_add(1), v ^ (1 << 32)]
}
