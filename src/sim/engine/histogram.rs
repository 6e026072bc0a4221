//! Compact histograms for the per-service and per-call latencies (sojourn, call latency, message lag).
//!
//! A design has a few flows but thousands of services and calls, each recording on every hop, so these are the
//! statistics' hot path. They keep HdrHistogram's layout for 2 significant digits (unit 1 µs; below 256 µs one
//! bucket per microsecond, above it 128 buckets per power of two, so a value is known within 1/128 = 0.8%) and its
//! way of reading quantiles, mean and maximum, so a report is the same as HdrHistogram's to the last digit (tested
//! against it). What differs is the cost of recording: a value's bucket number is computed with a few integer
//! operations and appended to a batch of 32 that lives in the histogram itself (one cache line), and the counts are
//! touched only when the batch is full. On a large design the counts (a few KiB per part, together far beyond the
//! caches) are then loaded once per 32 values, not once per value.

use super::stats::to_us;
use crate::sim::report::LatencyStats;

/// log2 of the buckets per power of two above 256 µs (128: 2 significant digits).
const HALF_MAGNITUDE: u32 = 7;
/// Buckets per power of two above 256 µs.
const HALF: u64 = 1 << HALF_MAGNITUDE;
/// Values below 256 µs all fall in the first, linear, range.
const FIRST_RANGE_MASK: u64 = 2 * HALF - 1;
/// 64 less the bits of the first range: `LEADING_ZEROS_BASE - leading_zeros(v | mask)` is the power of two above
/// the first range a value falls in.
const LEADING_ZEROS_BASE: u32 = 64 - (HALF_MAGNITUDE + 1);
/// Values gathered before they are counted.
const BATCH: usize = 32;

/// A latency histogram of microseconds (values are given in milliseconds), 2 significant digits.
#[derive(Debug, Clone)]
pub(crate) struct PartHistogram {
    /// Count per bucket, grown to the largest bucket seen.
    counts: Vec<u32>,
    /// Values counted (those in `pending` not yet).
    total: u64,
    /// The largest value recorded, in µs.
    max_us: u64,
    /// Bucket numbers of values not yet counted. The largest value (10^12 µs) is bucket 4,328, so they fit in u16.
    pending: [u16; BATCH],
    pending_len: u8,
}

/// The power of two above the first range that a value in µs falls in (0 for the first range).
#[inline]
fn range_of(us: u64) -> u32 {
    LEADING_ZEROS_BASE - (us | FIRST_RANGE_MASK).leading_zeros()
}

/// The bucket of a value in µs.
#[inline]
fn bucket_of(us: u64) -> usize {
    let range = range_of(us);
    // In range r > 0 the value shifted right by r lies in [128, 256): the bucket is the range's base plus the
    // offset above 128. In the first range the value itself is the bucket.
    (((u64::from(range) + 1) << HALF_MAGNITUDE) + (us >> range) - HALF) as usize
}

/// The lowest value of a bucket, in µs.
fn bucket_low(bucket: usize) -> u64 {
    let bucket = bucket as u64;
    let half_index = bucket >> HALF_MAGNITUDE;
    let offset = bucket & (HALF - 1);
    if half_index == 0 {
        offset
    } else {
        (offset + HALF) << (half_index - 1)
    }
}

/// The lowest value in µs, and the width, of the bucket a value falls in.
fn equivalent_range(us: u64) -> (u64, u64) {
    let range = range_of(us);
    ((us >> range) << range, 1 << range)
}

/// The highest value equivalent to `us` (the last of its bucket), as HdrHistogram reports quantiles and maxima.
fn highest_equivalent(us: u64) -> u64 {
    let (low, width) = equivalent_range(us);
    low + width - 1
}

/// The middle of the bucket of `us` (rounded up), as HdrHistogram weighs each bucket in the mean.
fn median_equivalent(us: u64) -> u64 {
    let (low, width) = equivalent_range(us);
    low + (width >> 1)
}

impl PartHistogram {
    /// An empty histogram (no memory for counts until values arrive).
    pub(crate) fn new() -> Self {
        Self {
            counts: Vec::new(),
            total: 0,
            max_us: 0,
            pending: [0; BATCH],
            pending_len: 0,
        }
    }

    /// Records a latency in milliseconds (rounded to whole microseconds, at least 1 µs).
    #[inline]
    pub(crate) fn record(&mut self, ms: f64) {
        let us = to_us(ms);
        self.max_us = self.max_us.max(us);
        // Bucket numbers are below 4,400 for the largest value `to_us` gives, so the narrowing is exact.
        self.pending[usize::from(self.pending_len)] = bucket_of(us) as u16;
        self.pending_len += 1;
        if usize::from(self.pending_len) == BATCH {
            self.flush();
        }
    }

    /// Records `count` zero latencies (as 1 µs, the floor).
    pub(crate) fn record_zeros(&mut self, count: u64) {
        if count == 0 {
            return;
        }
        // Counts are u32; a larger count saturates, as any count at the limit does.
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        self.count(bucket_of(1), count);
        self.max_us = self.max_us.max(1);
    }

    #[inline]
    fn count(&mut self, bucket: usize, count: u32) {
        if bucket >= self.counts.len() {
            // Grow to the end of the bucket's power of two, exactly: thousands of these are alive at once.
            let len = (bucket | (HALF as usize - 1)) + 1;
            self.counts.reserve_exact(len - self.counts.len());
            self.counts.resize(len, 0);
        }
        self.counts[bucket] = self.counts[bucket].saturating_add(count);
        self.total += u64::from(count);
    }

    #[inline(never)]
    fn flush(&mut self) {
        let pending = self.pending;
        for &bucket in &pending[..usize::from(self.pending_len)] {
            self.count(usize::from(bucket), 1);
        }
        self.pending_len = 0;
    }

    /// Values recorded.
    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.total + u64::from(self.pending_len)
    }

    /// Mean, median, p95, p99 and maximum in milliseconds, read as HdrHistogram reads them: a quantile is the
    /// highest value of the bucket where the count reaches it, the mean weighs each bucket by its middle.
    pub(crate) fn stats(&mut self) -> LatencyStats {
        self.flush();
        if self.total == 0 {
            return LatencyStats::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        let total = self.total as f64;
        let mean_us = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .fold(0.0_f64, |sum, (bucket, &count)| {
                sum + median_equivalent(bucket_low(bucket)) as f64 * f64::from(count) / total
            });
        LatencyStats {
            mean: mean_us / 1000.0,
            p50: ms(self.value_at_quantile(0.50)),
            p95: ms(self.value_at_quantile(0.95)),
            p99: ms(self.value_at_quantile(0.99)),
            max: ms(highest_equivalent(self.max_us)),
        }
    }

    fn value_at_quantile(&self, quantile: f64) -> u64 {
        let wanted = ((quantile.min(1.0) * self.total as f64).ceil() as u64).max(1);
        let mut so_far = 0u64;
        for (bucket, &count) in self.counts.iter().enumerate() {
            so_far += u64::from(count);
            if so_far >= wanted {
                return highest_equivalent(bucket_low(bucket));
            }
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::engine::stats::{PART_HISTOGRAM_DIGITS, new_histogram, record};
    use proptest::prelude::*;

    #[test]
    fn buckets_are_hdr_histograms_with_two_digits() {
        // Spot values: the linear first range, the first power of two above it, and the largest value.
        assert_eq!(bucket_of(1), 1);
        assert_eq!(bucket_of(255), 255);
        assert_eq!(bucket_of(256), 256);
        assert_eq!(bucket_of(257), 256);
        assert_eq!(bucket_of(511), 383);
        assert_eq!(bucket_of(512), 384);
        assert!(bucket_of(1_000_000_000_000) < usize::from(u16::MAX));
        for bucket in [0, 1, 255, 256, 300, 383, 384, 4000] {
            assert_eq!(bucket_of(bucket_low(bucket)), bucket, "bucket {bucket}");
        }
    }

    #[test]
    fn an_empty_histogram_reports_zeros() {
        assert_eq!(PartHistogram::new().stats(), LatencyStats::default());
    }

    proptest! {
        /// The report of any set of values (latencies from a microsecond to hours, some zero) is HdrHistogram's.
        #[test]
        fn reports_what_hdr_histogram_reports(
            values in proptest::collection::vec(
                prop_oneof![Just(0.0), 0.0..1.0f64, 0.0..300.0f64, 0.0..10_000_000.0f64], 0..300),
            zeros in 0u64..50,
        ) {
            let mut ours = PartHistogram::new();
            let mut theirs = new_histogram(PART_HISTOGRAM_DIGITS);
            for &ms in &values {
                ours.record(ms);
                record(&mut theirs, ms);
            }
            ours.record_zeros(zeros);
            crate::sim::engine::stats::record_zeros(&mut theirs, zeros);
            prop_assert_eq!(ours.len(), theirs.len());
            prop_assert_eq!(ours.stats(), LatencyStats::from_histogram(&theirs));
        }
    }
}
