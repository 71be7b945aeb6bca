//! The socketcall(2) and ipc(2) multiplexers: the call number of every socket and SysV IPC
//! name (include/uapi/linux/net.h, include/uapi/linux/ipc.h), and the ABIs on which libseccomp
//! also routes those names through the multiplexer.

use crate::Arch;

/// socketcall(2) call numbers, in libseccomp's pseudo-syscall order.
const SOCKET_CALLS: [(&str, u64); 20] = [
    ("socket", 1),
    ("bind", 2),
    ("connect", 3),
    ("listen", 4),
    ("accept", 5),
    ("getsockname", 6),
    ("getpeername", 7),
    ("socketpair", 8),
    ("send", 9),
    ("recv", 10),
    ("sendto", 11),
    ("recvfrom", 12),
    ("shutdown", 13),
    ("setsockopt", 14),
    ("getsockopt", 15),
    ("sendmsg", 16),
    ("recvmsg", 17),
    ("accept4", 18),
    ("recvmmsg", 19),
    ("sendmmsg", 20),
];

/// ipc(2) call numbers.
const IPC_CALLS: [(&str, u64); 12] = [
    ("semop", 1),
    ("semget", 2),
    ("semctl", 3),
    ("semtimedop", 4),
    ("msgsnd", 11),
    ("msgrcv", 12),
    ("msgget", 13),
    ("msgctl", 14),
    ("shmat", 21),
    ("shmdt", 22),
    ("shmget", 23),
    ("shmctl", 24),
];

/// ABIs where libseccomp routes socket and IPC calls through the multiplexers too.
pub fn multiplexed(arch: Arch) -> bool {
    matches!(
        arch,
        Arch::X86
            | Arch::S390
            | Arch::S390x
            | Arch::Ppc
            | Arch::Ppc64
            | Arch::Ppc64le
            | Arch::Mips
            | Arch::Mipsel
    )
}

/// The multiplexer (`socketcall` or `ipc`) and call number of a socket/IPC name, whatever the
/// ABI.
pub fn mux_call(name: &str) -> Option<(&'static str, u64)> {
    if let Some(&(_, n)) = SOCKET_CALLS.iter().find(|(s, _)| *s == name) {
        return Some(("socketcall", n));
    }
    IPC_CALLS
        .iter()
        .find(|(s, _)| *s == name)
        .map(|&(_, n)| ("ipc", n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_and_abis() {
        assert_eq!(mux_call("bind"), Some(("socketcall", 2)));
        assert_eq!(mux_call("shmat"), Some(("ipc", 21)));
        assert_eq!(mux_call("read"), None);
        assert!(multiplexed(Arch::X86) && multiplexed(Arch::S390x));
        assert!(!multiplexed(Arch::X86_64) && !multiplexed(Arch::Aarch64));
    }
}
