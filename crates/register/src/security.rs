//! The organisation's information-security records (seed 001 5.1–5.4, GDPR art. 24 and 32):
//! the criteria for acceptable risk, the security goals and strategy, and the deviation routine
//! known to staff. They are the employer's, not one measure's; the gate reads them for every
//! measure.

use serde::{Deserialize, Serialize};
use time::Date;

/// A written decision with who made it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityRecord {
    pub by: String,
    pub adopted_on: Date,
    pub text: String,
}

/// The deviation routine (seed 001 5.4): what a deviation is, how it is reported and followed
/// up; "Rutinen skal være informert og tilgjengelig for ansatte".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviationRoutine {
    pub by: String,
    pub adopted_on: Date,
    pub text: String,
    /// How and when staff were told of it and where they find it.
    pub made_known: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Security {
    /// Seed 001 5.1: «Virksomheten skal selv fastlegge kriterier for akseptable risiko».
    pub acceptance_criteria: Option<SecurityRecord>,
    /// Seed 001 5.2: security goals and a security strategy.
    pub goals_and_strategy: Option<SecurityRecord>,
    /// Seed 001 5.4.
    pub deviation_routine: Option<DeviationRoutine>,
}

impl Security {
    pub fn acceptance_criteria(&self, now: Date) -> Option<&SecurityRecord> {
        self.acceptance_criteria
            .as_ref()
            .filter(|r| r.adopted_on <= now)
    }

    pub fn goals_and_strategy(&self, now: Date) -> Option<&SecurityRecord> {
        self.goals_and_strategy
            .as_ref()
            .filter(|r| r.adopted_on <= now)
    }

    /// The routine, when adopted by `now` and made known to staff.
    pub fn deviation_routine(&self, now: Date) -> Option<&DeviationRoutine> {
        self.deviation_routine
            .as_ref()
            .filter(|r| r.adopted_on <= now && !r.made_known.trim().is_empty())
    }
}
