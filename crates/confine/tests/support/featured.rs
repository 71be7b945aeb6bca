//! The `confine` binary built with `--features fault-injection`, shared by tests/fault.rs and
//! tests/fault_seccomp.rs: built once per test process in its own target directory
//! (`<target>/fault-injection`; cargo's lock serialises two test binaries building it at once).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

/// The `confine` binary built with `--features fault-injection`.
pub fn featured_confine() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // <target>/<profile>/deps/fault-<hash>
        let exe = std::env::current_exe().unwrap();
        let target = exe
            .ancestors()
            .nth(3)
            .expect("the test executable is in <target>/<profile>/deps")
            .join("fault-injection");
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let t = Instant::now();
        let st = Command::new(cargo)
            .arg("build")
            .arg("--manifest-path")
            .arg(root.join("Cargo.toml"))
            .args(["-p", "confine", "--bin", "confine", "--features"])
            .args(["fault-injection", "--target-dir"])
            .arg(&target)
            .status()
            .expect("cargo");
        assert!(st.success(), "building confine with fault-injection");
        eprintln!("fault-injection build: {:?}", t.elapsed());
        target.join("debug").join("confine")
    })
}

/// The test runs as root.
pub fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let s = confine_test_support::status::parse(&status);
    s.get("Uid").and_then(|u| u.split_whitespace().nth(1)) == Some("0")
}
