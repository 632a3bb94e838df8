//! A query by name prefix reads a range of the name index (§11, our addition):
//! the index is built in the "C" collation (byte order, whatever the database's
//! collation), so the store's `name COLLATE "C" >= p AND name COLLATE "C" < p_end`
//! and its exact `name COLLATE "C" = n` are index searches, never a LIKE scan.

use super::*;
use asyncop::{Filter, OperationSpec};

#[test]
fn name_prefix_and_exact_name_search_the_name_index() {
    let schema = fresh_schema("name_index");
    let q = direct(&schema);
    for i in 0..5 {
        q.submit(&OperationSpec::new(format!("report-{i}"), 100))
            .unwrap();
    }
    let mut c = sql();
    c.batch_execute(&format!(
        "SET search_path TO \"{schema}\"; \
         INSERT INTO operation (name, operation_type, state, status, data, created_on, modified_on) \
         SELECT 'other-' || g, 100, 3, 30, '', 1, 1 FROM generate_series(1, 20000) g; \
         ANALYZE operation"
    ))
    .unwrap();
    let def: String = c
        .query_one(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'operation_name'",
            &[&schema],
        )
        .unwrap()
        .get(0);
    assert!(def.contains("COLLATE \"C\""), "{def}");
    let plan = |c: &mut postgres::Client, sql: &str| -> String {
        c.query(&format!("EXPLAIN {sql}"), &[])
            .unwrap()
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for sql in [
        "SELECT id FROM operation WHERE true AND name COLLATE \"C\" >= 'report-' \
         AND name COLLATE \"C\" < 'report.' ORDER BY id",
        "SELECT id FROM operation WHERE true AND name COLLATE \"C\" = 'report-3' ORDER BY id",
    ] {
        let p = plan(&mut c, sql);
        assert!(p.contains("operation_name"), "{sql}\n{p}");
        assert!(!p.contains("Seq Scan"), "{sql}\n{p}");
    }
    // And the store's own query finds exactly those rows.
    let found = q
        .query(&Filter {
            name_prefix: Some("report-".into()),
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(found.len(), 5);
    q.close();
}
