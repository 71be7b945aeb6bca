//! The socketcall(2) and ipc(2) multiplexers: the call number of every socket and SysV IPC
//! name (include/uapi/linux/net.h, include/uapi/linux/ipc.h). The ABIs on which libseccomp
//! also routes those names through the multiplexer are in the ABI table ([`crate::Arch::multiplexed`]).

/// The multiplexer (`socketcall` or `ipc`) and call number of a socket/IPC name, whatever the
/// ABI. A `match`, not a table scan: the compiler asks it for every name of every rule.
pub fn mux_call(name: &str) -> Option<(&'static str, u64)> {
    // socketcall(2) call numbers (include/uapi/linux/net.h)
    let socket = match name {
        "socket" => 1,
        "bind" => 2,
        "connect" => 3,
        "listen" => 4,
        "accept" => 5,
        "getsockname" => 6,
        "getpeername" => 7,
        "socketpair" => 8,
        "send" => 9,
        "recv" => 10,
        "sendto" => 11,
        "recvfrom" => 12,
        "shutdown" => 13,
        "setsockopt" => 14,
        "getsockopt" => 15,
        "sendmsg" => 16,
        "recvmsg" => 17,
        "accept4" => 18,
        "recvmmsg" => 19,
        "sendmmsg" => 20,
        _ => 0,
    };
    if socket != 0 {
        return Some(("socketcall", socket));
    }
    // ipc(2) call numbers (include/uapi/linux/ipc.h)
    let ipc = match name {
        "semop" => 1,
        "semget" => 2,
        "semctl" => 3,
        "semtimedop" => 4,
        "msgsnd" => 11,
        "msgrcv" => 12,
        "msgget" => 13,
        "msgctl" => 14,
        "shmat" => 21,
        "shmdt" => 22,
        "shmget" => 23,
        "shmctl" => 24,
        _ => return None,
    };
    Some(("ipc", ipc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Arch;

    #[test]
    fn calls_and_abis() {
        assert_eq!(mux_call("bind"), Some(("socketcall", 2)));
        assert_eq!(mux_call("shmat"), Some(("ipc", 21)));
        assert_eq!(mux_call("read"), None);
        assert!(Arch::X86.multiplexed() && Arch::S390x.multiplexed());
        assert!(!Arch::X86_64.multiplexed() && !Arch::Aarch64.multiplexed());
    }

    #[test]
    fn every_multiplexed_name_is_a_syscall_with_a_distinct_call() {
        // the direct socket and IPC calls of every ABI; send and recv exist only behind
        // socketcall on every ABI, so they are added by hand
        let mut calls: Vec<_> = Arch::supported()
            .filter_map(|a| crate::SyscallTable::for_arch(a).ok())
            .flat_map(|t| t.entries().filter_map(|(_, n)| mux_call(n)))
            .collect();
        calls.extend(["send", "recv"].iter().filter_map(|n| mux_call(n)));
        calls.sort();
        calls.dedup();
        assert_eq!(calls.len(), 32, "{calls:?}");
        assert_eq!(calls.iter().filter(|c| c.0 == "socketcall").count(), 20);
    }
}
