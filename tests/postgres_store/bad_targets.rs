//! Targets that cannot work: each a clear code and message, nothing created or changed.

use super::*;
use asyncop::Error;

fn schema_exists(schema: &str) -> bool {
    sql()
        .query_one(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
            &[&schema],
        )
        .unwrap()
        .get::<_, i64>(0)
        == 1
}

#[test]
fn a_url_that_does_not_parse_is_invalid_argument() {
    for bad in [
        "postgres://u@host:notaport/db",
        "postgresql://u@[::1/db",
        "host=h port=seventy",
    ] {
        let e = Queue::open(bad, Options::default()).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{bad}: {e:?}");
    }
    // The message names what is wrong, not only that something is.
    let e = Queue::open("postgres://u@host:notaport/db", Options::default()).unwrap_err();
    assert!(e.to_string().contains("port"), "{e}");
    let e = Queue::open(
        format!("{}?schema=Not-An-Identifier", url()),
        Options::default(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}");
    let e = Queue::open(format!("{}?pool_size=0", url()), Options::default()).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}");
}

#[test]
fn a_server_that_is_down_is_io_and_the_password_is_not_shown() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = format!("postgres://someone:s3cret-pw@127.0.0.1:{port}/db");
    let e = Queue::open(&target, Options::default()).unwrap_err();
    assert!(matches!(e, Error::Io(_)), "{e:?}");
    let text = e.to_string();
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");
}

#[test]
fn a_wrong_password_is_io_and_creates_nothing() {
    // scripts/pg-cluster makes this one role give a password (scram-sha-256).
    sql()
        .batch_execute(
            "DO $$ BEGIN CREATE ROLE asyncop_password_test LOGIN PASSWORD 'right'; \
             EXCEPTION WHEN duplicate_object THEN NULL; END $$; \
             GRANT CREATE ON DATABASE asyncop TO asyncop_password_test",
        )
        .unwrap();
    let addr = server_addr();
    let schema = fresh_schema("password");
    let wrong = format!("postgres://asyncop_password_test:wrong-pw@{addr}/asyncop?schema={schema}");
    let e = Queue::open(&wrong, Options::default()).unwrap_err();
    assert!(matches!(e, Error::Io(_)), "{e:?}");
    assert!(e.to_string().contains("password"), "{e}");
    assert!(!e.to_string().contains("wrong-pw"), "{e}");
    assert!(!schema_exists(&schema));
    // The right one works, so the refusal was the password's.
    let right = wrong.replace("wrong-pw", "right");
    Queue::open(&right, Options::default()).unwrap();
    assert!(schema_exists(&schema));
}

#[test]
fn a_database_that_does_not_exist_is_io() {
    let addr = server_addr();
    let e = Queue::open(
        format!("postgres://postgres@{addr}/no_such_db"),
        Options::default(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Io(_)), "{e:?}");
    assert!(e.to_string().contains("no_such_db"), "{e}");
}

#[test]
fn a_newer_schema_is_corrupt_and_left_unchanged() {
    let schema = fresh_schema("newer");
    drop(direct(&schema));
    let mut c = sql();
    c.batch_execute(&format!("UPDATE {schema}.schema_version SET version = 999"))
        .unwrap();
    let tables = |c: &mut postgres::Client| -> i64 {
        c.query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
            &[&schema],
        )
        .unwrap()
        .get(0)
    };
    let before = tables(&mut c);
    let e = Queue::open(format!("{}?schema={schema}", url()), Options::default()).unwrap_err();
    assert!(matches!(e, Error::Corrupt(_)), "{e:?}");
    assert!(e.to_string().contains("999"), "{e}");
    let version: i32 = c
        .query_one(&format!("SELECT version FROM {schema}.schema_version"), &[])
        .unwrap()
        .get(0);
    assert_eq!(version, 999);
    assert_eq!(tables(&mut c), before);
}
