//! raw-sql: the minimal queue, the physical limit asyncop is measured against.

use super::*;

pub(crate) const RAW_SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS jobs (
        id INTEGER PRIMARY KEY, state INTEGER NOT NULL, owner TEXT, payload BLOB, created INTEGER);
    CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (id) WHERE state = 0;";
/// raw-sql states: 0 ready, 1 claimed, 2 done.
pub(crate) const RAW_DONE: i64 = 2;

/// raw-sql `BEGIN IMMEDIATE`s that hit the 5 s busy timeout and were tried
/// again: in this process, plus what the children reported.
pub(crate) static BUSY_TIMEOUTS: AtomicU64 = AtomicU64::new(0);

pub(crate) struct RawDb {
    pub(crate) conn: Connection,
}

impl RawDb {
    pub(crate) fn open(path: &Path, dur: Dur, create: bool) -> Res<RawDb> {
        let conn = Connection::open(path)?;
        // asyncop's own busy handler (short jittered sleeps, within the same 5 s
        // that asyncop waits by default), not SQLite's default one (sleeps of up to
        // 100 ms): both sides of W3/W4 wait for the write lock the same way.
        asyncop::store::sqlite::testing::install_busy_handler(&conn, BUSY_TIMEOUT)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!("raw-sql: journal_mode is {mode}, not wal").into());
        }
        conn.pragma_update(None, "synchronous", dur.name())?;
        if create {
            conn.execute_batch(RAW_SCHEMA)?;
        }
        Ok(RawDb { conn })
    }

    /// `BEGIN IMMEDIATE`, waiting as long as it takes (up to `LOCK_GIVE_UP`). If
    /// one connection still starves past the busy timeout under contention (W3,
    /// W4 at FULL), a worker of a real minimal queue would try again rather than
    /// die: so does this one, and each such timeout is logged and counted
    /// (`BUSY_TIMEOUTS`).
    pub(crate) fn begin(&self) -> Res<()> {
        let started = Instant::now();
        loop {
            match self.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([]) {
                Ok(_) => return Ok(()),
                Err(e)
                    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                        && started.elapsed() < LOCK_GIVE_UP =>
                {
                    BUSY_TIMEOUTS.fetch_add(1, Ordering::Relaxed);
                    eprintln!(
                        "raw-sql (pid {}): no write lock within the busy timeout ({:.1} s so far); trying again",
                        std::process::id(),
                        started.elapsed().as_secs_f64()
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// `BEGIN IMMEDIATE; f; COMMIT`, all through cached statements.
    pub(crate) fn in_tx<T>(&self, f: impl FnOnce(&Connection) -> Res<T>) -> Res<T> {
        self.begin()?;
        match f(&self.conn) {
            Ok(value) => {
                self.conn.prepare_cached("COMMIT")?.execute([])?;
                Ok(value)
            }
            Err(e) => {
                // Best effort: the error being returned is the one that matters.
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    pub(crate) fn insert(conn: &Connection, payload: &[u8]) -> Res<()> {
        conn.prepare_cached("INSERT INTO jobs (state, payload, created) VALUES (0, ?1, ?2)")?
            .execute(params![payload, now_ms()?])?;
        Ok(())
    }

    pub(crate) fn submit(&self, payload: &[u8]) -> Res<()> {
        self.in_tx(|conn| RawDb::insert(conn, payload))
    }

    pub(crate) fn submit_many(&self, n: usize, payload: &[u8]) -> Res<()> {
        self.in_tx(|conn| (0..n).try_for_each(|_| RawDb::insert(conn, payload)))
    }

    /// Claims up to `max` ready jobs, oldest first; returns their ids.
    ///
    /// The fastest statements SQLite allows, each a cached statement with its
    /// limit written as a literal (a bound `LIMIT` is a value the planner used:
    /// SQLite re-prepares the statement after every rebind):
    /// * one job: `id = (subquery)`, one step down the partial index, no
    ///   ephemeral table (what `id IN (subquery)` builds and frees per call);
    /// * a batch: the range of the ready index up to the `max`-th ready id, again
    ///   without an `IN` list (all ready ids when fewer than `max` are ready).
    pub(crate) fn claim(&self, owner: &str, max: u32) -> Res<Vec<i64>> {
        self.in_tx(|conn| {
            let mut stmt = conn.prepare_cached(&claim_sql(max))?;
            // Every row must be read: the UPDATE must run to its end before COMMIT.
            // The payload is fetched, as a worker would, and dropped.
            let rows = stmt.query_map(params![owner], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            let mut ids = Vec::new();
            for row in rows {
                ids.push(row?.0);
            }
            Ok(ids)
        })
    }

    /// Completes `ids` (claimed by `owner`) in one transaction; each must change one row.
    pub(crate) fn complete(&self, ids: &[i64], owner: &str) -> Res<()> {
        self.in_tx(|conn| {
            let mut stmt = conn.prepare_cached(
                "UPDATE jobs SET state = 2 WHERE id = ?1 AND state = 1 AND owner = ?2",
            )?;
            for &id in ids {
                if stmt.execute(params![id, owner])? != 1 {
                    return Err(format!("raw-sql: job {id} was not claimed by {owner}").into());
                }
            }
            Ok(())
        })
    }
}

/// The raw-SQL claim of up to `max` ready jobs (see [`RawDb::claim`]).
pub(crate) fn claim_sql(max: u32) -> String {
    if max <= 1 {
        "UPDATE jobs SET state = 1, owner = ?1 WHERE id = \
         (SELECT id FROM jobs WHERE state = 0 ORDER BY id LIMIT 1) RETURNING id, payload"
            .to_owned()
    } else {
        let skip = max - 1;
        format!(
            "UPDATE jobs SET state = 1, owner = ?1 WHERE state = 0 AND id <= coalesce(\
             (SELECT id FROM jobs WHERE state = 0 ORDER BY id LIMIT 1 OFFSET {skip}), \
             9223372036854775807) RETURNING id, payload"
        )
    }
}
