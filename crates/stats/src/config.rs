//! The anonymity settings of a release.

use std::fmt;

use serde::Serialize;

/// The default `k`: a group-week, a heat-map cell or an hour bucket is published only when at
/// least this many distinct vehicles stand behind it.
pub const DEFAULT_K: usize = 5;
/// The lowest `k` accepted: with `k = 1` a single vehicle's week would be published.
pub const MIN_K: usize = 2;

/// How much one vehicle may contribute to one group-week. Applied to every release, with or
/// without noise, so that one vehicle cannot dominate its group's figures and so that the
/// Laplace noise can be calibrated (the caps are the sensitivities).
///
/// When a vehicle exceeds the trip cap, its earliest `trips` trips of the week (by start time)
/// count and the rest are left out of every figure; km and hours are then summed over the
/// counted trips and cut at their caps.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Caps {
    /// Trips per vehicle and week. Default 100 (≈ 14 a day, every day).
    pub trips: u32,
    /// Km per vehicle and week. Default 3,000.
    pub km: f64,
    /// Hours in use (sum of trip durations) per vehicle and week. Default 60.
    pub hours: f64,
}

impl Default for Caps {
    fn default() -> Caps {
        Caps {
            trips: 100,
            km: 3000.0,
            hours: 60.0,
        }
    }
}

/// Settings for one release. Built with [`Config::new`] and the `with_` methods, which refuse
/// or correct values that would weaken anonymity.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    k: usize,
    caps: Caps,
    epsilon: Option<f64>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            k: DEFAULT_K,
            caps: Caps::default(),
            epsilon: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ConfigError {
    /// ε must be finite and positive.
    Epsilon,
    /// Caps must be finite and positive, with at least one trip.
    Caps,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Epsilon => f.write_str("epsilon must be a finite number above 0"),
            ConfigError::Caps => {
                f.write_str("caps must be finite and above 0 (at least one trip a week)")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// k = 5, default caps, no noise.
    pub fn new() -> Config {
        Config::default()
    }

    /// Sets `k`; values below [`MIN_K`] are raised to it.
    pub fn with_k(mut self, k: usize) -> Config {
        self.k = k.max(MIN_K);
        self
    }

    pub fn with_caps(mut self, caps: Caps) -> Result<Config, ConfigError> {
        let ok = caps.trips >= 1
            && caps.km.is_finite()
            && caps.km > 0.0
            && caps.hours.is_finite()
            && caps.hours > 0.0;
        if !ok {
            return Err(ConfigError::Caps);
        }
        self.caps = caps;
        Ok(self)
    }

    /// Adds Laplace noise with a total budget of `epsilon` per group-week release (e.g. 1.0).
    pub fn with_laplace(mut self, epsilon: f64) -> Result<Config, ConfigError> {
        if !(epsilon.is_finite() && epsilon > 0.0) {
            return Err(ConfigError::Epsilon);
        }
        self.epsilon = Some(epsilon);
        Ok(self)
    }

    pub fn k(&self) -> usize {
        self.k
    }

    pub fn caps(&self) -> Caps {
        self.caps
    }

    pub fn epsilon(&self) -> Option<f64> {
        self.epsilon
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_is_never_below_two() {
        assert_eq!(Config::new().k(), 5);
        assert_eq!(Config::new().with_k(0).k(), 2);
        assert_eq!(Config::new().with_k(1).k(), 2);
        assert_eq!(Config::new().with_k(3).k(), 3);
    }

    #[test]
    fn bad_epsilon_and_caps_are_refused() {
        assert_eq!(Config::new().with_laplace(0.0), Err(ConfigError::Epsilon));
        assert_eq!(Config::new().with_laplace(-1.0), Err(ConfigError::Epsilon));
        assert_eq!(
            Config::new().with_laplace(f64::NAN),
            Err(ConfigError::Epsilon)
        );
        assert!(Config::new().with_laplace(1.0).is_ok());
        let bad = Caps {
            trips: 0,
            ..Caps::default()
        };
        assert_eq!(Config::new().with_caps(bad), Err(ConfigError::Caps));
        let bad = Caps {
            km: f64::INFINITY,
            ..Caps::default()
        };
        assert_eq!(Config::new().with_caps(bad), Err(ConfigError::Caps));
    }
}
