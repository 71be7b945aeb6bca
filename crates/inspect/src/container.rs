//! Which container a process belongs to, from its cgroup paths (`/proc/PID/cgroup`), and for
//! the calling process also from the marker files runtimes leave (`/.dockerenv`,
//! `/run/.containerenv`) and the `container` environment variable.

/// A container found for a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    /// docker, containerd, cri-o, podman, lxc, systemd-nspawn, kubepods.
    pub runtime: &'static str,
    /// The container id or name as the path carries it.
    pub id: String,
    /// Where it was found: `cgroup` or a marker.
    pub source: String,
}

fn hex64(s: &str) -> Option<&str> {
    let h = s.get(..64)?;
    h.bytes().all(|c| c.is_ascii_hexdigit()).then_some(h)
}

fn after<'a>(seg: &'a str, prefix: &str) -> Option<&'a str> {
    seg.strip_prefix(prefix)
}

/// Look at one cgroup path (the part after `hierarchy:controllers:`).
pub fn from_cgroup_path(path: &str) -> Option<Container> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let kube = segs.iter().any(|s| s.starts_with("kubepods"));
    let found = |runtime, id: &str| {
        Some(Container {
            runtime,
            id: id.to_string(),
            source: "cgroup".into(),
        })
    };
    for (i, seg) in segs.iter().enumerate().rev() {
        let seg = seg.strip_suffix(".scope").unwrap_or(seg);
        if let Some(id) = after(seg, "docker-").and_then(hex64) {
            return found("docker", id);
        }
        if let Some(id) = after(seg, "cri-containerd-").and_then(hex64) {
            return found("containerd", id);
        }
        if let Some(id) = after(seg, "crio-").and_then(hex64) {
            return found("cri-o", id);
        }
        if let Some(id) = after(seg, "libpod-").and_then(hex64) {
            return found("podman", id);
        }
        if let Some(name) = after(seg, "lxc.payload.") {
            return found("lxc", name);
        }
        if let Some(name) = after(seg, "systemd-nspawn@").and_then(|s| s.strip_suffix(".service")) {
            return found("systemd-nspawn", name);
        }
        if let Some(name) = after(seg, "machine-") {
            if segs.first() == Some(&"machine.slice") {
                return found("systemd-nspawn", &name.replace("\\x2d", "-"));
            }
        }
        if i > 0 {
            let parent = segs[i - 1];
            if let Some(id) = hex64(seg) {
                match parent {
                    "docker" => return found("docker", id),
                    "libpod_parent" => return found("podman", id),
                    _ if kube => return found("kubepods", id),
                    _ => {}
                }
            }
            if parent == "lxc" || parent == "lxc.payload" {
                return found("lxc", seg);
            }
        }
    }
    None
}

/// Look at the whole `/proc/PID/cgroup` text.
pub fn from_cgroup_file(text: &str) -> Option<Container> {
    text.lines()
        .filter_map(|l| l.splitn(3, ':').nth(2))
        .find_map(from_cgroup_path)
}

/// Markers the calling process can see: `/.dockerenv` (Docker), `/run/.containerenv`
/// (Podman), `container=` in the environment (systemd's convention: lxc, nspawn, podman).
pub fn self_markers(root: &std::path::Path) -> Vec<String> {
    let mut m = Vec::new();
    if root.join(".dockerenv").exists() {
        m.push("/.dockerenv (Docker)".to_string());
    }
    if root.join("run/.containerenv").exists() {
        m.push("/run/.containerenv (Podman)".to_string());
    }
    if let Ok(v) = std::env::var("container") {
        if !v.is_empty() {
            m.push(format!("container={v} in the environment"));
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f1c2b9d8e7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e";

    #[test]
    fn runtimes_by_path() {
        let cases = [
            (format!("/docker/{ID}"), "docker"),
            (format!("/system.slice/docker-{ID}.scope"), "docker"),
            (
                format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/cri-containerd-{ID}.scope"),
                "containerd",
            ),
            (format!("/kubepods/besteffort/pod1234/{ID}"), "kubepods"),
            (format!("/machine.slice/libpod-{ID}.scope/container"), "podman"),
            (format!("/libpod_parent/{ID}"), "podman"),
            (format!("/kubepods.slice/kubepods-pod1.slice/crio-{ID}.scope"), "cri-o"),
        ];
        for (path, rt) in cases {
            let c = from_cgroup_path(&path).unwrap_or_else(|| panic!("{path}"));
            assert_eq!((c.runtime, c.id.as_str()), (rt, ID), "{path}");
        }
        assert_eq!(
            from_cgroup_path("/lxc.payload.web/init.scope").unwrap().id,
            "web"
        );
        assert_eq!(from_cgroup_path("/lxc/web").unwrap().runtime, "lxc");
        let n = from_cgroup_path("/machine.slice/systemd-nspawn@deb.service/payload").unwrap();
        assert_eq!((n.runtime, n.id.as_str()), ("systemd-nspawn", "deb"));
        assert_eq!(
            from_cgroup_path("/user.slice/user-1000.slice/session-2.scope"),
            None
        );
        assert_eq!(from_cgroup_path("/"), None);
    }

    #[test]
    fn cgroup_files_v1_and_v2() {
        let v2 = format!("0::/system.slice/docker-{ID}.scope\n");
        assert_eq!(from_cgroup_file(&v2).unwrap().runtime, "docker");
        let v1 = format!("12:pids:/docker/{ID}\n1:name=systemd:/docker/{ID}\n");
        assert_eq!(from_cgroup_file(&v1).unwrap().id, ID);
        assert_eq!(from_cgroup_file("9:name=systemd:/\n0::/\n"), None);
    }
}
