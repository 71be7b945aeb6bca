//! The policy as data: what the loader builds and the lowerings read.

/// Where a value sits in the input (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// What a filesystem rule allows on its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// `filesystem.readOnlyPaths`: read files, list directories.
    ReadOnly,
    /// `filesystem.writeOnlyPaths`: write, truncate, create and remove.
    WriteOnly,
    /// `filesystem.readWritePaths`: both.
    ReadWrite,
    /// `executable.allowedExecutables`: execute (and read, which loading needs).
    Execute,
    /// `executable.allowedLibraries`: read and map (execute) a library.
    Library,
    /// confine extension `deviceIoctl`: `ioctl(2)` on device files.
    DeviceIoctl,
    /// confine extension `refer`: link or rename files into or out of the path.
    Refer,
}

/// One path (an AppArmor glob) with what it allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathRule {
    /// The path as written (an AppArmor glob).
    pub path: String,
    /// What it allows.
    pub access: Access,
    /// Where it was written.
    pub span: Span,
}

/// A TCP port from the confine extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRule {
    /// 1..=65535; 0 in `tcp.bind` (an ephemeral port).
    pub port: u16,
    /// Where it was written.
    pub span: Span,
}

/// A Landlock scope (confine extension `scopes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// `signal`: no signals to processes outside the domain.
    Signal,
    /// `abstract-unix`: no connections to abstract unix sockets outside the domain.
    AbstractUnix,
}

impl Scope {
    /// The spelling in the schema.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Signal => "signal",
            Scope::AbstractUnix => "abstract-unix",
        }
    }
}

/// `spec.mode` of an SPO object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// Violations are denied (SPO's default).
    #[default]
    Enforce,
    /// Violations are logged but allowed (AppArmor only; Landlock cannot do this).
    Complain,
}

/// `network` of the abstract (absent booleans are `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Network {
    /// `allowRaw`.
    pub allow_raw: Option<bool>,
    /// `allowedProtocols.allowTcp`.
    pub allow_tcp: Option<bool>,
    /// `allowedProtocols.allowUdp`.
    pub allow_udp: Option<bool>,
}

/// confine's own extensions: `abstract.confine` (schema version 1).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Extensions {
    /// `version` (only 1 is known).
    pub version: u32,
    /// `tcp.bind`: ports the process may bind; `Some` (even empty) restricts binding.
    pub tcp_bind: Option<Vec<PortRule>>,
    /// `tcp.connect`: ports the process may connect to; `Some` (even empty) restricts
    /// connecting.
    pub tcp_connect: Option<Vec<PortRule>>,
    /// `scopes`.
    pub scopes: Vec<Scope>,
    /// `deviceIoctl` was present (device ioctls are then restricted to its paths).
    pub device_ioctl: bool,
    /// `refer` was present.
    pub refer: bool,
}

/// The whole policy.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Policy {
    /// The file name diagnostics and errors name.
    pub file: String,
    /// `metadata.name` of an SPO object, as written (None for a bare abstract); a renderer
    /// that names a profile after it must check it.
    pub name: Option<String>,
    /// `spec.mode` (Enforce when only the abstract was given).
    pub mode: Mode,
    /// `filesystem` was present: file access is restricted to the listed paths.
    pub filesystem: bool,
    /// `executable` was present: execution is restricted to the listed paths.
    pub executable: bool,
    /// Every path rule, filesystem, executable and extension ones, in input order.
    pub paths: Vec<PathRule>,
    /// `network`.
    pub network: Network,
    /// `capability.allowedCapabilities` (None when absent).
    pub capabilities: Option<Vec<String>>,
    /// `confine` (None when absent).
    pub extensions: Option<Extensions>,
}
