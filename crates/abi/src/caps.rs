//! Linux capabilities: names, sets, and Docker's defaults.
//!
//! # References
//! * capabilities(7); numbers from include/uapi/linux/capability.h (CAP_CHECKPOINT_RESTORE = 40
//!   is the last one as of Linux 6.17)
//! * Docker's default set: moby `oci/caps/defaults.go` (14 capabilities)

use std::fmt;

/// Capability names indexed by number (0..=40), without the `CAP_` prefix.
const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// The highest capability number confine knows by name.
pub const LAST_KNOWN: u8 = 40;

/// An error about a capability name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CapError {
    /// The name is not a capability.
    #[error("unknown capability `{0}` (expected a name such as CAP_NET_ADMIN or net_admin)")]
    Unknown(String),
}

/// This module's result: an error is a [`CapError`].
pub type Result<T, E = CapError> = std::result::Result<T, E>;

/// One capability, by number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Capability(pub u8);

impl Capability {
    /// Parse `CAP_SYS_ADMIN`, `sys_admin`, `Cap_Sys_Admin`, …
    pub fn parse(s: &str) -> Result<Capability, CapError> {
        let up = s.trim().to_ascii_uppercase();
        let bare = up.strip_prefix("CAP_").unwrap_or(&up);
        NAMES
            .iter()
            .position(|n| *n == bare)
            .map(|i| Capability(i as u8))
            .ok_or_else(|| CapError::Unknown(s.to_string()))
    }

    /// Every capability confine knows by name, in number order (CAP_CHOWN … the last).
    pub fn known() -> impl Iterator<Item = Capability> {
        (0..=LAST_KNOWN).map(Capability)
    }

    /// The name without the `CAP_` prefix, as `docker run --cap-add` documents it
    /// (`SYS_ADMIN`), or `None` for a number without a name.
    pub fn short_name(self) -> Option<&'static str> {
        NAMES.get(self.0 as usize).copied()
    }

    /// The canonical name, `CAP_SYS_ADMIN`, or `cap_N` for a number without a name.
    pub fn name(self) -> String {
        match NAMES.get(self.0 as usize) {
            Some(n) => format!("CAP_{n}"),
            None => format!("cap_{}", self.0),
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A set of capabilities as the kernel's 64-bit mask (`CapBnd:` in /proc/PID/status).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CapSet(pub u64);

impl CapSet {
    /// The empty set.
    pub const EMPTY: CapSet = CapSet(0);

    /// Docker's 14 default capabilities (mask 0x00000000a80425fb).
    pub fn docker_default() -> CapSet {
        // chown 0, dac_override 1, fowner 3, fsetid 4, kill 5, setgid 6, setuid 7, setpcap 8,
        // net_bind_service 10, net_raw 13, sys_chroot 18, mknod 27, audit_write 29, setfcap 31
        CapSet(DOCKER_DEFAULT)
    }

    /// Every capability confine knows by name (0..=40).
    pub fn all_known() -> CapSet {
        CapSet((1u64 << (LAST_KNOWN + 1)) - 1)
    }

    /// Parse a comma- or space-separated list of names.
    pub fn parse_list(s: &str) -> Result<CapSet, CapError> {
        s.split([',', ' '])
            .filter(|p| !p.is_empty())
            .map(Capability::parse)
            .collect()
    }

    /// Whether `cap` is in the set.
    pub fn contains(self, cap: Capability) -> bool {
        cap.0 < 64 && self.0 & (1 << cap.0) != 0
    }

    /// Add `cap`.
    pub fn insert(&mut self, cap: Capability) {
        if cap.0 < 64 {
            self.0 |= 1 << cap.0;
        }
    }

    /// Remove `cap`.
    pub fn remove(&mut self, cap: Capability) {
        if cap.0 < 64 {
            self.0 &= !(1 << cap.0);
        }
    }

    /// The capabilities in the set, lowest first.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        (0..64u8)
            .filter(move |i| self.0 & (1 << i) != 0)
            .map(Capability)
    }

    /// The number of capabilities in the set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl FromIterator<Capability> for CapSet {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        let mut s = CapSet::EMPTY;
        for c in iter {
            s.insert(c);
        }
        s
    }
}

impl fmt::Display for CapSet {
    /// A comma-separated list of names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.iter().map(|c| c.name()).collect();
        f.write_str(&names.join(","))
    }
}

/// Docker's 14 default capabilities as a mask (moby `oci/caps/defaults.go`).
const DOCKER_DEFAULT: u64 = 0x0000_0000_a804_25fb;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_default_mask_is_the_14_names() {
        let by_name: CapSet = [
            "CHOWN",
            "DAC_OVERRIDE",
            "FSETID",
            "FOWNER",
            "MKNOD",
            "NET_RAW",
            "SETGID",
            "SETUID",
            "SETFCAP",
            "SETPCAP",
            "NET_BIND_SERVICE",
            "SYS_CHROOT",
            "KILL",
            "AUDIT_WRITE",
        ]
        .iter()
        .map(|n| Capability::parse(n).unwrap())
        .collect();
        assert_eq!(by_name, CapSet::docker_default());
        assert_eq!(by_name.len(), 14);
    }

    #[test]
    fn docker_default_mask() {
        let d = CapSet::docker_default();
        assert_eq!(d.0, 0xa80425fb);
        assert_eq!(d.len(), 14);
    }

    #[test]
    fn names_parse_in_any_case() {
        assert_eq!(Capability::parse("cap_sys_admin").unwrap(), Capability(21));
        assert_eq!(Capability::parse("SYS_ADMIN").unwrap(), Capability(21));
        assert_eq!(
            Capability::parse("Checkpoint_Restore").unwrap(),
            Capability(40)
        );
        assert!(Capability::parse("CAP_FLY").is_err());
        assert_eq!(Capability(63).name(), "cap_63");
    }

    #[test]
    fn all_known_has_41() {
        assert_eq!(CapSet::all_known().len(), 41);
        assert_eq!(CapSet::parse_list("chown, kill").unwrap().len(), 2);
    }
}
