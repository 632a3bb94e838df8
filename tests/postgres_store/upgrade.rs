//! A schema written by the previous version is brought to the current one with
//! its rows intact. The old schema is made by taking a current one back to
//! version 2 (dropping what versions 3 to 5 added), which is what version 2
//! wrote.

use super::*;
use asyncop::{OperationSpec, PollOptions, Status};

#[test]
fn a_version_2_schema_is_upgraded_with_its_rows_intact() {
    let schema = fresh_schema("upgrade");
    let (done, queued) = {
        let q = direct(&schema);
        let done = q.submit(&OperationSpec::new("done", 100)).unwrap();
        let queued = q.submit(&OperationSpec::new("queued", 100)).unwrap();
        let lease = q
            .poll("host", &PollOptions::default())
            .unwrap()
            .pop()
            .unwrap();
        assert_eq!(lease.id, done);
        q.complete(lease.key()).unwrap();
        q.close();
        (done, queued)
    };
    sql()
        .batch_execute(&format!(
            "DROP FUNCTION {schema}.operation_count_insert() CASCADE; \
             DROP FUNCTION {schema}.operation_count_delete() CASCADE; \
             DROP FUNCTION {schema}.operation_count_move() CASCADE; \
             DROP FUNCTION {schema}.operation_count_fold(); \
             DROP TABLE {schema}.operation_count, {schema}.operation_count_change; \
             DROP FUNCTION {schema}.operation_token_insert() CASCADE; \
             DROP FUNCTION {schema}.operation_token_state() CASCADE; \
             DROP FUNCTION {schema}.operation_token_release(text); \
             ALTER TABLE {schema}.operation DROP COLUMN blocked; \
             CREATE INDEX operation_ready ON {schema}.operation (id) WHERE state = 0; \
             ALTER TABLE {schema}.operation DROP COLUMN progress, DROP COLUMN progress_text, \
             DROP COLUMN output; DROP TABLE {schema}.attempt; DROP TABLE {schema}.held_type; \
             UPDATE {schema}.schema_version SET version = 2"
        ))
        .unwrap();

    let q = direct(&schema);
    let d = q.retrieve(done).unwrap();
    assert_eq!(d.status, Status::Succeeded);
    assert_eq!((d.progress, d.progress_text, d.output), (None, None, None));
    let lease = q
        .poll("host", &PollOptions::default())
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(lease.id, queued);
    q.complete(lease.key()).unwrap();
    q.close();
    let version: i32 = sql()
        .query_one(&format!("SELECT version FROM {schema}.schema_version"), &[])
        .unwrap()
        .get(0);
    assert_eq!(version, 5);
}
