//! A transaction's BEGIN and COMMIT, each one round trip.

use super::super::pool::Failure;
use super::super::text_row;
use super::*;
use crate::operation::Operation;
use postgres::{Client, SimpleQueryMessage};
use std::collections::HashMap;

/// What `begin` read in the round trip of BEGIN.
pub(crate) struct Begun {
    /// The server's clock.
    pub(crate) clock: i64,
    /// The transaction's id (a write): what the store asks about if the reply
    /// to COMMIT is lost.
    pub(crate) txid: Option<i64>,
    /// The rows asked for, read and locked (`FOR UPDATE`).
    pub(crate) rows: HashMap<i64, Operation>,
}

/// Opens a transaction on `client` and reads, in the same round trip, the
/// server's clock, for a write the transaction id, and the rows `ids` (locked:
/// the transaction is about to decide on them).
pub(crate) fn begin(
    client: &mut Client,
    writes: bool,
    ids: &[i64],
) -> std::result::Result<Begun, Failure> {
    let mut sql = if writes {
        format!("BEGIN; SELECT {CLOCK_MS}, txid_current()")
    } else {
        format!("BEGIN READ ONLY; SELECT {CLOCK_MS}")
    };
    if !ids.is_empty() {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        let lock = if writes { " FOR UPDATE" } else { "" };
        sql.push_str(&format!(
            "; SELECT {COLUMNS} FROM operation WHERE id IN ({}) ORDER BY id{lock}",
            list.join(",")
        ));
    }
    let mut begun = Begun {
        clock: 0,
        txid: None,
        rows: HashMap::new(),
    };
    for message in client.simple_query(&sql).map_err(Failure::of)? {
        let SimpleQueryMessage::Row(row) = message else {
            continue;
        };
        if row.len() <= 2 {
            let number = |i| {
                row.try_get(i)
                    .ok()
                    .flatten()
                    .and_then(|v: &str| v.parse().ok())
            };
            begun.clock = number(0).unwrap_or(0);
            begun.txid = number(1);
        } else {
            let op = text_row::operation(&row)?;
            begun.rows.insert(op.id, op);
        }
    }
    Ok(begun)
}

/// Ends the transaction: COMMIT, preceded in the same round trip by the
/// wake-up `NOTIFY` when `notify` names a channel (delivered at commit).
pub(crate) fn commit(
    client: &mut Client,
    notify: Option<&str>,
) -> std::result::Result<(), postgres::Error> {
    match notify {
        // The channel is `asyncop_<schema>`, a checked identifier: safe as a literal.
        Some(channel) => client.batch_execute(&format!("NOTIFY \"{channel}\"; COMMIT")),
        None => client.batch_execute("COMMIT"),
    }
}

/// Ends the transaction without keeping anything; false if that failed, and
/// the connection must then not be used again (on a lost connection the
/// server rolls back by itself).
pub(crate) fn rollback(client: &mut Client) -> bool {
    client.batch_execute("ROLLBACK").is_ok()
}
