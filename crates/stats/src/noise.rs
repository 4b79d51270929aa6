//! Deterministic randomness for the Laplace mechanism.
//!
//! Sans-IO: no global or OS randomness. The caller passes a seed; the same seed and the same
//! data give the same release. Keep the seed secret and fixed per installation (see
//! [`crate::Aggregator::release`] for why a fresh seed per request would be wrong).

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, well-mixed 64-bit generator. Not
/// cryptographic; its job is calibrated noise, and its seed is the secret.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// Uniform in the open interval (0, 1): never exactly 0 or 1, so logarithms stay finite.
    pub fn next_open01(&mut self) -> f64 {
        // 53 random bits, centred in their interval.
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// A sample from Laplace(0, `scale`): density `exp(-|x|/scale) / (2·scale)`, mean 0, mean
    /// absolute value `scale`, variance `2·scale²`. A non-positive or non-finite scale gives 0.
    pub fn laplace(&mut self, scale: f64) -> f64 {
        if !(scale.is_finite() && scale > 0.0) {
            return 0.0;
        }
        // Inverse CDF: u uniform in (-1/2, 1/2), x = -b·sgn(u)·ln(1 - 2|u|).
        let u = self.next_open01() - 0.5;
        let x = -scale * (1.0 - 2.0 * u.abs()).ln();
        if u < 0.0 { -x } else { x }
    }
}

/// The SplitMix64 finaliser: a bijective 64-bit mix.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over bytes: a stable hash (unlike `std`'s, fixed across Rust versions), used to
/// derive one noise stream per group-week from the seed.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_other_seed_other_stream() {
        let a: Vec<u64> = {
            let mut r = SplitMix64::new(42);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = SplitMix64::new(42);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = SplitMix64::new(43);
            (0..8).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn open_unit_interval() {
        let mut r = SplitMix64::new(7);
        for _ in 0..10_000 {
            let u = r.next_open01();
            assert!(u > 0.0 && u < 1.0);
        }
    }

    #[test]
    fn degenerate_scale_gives_no_noise() {
        let mut r = SplitMix64::new(1);
        assert_eq!(r.laplace(0.0), 0.0);
        assert_eq!(r.laplace(-1.0), 0.0);
        assert_eq!(r.laplace(f64::NAN), 0.0);
        assert_eq!(r.laplace(f64::INFINITY), 0.0);
    }

    #[test]
    fn laplace_is_reproducible_and_has_the_right_spread() {
        let scale = 10.0;
        let n = 200_000;
        let draw = |seed| {
            let mut r = SplitMix64::new(seed);
            (0..n).map(|_| r.laplace(scale)).collect::<Vec<f64>>()
        };
        let xs = draw(2024);
        assert_eq!(xs, draw(2024), "same seed, same noise");
        assert_ne!(xs, draw(2025));

        let nf = n as f64;
        let mean = xs.iter().sum::<f64>() / nf;
        let mean_abs = xs.iter().map(|x| x.abs()).sum::<f64>() / nf;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / nf;
        let beyond_scale = xs.iter().filter(|x| x.abs() > scale).count() as f64 / nf;
        let positive = xs.iter().filter(|x| **x > 0.0).count() as f64 / nf;
        // Expected: mean 0 (sd of the mean ≈ 0.03), E|x| = 10, var = 200, P(|x| > b) = 1/e,
        // symmetric. Bounds are many standard errors wide.
        assert!(mean.abs() < 0.5, "mean {mean}");
        assert!((mean_abs - scale).abs() < 0.5, "mean |x| {mean_abs}");
        assert!((var - 2.0 * scale * scale).abs() < 20.0, "variance {var}");
        assert!(
            (beyond_scale - (-1.0f64).exp()).abs() < 0.01,
            "tail {beyond_scale}"
        );
        assert!((positive - 0.5).abs() < 0.01, "sign balance {positive}");
    }

    #[test]
    fn fnv_is_stable() {
        // Reference values of FNV-1a 64.
        assert_eq!(fnv1a(b""), 0xCBF2_9CE4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xAF63_DC4C_8601_EC8C);
    }
}
