//! Which unknown facts could change a result.
//!
//! Each fact that is not given gets a small domain of values: "still not given" plus one value
//! on each side of every rule that reads it. We try every combination (a few thousand at most)
//! and list a fact when, for some combination of the others, changing that fact alone changes
//! the verdict. So a fact is listed exactly when knowing it could matter, alone or together
//! with other unknown facts; a fact that no combination makes matter is left out.

use crate::table::Fact;

/// Sets one fact of `F` to one value.
pub type Setter<F> = Box<dyn Fn(&mut F)>;

/// Setters for the values one unknown fact can take; `values[0]` is "not given".
pub struct Domain<F> {
    pub fact: Fact,
    pub values: Vec<Setter<F>>,
}

/// Calls `visit` with every completion of `base` over `doms`, in mixed-radix order
/// (the last domain varies fastest).
fn each<F: Clone, R>(base: &F, doms: &[Domain<F>], mut visit: impl FnMut(&F) -> R) -> Vec<R> {
    let total: usize = doms.iter().map(|d| d.values.len()).product();
    let mut out = Vec::with_capacity(total);
    let mut idx = vec![0usize; doms.len()];
    for _ in 0..total {
        let mut f = base.clone();
        for (d, &i) in doms.iter().zip(&idx) {
            (d.values[i])(&mut f);
        }
        out.push(visit(&f));
        for (d, i) in doms.iter().zip(idx.iter_mut()).rev() {
            *i += 1;
            if *i < d.values.len() {
                break;
            }
            *i = 0;
        }
    }
    out
}

/// The unknown facts (those with a domain) whose value can change `verdict`.
pub fn relevant<F: Clone, V: PartialEq>(
    base: &F,
    doms: &[Domain<F>],
    verdict: impl Fn(&F) -> V,
) -> Vec<Fact> {
    let results = each(base, doms, verdict);
    let mut facts = Vec::new();
    // Stride of domain k in the flat, mixed-radix index.
    let mut stride = 1;
    let mut strides = vec![0; doms.len()];
    for (k, d) in doms.iter().enumerate().rev() {
        strides[k] = stride;
        stride *= d.values.len();
    }
    for (k, d) in doms.iter().enumerate() {
        let n = d.values.len();
        let s = strides[k];
        let matters = (0..results.len())
            .filter(|i| (i / s).is_multiple_of(n))
            .any(|i| (1..n).any(|j| results[i + j * s] != results[i]));
        if matters {
            facts.push(d.fact);
        }
    }
    facts
}

/// `Some(value)` if `out` is the same for every completion, `None` if an unknown fact decides.
pub fn stable<F: Clone, V: PartialEq + Copy>(
    base: &F,
    doms: &[Domain<F>],
    out: impl Fn(&F) -> V,
) -> Option<V> {
    let results = each(base, doms, out);
    let first = *results.first()?;
    results.iter().all(|r| *r == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Two {
        a: Option<bool>,
        b: Option<bool>,
    }

    fn domain(fact: Fact, set: fn(&mut Two, Option<bool>)) -> Domain<Two> {
        Domain {
            fact,
            values: [None, Some(true), Some(false)]
                .into_iter()
                .map(|v| Box::new(move |t: &mut Two| set(t, v)) as Setter<Two>)
                .collect(),
        }
    }

    #[test]
    fn a_fact_that_matters_only_together_with_another_is_listed() {
        // verdict = a AND b (unknown counts as false): each matters once the other is true.
        let doms = [
            domain(Fact::Recorded, |t, v| t.a = v),
            domain(Fact::Continuous, |t, v| t.b = v),
        ];
        let v = |t: &Two| t.a == Some(true) && t.b == Some(true);
        assert_eq!(
            relevant(&Two::default(), &doms, v),
            [Fact::Recorded, Fact::Continuous]
        );
        assert_eq!(stable(&Two::default(), &doms, v), None);
    }

    #[test]
    fn a_fact_that_never_matters_is_left_out() {
        let doms = [
            domain(Fact::Recorded, |t, v| t.a = v),
            domain(Fact::Continuous, |t, v| t.b = v),
        ];
        let v = |t: &Two| t.a == Some(true);
        assert_eq!(relevant(&Two::default(), &doms, v), [Fact::Recorded]);
        assert_eq!(stable(&Two::default(), &doms, |_| 7), Some(7));
        assert_eq!(relevant(&Two::default(), &[], v), Vec::<Fact>::new());
    }
}
