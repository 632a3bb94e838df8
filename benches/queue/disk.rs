//! fsync-4k: the disk's own limit for a queue that syncs every commit, measured
//! in the same run and the same directory as the queue files: 4 KiB written in
//! place (always the same block of an already allocated, synced file) and
//! `fdatasync`ed, `n` times. A FULL commit in WAL mode is at least one such
//! write and sync (more pages, the same one sync), so a queue's FULL ops/s can
//! be read as a fraction of this rate.

use super::*;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

const BLOCK: usize = 4096;

/// `n` rounds of `pwrite` of 4 KiB at offset 0 and `fdatasync`; rounds per second.
pub(crate) fn run_fsync(path: &Path, n: usize) -> Res<Run> {
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    let mut block = vec![0u8; BLOCK];
    // Allocated and synced first (metadata included), so every timed round
    // rewrites data in place and `fdatasync` has no metadata to flush.
    file.write_all_at(&block, 0)?;
    file.sync_all()?;
    let started = Instant::now();
    for i in 0..n {
        block[..8].copy_from_slice(&(i as u64).to_le_bytes());
        file.write_all_at(&block, 0)?;
        // SAFETY: fdatasync takes any open descriptor; `file` lives on.
        if unsafe { libc::fdatasync(file.as_raw_fd()) } != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
    }
    let elapsed = started.elapsed();
    drop(file);
    fs::remove_file(path)?;
    Ok(Run {
        value: rate(n, elapsed),
        journal_mode: "-".to_owned(),
        synchronous: "-".to_owned(),
    })
}
