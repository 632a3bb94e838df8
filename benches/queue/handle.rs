//! One handle over either implementation, and the exactly-once check of every drain.

use super::*;

// One handle over either implementation

pub(crate) fn payload() -> Vec<u8> {
    vec![7u8; PAYLOAD_LEN]
}

pub(crate) fn spec(data: Vec<u8>) -> OperationSpec {
    OperationSpec::new("bench", OPERATION_TYPE).data(data)
}

/// Rows of a queue file, per state.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Tally {
    pub(crate) total: i64,
    pub(crate) ready: i64,
    pub(crate) done: i64,
    /// asyncop rows claimed more than once (fencing token past 1); always 0 for raw-sql.
    pub(crate) reclaimed: i64,
}

pub(crate) enum Handle {
    Asyncop(Queue),
    Raw(RawDb),
}

impl Handle {
    pub(crate) fn open(imp: Impl, path: &Path, dur: Dur) -> Res<Handle> {
        Ok(match imp {
            Impl::Asyncop => Handle::Asyncop(Queue::open(
                path,
                Options {
                    sqlite: asyncop::SqliteOptions {
                        durability: dur.asyncop(),
                        ..asyncop::SqliteOptions::default()
                    },
                    ..Default::default()
                },
            )?),
            Impl::Raw => Handle::Raw(RawDb::open(path, dur, true)?),
            Impl::Disk => return Err("the disk cell has no queue handle".into()),
        })
    }

    /// What a worker thread needs to get its own handle: a clone of the shared
    /// `Queue` for asyncop (the API is meant to be shared), nothing for raw-sql
    /// (each worker opens its own connection).
    pub(crate) fn worker_seed(&self) -> Option<Queue> {
        match self {
            Handle::Asyncop(q) => Some(q.clone()),
            Handle::Raw(_) => None,
        }
    }

    pub(crate) fn from_seed(seed: Option<Queue>, path: &Path, dur: Dur) -> Res<Handle> {
        Ok(match seed {
            Some(q) => Handle::Asyncop(q),
            None => Handle::Raw(RawDb::open(path, dur, false)?),
        })
    }

    pub(crate) fn submit(&self, spec: &OperationSpec) -> Res<()> {
        match self {
            Handle::Asyncop(q) => {
                q.submit(spec)?;
            }
            Handle::Raw(db) => db.submit(&spec.data)?,
        }
        Ok(())
    }

    /// `n` operations in one transaction (not timed).
    pub(crate) fn prefill(&self, n: usize) -> Res<()> {
        match self {
            Handle::Asyncop(q) => {
                q.submit_many(&vec![spec(payload()); n])?;
            }
            Handle::Raw(db) => db.submit_many(n, &payload())?,
        }
        Ok(())
    }

    /// Drains until a claim finds nothing, one commit per step: each step
    /// completes what the previous claim got and claims the next `max` in one
    /// transaction (asyncop's `complete_and_poll`; raw-sql the same two
    /// statements in one `BEGIN IMMEDIATE … COMMIT`, its fair counterpart).
    /// With `max` 1 a job costs one commit (W2, W3, W4); with more, one commit
    /// per batch (W5). Returns how many this worker completed.
    pub(crate) fn drain(&self, host: &str, max: u32) -> Res<usize> {
        let mut done = 0;
        match self {
            Handle::Asyncop(q) => {
                let options = PollOptions::default().max(max);
                let mut leases = q.poll(host, &options)?;
                while !leases.is_empty() {
                    let keys: Vec<_> = leases.iter().map(|l| l.key()).collect();
                    let (results, next) = q.complete_and_poll(&keys, host, &options)?;
                    if results.len() != keys.len() {
                        return Err(format!(
                            "complete_and_poll: {} results for {} leases",
                            results.len(),
                            keys.len()
                        )
                        .into());
                    }
                    for result in results {
                        expect_succeeded(result?)?;
                    }
                    done += keys.len();
                    leases = next;
                }
            }
            Handle::Raw(db) => {
                let mut ids = db.claim(host, max)?;
                while !ids.is_empty() {
                    let next = db.complete_and_claim(&ids, host, max)?;
                    done += ids.len();
                    ids = next;
                }
            }
        }
        Ok(done)
    }

    /// `PRAGMA journal_mode` and `synchronous` as this handle's connection has them.
    pub(crate) fn pragmas(&self) -> Res<(String, String)> {
        let read = |conn: &Connection| -> rusqlite::Result<(String, i64)> {
            Ok((
                conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
            ))
        };
        // asyncop at FULL commits at NORMAL and fdatasyncs the WAL itself after
        // the commit (src/store/sqlite/wal_sync.rs): its write counts a synced
        // commit (the sync may be another process's that covered it).
        let mut own_sync = false;
        let (mode, sync) = match self {
            // The writer connection: the one whose commits were measured.
            Handle::Asyncop(q) => {
                use asyncop::store::sqlite::testing;
                let before = testing::writer_stats(q)?.synced_commits;
                let pragmas = testing::write(q, |conn| Ok(read(conn)?))?;
                own_sync = testing::writer_stats(q)?.synced_commits > before;
                pragmas
            }
            Handle::Raw(db) => read(&db.conn)?,
        };
        let sync = match sync {
            1 if own_sync => "NORMAL+fdatasync".to_owned(),
            0 => "OFF".to_owned(),
            1 => "NORMAL".to_owned(),
            2 => "FULL".to_owned(),
            3 => "EXTRA".to_owned(),
            n => format!("{n}?"),
        };
        Ok((mode.to_lowercase(), sync))
    }

    pub(crate) fn tally(&self) -> Res<Tally> {
        let mut t = Tally::default();
        match self {
            Handle::Asyncop(q) => {
                for row in q.counts()? {
                    t.total += row.count;
                    match row.status {
                        Status::WaitingForResources => t.ready += row.count,
                        Status::Succeeded => t.done += row.count,
                        _ => {}
                    }
                }
                t.reclaimed = asyncop::store::sqlite::testing::read(q, |conn| {
                    Ok(conn.query_row(
                        "SELECT count(*) FROM operation WHERE lock_token > 1",
                        [],
                        |r| r.get(0),
                    )?)
                })?;
            }
            Handle::Raw(db) => {
                let mut stmt = db
                    .conn
                    .prepare("SELECT state, count(*) FROM jobs GROUP BY state")?;
                let rows =
                    stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
                for row in rows {
                    let (state, count) = row?;
                    t.total += count;
                    match state {
                        0 => t.ready += count,
                        RAW_DONE => t.done += count,
                        _ => {}
                    }
                }
            }
        }
        Ok(t)
    }

    pub(crate) fn close(self) {
        match self {
            Handle::Asyncop(q) => q.close(),
            Handle::Raw(db) => drop(db),
        }
    }
}

pub(crate) fn expect_succeeded(status: Status) -> Res<()> {
    if status == Status::Succeeded {
        Ok(())
    } else {
        Err(format!("complete returned {status:?}, not Succeeded").into())
    }
}

/// After a drain of `n` operations that the workers report as `completed`:
/// exactly `n` rows more than `before`, all done, nothing ready or in between,
/// nothing claimed twice. A complete succeeds once per row at most, so `n`
/// successful completes and `n` more done rows mean each was done exactly once.
pub(crate) fn check_drained(before: Tally, after: Tally, n: usize, completed: usize) -> Res<()> {
    let n = i64::try_from(n)?;
    let completed = i64::try_from(completed)?;
    if after.total != before.total + n
        || after.done != before.done + n
        || after.done != after.total
        || after.ready != 0
        || after.reclaimed != 0
        || completed != n
    {
        return Err(format!(
            "lost or repeated work: {n} operations drained, workers completed {completed}; \
             rows before {before:?}, after {after:?}"
        )
        .into());
    }
    Ok(())
}
