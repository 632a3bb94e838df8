//! The `asyncop` command: see and steer the jobs of a queue file or a
//! PostgreSQL queue. `asyncop --help` lists the commands; README "Operating
//! asyncop" documents them and the exit codes.

mod actions;
mod args;
mod cleanup;
mod exit;
mod read;
mod time_arg;
mod watch;

use actions::Action;
use args::{Cli, Command};
use asyncop::{Filter, Options, Queue};
use clap::Parser;
use exit::{Exit, Failure, Outcome};
use std::path::Path;

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            }
            .code();
        }
    };
    match run(cli) {
        Ok(()) => Exit::Ok.code(),
        Err(failure) => {
            eprintln!("asyncop: {failure}");
            failure.exit.code()
        }
    }
}

/// Opens TARGET without creating it: a missing queue file is `NotFound`.
fn open(target: &str, schema: &str) -> Result<Queue, Failure> {
    let postgres = asyncop::store::postgres::is_postgres_target(target);
    if !postgres && !Path::new(target).exists() {
        return Err(Failure::new(
            Exit::NotFound,
            format!("no queue file at {target}"),
        ));
    }
    let mut options = Options::default();
    options.postgres.schema = schema.to_owned();
    Ok(Queue::open(target, options)?)
}

/// The target `serve` opens: a PostgreSQL target names `schema` itself (the
/// page opens the queue from the target alone), unless it already names one.
fn with_schema(target: &str, schema: &str) -> String {
    if !asyncop::store::postgres::is_postgres_target(target) || target.contains("schema=") {
        target.to_owned()
    } else if target.contains("://") {
        let joiner = if target.contains('?') { '&' } else { '?' };
        format!("{target}{joiner}schema={schema}")
    } else {
        format!("{target} schema={schema}")
    }
}

fn run(cli: Cli) -> Outcome {
    let schema = cli.schema.as_str();
    match cli.command {
        Command::Jobs {
            target,
            filter,
            limit,
            after,
            json,
        } => {
            let filter = Filter {
                limit: Some(limit),
                after_id: after,
                ..filter.to_filter()
            };
            read::jobs(&open(&target, schema)?, &filter, json)
        }
        Command::Show { target, id, json } => read::show(&open(&target, schema)?, id, json),
        Command::Counts { target, json } => read::counts(&open(&target, schema)?, json),
        Command::Cancel(a) => actions::act(&open(&a.target, schema)?, Action::Cancel, &a),
        Command::Pause(a) => actions::act(&open(&a.target, schema)?, Action::Pause, &a),
        Command::Resume(a) => actions::act(&open(&a.target, schema)?, Action::Resume, &a),
        Command::Delete(a) => actions::act(&open(&a.target, schema)?, Action::Delete, &a),
        Command::Postpone { action, until, by } => {
            let q = open(&action.target, schema)?;
            let until = match (until, by) {
                (Some(t), _) => time_arg::parse_iso(&t),
                (None, Some(d)) => time_arg::parse_duration(&d).map(|d| q.now().saturating_add(d)),
                (None, None) => Err("give --until or --by".to_owned()),
            }
            .map_err(|m| Failure::new(Exit::Usage, m))?;
            actions::act(&q, Action::Postpone(until), &action)
        }
        Command::Hold {
            target,
            operation_type,
        } => actions::hold(&open(&target, schema)?, operation_type, true),
        Command::Release {
            target,
            operation_type,
        } => actions::hold(&open(&target, schema)?, operation_type, false),
        Command::Purge { target } => cleanup::purge(&open(&target, schema)?),
        Command::Maintenance { target } => cleanup::maintenance(&open(&target, schema)?),
        Command::Watch {
            target,
            newest,
            frames,
        } => watch::watch(&open(&target, schema)?, newest, frames),
        Command::Serve {
            target,
            bind,
            token,
            read_only,
        } => asyncop_web::serve(asyncop_web::ServeOptions {
            target: with_schema(&target, schema),
            bind,
            token,
            read_only,
        })
        .map_err(|m| Failure::new(Exit::Store, m)),
    }
}
