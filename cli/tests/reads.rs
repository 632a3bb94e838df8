//! `jobs`, `show`, `counts` and `watch` on real queues: the text, the JSON and
//! the exit codes.

mod support;

use asyncop::{Progress, Report};
use support::each_store;

#[test]
fn jobs_lists_the_grid_and_filters() {
    each_store("jobs", |t| {
        let a = t.submit("import/a", 100);
        let b = t.submit("import/b", 100);
        let c = t.submit("export/c", 200);
        let lease = t.claim(c, 200);
        t.q.fail(lease.key(), Report::error(7, "disk full"))
            .unwrap();
        let run = t.run("jobs", &[]);
        assert_eq!(run.code, 0, "{run:?}");
        for text in [
            "import/a",
            "import/b",
            "export/c",
            "Ready/WaitingForResources (0/0)",
            "Completed/Failed (3/31)",
            "disk full",
            "3 jobs",
        ] {
            assert!(run.stdout.contains(text), "{text}: {run:?}");
        }
        // ISO 8601 UTC times.
        assert!(
            run.stdout.contains("T") && run.stdout.contains("Z"),
            "{run:?}"
        );
        let run = t.run("jobs", &["--name", "import/", "--json"]);
        assert_eq!(run.code, 0, "{run:?}");
        let ids: Vec<i64> = run
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, vec![a, b]);
        let run = t.run("jobs", &["--state", "completed", "--json"]);
        let jobs = run.json();
        assert_eq!(jobs.as_array().unwrap().len(), 1);
        assert_eq!(jobs[0]["id"].as_i64(), Some(c));
        assert_eq!(jobs[0]["message"].as_str(), Some("disk full"));
        let run = t.run("jobs", &["--type", "100", "--limit", "1", "--json"]);
        assert_eq!(run.json().as_array().unwrap().len(), 1);
        let run = t.run("jobs", &["--type", "100", "--limit", "1"]);
        assert!(run.stdout.contains(&format!("--after {a}")), "{run:?}");
        let run = t.run("jobs", &["--after", &a.to_string(), "--json"]);
        assert_eq!(run.json().as_array().unwrap().len(), 2);
        // Bad input: usage (1), never a crash.
        let run = t.run("jobs", &["--state", "sleeping"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("unknown state"), "{run:?}");
        let run = t.run("jobs", &["--state", "ready", "--status", "failed"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("InvalidArgument"), "{run:?}");
    });
}

#[test]
fn show_prints_every_field_attempts_and_progress() {
    each_store("show", |t| {
        let id = t.submit("report", 100);
        let lease = t.claim(id, 100);
        t.q.report_progress(
            lease.key(),
            &Progress::new(40, Some("page 4 of 10")).durable(),
        )
        .unwrap();
        let run = t.run("show", &[&id.to_string()]);
        assert_eq!(run.code, 0, "{run:?}");
        for text in [
            "report",
            "Locked/InProgress (2/20)",
            "40% page 4 of 10",
            "host",
            "lease expires at",
            "no attempts",
        ] {
            assert!(run.stdout.contains(text), "{text}: {run:?}");
        }
        t.q.retry(lease.key(), Report::error(5, "try later"))
            .unwrap();
        let run = t.run("show", &[&id.to_string(), "--json"]);
        assert_eq!(run.code, 0, "{run:?}");
        let v = run.json();
        assert_eq!(v["operation"]["id"].as_i64(), Some(id));
        assert_eq!(v["operation"]["state"].as_str(), Some("Suspended"));
        let attempts = v["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0]["message"].as_str(), Some("try later"));
        let run = t.run("show", &[&id.to_string()]);
        assert!(
            run.stdout.contains("attempts (1)") && run.stdout.contains("try later"),
            "{run:?}"
        );
        let run = t.run("show", &["999"]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("NotFound"), "{run:?}");
        let run = t.run("show", &["0"]);
        assert_eq!(run.code, 1, "{run:?}");
    });
}

#[test]
fn counts_pivot_with_totals_and_held_types() {
    each_store("counts", |t| {
        t.submit("a", 100);
        t.submit("b", 100);
        let c = t.submit("c", 200);
        t.q.cancel(c).unwrap();
        t.q.hold_type(100).unwrap();
        let run = t.run("counts", &[]);
        assert_eq!(run.code, 0, "{run:?}");
        for text in [
            "type 100 (held)",
            "type 200",
            "Ready/WaitingForResources (0/0)",
            "Completed/Canceled (3/32)",
            "total",
            "type 100 held since",
        ] {
            assert!(run.stdout.contains(text), "{text}: {run:?}");
        }
        let v = t.run("counts", &["--json"]).json();
        let rows = v["rows"].as_array().unwrap();
        let ready = rows.iter().find(|r| r["operation_type"] == 100).unwrap();
        assert_eq!(ready["count"].as_i64(), Some(2));
        assert_eq!(ready["held"].as_bool(), Some(true));
        assert_eq!(v["held"][0]["operation_type"].as_i64(), Some(100));
    });
}

#[test]
fn a_missing_queue_file_is_not_found_and_not_created() {
    let path = std::env::temp_dir().join(format!("asyncop-cli-missing-{}.db", std::process::id()));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_asyncop"))
        .args(["counts", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no queue file"));
    assert!(!path.exists());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_asyncop"))
        .args(["jobs"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "usage");
}

#[test]
fn watch_prints_a_frame_per_change_in_a_pipe() {
    each_store("watch", |t| {
        t.submit("first", 100);
        let q = t.q.clone();
        let submitter = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(700));
            q.submit(&asyncop::OperationSpec::new("second", 100))
                .unwrap();
        });
        let started = std::time::Instant::now();
        let run = t.run("watch", &["--frames", "2", "--newest", "5"]);
        submitter.join().unwrap();
        assert_eq!(run.code, 0, "{run:?}");
        let frames: Vec<&str> = run.stdout.split("--- ").filter(|f| !f.is_empty()).collect();
        assert_eq!(frames.len(), 2, "{run:?}");
        assert!(
            frames[0].contains("1 jobs") && frames[0].contains("first"),
            "{run:?}"
        );
        assert!(
            frames[1].contains("2 jobs") && frames[1].contains("second"),
            "{run:?}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
    });
}
