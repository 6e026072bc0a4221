//! Service-time samplers.

use rand::Rng;
use rand_distr::{Distribution as _, Exp1, LogNormal};

use super::SimRng;
use crate::model::Distribution;

/// A sampler of service times in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sampler {
    Exponential(f64),
    Constant(f64),
    Uniform(f64, f64),
    LogNormal(LogNormal<f64>),
}

impl Sampler {
    pub(crate) fn new(dist: &Distribution) -> Self {
        match *dist {
            Distribution::Exponential { mean_ms } => Sampler::Exponential(mean_ms),
            Distribution::Constant { ms } => Sampler::Constant(ms),
            Distribution::Uniform { min_ms, max_ms } => Sampler::Uniform(min_ms, max_ms),
            Distribution::Lognormal { median_ms, p99_ms } => {
                let sigma = Distribution::lognormal_sigma(median_ms, p99_ms);
                match LogNormal::new(median_ms.ln(), sigma) {
                    Ok(d) => Sampler::LogNormal(d),
                    // Validation guarantees a positive median and finite sigma; fall back to the median if not.
                    Err(_) => Sampler::Constant(median_ms),
                }
            }
        }
    }

    #[inline]
    pub(crate) fn sample(&self, rng: &mut SimRng) -> f64 {
        match *self {
            Sampler::Exponential(mean) => {
                let unit: f64 = Exp1.sample(rng);
                unit * mean
            }
            Sampler::Constant(ms) => ms,
            Sampler::Uniform(min, max) => {
                if max > min {
                    rng.random_range(min..max)
                } else {
                    min
                }
            }
            Sampler::LogNormal(d) => d.sample(rng),
        }
    }
}
