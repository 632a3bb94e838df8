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

    /// One claim of up to `max` and the completion of what it got; returns how many
    /// (0: the queue is empty). With `max` 1 the completion is one call (W2); with
    /// more, one batch call (W5).
    pub(crate) fn drain_step(&self, host: &str, max: u32) -> Res<usize> {
        match self {
            Handle::Asyncop(q) => {
                let leases = q.poll(host, &PollOptions::default().max(max))?;
                if max == 1 {
                    for lease in &leases {
                        expect_succeeded(q.complete(lease.key())?)?;
                    }
                } else if !leases.is_empty() {
                    complete_batch(q, &leases)?;
                }
                Ok(leases.len())
            }
            Handle::Raw(db) => {
                let ids = db.claim(host, max)?;
                if !ids.is_empty() {
                    db.complete(&ids, host)?;
                }
                Ok(ids.len())
            }
        }
    }

    /// Drains until a claim finds nothing; returns how many this worker completed.
    pub(crate) fn drain(&self, host: &str, max: u32) -> Res<usize> {
        let mut done = 0;
        loop {
            match self.drain_step(host, max)? {
                0 => return Ok(done),
                n => done += n,
            }
        }
    }

    /// `PRAGMA journal_mode` and `synchronous` as this handle's connection has them.
    pub(crate) fn pragmas(&self) -> Res<(String, String)> {
        let read = |conn: &Connection| -> rusqlite::Result<(String, i64)> {
            Ok((
                conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
            ))
        };
        let (mode, sync) = match self {
            // The writer connection: the one whose commits were measured.
            Handle::Asyncop(q) => {
                asyncop::store::sqlite::testing::write(q, |conn| Ok(read(conn)?))?
            }
            Handle::Raw(db) => read(&db.conn)?,
        };
        let sync = match sync {
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

/// W5's batch outcome: every lease of one poll completed as Succeeded in one
/// call (one transaction, a savepoint per lease). The outer `?` is the batch
/// failing as a whole; each inner result must be Succeeded too.
pub(crate) fn complete_batch(queue: &Queue, leases: &[Lease]) -> Res<()> {
    let keys: Vec<LeaseKey> = leases.iter().map(Lease::key).collect();
    let outcomes = queue.complete_many(&keys)?;
    for outcome in outcomes {
        expect_succeeded(outcome?)?;
    }
    Ok(())
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
