//! The user actions (`cancel`, `pause`, `resume`, `postpone`, `delete`) on ids
//! or, in bulk, on every job a filter matches (after a confirmation), and
//! `hold`/`release` of a type. Each job's result is printed; refusals are
//! grouped by reason at the end.

use crate::args::ActionArgs;
use crate::exit::{Exit, Failure, Outcome, describe, label};
use crate::read::pair;
use asyncop::{Error, Filter, Queue};
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};

/// Which action.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// Cancel.
    Cancel,
    /// Pause.
    Pause,
    /// Resume.
    Resume,
    /// Postpone until this time (UTC ms).
    Postpone(i64),
    /// Delete.
    Delete,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Cancel => "cancel",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Postpone(_) => "postpone",
            Action::Delete => "delete",
        }
    }

    fn run(self, q: &Queue, id: i64) -> asyncop::Result<()> {
        match self {
            Action::Cancel => q.cancel(id),
            Action::Pause => q.pause(id),
            Action::Resume => q.resume(id),
            Action::Postpone(until) => q.postpone(id, until),
            Action::Delete => q.delete(id),
        }
    }
}

/// Runs `action` on the ids of `args`, or on its filter's matches.
pub fn act(q: &Queue, action: Action, args: &ActionArgs) -> Outcome {
    let bulk = args.ids.is_empty();
    let ids = match (args.ids.is_empty(), args.filter.is_empty()) {
        (false, true) => args.ids.clone(),
        (true, false) => {
            let ids = matching(q, &args.filter.to_filter())?;
            if ids.is_empty() {
                println!("no jobs match {}", args.filter.describe());
                return Ok(());
            }
            confirm(action, ids.len(), &args.filter.describe(), args.yes)?;
            ids
        }
        (false, false) => {
            return Err(Failure::new(
                Exit::Usage,
                "give either ids or a filter (--state, --status, --type, --name, --correlation), not both",
            ));
        }
        (true, true) => {
            return Err(Failure::new(
                Exit::Usage,
                "give the jobs' ids, or a filter (--state, --status, --type, --name, --correlation)",
            ));
        }
    };
    let mut done = 0usize;
    let mut first_failure = None;
    let mut refused: BTreeMap<String, (Vec<i64>, String)> = BTreeMap::new();
    for id in &ids {
        match action.run(q, *id) {
            Ok(()) => {
                done += 1;
                match (action, q.retrieve(*id)) {
                    (Action::Delete, _) | (_, Err(Error::NotFound { .. })) => {
                        println!("{id}: deleted")
                    }
                    (_, Ok(op)) => {
                        println!("{id}: {} → {}", action.verb(), pair(op.state, op.status))
                    }
                    (_, Err(e)) => println!(
                        "{id}: {} done (re-reading it: {})",
                        action.verb(),
                        describe(&e)
                    ),
                }
            }
            Err(e) => {
                eprintln!("{id}: refused: {}", describe(&e));
                first_failure.get_or_insert(Exit::of(&e));
                let group = refused
                    .entry(label(&e))
                    .or_insert_with(|| (Vec::new(), e.to_string()));
                group.0.push(*id);
            }
        }
    }
    if ids.len() > 1 || bulk {
        let failed = ids.len() - done;
        println!("{done} of {} succeeded, {failed} refused", ids.len());
        for (reason, (ids, example)) in &refused {
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            eprintln!(
                "  {} × {reason}: ids {} (e.g. {example})",
                ids.len(),
                list.join(", ")
            );
        }
    }
    // The first failure's code: the most common way a script reads it.
    match first_failure {
        Some(exit) => Err(Failure::new(
            exit,
            format!("{} of {} jobs refused", ids.len() - done, ids.len()),
        )),
        None => Ok(()),
    }
}

/// Every id matching `filter`, in pages.
fn matching(q: &Queue, filter: &Filter) -> Result<Vec<i64>, Failure> {
    const PAGE: u32 = 1000;
    let mut ids = Vec::new();
    loop {
        let page = q.query(&Filter {
            after_id: ids.last().copied(),
            limit: Some(PAGE),
            ..filter.clone()
        })?;
        let full = page.len() >= PAGE as usize;
        ids.extend(page.iter().map(|op| op.id));
        if !full {
            return Ok(ids);
        }
    }
}

/// Asks on the terminal before a bulk action; refuses in a pipe without `--yes`.
fn confirm(action: Action, n: usize, what: &str, yes: bool) -> Outcome {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "{} {n} jobs ({what})? stdin is not a terminal: add --yes to confirm",
                action.verb()
            ),
        ));
    }
    eprint!("{} {n} jobs ({what})? [y/N] ", action.verb());
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::new(Exit::Usage, format!("reading the answer: {e}")))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Failure::new(Exit::Declined, "nothing done"))
    }
}

/// `asyncop hold` and `asyncop release`.
pub fn hold(q: &Queue, operation_type: i32, hold: bool) -> Outcome {
    if hold {
        q.hold_type(operation_type)?;
    } else {
        q.release_type(operation_type)?;
    }
    let held = q
        .held_types()?
        .iter()
        .any(|h| h.operation_type == operation_type);
    println!(
        "type {operation_type}: {}",
        if held { "held" } else { "not held" }
    );
    Ok(())
}
