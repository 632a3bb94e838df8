//! Serves the System Jobs page without the CLI; the browser tests use it.
//!
//! `cargo run -p asyncop-web --example serve -- TARGET [--bind ADDR] [--token T] [--read-only] [--demo]`
//!
//! `--demo` first seeds the queue and runs a worker thread beside the server:
//! type 100 runs until stopped (progress every 100 ms; a stop is noticed
//! within a second, a Cancel acknowledged 1.5 s later); type 200 completes at
//! once; a type-300 job is submitted every 300 ms and completed when claimed
//! (to show a held type being skipped); type 400 is never claimed.

use asyncop::{OperationSpec, Options, PollOptions, Progress, Queue, Status};
use asyncop_web::{ServeOptions, serve};
use std::time::Duration;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut options = ServeOptions {
        target: String::new(),
        bind: "127.0.0.1:8077".parse().expect("a literal address"),
        token: None,
        read_only: false,
    };
    let mut demo = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bind" => {
                options.bind = args
                    .next()
                    .and_then(|b| b.parse().ok())
                    .expect("--bind ADDR:PORT")
            }
            "--token" => options.token = args.next(),
            "--read-only" => options.read_only = true,
            "--demo" => demo = true,
            t => options.target = t.to_string(),
        }
    }
    if demo {
        let queue = Queue::open(&options.target, Options::default()).expect("open the queue");
        seed(&queue);
        let queue = std::sync::Arc::new(queue);
        std::thread::spawn(move || worker(&queue));
    }
    if let Err(e) = serve(options) {
        eprintln!("asyncop serve: {e}");
        std::process::exit(2);
    }
}

fn seed(queue: &Queue) {
    for i in 0..3 {
        queue
            .submit(&OperationSpec::new(format!("report-{i}"), 100))
            .expect("submit");
    }
    for i in 0..4 {
        queue
            .submit(&OperationSpec::new(format!("invoice-{i}"), 200))
            .expect("submit");
    }
    queue
        .submit(&OperationSpec::new("archive", 400))
        .expect("submit");
    let later = queue.now() + 3_600_000;
    queue
        .submit(&OperationSpec::new("nightly-export", 400).postpone_until(later))
        .expect("submit");
}

fn worker(queue: &std::sync::Arc<Queue>) {
    let mut last_tick = 0;
    loop {
        if queue.now() - last_tick >= 300 {
            last_tick = queue.now();
            let _ = queue.submit(&OperationSpec::new("tick", 300));
        }
        let leases = queue
            .poll(
                "demo-worker",
                &PollOptions {
                    max: 1,
                    wait: Some(Duration::from_millis(100)),
                    operation_types: Some(vec![100, 200, 300]),
                },
            )
            .unwrap_or_default();
        for lease in leases {
            let key = lease.key();
            if lease.operation_type != 100 {
                let _ = queue.complete(key);
                continue;
            }
            let queue = queue.clone();
            std::thread::spawn(move || run_long(&queue, key));
        }
    }
}

/// Type 100: runs until canceled or paused, reporting progress.
fn run_long(queue: &Queue, key: asyncop::LeaseKey) {
    for step in 0.. {
        std::thread::sleep(Duration::from_millis(100));
        let _ = queue.report_progress(
            key,
            &Progress {
                percent: step % 100,
                text: Some(format!("step {step}")),
                ..Default::default()
            },
        );
        if step % 10 != 9 {
            continue;
        }
        // Checks for a stop once a second, so a browser sees Canceling before Canceled.
        match queue.renew(key) {
            Ok(Status::Canceling) => {
                // A clean-up that takes a while: Canceling stays visible for 1.5 s.
                std::thread::sleep(Duration::from_millis(1500));
                let _ = queue.acknowledge_cancel(key);
                break;
            }
            Ok(Status::Pausing) => {
                let _ = queue.acknowledge_pause(key);
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
}
