//! The terminal's view of the fleet: the [`FleetHook`] over a [`Link`], every call
//! bounded by the claim timeout so a dead link costs the officer at most that long.

use evisa_core::rules::Checkpoint;
use evisa_store::fleet::{ClaimOutcome, FleetHook, FleetMovement, Unreachable};

use crate::link::Link;

/// A [`Link`] as the terminal's hook.
pub struct LinkHook(pub Link);

impl FleetHook for LinkHook {
    fn terminal_id(&self) -> &str {
        self.0.terminal_id()
    }

    fn lookup(&mut self, visa_number: &str) -> Result<Vec<FleetMovement>, Unreachable> {
        self.0
            .lookup(visa_number)
            .map_err(|e| Unreachable(e.to_string()))
    }

    fn claim_entry(
        &mut self,
        visa_number: &str,
        ordinal: i64,
        claim_id: i64,
        at: &Checkpoint,
    ) -> Result<ClaimOutcome, Unreachable> {
        self.0
            .claim(visa_number, ordinal, claim_id, at, None)
            .map_err(|e| Unreachable(e.to_string()))
    }
}
