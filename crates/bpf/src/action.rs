//! Seccomp return values (include/uapi/linux/seccomp.h) and their precedence.

/// `SECCOMP_RET_KILL_PROCESS`
pub const KILL_PROCESS: u32 = 0x8000_0000;
/// `SECCOMP_RET_KILL_THREAD`
pub const KILL_THREAD: u32 = 0x0000_0000;
/// `SECCOMP_RET_TRAP`
pub const TRAP: u32 = 0x0003_0000;
/// `SECCOMP_RET_ERRNO`
pub const ERRNO: u32 = 0x0005_0000;
/// `SECCOMP_RET_USER_NOTIF`
pub const USER_NOTIF: u32 = 0x7fc0_0000;
/// `SECCOMP_RET_TRACE`
pub const TRACE: u32 = 0x7ff0_0000;
/// `SECCOMP_RET_LOG`
pub const LOG: u32 = 0x7ffc_0000;
/// `SECCOMP_RET_ALLOW`
pub const ALLOW: u32 = 0x7fff_0000;
/// `SECCOMP_RET_ACTION_FULL`
pub const ACTION_FULL: u32 = 0xffff_0000;
/// `SECCOMP_RET_DATA`
pub const DATA: u32 = 0x0000_ffff;

/// A human name for a return value: `ALLOW`, `ERRNO(EPERM)`, `TRACE(38)`, …
pub fn describe(ret: u32) -> String {
    let data = ret & DATA;
    match ret & ACTION_FULL {
        KILL_PROCESS => "KILL_PROCESS".into(),
        KILL_THREAD => "KILL_THREAD".into(),
        TRAP => format!("TRAP({data})"),
        ERRNO => match confine_abi::errno::name(data as u16) {
            Some(n) => format!("ERRNO({n})"),
            None => format!("ERRNO({data})"),
        },
        USER_NOTIF => "NOTIFY".into(),
        TRACE => format!("TRACE({data})"),
        LOG => "LOG".into(),
        ALLOW => "ALLOW".into(),
        _ => format!("0x{ret:08x} (unknown: acts as KILL_PROCESS)"),
    }
}

/// The kernel's precedence: the lower `(ret & ACTION_FULL) as i32`, the stronger. Of several
/// stacked filters the strongest result wins; on a tie the newest filter's data.
pub fn precedence(ret: u32) -> i32 {
    (ret & ACTION_FULL) as i32
}
