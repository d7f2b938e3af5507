//! Files the program writes: written to a temporary file in the same folder, then renamed
//! over the target, so an interrupted run never leaves a half-written file.

use super::Failure;
use chainrule::error::{Error, ErrorKind};
use std::io::Write;
use std::path::Path;

/// Writes `contents` to `path` atomically.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), Failure> {
    let fail = |e: std::io::Error| {
        Failure::from_error(
            &Error::new(ErrorKind::Io(format!("cannot write {}: {e}", path.display()))),
            "",
        )
    };
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(folder).map_err(fail)?;
    file.write_all(contents).map_err(fail)?;
    file.as_file().sync_all().map_err(fail)?;
    file.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
