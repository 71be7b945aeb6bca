//! What the fuzz targets share: the checks of the BPF layer against each other
//! ([`bpf`]) and the structure-aware generator of Docker/OCI seccomp profiles with the
//! program-against-policy check ([`profile`]).

pub mod bpf;
pub mod profile;

/// Every diagnostic names a line and column that exist in `text` (or one past its end).
pub fn assert_located(diags: &[confine_profile::Diagnostic], text: &[u8]) {
    let valid = match std::str::from_utf8(text) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&text[..e.valid_up_to()]).unwrap(),
    };
    let lines = valid.split('\n').count() as u32;
    for d in diags {
        assert!(d.line >= 1 && d.column >= 1, "unlocated: {d}");
        assert!(d.line <= lines, "line {} of {lines}: {d}", d.line);
        let line = valid.split('\n').nth(d.line as usize - 1).unwrap_or("");
        let chars = line.chars().count() as u32;
        assert!(d.column <= chars + 1, "column {} of {chars}: {d}", d.column);
        assert!(!d.message.is_empty(), "no message: {d:?}");
    }
}
