//! Running the `confine` binary from the tests of crates/confine.
//!
//! Cargo builds the binary before those tests and tells them where it is in
//! `CARGO_BIN_EXE_confine`: at compile time through `env!` (only inside that package's tests,
//! which is why this crate cannot use it) and, with recent Cargo, at run time as well. Older
//! Cargo, or a test binary run by hand, finds it the same way Cargo lays it out: beside the
//! `deps/` directory the test executable is in (`target/<profile>/confine`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The path of the `confine` binary the tests run.
pub fn confine_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let p = match std::env::var_os("CARGO_BIN_EXE_confine") {
            Some(p) => PathBuf::from(p),
            None => {
                let exe = std::env::current_exe().expect("the test executable's path");
                // target/<profile>/deps/<test>-<hash> → target/<profile>/confine
                let profile_dir = exe
                    .parent()
                    .and_then(Path::parent)
                    .expect("the test executable is in target/<profile>/deps");
                profile_dir.join(format!("confine{}", std::env::consts::EXE_SUFFIX))
            }
        };
        assert!(
            p.is_file(),
            "no confine binary at {} (run the tests with cargo test -p confine)",
            p.display()
        );
        p
    })
}

/// `confine ARGS`, waited for, its standard output and error captured; standard input is
/// closed (what [`Command::output`] does).
pub fn confine(args: &[&str]) -> Output {
    Command::new(confine_bin()).args(args).output().unwrap()
}

/// `confine ARGS` with standard input a pipe that carries `stdin` (nothing if `None`) and is
/// then closed; standard output and error captured.
pub fn confine_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(confine_bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn confine");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// Build the std-only Rust program `src` into `bin` as a static executable (`rustc -O -C
/// target-feature=+crt-static`): the test programs run under policies and in the VM, where no
/// library may be reachable. Panics with rustc's output when it fails.
pub fn rustc_static(src: &Path, bin: &Path) {
    let o = Command::new("rustc")
        .args(["-O", "-C", "target-feature=+crt-static", "-o"])
        .arg(bin)
        .arg(src)
        .output()
        .expect("rustc");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Build the std-only Rust program `src` (relative to the calling crate's manifest directory,
/// `manifest`) as a static executable named `name` in a new temporary directory of mode 0755
/// (tests that run it as another uid must reach it). The directory lives as long as the
/// returned guard; keep both in a `OnceLock` to build once per test binary.
pub fn static_program(manifest: &str, src: &str, name: &str) -> (tempfile::TempDir, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path().join(name);
    rustc_static(&Path::new(manifest).join(src), &bin);
    (dir, bin)
}
