//! What the driving-log documents show: one vehicle's period as the reader's capability
//! returned it, with the names, signatures and readings around it.

use domain::drivinglog::{LogEntry, OdometerReading, RecordedDeviation};
use domain::{Timestamp, VehicleKind};
use purposes::tax::YearTotals;

use crate::Lang;

/// A person the log names: the employer's employee number and the name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub number: String,
    pub name: String,
}

/// Who signed a month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signer {
    Driver,
    Keeper,
}

impl Signer {
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Signer::Driver => lang.pick("Sjåfør", "Driver"),
            Signer::Keeper => lang.pick("Kjørebokfører", "Log keeper"),
        }
    }

    /// What a signature in this role confirms (the sign-off's meaning, as the server enforces
    /// it: the driver signs first; the keeper's signature makes the month's classifications
    /// final).
    pub fn confirms(self, lang: Lang) -> &'static str {
        match self {
            Signer::Driver => lang.pick(
                "Bekrefter at turene i måneden og klassifiseringen av dem (yrke eller privat, med formål) er riktige.",
                "Confirms that the month's trips and their classification (business or private, with purpose) are correct.",
            ),
            Signer::Keeper => lang.pick(
                "Bekrefter at kjøreboken for måneden er kontrollert; klassifiseringene kan deretter ikke endres.",
                "Confirms that the month's driving log has been reviewed; the classifications can no longer be changed.",
            ),
        }
    }
}

/// A month's signature: the month, the role, the user who signed, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The month signed, `YYYY-MM`.
    pub month: String,
    pub signer: Signer,
    /// The user name that signed.
    pub user: String,
    /// The signer's name and employee number, when the user is an employee.
    pub person: Option<Person>,
    pub at: Timestamp,
    /// The log keeper sent the month back to the driver with this comment (not a signature
    /// of the month, but a step of its review the log keeps).
    pub returned: Option<String>,
}

impl Signature {
    /// What this step says: the role's confirmation, or the keeper's comment when returned.
    pub fn says(&self, lang: Lang) -> String {
        match &self.returned {
            Some(comment) => match lang {
                Lang::Nb => format!("Sendte måneden tilbake til sjåføren: «{comment}»"),
                Lang::En => format!("Returned the month to the driver: “{comment}”"),
            },
            None => self.signer.confirms(lang).to_owned(),
        }
    }
}

/// A correction of a trip's driver, recorded beside the trip (the recorded driver, distance,
/// date and time never change): the log shows it as a supplement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Supplement {
    pub trip: i64,
    /// The employee number recorded first (none when the unit knew no driver).
    pub recorded: Option<String>,
    /// The right driver's employee number.
    pub driver: String,
    pub reason: String,
    /// The user who recorded the correction.
    pub by: String,
    pub at: Timestamp,
}

/// Everything the driving log documents show about one vehicle in one period. The caller
/// reads it under the `driving_log` purpose; this crate only lays it out.
#[derive(Clone, Copy, Debug)]
pub struct DrivingLogReport<'a> {
    pub organisation: &'a str,
    pub org_number: Option<&'a str>,
    /// The registration number.
    pub vehicle: &'a str,
    pub vehicle_kind: VehicleKind,
    /// `YYYY-MM` or `YYYY`.
    pub period: &'a str,
    pub generated_at: Timestamp,
    /// In the order the log lists them (chronological).
    pub entries: &'a [LogEntry],
    pub deviations: &'a [RecordedDeviation],
    /// The last reading of the vehicle's own odometer in each month, with its date (the rule
    /// is `domain::drivinglog::monthly_readings`); may be empty.
    pub odometer_readings: &'a [OdometerReading],
    /// The employees assigned the vehicle in the period; also how a trip's driver number is
    /// given its name.
    pub drivers: &'a [Person],
    /// The sign-offs of the period's months (a year's: every month's).
    pub signatures: &'a [Signature],
    /// The calendar year to the end of the period, for the tax thresholds.
    pub year: &'a YearTotals,
    /// Corrections of trips' drivers, oldest first.
    pub supplements: &'a [Supplement],
}

impl DrivingLogReport<'_> {
    /// `Kari Nordmann (1001)` for a driver number the period's drivers name, else the number.
    pub fn driver_label(&self, number: &str) -> String {
        match self.drivers.iter().find(|p| p.number == number) {
            Some(p) => format!("{} ({})", p.name, p.number),
            None => number.to_owned(),
        }
    }

    /// The driver's name for a number, when the period's drivers name it.
    pub fn driver_name(&self, number: &str) -> Option<&str> {
        self.drivers
            .iter()
            .find(|p| p.number == number)
            .map(|p| p.name.as_str())
    }

    /// The month's signature in a role; none for a year, which is signed month by month. A
    /// month sent back to the driver is not signed by the keeper, nor by the driver until the
    /// driver signs again.
    pub fn signed_by(&self, signer: Signer) -> Option<&Signature> {
        let month: Vec<&Signature> = self
            .signatures
            .iter()
            .filter(|s| s.month == self.period)
            .collect();
        let after_return = month
            .iter()
            .rposition(|s| s.returned.is_some())
            .map_or(0, |i| i + 1);
        month[after_return..]
            .iter()
            .rev()
            .find(|s| s.signer == signer)
            .copied()
    }

    /// The driver a trip is attributed to now: the latest correction, else the recorded one.
    pub fn driver_of(&self, trip: i64, recorded: Option<&str>) -> Option<String> {
        self.supplements
            .iter()
            .rev()
            .find(|s| s.trip == trip)
            .map(|s| s.driver.clone())
            .or_else(|| recorded.map(str::to_owned))
    }
}

/// The vehicle kind in words.
pub fn kind_label(kind: VehicleKind, lang: Lang) -> &'static str {
    match kind {
        VehicleKind::Car => lang.pick("personbil", "car"),
        VehicleKind::Van => lang.pick("varebil", "van"),
    }
}

/// The credit line for place names (GeoNames, CC BY 4.0) in the document's language.
pub fn attribution(lang: Lang) -> &'static str {
    lang.pick(places::ATTRIBUTION_NB, places::ATTRIBUTION)
}
