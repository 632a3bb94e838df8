//! The storage interface (`Store`) over `SqliteStore`: each call delegates
//! to the store's own methods.

use super::{SqliteStore, SqliteTx, WriteKind};
use crate::error::Result;
use crate::store::{ChangeMark, Read, Store, Write};
use std::any::Any;
use std::time::Instant;

impl Store for SqliteStore {
    fn target(&self) -> &str {
        &self.target
    }

    fn is_closed(&self) -> bool {
        SqliteStore::is_closed(self)
    }

    fn close(&self) {
        SqliteStore::close(self);
    }

    fn abandon(&self) {
        SqliteStore::abandon(self);
    }

    fn write_dyn(&self, f: &mut (dyn FnMut(&dyn Write) -> Result<()> + Send)) -> Result<()> {
        self.write(|conn| f(&SqliteTx::new(conn)))
    }

    fn write_progress_dyn(
        &self,
        _ids: &[i64],
        durable: bool,
        f: &mut (dyn FnMut(&dyn Write) -> Result<()> + Send),
    ) -> Result<()> {
        self.write_as(WriteKind::Progress { durable }, |conn| {
            f(&SqliteTx::new(conn))
        })
    }

    fn read_dyn(&self, f: &mut dyn FnMut(&dyn Read) -> Result<()>) -> Result<()> {
        self.read(|conn| f(&SqliteTx::new(conn)))
    }

    fn change_mark(&self) -> Result<ChangeMark> {
        SqliteStore::change_mark(self)
    }

    fn wait_change(&self, mark: ChangeMark, deadline: Instant) -> Result<bool> {
        SqliteStore::wait_change(self, mark, deadline)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
