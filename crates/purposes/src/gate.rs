//! Where the compliance gate sits: a purpose *configured* for a vehicle *collects* only when
//! the gate allows it. The gate itself is the compliance register's (`register::gate`: the
//! measure is assessed lawful and every duty due before start is on record; driver behaviour
//! never without a balancing test and a DPIA); the purpose worker asks it per purpose and
//! passes the answer in here, so this crate stays sans-IO and knows nothing of the register.

use org::Purpose;

/// The configured purposes that may collect now.
pub fn collecting(configured: &[Purpose], gate: impl Fn(Purpose) -> bool) -> Vec<Purpose> {
    configured.iter().copied().filter(|p| gate(*p)).collect()
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
            collecting(&configured, |p| p != Purpose::DriverBehaviour),
            vec![Purpose::DrivingLog, Purpose::FleetView]
        );
        assert_eq!(collecting(&configured, |_| false), vec![]);
    }
}
