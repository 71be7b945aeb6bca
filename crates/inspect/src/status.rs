//! `/proc/PID/status`, the lines that describe confinement.

/// The `Seccomp:` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeccompMode {
    /// 0
    Disabled,
    /// 1
    Strict,
    /// 2
    Filter,
    /// Another value.
    Unknown(u32),
}

impl SeccompMode {
    /// The name used in reports.
    pub fn name(self) -> String {
        match self {
            SeccompMode::Disabled => "disabled".into(),
            SeccompMode::Strict => "strict".into(),
            SeccompMode::Filter => "filter".into(),
            SeccompMode::Unknown(n) => format!("unknown ({n})"),
        }
    }
}

/// The parsed lines; `None` where the kernel does not print the line (older kernels lack
/// `Seccomp_filters` or `NoNewPrivs`) or the value is malformed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// `Name:` (the comm), with the kernel's escapes as printed.
    pub name: Option<String>,
    /// `State:`, the letter (`R`, `S`, `Z`, …).
    pub state: Option<char>,
    /// `PPid:`
    pub ppid: Option<u32>,
    /// `TracerPid:`
    pub tracer_pid: Option<u32>,
    /// `Uid:` real, effective, saved, filesystem.
    pub uid: Option<[u32; 4]>,
    /// `Gid:` real, effective, saved, filesystem.
    pub gid: Option<[u32; 4]>,
    /// `Groups:`
    pub groups: Option<Vec<u32>>,
    /// `CapInh:`
    pub cap_inh: Option<u64>,
    /// `CapPrm:`
    pub cap_prm: Option<u64>,
    /// `CapEff:`
    pub cap_eff: Option<u64>,
    /// `CapBnd:`
    pub cap_bnd: Option<u64>,
    /// `CapAmb:`
    pub cap_amb: Option<u64>,
    /// `NoNewPrivs:`
    pub no_new_privs: Option<bool>,
    /// `Seccomp:`
    pub seccomp: Option<SeccompMode>,
    /// `Seccomp_filters:`
    pub seccomp_filters: Option<u32>,
    /// `Kthread:` (printed by recent kernels): a kernel thread.
    pub kthread: Option<bool>,
}

fn ids(v: &str) -> Option<[u32; 4]> {
    let n: Vec<u32> = v
        .split_whitespace()
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    n.try_into().ok()
}

impl Status {
    /// The process has exited and its parent has not reaped it yet (`State: Z`): its
    /// executable, command line and most namespaces are gone.
    pub fn is_zombie(&self) -> bool {
        self.state == Some('Z')
    }

    /// `State:` in words, as fs/proc/array.c names the letters.
    pub fn state_words(&self) -> Option<&'static str> {
        Some(match self.state? {
            'R' => "running",
            'S' => "sleeping",
            'D' => "disk sleep",
            'T' => "stopped",
            't' => "tracing stop",
            'X' => "dead",
            'Z' => "zombie",
            'P' => "parked",
            'I' => "idle",
            _ => "unknown",
        })
    }

    /// Parse the file's text.
    pub fn parse(text: &str) -> Status {
        let mut s = Status::default();
        for line in text.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let v = v.trim();
            let hex = || u64::from_str_radix(v, 16).ok();
            match k {
                "Name" => s.name = Some(v.to_string()),
                "State" => s.state = v.chars().next(),
                "PPid" => s.ppid = v.parse().ok(),
                "TracerPid" => s.tracer_pid = v.parse().ok(),
                "Uid" => s.uid = ids(v),
                "Gid" => s.gid = ids(v),
                "Groups" => {
                    s.groups = v
                        .split_whitespace()
                        .map(|x| x.parse().ok())
                        .collect::<Option<_>>()
                }
                "CapInh" => s.cap_inh = hex(),
                "CapPrm" => s.cap_prm = hex(),
                "CapEff" => s.cap_eff = hex(),
                "CapBnd" => s.cap_bnd = hex(),
                "CapAmb" => s.cap_amb = hex(),
                "NoNewPrivs" => {
                    s.no_new_privs = match v {
                        "0" => Some(false),
                        "1" => Some(true),
                        _ => None,
                    }
                }
                "Seccomp" => {
                    s.seccomp = v.parse::<u32>().ok().map(|n| match n {
                        0 => SeccompMode::Disabled,
                        1 => SeccompMode::Strict,
                        2 => SeccompMode::Filter,
                        n => SeccompMode::Unknown(n),
                    })
                }
                "Seccomp_filters" => s.seccomp_filters = v.parse().ok(),
                "Kthread" => {
                    s.kthread = match v {
                        "0" => Some(false),
                        "1" => Some(true),
                        _ => None,
                    }
                }
                _ => {}
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // the seed's redis-server, as its terminal showed it (a runtime from before the
    // CVE-2022-24769 fix, hence the inheritable set)
    const SEED: &str = "Name:\tredis-server\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4711\nPid:\t4711\nPPid:\t4690\nTracerPid:\t0\nUid:\t999\t999\t999\t999\nGid:\t1000\t1000\t1000\t1000\nGroups:\t1000 \nCapInh:\t00000000a80425fb\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t2\nSeccomp_filters:\t1\n";

    #[test]
    fn seed_snapshot() {
        let s = Status::parse(SEED);
        assert_eq!(s.name.as_deref(), Some("redis-server"));
        assert_eq!(s.uid, Some([999; 4]));
        assert_eq!(s.groups, Some(vec![1000]));
        assert_eq!(s.cap_inh, Some(0xa80425fb));
        assert_eq!(s.cap_eff, Some(0));
        assert_eq!(s.no_new_privs, Some(false));
        assert_eq!(s.seccomp, Some(SeccompMode::Filter));
        assert_eq!(s.seccomp_filters, Some(1));
    }

    #[test]
    fn old_kernels_lack_lines_and_nothing_is_invented() {
        let s = Status::parse("Name:\tx\nUid:\t0\t0\t0\t0\nSeccomp:\t0\n");
        assert_eq!(s.no_new_privs, None);
        assert_eq!(s.seccomp_filters, None);
        assert_eq!(s.cap_bnd, None);
        assert_eq!(s.seccomp, Some(SeccompMode::Disabled));
        assert_eq!(Status::parse("Uid:\t1 2\n").uid, None);
    }

    #[test]
    fn this_process() {
        let s = Status::parse(&std::fs::read_to_string("/proc/self/status").unwrap());
        assert!(s.uid.is_some() && s.cap_bnd.is_some() && s.seccomp.is_some());
    }
}
