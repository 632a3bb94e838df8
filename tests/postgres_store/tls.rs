//! TLS as libpq's `sslmode` describes it, against the test cluster, which
//! scripts/test starts with TLS on (`PG_TLS=1 scripts/pg-cluster`) and whose
//! throwaway CA certificate it names in `ASYNCOP_TEST_POSTGRES_CA`.

use super::*;
use asyncop::{Error, OperationSpec};

fn ca() -> String {
    std::env::var("ASYNCOP_TEST_POSTGRES_CA").unwrap_or_else(|_| {
        panic!(
            "ASYNCOP_TEST_POSTGRES_CA is not set: run the tests through scripts/test, or start \
             the cluster with PG_TLS=1 scripts/pg-cluster start DIR and export DIR/tls/ca.crt"
        )
    })
}

/// Whether the server sees the connections of `application` encrypted: (all, any).
fn encrypted(application: &str) -> (bool, bool) {
    let row = sql()
        .query_one(
            "SELECT coalesce(bool_and(s.ssl), false), coalesce(bool_or(s.ssl), false) \
             FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = $1",
            &[&application],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

fn target(schema: &str, application: &str, extra: &str) -> String {
    format!(
        "{}?schema={schema}&application_name={application}{extra}",
        url()
    )
}

#[test]
fn verify_full_with_the_ca_connects_encrypted() {
    let schema = fresh_schema("tls_verify");
    let app = format!("tls_verify_{}", std::process::id());
    let extra = format!("&sslmode=verify-full&sslrootcert={}", ca());
    let q = Queue::open(target(&schema, &app, &extra), Options::default()).unwrap();
    let id = q.submit(&OperationSpec::new("over-tls", 100)).unwrap();
    assert_eq!(q.retrieve(id).unwrap().id, id);
    assert_eq!(encrypted(&app), (true, true));
}

#[test]
fn verify_full_without_the_ca_refuses_the_server() {
    let schema = fresh_schema("tls_unknown");
    let e = Queue::open(
        target(&schema, "tls_unknown", "&sslmode=verify-full"),
        Options::default(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Io(_)), "{e:?}");
    assert!(e.to_string().contains("certificate"), "{e}");
}

#[test]
fn require_and_prefer_encrypt_without_checking() {
    for mode in ["require", "prefer"] {
        let schema = fresh_schema("tls_require");
        let app = format!("tls_{mode}_{}", std::process::id());
        let q = Queue::open(
            target(&schema, &app, &format!("&sslmode={mode}")),
            Options::default(),
        )
        .unwrap();
        q.submit(&OperationSpec::new("encrypted", 100)).unwrap();
        assert_eq!(encrypted(&app), (true, true), "{mode}");
    }
}

#[test]
fn disable_stays_plain_and_a_bad_mode_is_refused() {
    let schema = fresh_schema("tls_off");
    let app = format!("tls_off_{}", std::process::id());
    let q = Queue::open(
        target(&schema, &app, "&sslmode=disable"),
        Options::default(),
    )
    .unwrap();
    q.submit(&OperationSpec::new("plain", 100)).unwrap();
    assert_eq!(encrypted(&app), (false, false));
    let e = Queue::open(
        target(&schema, &app, "&sslmode=sometimes"),
        Options::default(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}");
    let e = Queue::open(
        target(
            &schema,
            &app,
            "&sslmode=verify-full&sslrootcert=/no/such/file.pem",
        ),
        Options::default(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}");
}
