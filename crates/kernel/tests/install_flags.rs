//! `install` with TSYNC and NEW_LISTENER against the real kernel, each case in a fresh child
//! process (the binary re-executes itself): TSYNC puts the filter on every thread; TSYNC fails,
//! naming the thread, when another thread has a filter the caller does not; NEW_LISTENER
//! returns a seccomp user-notification fd, and a second listener in the same tree is refused.
//!
//! A custom harness (`harness = false`).

use confine_bpf::insn::{class, op};
use confine_bpf::{action, Insn};
use confine_kernel::{install, set_no_new_privs, InstallError, InstallFlags};
use std::process::Command;
use std::sync::mpsc;

fn allow() -> Vec<Insn> {
    vec![Insn::stmt(class::RET | op::K, action::ALLOW)]
}

/// Seccomp_filters of every thread of this process.
fn filters_per_thread() -> Vec<(String, String)> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let s = std::fs::read_to_string(e.path().join("status")).unwrap();
            let n = s
                .lines()
                .find_map(|l| l.strip_prefix("Seccomp_filters:\t"))
                .unwrap()
                .to_string();
            (e.file_name().to_string_lossy().into_owned(), n)
        })
        .collect()
}

/// A thread that waits for `go`, optionally installing a filter of its own first.
fn helper(own_filter: bool) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>, i64) {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (tid_tx, tid_rx) = mpsc::channel::<i64>();
    let h = std::thread::spawn(move || {
        if own_filter {
            install(&allow(), InstallFlags::default()).unwrap();
        }
        let tid = std::fs::read_link("/proc/thread-self")
            .unwrap()
            .to_string_lossy()
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        tid_tx.send(tid).unwrap();
        let _ = go_rx.recv();
    });
    let tid = tid_rx.recv().unwrap();
    (go_tx, h, tid)
}

fn child(case: &str) -> ! {
    set_no_new_privs().unwrap();
    let ok = match case {
        "tsync" => {
            let (go, h, _) = helper(false);
            let tsync = InstallFlags {
                tsync: true,
                ..Default::default()
            };
            install(&allow(), tsync).unwrap();
            let f = filters_per_thread();
            go.send(()).unwrap();
            h.join().unwrap();
            f.len() == 2 && f.iter().all(|(_, n)| n == "1")
        }
        "tsync_fails" => {
            let (go, h, tid) = helper(true);
            let tsync = InstallFlags {
                tsync: true,
                ..Default::default()
            };
            let r = install(&allow(), tsync);
            go.send(()).unwrap();
            h.join().unwrap();
            match r {
                Err(InstallError::ThreadSync(t)) => {
                    let msg = InstallError::ThreadSync(t).to_string();
                    t == tid && msg.contains(&tid.to_string())
                }
                other => {
                    eprintln!("expected ThreadSync({tid}), got {other:?}");
                    false
                }
            }
        }
        "listener" => {
            // notify on getppid, allow the rest; the listener fd is what a supervisor reads
            let prog = vec![
                Insn::stmt(class::LD | op::W | op::ABS, 0),
                Insn::jump(class::JMP | op::JEQ | op::K, libc::SYS_getppid as u32, 0, 1),
                Insn::stmt(class::RET | op::K, action::USER_NOTIF),
                Insn::stmt(class::RET | op::K, action::ALLOW),
            ];
            let flags = InstallFlags {
                new_listener: true,
                ..Default::default()
            };
            let fd = install(&prog, flags).unwrap().expect("a listener fd");
            use std::os::fd::AsRawFd;
            let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
            let first = link.to_string_lossy() == "anon_inode:seccomp notify";
            // only one listener per filter tree: the kernel answers EBUSY
            let second = install(&prog, flags);
            let busy = matches!(&second, Err(InstallError::Os(e)) if e.raw_os_error() == Some(libc::EBUSY));
            if !first || !busy {
                eprintln!("listener link {link:?}, second install {second:?}");
            }
            first && busy
        }
        _ => false,
    };
    std::process::exit(if ok { 0 } else { 1 })
}

fn main() {
    if let Ok(c) = std::env::var("CONFINE_FLAGS_CHILD") {
        child(&c);
    }
    let mut passed = 0;
    for case in ["tsync", "tsync_fails", "listener"] {
        let st = Command::new(std::env::current_exe().unwrap())
            .env("CONFINE_FLAGS_CHILD", case)
            .status()
            .unwrap();
        assert!(st.success(), "{case}: {st:?}");
        println!("install {case}: ok");
        passed += 1;
    }
    println!("{passed} passed, 0 failed");
}
