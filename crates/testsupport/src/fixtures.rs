//! The upstream files the tests read, copied into this crate (see `fixtures/SOURCE.md`): their
//! paths, for the tests that hand a path to confine or to a loader, and their bytes, for the
//! tests that parse them in memory.

use std::path::{Path, PathBuf};

/// The directory holding the fixtures (`crates/testsupport/fixtures`).
pub fn dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"))
}

/// The path of the fixture `name`, relative to the fixtures directory, e.g.
/// `path("seccomp/docker-default.json")`. Panics if there is no such file, so that a typo
/// fails where it is made rather than as a confusing error of the program under test.
pub fn path(name: &str) -> PathBuf {
    let p = dir().join(name);
    assert!(p.is_file(), "no fixture {name} at {}", p.display());
    p
}

/// Docker's default seccomp profile, moby/profiles `seccomp/v0.2.3` (Docker Engine 29.4.3+).
pub const DOCKER_DEFAULT: &[u8] = include_bytes!("../fixtures/seccomp/docker-default.json");

/// The default seccomp profile Docker 28.2 to 29.4.1 shipped (moby's last in-tree copy,
/// 2025-05-28).
pub const DOCKER_DEFAULT_2025_05: &[u8] =
    include_bytes!("../fixtures/seccomp/docker-default-2025-05.json");

/// Podman's and CRI-O's default seccomp profile (containers/common `pkg/seccomp/seccomp.json`).
pub const PODMAN_DEFAULT: &[u8] = include_bytes!("../fixtures/seccomp/podman-default.json");

/// docker-default rendered by Docker's AppArmor template (moby/profiles `apparmor/v0.2.1`
/// golden file: name `default`, no `/etc/apparmor.d` files).
pub const APPARMOR_DOCKER_DEFAULT_GOLDEN: &str =
    include_str!("../fixtures/apparmor/docker-default.golden");

/// The AppArmor feature set of Debian's 6.1 kernel, for `apparmor_parser -M` offline compiles.
pub const APPARMOR_KERNEL_6_1_FEATURES: &[u8] =
    include_bytes!("../fixtures/apparmor/kernel-6.1-debian.features");

/// The path of a seccomp fixture by file name, e.g. `seccomp("podman-default.json")`.
pub fn seccomp(name: &str) -> PathBuf {
    path(&format!("seccomp/{name}"))
}

/// The path of an AppArmor fixture by file name, e.g. `apparmor("docker-default.golden")`.
pub fn apparmor(name: &str) -> PathBuf {
    path(&format!("apparmor/{name}"))
}

/// The path of the AppArmor features file of Debian's 6.1 kernel.
pub fn kernel_6_1_features() -> PathBuf {
    apparmor("kernel-6.1-debian.features")
}

/// SPO's example `AppArmorProfile` (kubernetes-sigs/security-profiles-operator `examples/`).
pub const SPO_EXAMPLE_APPARMORPROFILE: &[u8] =
    include_bytes!("../fixtures/spo/example-apparmorprofile.yaml");

/// SPO's `AppArmorProfile` CustomResourceDefinition (`deploy/base-crds/crds/`).
pub const SPO_APPARMORPROFILE_CRD: &[u8] =
    include_bytes!("../fixtures/spo/apparmorprofile-crd.yaml");

/// The path of an SPO fixture by file name, e.g. `spo("example-apparmorprofile.yaml")`.
pub fn spo(name: &str) -> PathBuf {
    path(&format!("spo/{name}"))
}
