//! Private files: the secrets and keys the server writes are readable by their owner only,
//! and never left half-written.

use std::path::Path;

/// Writes `contents` to `path` atomically (a private temporary file, then a rename), so a
/// crash never leaves a half-written file behind.
pub fn replace_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::remove_file(&tmp).ok();
    write_private(&tmp, contents)
        .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .map_err(|err| anyhow::anyhow!("cannot replace {}: {err}", path.display()))
}

/// Creates `path` (it must not exist) readable by its owner only, with `contents`.
pub fn write_private(path: &Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_ref())
}
