//! Telling a run that has gone wrong from one that is merely noisy: a loss that is NaN or
//! infinite, or a discriminator that keeps collapsing although it is re-initialised each
//! time (GANomaly's stabiliser no longer helps). Pure: it watches the reported losses.

use serde::{Deserialize, Serialize};

/// A discriminator loss below this has won outright (GANomaly's reference code
/// re-initialises it then).
pub const COLLAPSED_LOSS: f32 = 1e-5;
/// Consecutive collapsed steps after which re-initialising has stopped helping.
pub const COLLAPSE_STEPS: usize = 50;
/// The loss term a discriminator reports.
const DISCRIMINATOR: &str = "discriminator";

/// Why a run was stopped as diverged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum Divergence {
    /// A loss term became NaN or infinite.
    #[error(
        "the {term} loss became {value} at step {step}: the learning rate is probably too high"
    )]
    NotFinite {
        /// Which term.
        term: String,
        /// The step it happened at.
        step: usize,
        /// Its value.
        value: f32,
    },
    /// The discriminator kept collapsing.
    #[error("the discriminator kept collapsing: its loss stayed below {COLLAPSED_LOSS} for {steps} steps up to step {step}, re-initialised each time")]
    Collapse {
        /// Collapsed steps in a row.
        steps: usize,
        /// The step it was noticed at.
        step: usize,
    },
}

/// Watches each step's losses for divergence.
#[derive(Debug, Clone, Default)]
pub struct DivergenceWatch {
    collapsed_in_a_row: usize,
}

impl DivergenceWatch {
    /// The divergence step `step`'s `losses` show, if any.
    pub fn check(&mut self, step: usize, losses: &[(&str, f32)]) -> Option<Divergence> {
        if let Some(&(term, value)) = losses.iter().find(|(_, v)| !v.is_finite()) {
            return Some(Divergence::NotFinite {
                term: term.to_owned(),
                step,
                value,
            });
        }
        match losses.iter().find(|(term, _)| *term == DISCRIMINATOR) {
            Some(&(_, loss)) if loss < COLLAPSED_LOSS => self.collapsed_in_a_row += 1,
            _ => self.collapsed_in_a_row = 0,
        }
        (self.collapsed_in_a_row >= COLLAPSE_STEPS).then_some(Divergence::Collapse {
            steps: self.collapsed_in_a_row,
            step,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nan_or_infinite_loss_is_divergence_naming_its_term_and_step() {
        let mut watch = DivergenceWatch::default();
        assert_eq!(watch.check(1, &[("reconstruction", 0.5)]), None);
        assert_eq!(
            watch.check(2, &[("reconstruction", 1e30)]),
            None,
            "large is not yet infinite"
        );
        let d = watch.check(3, &[("generator", 1.0), ("discriminator", f32::NAN)]);
        let Some(Divergence::NotFinite { term, step, value }) = d else {
            panic!("{d:?}");
        };
        assert_eq!((term.as_str(), step), ("discriminator", 3));
        assert!(value.is_nan());
        let inf = watch
            .check(4, &[("reconstruction", f32::INFINITY)])
            .unwrap();
        assert!(
            inf.to_string()
                .contains("reconstruction loss became inf at step 4"),
            "{inf}"
        );
    }

    #[test]
    fn a_discriminator_that_keeps_collapsing_is_divergence_and_one_that_recovers_is_not() {
        let mut watch = DivergenceWatch::default();
        let step = |watch: &mut DivergenceWatch, n, d| {
            watch.check(n, &[("generator", 2.0), ("discriminator", d)])
        };
        // Collapses that recover (the re-initialisation worked) never add up.
        for n in 0..200 {
            let d = if n % 10 == 9 { 0.3 } else { 1e-7 };
            assert_eq!(step(&mut watch, n, d), None, "step {n}");
        }
        for n in 0..COLLAPSE_STEPS - 1 {
            assert_eq!(step(&mut watch, 200 + n, 1e-6), None);
        }
        assert_eq!(
            step(&mut watch, 300, 1e-6),
            Some(Divergence::Collapse {
                steps: COLLAPSE_STEPS,
                step: 300
            })
        );
        // Models without a discriminator never collapse.
        let mut plain = DivergenceWatch::default();
        for n in 0..100 {
            assert_eq!(plain.check(n, &[("reconstruction", 0.0)]), None);
        }
    }
}
