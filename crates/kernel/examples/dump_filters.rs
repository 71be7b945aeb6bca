//! Dump the seccomp filters of a process: `dump_filters PID` (root).
fn main() {
    let pid: i32 = std::env::args().nth(1).expect("PID").parse().expect("PID");
    match confine_kernel::ptrace::seccomp_filters(pid) {
        Ok(f) => {
            for (i, p) in f.iter().enumerate() {
                println!("filter {i}: {} instructions", p.len());
            }
        }
        Err(e) => eprintln!("{e}"),
    }
}
