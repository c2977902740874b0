//! Summaries of repeated measurements.

/// The median (the mean of the middle two when there are an even number); `NaN` for none.
pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[mid],
        _ => (xs[mid - 1] + xs[mid]) / 2.0,
    }
}

/// The nearest-rank percentile `p` (0 to 1) of `sorted`: the smallest value with at least
/// `p` of the samples at or below it. `sorted` must not be empty.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let rank = (1..=n).find(|r| *r as f64 >= p * n as f64).unwrap_or(n);
    sorted[rank.saturating_sub(1)]
}

/// The median of `bytes` (the mean of the middle two when there are an even number).
pub(crate) fn median_bytes(mut bytes: Vec<u64>) -> Option<u64> {
    bytes.sort_unstable();
    let n = bytes.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(bytes[n / 2]),
        _ => Some(bytes[n / 2 - 1] / 2 + bytes[n / 2] / 2),
    }
}

/// `bytes` in whole MiB, or `n/a`.
pub(crate) fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "n/a".into(), |b| format!("{} MiB", b >> 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }

    #[test]
    fn a_percentile_is_the_nearest_rank() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 0.50), 50.0);
        assert_eq!(percentile(&sorted, 0.99), 99.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
    }

    #[test]
    fn the_median_of_byte_counts_is_the_middle_one_or_the_mean_of_the_middle_two() {
        assert_eq!(median_bytes(vec![]), None);
        assert_eq!(median_bytes(vec![7]), Some(7));
        assert_eq!(median_bytes(vec![9, 1, 5]), Some(5));
        assert_eq!(median_bytes(vec![10, 2, 4, 100]), Some(7));
        assert_eq!(median_bytes(vec![u64::MAX, u64::MAX]), Some(u64::MAX - 1));
    }
}
