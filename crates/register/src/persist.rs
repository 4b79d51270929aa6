//! The register's records added after migration 0013's tables, as one JSON document for
//! storage to keep beside those tables (migration 0032, `register_extra`). Storage saves
//! `extras_json` whole with the rest of the register and hands it back to `apply_extras`
//! after loading the tables; neither knows what the other holds beyond that.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::book::Register;
use crate::breach::NotNotified;
use crate::duties::{
    LateClosure, PriorConsultation, PrivateDrivingReview, PrivateDrivingRoutine, RiskLevel,
};
use crate::security::Security;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Extras {
    #[serde(default)]
    security: Security,
    #[serde(default)]
    measures: BTreeMap<String, MeasureExtras>,
    #[serde(default)]
    breaches: BTreeMap<String, NotNotified>,
}

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
struct MeasureExtras {
    #[serde(default)]
    residual_risk: Option<RiskLevel>,
    #[serde(default)]
    risk_shows_necessity: Option<bool>,
    #[serde(default)]
    evaluation_reasons: Vec<(Date, String)>,
    #[serde(default)]
    agreements: Vec<AgreementExtras>,
    #[serde(default)]
    prior_consultation: Option<PriorConsultation>,
    #[serde(default)]
    late_closures: Vec<LateClosure>,
    #[serde(default)]
    private_driving_routine: Option<PrivateDrivingRoutine>,
    #[serde(default)]
    private_driving_reviews: Vec<PrivateDrivingReview>,
    #[serde(default)]
    dpo_contact: Option<String>,
    #[serde(default)]
    transfers_abroad: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct AgreementExtras {
    processor: String,
    covers: Vec<String>,
    processor_security: String,
    services: Vec<String>,
}

/// The records storage's 0013 tables do not hold, as JSON.
pub fn extras_json(reg: &Register) -> String {
    let mut x = Extras {
        security: reg.security.clone(),
        ..Extras::default()
    };
    for e in &reg.entries {
        let d = &e.duties;
        let m = MeasureExtras {
            residual_risk: d.dpia.as_ref().and_then(|p| p.residual_risk),
            risk_shows_necessity: d.risk_assessment.as_ref().and_then(|r| r.shows_necessity),
            evaluation_reasons: d
                .evaluations
                .iter()
                .filter_map(|v| v.reason_to_continue.clone().map(|r| (v.date, r)))
                .collect(),
            agreements: d
                .processor_agreements
                .iter()
                .map(|a| AgreementExtras {
                    processor: a.processor.clone(),
                    covers: a.covers.clone(),
                    processor_security: a.processor_security.clone(),
                    services: a.services.clone(),
                })
                .collect(),
            prior_consultation: d.prior_consultation.clone(),
            late_closures: d.late_closures.clone(),
            private_driving_routine: d.private_driving_routine.clone(),
            private_driving_reviews: d.private_driving_reviews.clone(),
            dpo_contact: d.information.as_ref().and_then(|i| i.dpo_contact.clone()),
            transfers_abroad: d
                .information
                .as_ref()
                .and_then(|i| i.transfers_abroad.clone()),
        };
        if m != MeasureExtras::default() {
            x.measures.insert(e.measure.id.clone(), m);
        }
    }
    for b in &reg.breaches {
        if let Some(n) = &b.breach.not_notified {
            x.breaches.insert(b.id.clone(), n.clone());
        }
    }
    // Plain data of strings, numbers and lists: serialising cannot fail.
    serde_json::to_string(&x).unwrap_or_else(|_| "{}".to_owned())
}

/// Puts the records of `extras_json` back into a register loaded from the tables. Records for
/// a measure, agreement or breach that is not there any more are left out.
pub fn apply_extras(reg: &mut Register, json: &str) -> Result<(), String> {
    let x: Extras = serde_json::from_str(json).map_err(|e| e.to_string())?;
    reg.security = x.security;
    for (id, m) in x.measures {
        let Some(e) = reg.entry_mut(&id) else {
            continue;
        };
        let d = &mut e.duties;
        if let Some(p) = &mut d.dpia {
            p.residual_risk = m.residual_risk;
        }
        if let Some(r) = &mut d.risk_assessment {
            r.shows_necessity = m.risk_shows_necessity;
        }
        for (date, reason) in m.evaluation_reasons {
            if let Some(v) = d.evaluations.iter_mut().find(|v| v.date == date) {
                v.reason_to_continue = Some(reason);
            }
        }
        for a in m.agreements {
            if let Some(p) = d
                .processor_agreements
                .iter_mut()
                .find(|p| p.processor == a.processor)
            {
                p.covers = a.covers;
                p.processor_security = a.processor_security;
                p.services = a.services;
            }
        }
        if let Some(i) = &mut d.information {
            i.dpo_contact = m.dpo_contact;
            i.transfers_abroad = m.transfers_abroad;
        }
        d.prior_consultation = m.prior_consultation;
        d.late_closures = m.late_closures;
        d.private_driving_routine = m.private_driving_routine;
        d.private_driving_reviews = m.private_driving_reviews;
    }
    for (id, n) in x.breaches {
        if let Some(b) = reg.breaches.iter_mut().find(|b| b.id == id) {
            b.breach.not_notified = Some(n);
        }
    }
    Ok(())
}
