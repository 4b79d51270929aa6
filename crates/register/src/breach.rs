//! Deviations and personal data breaches: the 72-hour clock of GDPR art. 33 and the art. 34
//! decision whether to inform the employees (seed 001 5.4).

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

/// GDPR art. 33 (1): notify the supervisory authority without undue delay and, where feasible,
/// not later than 72 hours after having become aware of the breach.
pub const NOTIFICATION_HOURS: i64 = 72;
pub const BREACH_CITATION: &str =
    "GDPR art. 33 og 34; Datatilsynet, «Sporingsteknologi i kjøretøy» (2016) pkt. 5.4";

/// The art. 34 decision: must the employees concerned be told?
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Art34Decision {
    /// High risk to their rights: they are (to be) informed.
    Inform,
    /// Not required, with the reason (no high risk, art. 34 (3) a–c).
    NotRequired { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeesInformed {
    pub decision: Art34Decision,
    pub decided_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub discovered_at: OffsetDateTime,
    pub description: String,
    /// A deviation that touches no personal data is recorded but has no art. 33 clock.
    pub personal_data_affected: bool,
    pub notified_datatilsynet_at: Option<OffsetDateTime>,
    pub employees_informed: Option<EmployeesInformed>,
    /// The art. 33(1) decision that the breach is unlikely to result in a risk to the
    /// employees' rights and freedoms, so Datatilsynet is not notified: a recorded decision
    /// with its reason, not a missing notification (art. 33(5): document it).
    pub not_notified: Option<NotNotified>,
}

/// Why Datatilsynet was not notified of a breach (GDPR art. 33(1) and (5)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotNotified {
    pub reason: String,
    pub decided_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreachStatus {
    /// Whole hours left before the deadline.
    Due {
        hours_left: i64,
    },
    /// Whole hours past the deadline, rounded up: one second late is one hour over.
    Overdue {
        hours_over: i64,
    },
    Notified,
    /// Recorded as unlikely to result in a risk (art. 33(1)): not notified, with the reason.
    RiskUnlikely,
    /// No personal data affected: nothing to notify.
    NotNotifiable,
}

/// 72 hours after discovery.
pub fn breach_deadline(b: &Breach) -> OffsetDateTime {
    b.discovered_at + Duration::hours(NOTIFICATION_HOURS)
}

pub fn breach_status(b: &Breach, now: OffsetDateTime) -> BreachStatus {
    if b.notified_datatilsynet_at.is_some() {
        return BreachStatus::Notified;
    }
    if b.not_notified.is_some() {
        return BreachStatus::RiskUnlikely;
    }
    if !b.personal_data_affected {
        return BreachStatus::NotNotifiable;
    }
    let deadline = breach_deadline(b);
    if now <= deadline {
        BreachStatus::Due {
            hours_left: (deadline - now).whole_hours(),
        }
    } else {
        let over = now - deadline;
        let whole = over.whole_hours();
        let hours_over = if over > Duration::hours(whole) {
            whole + 1
        } else {
            whole
        };
        BreachStatus::Overdue { hours_over }
    }
}

impl Breach {
    /// Whether the art. 34 decision is still to be made for a breach of personal data.
    pub fn art34_decision_pending(&self) -> bool {
        self.personal_data_affected && self.employees_informed.is_none()
    }
}
