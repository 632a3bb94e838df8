//! The actions on real queues: results, refusals with their HRESULT and
//! reason, the bulk confirmation, grouping of refusals, and exit codes.

mod support;

use asyncop::Report;
use support::each_store;

#[test]
fn single_actions_print_the_resulting_state_or_the_refusal() {
    each_store("single", |t| {
        let a = t.submit("a", 100);
        let id = a.to_string();
        // Pause of queued work is refused (Postpone holds it): 3, HRESULT, reason.
        let run = t.run("pause", &[&id]);
        assert_eq!(run.code, 3, "{run:?}");
        assert!(run.stdout.is_empty(), "{run:?}");
        assert!(
            run.stderr.contains(&format!(
                "{a}: refused: AsyncOperationInvalidStateChangeToSuspended (0x80044167)"
            )),
            "{run:?}"
        );
        assert!(run.stderr.contains("cannot be paused"), "{run:?}");
        let run = t.run("postpone", &[&id, "--by", "1h"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(
            run.stdout.trim(),
            format!("{a}: postpone → Suspended/Waiting (1/10)")
        );
        let run = t.run("resume", &[&id]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains("Ready/WaitingForResources (0/0)"),
            "{run:?}"
        );
        let run = t.run("postpone", &[&id, "--by", "10m"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("Suspended/Waiting (1/10)"), "{run:?}");
        let postponed = t.q.retrieve(a).unwrap().postpone_until.unwrap();
        let delta = postponed - t.q.now();
        assert!((590_000..=600_000).contains(&delta), "{delta}");
        let run = t.run("postpone", &[&id, "--until", "2099-01-02T03:04:05Z"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(
            t.q.retrieve(a).unwrap().postpone_until,
            Some(4_071_006_245_000)
        );
        // A time in the past: InvalidArgument → usage (1).
        let run = t.run("postpone", &[&id, "--until", "2000-01-01"]);
        assert_eq!(run.code, 1, "{run:?}");
        let run = t.run("postpone", &[&id, "--by", "soon"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("not a duration"), "{run:?}");
        // Delete of a job that is not Completed: refused (3) with its HRESULT.
        let run = t.run("delete", &[&id]);
        assert_eq!(run.code, 3, "{run:?}");
        assert!(
            run.stderr
                .contains("AsyncOperationCannotDeleteUnlessCompleted (0x8004416A)"),
            "{run:?}"
        );
        let run = t.run("cancel", &[&id]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("Completed/Canceled (3/32)"), "{run:?}");
        // Cancel again: InvalidStateChange with the states in words.
        let run = t.run("cancel", &[&id]);
        assert_eq!(run.code, 3, "{run:?}");
        assert!(
            run.stderr
                .contains("AsyncOperationInvalidStateChange (0x80044162)"),
            "{run:?}"
        );
        let run = t.run("delete", &[&id]);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(run.stdout.trim(), format!("{a}: deleted"));
        let run = t.run("cancel", &[&id]);
        assert_eq!(run.code, 2, "{run:?}");
        // A running job: Cancel asks its host (Canceling).
        let b = t.submit("b", 100);
        t.claim(b, 100);
        let run = t.run("cancel", &[&b.to_string()]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("Locked/Canceling (2/22)"), "{run:?}");
        // Neither ids nor filter, or both: usage.
        assert_eq!(t.run("cancel", &[]).code, 1);
        assert_eq!(t.run("cancel", &[&b.to_string(), "--type", "100"]).code, 1);
    });
}

#[test]
fn hold_and_release_print_the_type_state() {
    each_store("hold", |t| {
        let run = t.run("hold", &["100"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(run.stdout.trim(), "type 100: held");
        assert_eq!(t.q.held_types().unwrap().len(), 1);
        let run = t.run("release", &["100"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(run.stdout.trim(), "type 100: not held");
        assert!(t.q.held_types().unwrap().is_empty());
        let run = t.run("hold", &["0"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("InvalidArgument"), "{run:?}");
    });
}

#[test]
fn bulk_actions_confirm_and_group_refusals() {
    each_store("bulk", |t| {
        let done = t.submit("done", 100);
        let lease = t.claim(done, 100);
        t.q.fail(lease.key(), Report::error(1, "boom")).unwrap();
        let ready: Vec<i64> = (0..3).map(|i| t.submit(&format!("r{i}"), 100)).collect();
        let other = t.submit("other", 200);
        // In a pipe without --yes: refused, nothing done.
        let run = t.run("cancel", &["--type", "100", "--state", "ready"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("--yes"), "{run:?}");
        assert!(run.stderr.contains("cancel 3 jobs"), "{run:?}");
        let run = t.run_with_input("cancel", &["--type", "100"], "y\n");
        assert_eq!(run.code, 1, "a pipe is not a terminal: {run:?}");
        assert_eq!(t.q.retrieve(ready[0]).unwrap().state, asyncop::State::Ready);
        // --yes: the ready ones cancelled, the completed one refused, grouped.
        let run = t.run("cancel", &["--type", "100", "--yes"]);
        assert_eq!(run.code, 3, "{run:?}");
        assert!(
            run.stdout.contains("3 of 4 succeeded, 1 refused"),
            "{run:?}"
        );
        assert!(
            run.stderr.contains(&format!(
                "1 × AsyncOperationInvalidStateChange (0x80044162): ids {done}"
            )),
            "{run:?}"
        );
        for id in &ready {
            assert_eq!(t.q.retrieve(*id).unwrap().status, asyncop::Status::Canceled);
        }
        assert_eq!(t.q.retrieve(other).unwrap().state, asyncop::State::Ready);
        // Delete of every completed job of type 100: all succeed.
        let run = t.run("delete", &["--type", "100", "--state", "completed", "-y"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.contains("4 of 4 succeeded, 0 refused"),
            "{run:?}"
        );
        let run = t.run("delete", &["--type", "100", "-y"]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("no jobs match type 100"), "{run:?}");
        // Several ids: each result, the first failure's code.
        let run = t.run("cancel", &[&other.to_string(), "999"]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stdout.contains("1 of 2 succeeded, 1 refused"),
            "{run:?}"
        );
        assert!(run.stderr.contains("1 × NotFound: ids 999"), "{run:?}");
    });
}

#[test]
fn purge_and_maintenance_are_quiet_in_a_pipe() {
    each_store("purge", |t| {
        let a = t.submit("a", 100);
        t.q.cancel(a).unwrap();
        let run = t.run("purge", &[]);
        assert_eq!(run.code, 0, "{run:?}");
        // Canceled rows are kept for their retention: nothing is due yet.
        assert_eq!(
            run.stdout.trim(),
            "purged 0 completed jobs past their retention"
        );
        assert!(run.stderr.is_empty(), "no bar in a pipe: {run:?}");
        // With a 1 ms retention for Canceled jobs, the next purge deletes them.
        let short = t.reopen(|o| {
            o.retention_canceled = Some(asyncop::Retention::After(
                std::time::Duration::from_millis(1),
            ));
        });
        let b = t.submit("b", 100);
        short.cancel(b).unwrap();
        short.close();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let run = t.run("purge", &[]);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(
            run.stdout.trim(),
            "purged 2 completed jobs past their retention"
        );
        assert!(t.q.query(&asyncop::Filter::default()).unwrap().is_empty());
        let run = t.run("maintenance", &[]);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(
            run.stdout.trim(),
            "recovered 0 expired leases, poisoned 0, promoted 0 postponed jobs"
        );
        assert!(run.stderr.is_empty(), "{run:?}");
    });
}
