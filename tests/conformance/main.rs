//! The conformance suite: the behaviour tests of `operation-model.md` (user
//! actions, host rules, fencing, dependency tokens, back-off, poison, claims,
//! threads, processes, crash safety, limits), written once against `Queue` and
//! compiled once per store by `conformance!`. A case reaches its queue only through
//! `store()` (a `support::Store`) and the `Target` it makes, never through a file
//! path. Test names read `<store>::<case module>::<test>`, e.g.
//! `sqlite::user_actions::matrix::every_user_action_in_every_state_for_an_ordinary_type`.
//!
//! Adding a store is one line in the `conformance!` call below (plus its variant in
//! `tests/support/store.rs`). Tests about one store alone (bad files, fork, WAL
//! frames, a second SQLite connection) stay in their own binaries and say so.
//!
//! How the cases are found: `#[path = "cases"]` on the store's inline module makes
//! `tests/conformance/cases/` the directory of its `mod` declarations, so every
//! store module compiles the same files.

// Compiling the same case files once per store is the point of the suite.
#![allow(clippy::duplicate_mod)]

#[path = "../support/mod.rs"]
mod support;

macro_rules! conformance {
    ($($store:ident => $kind:expr),* $(,)?) => {
        $(
            #[path = "cases"]
            mod $store {
                /// The store these cases run against.
                pub(crate) fn store() -> crate::support::Store {
                    $kind
                }

                mod cleanup;
                #[cfg(unix)]
                mod crash_safety;
                mod host;
                mod limits;
                #[cfg(unix)]
                mod processes;
                mod records;
                mod threads;
                mod user_actions;
            }
        )*
    };
}

conformance! {
    sqlite => crate::support::Store::Sqlite,
    postgres => crate::support::Store::Postgres,
}
