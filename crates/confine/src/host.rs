//! Turning the host flags (--arch, --kernel, --caps, --cap-add, --cap-drop) into a [`Host`].

use anyhow::{bail, Context};
use confine_abi::{Arch, CapSet};
use confine_cli::HostArgs;
use confine_profile::{caps, Host, KernelVersion};

/// Parse `X.Y` (a patch level or suffix after it is ignored, as Docker reads `uname -r`).
pub fn parse_kernel(s: &str) -> anyhow::Result<KernelVersion> {
    let ok = s
        .split('.')
        .take(2)
        .filter(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
        .count()
        == 2;
    match KernelVersion::parse_release(s) {
        Some(v) if ok => Ok(v),
        _ => bail!("invalid --kernel `{s}`: expected major.minor, e.g. 6.8"),
    }
}

/// The host described by the flags, defaulting to this machine.
pub fn from_args(a: &HostArgs) -> anyhow::Result<Host> {
    let mut host = Host::detect();
    if let Some(arch) = &a.arch {
        host.arch = Arch::parse(arch).context("--arch")?;
    }
    if let Some(k) = &a.kernel {
        host.kernel = parse_kernel(k)?;
    } else if host.kernel.kernel == 0 {
        bail!("cannot read the running kernel's version from /proc/sys/kernel/osrelease; give --kernel X.Y");
    }
    let all = CapSet::all_known();
    let base = caps::parse_base(&a.caps, all).context("--caps")?;
    host.caps = caps::tweak(base, &a.cap_add, &a.cap_drop, all).context("--cap-add/--cap-drop")?;
    Ok(host)
}
