//! Which host outcomes end an attempt that the attempt history keeps.

use super::Outcome;
use crate::attempt::AttemptEnding;

/// The history's ending of an attempt the host ended with `outcome`: Retry
/// and Failed are errors and are kept; Succeeded, Canceled and Suspended
/// (a pause acknowledged, or a suspend-class report) are not. A lease expiry
/// is always kept (`AttemptEnding::Expired`, recorded by maintenance).
pub fn attempt_ending(outcome: Outcome) -> Option<AttemptEnding> {
    match outcome {
        Outcome::Retry => Some(AttemptEnding::Retry),
        Outcome::Failed => Some(AttemptEnding::Failed),
        Outcome::Succeeded | Outcome::Canceled | Outcome::Suspended => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_errors_are_kept() {
        assert_eq!(attempt_ending(Outcome::Retry), Some(AttemptEnding::Retry));
        assert_eq!(attempt_ending(Outcome::Failed), Some(AttemptEnding::Failed));
        for o in [Outcome::Succeeded, Outcome::Canceled, Outcome::Suspended] {
            assert_eq!(attempt_ending(o), None);
        }
    }
}
