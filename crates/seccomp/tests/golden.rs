//! The compiled docker-default is byte-for-byte what it was before the compiler moved into its
//! own crate (issue 14): the golden files were written by the compiler at commit c1a097d
//! (`crates/bpf/src/compile`), one instruction per line as `code jt jf k`, for Docker's default
//! capabilities on Linux 6.8. Any change to the program the compiler emits for the builtin
//! profile must be deliberate: regenerate with `CONFINE_BLESS=1 cargo test -p confine-seccomp
//! --test golden` (refused under `CI=true`) and say why in the commit.

use confine_abi::{Arch, CapSet};
use confine_profile::{Host, KernelVersion, Source};
use std::path::PathBuf;

fn listing(arch: Arch) -> String {
    let host = Host {
        arch,
        caps: CapSet::docker_default(),
        kernel: KernelVersion {
            kernel: 6,
            major: 8,
        },
    };
    let c = confine_seccomp::compile(&Source::Builtin, &host, Default::default())
        .expect("the builtin profile compiles");
    c.program
        .iter()
        .map(|i| format!("{} {} {} {}\n", i.code, i.jt, i.jf, i.k))
        .collect()
}

fn check(arch: Arch, file: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(file);
    let got = listing(arch);
    if std::env::var_os("CONFINE_BLESS").is_some() && std::env::var_os("CI").is_none() {
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap();
    assert!(
        got == want,
        "{arch}: the compiled docker-default differs from {} ({} instructions now, {} in the golden file)",
        path.display(),
        got.lines().count(),
        want.lines().count()
    );
}

#[test]
fn docker_default_amd64_is_unchanged() {
    check(Arch::X86_64, "docker-default-amd64-6.8.txt");
}

#[test]
fn docker_default_arm64_is_unchanged() {
    check(Arch::Aarch64, "docker-default-arm64-6.8.txt");
}
