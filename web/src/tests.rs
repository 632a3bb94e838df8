//! The server in process: safety checks, actions and their refusals, metrics.
//! Each runs on SQLite, and also on PostgreSQL when `ASYNCOP_TEST_POSTGRES` is set.

use crate::actions::{ActionRequest, run};
use crate::{AppState, ServeOptions, check_options, guard, live, metrics, pages};
use asyncop::{OperationSpec, Options, Queue};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use std::sync::Arc;
use tower::ServiceExt;

fn targets() -> Vec<(tempdir::Dir, String)> {
    let dir = tempdir::Dir::new();
    let file = dir.path.join("q.db").to_string_lossy().into_owned();
    let mut all = vec![(dir, file)];
    if let Ok(url) = std::env::var("ASYNCOP_TEST_POSTGRES") {
        all.push((tempdir::Dir::new(), url));
    }
    all
}

mod tempdir {
    /// A temporary folder removed on drop.
    pub struct Dir {
        pub path: std::path::PathBuf,
    }
    impl Dir {
        pub fn new() -> Dir {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let path = std::env::temp_dir().join(format!(
                "asyncop-web-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&path).expect("temp dir");
            Dir { path }
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn request(action: &str, ids: Vec<i64>) -> ActionRequest {
    ActionRequest {
        action: action.into(),
        ids,
        until: None,
        operation_type: None,
    }
}

#[test]
fn a_non_loopback_bind_needs_a_token() {
    let mut o = ServeOptions {
        target: "q.db".into(),
        bind: "0.0.0.0:8077".parse().unwrap(),
        token: None,
        read_only: false,
    };
    assert!(check_options(&o).unwrap_err().contains("without a token"));
    o.token = Some(" ".into());
    assert!(check_options(&o).is_err());
    o.token = Some("t".into());
    assert!(check_options(&o).is_ok());
    o.token = None;
    o.bind = "127.0.0.1:0".parse().unwrap();
    assert!(check_options(&o).is_ok());
}

#[test]
fn actions_go_through_the_checked_api_and_report_refusals() {
    for (_dir, target) in targets() {
        let q = Queue::open(&target, Options::default()).unwrap();
        let a = q.submit(&OperationSpec::new("web-a", 7101)).unwrap();
        let b = q.submit(&OperationSpec::new("web-b", 7101)).unwrap();

        let r = run(&q, &request("cancel", vec![a, b]));
        assert!(r.iter().all(|r| r.ok), "{target}");
        assert_eq!(r[0].now.as_deref(), Some("Completed/Canceled"));

        let r = run(&q, &request("pause", vec![a]));
        assert!(!r[0].ok);
        assert_eq!(
            r[0].code.as_deref(),
            Some("AsyncOperationInvalidStateChangeToSuspended")
        );
        assert_eq!(r[0].hresult.as_deref(), Some("0x80044167"));
        assert!(
            r[0].message
                .as_deref()
                .unwrap()
                .contains("Completed/Canceled")
        );

        let c = q.submit(&OperationSpec::new("web-c", 7101)).unwrap();
        let mut p = request("postpone", vec![c]);
        p.until = Some(serde_json::json!("2030-01-02T03:04"));
        let r = run(&q, &p);
        assert!(r[0].ok, "{r:?}");
        assert_eq!(r[0].now.as_deref(), Some("Suspended/Waiting"));
        assert_eq!(
            q.retrieve(c).unwrap().postpone_until,
            Some(1_893_553_440_000)
        );
        p.until = Some(serde_json::json!("soon"));
        assert_eq!(run(&q, &p)[0].code.as_deref(), Some("InvalidArgument"));

        let r = run(&q, &request("delete", vec![a, c]));
        assert_eq!((r[0].ok, r[1].ok), (true, false));
        assert_eq!(r[1].hresult.as_deref(), Some("0x8004416A"));
        assert!(
            run(&q, &request("resume", vec![i64::MAX]))[0]
                .message
                .as_deref()
                .unwrap()
                .contains("no asyncoperation")
        );

        let mut h = request("hold", vec![]);
        h.operation_type = Some(7102);
        assert!(run(&q, &h)[0].ok);
        assert!(
            q.held_types()
                .unwrap()
                .iter()
                .any(|t| t.operation_type == 7102)
        );
        h.action = "release".into();
        assert!(run(&q, &h)[0].ok);
        assert!(
            q.held_types()
                .unwrap()
                .iter()
                .all(|t| t.operation_type != 7102)
        );
        assert!(!run(&q, &request("explode", vec![a]))[0].ok);
        assert!(!run(&q, &request("cancel", vec![]))[0].ok);
    }
}

#[test]
fn metrics_are_prometheus_text() {
    for (_dir, target) in targets() {
        let q = Queue::open(&target, Options::default()).unwrap();
        q.submit(&OperationSpec::new("web-m", 7201)).unwrap();
        q.hold_type(7202).unwrap();
        let text = metrics::render(&q).unwrap();
        assert!(text.contains("# TYPE asyncop_operations gauge"));
        assert!(text.lines().any(|l| l.starts_with(
            r#"asyncop_operations{state="Ready",status="WaitingForResources",type="7201"} "#
        )));
        assert!(text.contains("asyncop_type_held{type=\"7202\"} 1"));
        // The library's counters follow the gauges (one submit through this handle).
        assert!(text.contains("# TYPE asyncop_claim_seconds histogram"));
        assert!(text.lines().any(|l| l == "asyncop_submitted_total 1"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
        q.release_type(7202).unwrap();
    }
}

async fn app(read_only: bool, token: Option<&str>) -> (tempdir::Dir, Arc<AppState>) {
    let dir = tempdir::Dir::new();
    let q = Arc::new(Queue::open(dir.path.join("q.db"), Options::default()).unwrap());
    q.submit(&OperationSpec::new("web-r", 7301)).unwrap();
    let state = Arc::new(AppState {
        changes: live::watch_counts(q.clone()),
        queue: q,
        token: token.map(str::to_string),
        csrf: guard::new_token().unwrap(),
        read_only,
    });
    (dir, state)
}

fn post(csrf: Option<&str>, origin: Option<&str>) -> Request<Body> {
    let mut r = Request::post("/api/actions")
        .header("host", "127.0.0.1:8077")
        .header("content-type", "application/json");
    if let Some(c) = csrf {
        r = r.header(guard::CSRF_HEADER, c);
    }
    if let Some(o) = origin {
        r = r.header("origin", o);
    }
    r.body(Body::from(r#"{"action":"cancel","ids":[1]}"#))
        .unwrap()
}

#[tokio::test]
async fn changes_need_the_csrf_token_a_same_origin_and_write_access() {
    let (_d, s) = app(false, None).await;
    let router = pages::router(s.clone());
    let status = |r: Request<Body>| {
        let router = router.clone();
        async move { router.oneshot(r).await.unwrap().status() }
    };
    assert_eq!(status(post(None, None)).await, StatusCode::FORBIDDEN);
    assert_eq!(
        status(post(Some("wrong"), None)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(post(Some(&s.csrf), Some("http://evil.example"))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(post(Some(&s.csrf), Some("http://127.0.0.1:8077"))).await,
        StatusCode::OK
    );
    assert_eq!(
        s.queue.retrieve(1).unwrap().status,
        asyncop::Status::Canceled
    );
    assert_eq!(
        status(Request::get("/api/actions").body(Body::empty()).unwrap()).await,
        StatusCode::METHOD_NOT_ALLOWED
    );

    let (_d, ro) = app(true, None).await;
    let r = pages::router(ro.clone())
        .oneshot(post(Some(&ro.csrf), None))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        ro.queue.retrieve(1).unwrap().status,
        asyncop::Status::WaitingForResources
    );
}

#[tokio::test]
async fn a_token_guards_every_route() {
    let (_d, s) = app(false, Some("s3cret")).await;
    let router = pages::router(s);
    let get = |uri: &str, auth: Option<&str>| {
        let mut r = Request::get(uri);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        router.clone().oneshot(r.body(Body::empty()).unwrap())
    };
    assert_eq!(
        get("/api/counts", None).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get("/metrics", Some("Bearer nope")).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get("/metrics", Some("Bearer s3cret"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let r = get("/?token=s3cret", None).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("HttpOnly; SameSite=Strict")
    );
}

#[test]
fn the_grid_filters_by_state_type_prefix_and_time_range_and_pages_by_id() {
    use crate::query::GridQuery;
    let clock = Arc::new(asyncop::ManualClock::new(1_796_428_800_000)); // 2026-12-05 00:00 UTC
    let dir = tempdir::Dir::new();
    let options = Options {
        clock: clock.clone(),
        ..Options::default()
    };
    let q = Queue::open(dir.path.join("q.db"), options).unwrap();
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            q.submit(&OperationSpec::new(format!("grid-{i}"), 7400 + i % 2))
                .unwrap(),
        );
        clock.advance(3_600_000);
    }
    q.submit(&OperationSpec::new("other", 7400)).unwrap();
    q.cancel(ids[0]).unwrap();
    let read = |g: GridQuery| q_ids(&g.read(&q).unwrap().jobs);
    fn q_ids(jobs: &[asyncop::Operation]) -> Vec<i64> {
        jobs.iter().map(|j| j.id).collect()
    }
    let g = |f: &dyn Fn(&mut GridQuery)| {
        let mut g = GridQuery::default();
        f(&mut g);
        g
    };
    assert_eq!(read(g(&|g| g.name = Some("grid-".into()))), ids);
    assert_eq!(
        read(g(&|g| g.operation_type = Some("7401".into()))),
        vec![ids[1], ids[3], ids[5]]
    );
    assert_eq!(
        read(g(&|g| g.state = Some("Completed".into()))),
        vec![ids[0]]
    );
    assert_eq!(read(g(&|g| g.status = Some("32".into()))), vec![ids[0]]);
    // Created 01:00 <= t < 03:00 UTC.
    let range = |g: &mut GridQuery| {
        g.from = Some("2026-12-05T01:00".into());
        g.to = Some("2026-12-05T03:00".into());
    };
    assert_eq!(read(g(&range)), vec![ids[1], ids[2]]);
    let page = g(&|g| {
        g.name = Some("grid-".into());
        g.limit = Some("4".into());
    })
    .read(&q)
    .unwrap();
    assert_eq!(
        (q_ids(&page.jobs), page.next_after),
        (ids[..4].to_vec(), Some(ids[3]))
    );
    let next = g(&|g| {
        g.name = Some("grid-".into());
        g.limit = Some("4".into());
        g.after = Some(ids[3].to_string());
    })
    .read(&q)
    .unwrap();
    assert_eq!(
        (q_ids(&next.jobs), next.next_after),
        (ids[4..].to_vec(), None)
    );
    assert!(g(&|g| g.state = Some("Nope".into())).read(&q).is_err());
    assert!(
        g(&|g| {
            g.state = Some("Ready".into());
            g.status = Some("Canceled".into());
        })
        .read(&q)
        .unwrap_err()
        .contains("does not belong")
    );
}

#[tokio::test]
async fn the_json_api_speaks_the_library_shapes() {
    let (_d, s) = app(false, None).await;
    let router = pages::router(s);
    let get = |uri: &'static str| {
        let router = router.clone();
        async move {
            let r = router
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = r.status();
            let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
            (
                status,
                serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            )
        }
    };
    let (status, v) = get("/api/jobs?type=7301").await;
    assert_eq!(status, StatusCode::OK);
    let job: asyncop::Operation = serde_json::from_value(v["jobs"][0].clone()).unwrap();
    assert_eq!(
        (job.id, job.state, job.name.as_str()),
        (1, asyncop::State::Ready, "web-r")
    );
    let (status, v) = get("/api/jobs/1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["job"]["status"], "WaitingForResources");
    assert_eq!(v["attempts"], serde_json::json!([]));
    let (status, v) = get("/api/jobs/99").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("no asyncoperation with Id 99")
    );
    assert_eq!(get("/api/jobs?state=Nope").await.0, StatusCode::BAD_REQUEST);
    let (_, v) = get("/api/counts").await;
    let rows: Vec<asyncop::CountRow> = serde_json::from_value(v["counts"].clone()).unwrap();
    assert_eq!(rows.iter().map(|r| r.count).sum::<i64>(), 1);
}
