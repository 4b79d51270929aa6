//! One-off access cases (innsyn): access to an employee's mailbox or files, or to a private trip
//! after an accident, under e-postforskriften §§ 3–4, kept as a case with its own record.

use time::Date;

/// E-postforskriften § 3 (1): the only grounds for access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessGround {
    /// § 3 (1) a: necessary for the daily operation or other legitimate interests of the
    /// business; the explanation.
    DailyOperation(String),
    /// § 3 (1) b: reasoned suspicion of a serious breach of duties, or grounds for dismissal.
    SuspectedSeriousBreach(String),
}

impl AccessGround {
    pub fn explanation(&self) -> &str {
        match self {
            AccessGround::DailyOperation(s) | AccessGround::SuspectedSeriousBreach(s) => s,
        }
    }

    pub fn citation(&self) -> &'static str {
        match self {
            AccessGround::DailyOperation(_) => "e-postforskriften § 3 (1) a",
            AccessGround::SuspectedSeriousBreach(_) => "e-postforskriften § 3 (1) b",
        }
    }
}

/// E-postforskriften § 4 (1): advance notice and the chance to speak; § 4 (3): written notice
/// after the fact when it could not be given before. (Paragraph numbers as in the former
/// personopplysningsforskriften § 9-4, which the 2018 regulation continues; not confirmed
/// against Lovdata's current text.)
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Notice {
    #[default]
    NotGiven,
    GivenOn(Date),
    /// Notice was impossible (the employee is away, ill, or it would defeat the purpose), with
    /// the reason recorded.
    Impossible {
        reason: String,
    },
}

/// E-postforskriften § 4 (2): the employee may be present, with a representative's help.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Presence {
    #[default]
    NotRecorded,
    Present {
        representative: Option<String>,
    },
    Declined,
    NotPossible {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessCase {
    pub id: String,
    /// The employee number (current or former employee).
    pub employee: String,
    pub ground: Option<AccessGround>,
    pub notice: Notice,
    pub presence: Presence,
    /// What was opened: mailbox folders, files, trips.
    pub opened: Vec<String>,
    pub closed_on: Option<Date>,
    /// Who did what, when, and the written notice afterwards (§ 4 (3)).
    pub documentation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessCaseError {
    #[error("no ground recorded: access needs a ground under e-postforskriften § 3 (1) a or b")]
    NoGround,
    #[error(
        "no notice recorded: give the employee notice (e-postforskriften § 4 (1)) or record why it was impossible"
    )]
    NoNotice,
    #[error("the reason notice was impossible is empty")]
    EmptyImpossibleReason,
    #[error("nothing recorded as opened: list what was opened (e-postforskriften § 4 (3))")]
    NothingOpenedRecorded,
    #[error("the case is already closed")]
    AlreadyClosed,
}

impl AccessCase {
    /// Everything that stops the case from being closed; empty when it may be closed.
    pub fn close_problems(&self) -> Vec<AccessCaseError> {
        let mut out = Vec::new();
        if self.closed_on.is_some() {
            out.push(AccessCaseError::AlreadyClosed);
        }
        if self
            .ground
            .as_ref()
            .is_none_or(|g| g.explanation().trim().is_empty())
        {
            out.push(AccessCaseError::NoGround);
        }
        match &self.notice {
            Notice::NotGiven => out.push(AccessCaseError::NoNotice),
            Notice::Impossible { reason } if reason.trim().is_empty() => {
                out.push(AccessCaseError::EmptyImpossibleReason)
            }
            _ => {}
        }
        if self.opened.iter().all(|o| o.trim().is_empty()) {
            out.push(AccessCaseError::NothingOpenedRecorded);
        }
        out
    }

    /// Closes the case on `on`, or says the first thing that prevents it.
    pub fn close(&mut self, on: Date) -> Result<(), AccessCaseError> {
        if let Some(e) = self.close_problems().into_iter().next() {
            return Err(e);
        }
        self.closed_on = Some(on);
        Ok(())
    }
}
