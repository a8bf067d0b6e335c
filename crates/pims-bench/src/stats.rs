//! Summaries of recorded samples: percentiles of latencies, medians of repeated rounds.

use std::time::Duration;

/// Recorded latencies of one measured phase, kept sorted.
///
/// ```
/// use std::time::Duration;
/// let l = pims_bench::Latencies::from_nanos(vec![5, 1, 4, 2, 3]);
/// assert_eq!(l.len(), 5);
/// assert_eq!(l.p50(), Duration::from_nanos(3));
/// assert_eq!(l.percentile(100.0), Duration::from_nanos(5));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Latencies {
    sorted_ns: Vec<u64>,
}

impl Latencies {
    /// Latencies from nanosecond samples in any order.
    ///
    /// ```
    /// assert!(pims_bench::Latencies::from_nanos(vec![]).is_empty());
    /// ```
    pub fn from_nanos(mut samples: Vec<u64>) -> Self {
        samples.sort_unstable();
        Latencies { sorted_ns: samples }
    }

    /// How many samples there are.
    ///
    /// ```
    /// assert_eq!(pims_bench::Latencies::from_nanos(vec![1, 2]).len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.sorted_ns.len()
    }

    /// Whether there is no sample.
    ///
    /// ```
    /// assert!(pims_bench::Latencies::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.sorted_ns.is_empty()
    }

    /// The `p`-th percentile (0 to 100) by the nearest-rank method; zero without samples.
    ///
    /// ```
    /// let l = pims_bench::Latencies::from_nanos((1..=100).collect());
    /// assert_eq!(l.percentile(99.0).as_nanos(), 99);
    /// assert_eq!(l.percentile(0.0).as_nanos(), 1);
    /// ```
    pub fn percentile(&self, p: f64) -> Duration {
        let n = self.sorted_ns.len();
        if n == 0 {
            return Duration::ZERO;
        }
        // Nearest rank: the smallest sample with at least p% of the samples at or below it.
        // (the small epsilon keeps 99.9% of 1000 at rank 999 despite floating-point error)
        let rank = ((p.clamp(0.0, 100.0) / 100.0) * n as f64 - 1e-9).ceil() as usize;
        let index = rank.clamp(1, n) - 1;
        Duration::from_nanos(self.sorted_ns[index])
    }

    /// The median.
    ///
    /// ```
    /// assert_eq!(pims_bench::Latencies::from_nanos(vec![1, 9, 5]).p50().as_nanos(), 5);
    /// ```
    pub fn p50(&self) -> Duration {
        self.percentile(50.0)
    }

    /// The 99th percentile.
    ///
    /// ```
    /// assert_eq!(pims_bench::Latencies::from_nanos(vec![7]).p99().as_nanos(), 7);
    /// ```
    pub fn p99(&self) -> Duration {
        self.percentile(99.0)
    }
}

/// The median of repeated measurements (the mean of the two middle ones for an even count);
/// NaN without values.
///
/// ```
/// assert_eq!(pims_bench::median(&[3.0, 1.0, 2.0]), 2.0);
/// assert_eq!(pims_bench::median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
/// assert!(pims_bench::median(&[]).is_nan());
/// ```
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let l = Latencies::from_nanos((1..=1000).rev().collect());
        assert_eq!(l.p50().as_nanos(), 500);
        assert_eq!(l.p99().as_nanos(), 990);
        assert_eq!(l.percentile(99.9).as_nanos(), 999);
        assert_eq!(Latencies::default().p99(), Duration::ZERO);
    }
}
