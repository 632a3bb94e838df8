//! wal-pages: how many pages each call writes to the WAL, asyncop's submit,
//! claim and complete against the same three steps of raw-sql (the statements
//! of `raw.rs`, so the fair limit is counted). At `synchronous=NORMAL` a commit
//! costs about one `write` per page, so this ratio is most of the gap between
//! the two. (`examples/wal_frames.rs` is the stand-alone version of this count.)
//!
//! Method: `wal_autocheckpoint = 0`, so the WAL only grows; `2n` operations are
//! queued first (one transaction), then each step runs `n` times (one
//! transaction each), and the growth of the `-wal` file is divided by the frame
//! size (page + 24-byte header).

use super::*;

fn wal_len(db: &Path) -> Res<u64> {
    Ok(fs::metadata(beside_raw(db, "-wal"))?.len())
}

/// `<path><suffix>`, e.g. the `-wal` file of a database.
fn beside_raw(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Pages per call of submit, claim and complete, `n` calls each.
pub(crate) fn run_wal_pages(imp: Impl, dur: Dur, path: &Path, n: usize) -> Res<Run> {
    let h = Handle::open(imp, path, dur)?;
    let page: i64 = match &h {
        Handle::Asyncop(q) => asyncop::store::sqlite::testing::write(q, |c| {
            c.execute_batch("PRAGMA wal_autocheckpoint = 0")?;
            Ok(c.query_row("PRAGMA page_size", [], |r| r.get(0))?)
        })?,
        Handle::Raw(db) => {
            db.conn.execute_batch("PRAGMA wal_autocheckpoint = 0")?;
            db.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?
        }
    };
    let frame = (u64::try_from(page)? + 24) as f64;
    h.prefill(2 * n)?;
    let spec = spec(payload());
    let host = "bench-0";
    let mut per_call = [0.0; 3];
    let mut measure = |slot: usize, step: &mut dyn FnMut() -> Res<()>| -> Res<()> {
        let before = wal_len(path)?;
        for _ in 0..n {
            step()?;
        }
        per_call[slot] = (wal_len(path)? - before) as f64 / frame / n as f64;
        Ok(())
    };
    measure(0, &mut || h.submit(&spec))?;
    match &h {
        Handle::Asyncop(q) => {
            let mut leases = Vec::with_capacity(n);
            measure(1, &mut || {
                let got = q.poll(host, &PollOptions::default())?;
                if got.len() != 1 {
                    return Err(format!("claimed {} operations, expected 1", got.len()).into());
                }
                leases.extend(got);
                Ok(())
            })?;
            let mut it = leases.iter();
            measure(2, &mut || {
                let lease = it.next().ok_or("fewer leases than completes")?;
                expect_succeeded(q.complete(lease.key())?)
            })?;
        }
        Handle::Raw(db) => {
            let mut ids = Vec::with_capacity(n);
            measure(1, &mut || {
                let got = db.claim(host, 1)?;
                if got.len() != 1 {
                    return Err(format!("claimed {} jobs, expected 1", got.len()).into());
                }
                ids.extend(got);
                Ok(())
            })?;
            let mut it = ids.iter();
            measure(2, &mut || {
                let id = *it.next().ok_or("fewer claims than completes")?;
                db.complete(&[id], host)
            })?;
        }
    }
    finish(h, Value::Pages(per_call))
}
