//! Fault injection for tests, behind the `fault-injection` feature (off by default: without
//! it [`at`] is an empty inline function and [`load`] reads nothing, so a release build has no
//! hook at all).
//!
//! With the feature, [`super::spawn`] reads two variables before it starts anything:
//!
//! * `CONFINE_FAULT=STEP:ERRNO`: the step named STEP ([`Stage::name`]) fails as if its system
//!   call had returned ERRNO (a number); the call itself is not made. The real error path
//!   runs from there: the stage and errno reported to confine, everything cleaned up, exit
//!   125 with the step's description.
//! * `CONFINE_FAULT_PAUSE=STEP:PATH`: the process that reaches STEP (confine, its init or the
//!   command's process) appends `PID STEP\n` to PATH, then waits, looking every 10 ms, until
//!   PATH has been removed, and goes on with the step. A test kills confine meanwhile, then
//!   removes PATH, and sees what the rest of the run does without confine. A process pauses
//!   once: a step that repeats its call (a bounding-set drop per capability) goes on after.
//!
//! [`at`] is called right before each step's system call (its first one, where a step makes
//! several). It runs in the command's process, which shares confine's memory: it reads what
//! [`load`] prepared in confine and makes only async-signal-safe calls (open, write, close,
//! access, nanosleep), allocating nothing.

use super::Stage;
use std::io;

/// Read the variables (once per process). An unknown step or a malformed value is an error:
/// a test that misspells a step must not pass because nothing was injected.
#[cfg(feature = "fault-injection")]
pub(super) fn load() -> io::Result<()> {
    imp::load()
}

/// Without the feature: nothing to read.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(super) fn load() -> io::Result<()> {
    Ok(())
}

/// The hook before `stage`'s system call: pause there when asked, then fail with the errno
/// asked for, if any.
#[cfg(feature = "fault-injection")]
pub(super) fn at(stage: Stage) -> Result<(), i32> {
    imp::at(stage)
}

/// Without the feature: never fails.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(super) fn at(_stage: Stage) -> Result<(), i32> {
    Ok(())
}

/// [`at`] for a caller that reports an [`io::Error`].
pub(super) fn at_io(stage: Stage) -> io::Result<()> {
    at(stage).map_err(io::Error::from_raw_os_error)
}

#[cfg(feature = "fault-injection")]
mod imp {
    use super::Stage;
    use std::ffi::CString;
    use std::io;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::OnceLock;

    /// What the variables asked for.
    #[derive(Debug, Default)]
    struct Config {
        fail: Option<(Stage, i32)>,
        pause: Option<(Stage, CString)>,
    }

    static CONFIG: OnceLock<Config> = OnceLock::new();

    /// The pause has happened in this process (a step whose call repeats, such as one
    /// bounding-set drop per capability, pauses at the first only).
    static PAUSED: AtomicBool = AtomicBool::new(false);

    fn bad(var: &str, value: &str, why: &str) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{var}={value}: {why}"))
    }

    fn step(var: &str, value: &str, name: &str) -> io::Result<Stage> {
        Stage::from_name(name).ok_or_else(|| bad(var, value, "no such step"))
    }

    fn parse(fail: Option<&str>, pause: Option<&str>) -> io::Result<Config> {
        let mut c = Config::default();
        if let Some(v) = fail {
            let (name, errno) = v
                .split_once(':')
                .ok_or_else(|| bad("CONFINE_FAULT", v, "expected STEP:ERRNO"))?;
            let errno: i32 = errno
                .parse()
                .ok()
                .filter(|e| *e > 0)
                .ok_or_else(|| bad("CONFINE_FAULT", v, "ERRNO is not a positive number"))?;
            c.fail = Some((step("CONFINE_FAULT", v, name)?, errno));
        }
        if let Some(v) = pause {
            let (name, path) = v
                .split_once(':')
                .filter(|(_, p)| !p.is_empty())
                .ok_or_else(|| bad("CONFINE_FAULT_PAUSE", v, "expected STEP:PATH"))?;
            let path = CString::new(path).map_err(|_| bad("CONFINE_FAULT_PAUSE", v, "NUL"))?;
            c.pause = Some((step("CONFINE_FAULT_PAUSE", v, name)?, path));
        }
        Ok(c)
    }

    pub(super) fn load() -> io::Result<()> {
        if CONFIG.get().is_some() {
            return Ok(());
        }
        let var = |k| std::env::var(k).ok();
        let c = parse(
            var("CONFINE_FAULT").as_deref(),
            var("CONFINE_FAULT_PAUSE").as_deref(),
        )?;
        let _ = CONFIG.set(c);
        Ok(())
    }

    pub(super) fn at(stage: Stage) -> Result<(), i32> {
        let Some(c) = CONFIG.get() else {
            return Ok(());
        };
        if let Some((s, path)) = &c.pause {
            if *s == stage && !PAUSED.swap(true, Ordering::SeqCst) {
                pause(stage, path);
            }
        }
        match c.fail {
            Some((s, errno)) if s == stage => Err(errno),
            _ => Ok(()),
        }
    }

    /// Append `PID STEP\n` to `path`, then wait until `path` is gone. Async-signal-safe.
    fn pause(stage: Stage, path: &CString) {
        let mut line = [0u8; 64];
        // SAFETY: getpid takes no argument.
        let pid = unsafe { libc::getpid() } as u32;
        let mut digits = [0u8; 10];
        super::super::steps::write_decimal(&mut digits, pid);
        let mut n = 0;
        for &b in digits.iter().take_while(|b| **b != 0) {
            line[n] = b;
            n += 1;
        }
        line[n] = b' ';
        n += 1;
        for &b in stage.name().as_bytes() {
            line[n] = b;
            n += 1;
        }
        line[n] = b'\n';
        n += 1;
        // SAFETY: open, write, close, access and nanosleep on a NUL-terminated path, a local
        // buffer and a local timespec.
        unsafe {
            let fd = libc::open(
                path.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_CLOEXEC,
                0o600,
            );
            if fd >= 0 {
                libc::write(fd, line.as_ptr().cast(), n);
                libc::close(fd);
            }
            let tick = libc::timespec {
                tv_sec: 0,
                tv_nsec: 10_000_000,
            };
            while libc::access(path.as_ptr(), libc::F_OK) == 0 {
                libc::nanosleep(&tick, std::ptr::null_mut());
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn variables_name_a_step_and_an_errno_or_a_path() {
            let c = parse(Some("seccomp:22"), Some("no-new-privs:/tmp/p")).unwrap();
            assert_eq!(c.fail, Some((Stage::Seccomp, 22)));
            let (s, p) = c.pause.unwrap();
            assert_eq!((s, p.to_str().unwrap()), (Stage::NoNewPrivs, "/tmp/p"));
            for (f, p) in [
                (Some("secomp:22"), None),
                (Some("seccomp"), None),
                (Some("seccomp:EINVAL"), None),
                (Some("seccomp:0"), None),
                (None, Some("seccomp")),
                (None, Some("seccomp:")),
                (None, Some("nothing:/tmp/p")),
            ] {
                assert!(parse(f, p).is_err(), "{f:?} {p:?}");
            }
            assert!(parse(None, None).unwrap().fail.is_none());
        }
    }
}
