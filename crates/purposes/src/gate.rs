//! Where the compliance gate sits: a purpose *configured* for a vehicle *collects* only when
//! the gate allows it. The compliance register (assessment, balancing test, DPIA, discussion
//! with the tillitsvalgte, information to employees) will decide per purpose; until it does,
//! [`interim`] allows every configured purpose except driver behaviour, which has no store
//! yet and never collects without its recorded legal basis.

use org::Purpose;

/// The configured purposes that may collect now.
pub fn collecting(configured: &[Purpose], gate: impl Fn(Purpose) -> bool) -> Vec<Purpose> {
    configured.iter().copied().filter(|p| gate(*p)).collect()
}

/// Today's gate (see the module docs).
pub fn interim(purpose: Purpose) -> bool {
    purpose != Purpose::DriverBehaviour
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_purpose_collects_only_when_the_gate_allows() {
        let configured = [
            Purpose::DrivingLog,
            Purpose::DriverBehaviour,
            Purpose::FleetView,
        ];
        assert_eq!(
            collecting(&configured, interim),
            vec![Purpose::DrivingLog, Purpose::FleetView]
        );
        assert_eq!(collecting(&configured, |_| false), vec![]);
    }
}
