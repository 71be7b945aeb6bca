//! Writing results: standard output or a file, and a closed pipe treated as success.

use std::io::Write;
use std::path::Path;

/// Write `text` to `path`, or to standard output when `path` is `None`.
pub fn emit(text: &str, path: Option<&Path>) -> anyhow::Result<()> {
    match path {
        Some(p) => std::fs::write(p, text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(())
        }
    }
}

/// Whether an error is a write to a closed pipe (`confine … | head`), which is not a failure.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
