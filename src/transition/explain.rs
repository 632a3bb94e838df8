//! Why a user action was refused, in words: the states it was in named as
//! `State/Status` (e.g. `Ready/WaitingForResources`) and a hint at what does
//! work. The four invalid-state errors print §12's observed template first and
//! this text after it (`Error`'s `Display`).

use super::{State, Status};
use crate::error::Refusal;

/// Which of the four invalid-state refusals of §12 it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// 0x80044162: Cancel on 2/22 or 3/x, `set_state(2, …)`, a pattern update on 3/x.
    Change,
    /// 0x80044165: `set_state(3, 30 | 31)`.
    ToComplete,
    /// 0x80044166: Resume when not 1/10, or of a restricted type.
    ToReady,
    /// 0x80044167: Pause or Postpone not allowed in the current state.
    ToSuspended,
}

/// `State/Status` of a stored pair, e.g. `Locked/Pausing` (the codes when they
/// are not the model's).
pub fn pair_name(state: u8, status: u8) -> String {
    match (
        State::from_code(state.into()),
        Status::from_code(status.into()),
    ) {
        (Some(st), Some(su)) => format!("{st}/{su}"),
        _ => format!("{state}/{status}"),
    }
}

/// The named states and a hint for a refusal of kind `kind`.
pub fn refusal_hint(kind: Refused, r: &Refusal) -> String {
    let named = pair_name(r.state, r.status);
    let status = Status::from_code(r.status.into());
    let finished = r.state == State::Completed.code();
    match kind {
        Refused::ToSuspended => match status {
            Some(Status::WaitingForResources) => {
                format!("{named} cannot be paused; Postpone holds queued work")
            }
            Some(Status::Waiting) => format!(
                "{named} is not running, so it cannot be paused; Postpone moves its time, Resume runs it now"
            ),
            Some(Status::Pausing) => format!(
                "{named} cannot be postponed while a Pause is pending; once its host stops it, Postpone sets its time"
            ),
            Some(Status::Canceling) => {
                format!("{named} cannot be paused or postponed: a Cancel is pending")
            }
            _ if finished => format!("{named} has finished and cannot be paused or postponed"),
            _ => format!("{named} cannot be paused or postponed"),
        },
        Refused::ToReady => match status {
            Some(Status::Waiting) => {
                format!("{named} of a restricted (platform) type cannot be resumed")
            }
            Some(Status::WaitingForResources) => format!(
                "{named} is not suspended, so there is nothing to resume; a host runs it when it claims it"
            ),
            _ if finished => {
                format!("{named} has finished; only Suspended/Waiting can be resumed")
            }
            _ => format!("{named} is running; only Suspended/Waiting can be resumed"),
        },
        Refused::ToComplete => format!(
            "{named} cannot be declared Completed/Succeeded or Completed/Failed by a user: \
             only the host running it reports an outcome; Cancel ends it as Completed/Canceled"
        ),
        Refused::Change if r.target_state == State::Locked.code() => format!(
            "{named} cannot be locked by a user: only a host locks an operation, by claiming it"
        ),
        Refused::Change => match status {
            Some(Status::Canceling) => {
                format!("{named} is already being canceled; its host stops it soon")
            }
            _ if finished => {
                format!("{named} has finished and cannot change; Delete removes it")
            }
            _ => format!("{named} cannot move to state {}", r.target_state),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_states() {
        let r = |state, status, target_state| Refusal {
            state,
            status,
            target_state,
        };
        assert_eq!(
            refusal_hint(Refused::ToSuspended, &r(0, 0, 1)),
            "Ready/WaitingForResources cannot be paused; Postpone holds queued work"
        );
        assert!(refusal_hint(Refused::Change, &r(3, 32, 3)).starts_with("Completed/Canceled "));
        assert!(refusal_hint(Refused::ToReady, &r(2, 21, 0)).starts_with("Locked/Pausing "));
        assert_eq!(pair_name(9, 99), "9/99");
    }
}
