//! Series functions of KQL on plain `f64` slices, where `None` is a missing value: the
//! statistics, fills, element-wise arithmetic, FIR filters, and the decomposition and
//! anomaly detection of `series_decompose()` and `series_decompose_anomalies()`.
//!
//! The definitions follow Microsoft's Kusto documentation of each function (learn.microsoft.com,
//! "series_stats()", "series_fill_linear()", "series_fir()", "series_decompose()" and
//! "series_decompose_anomalies()"). Where that documentation leaves a step open, the module
//! says which choice it makes.

/// The summary of `series_stats()`. `None` fields mean the series had no values.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesStats {
    pub min: Option<f64>,
    pub min_idx: Option<usize>,
    pub max: Option<f64>,
    pub max_idx: Option<usize>,
    pub avg: Option<f64>,
    /// The sample variance, with `n - 1` in the denominator.
    pub variance: Option<f64>,
    /// The sample standard deviation.
    pub stdev: Option<f64>,
}

/// Computes `series_stats()` over the non-missing, non-NaN values. The first position wins a
/// tie for the minimum or the maximum.
pub fn stats(series: &[Option<f64>]) -> SeriesStats {
    let values: Vec<(usize, f64)> = series
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.filter(|x| !x.is_nan()).map(|x| (i, x)))
        .collect();
    let mut result = SeriesStats {
        min: None,
        min_idx: None,
        max: None,
        max_idx: None,
        avg: None,
        variance: None,
        stdev: None,
    };
    if values.is_empty() {
        return result;
    }
    let (mut min_idx, mut min) = values[0];
    let (mut max_idx, mut max) = values[0];
    for &(i, x) in &values[1..] {
        if x < min {
            (min_idx, min) = (i, x);
        }
        if x > max {
            (max_idx, max) = (i, x);
        }
    }
    let n = values.len() as f64;
    let avg = values.iter().map(|(_, x)| x).sum::<f64>() / n;
    let variance = if values.len() > 1 {
        values.iter().map(|(_, x)| (x - avg).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    result.min = Some(min);
    result.min_idx = Some(min_idx);
    result.max = Some(max);
    result.max_idx = Some(max_idx);
    result.avg = Some(avg);
    result.variance = Some(variance);
    result.stdev = Some(variance.sqrt());
    result
}

/// Replaces missing values with `constant` (`series_fill_const()`).
pub fn fill_const(series: &[Option<f64>], constant: f64) -> Vec<Option<f64>> {
    series.iter().map(|v| Some(v.unwrap_or(constant))).collect()
}

/// Replaces each missing value with the last value before it (`series_fill_forward()`).
/// Missing values at the start stay missing.
pub fn fill_forward(series: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut last = None;
    series
        .iter()
        .map(|v| {
            if v.is_some() {
                last = *v;
            }
            last
        })
        .collect()
}

/// Replaces each missing value with the first value after it (`series_fill_backward()`).
/// Missing values at the end stay missing.
pub fn fill_backward(series: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut reversed: Vec<Option<f64>> = series.iter().rev().copied().collect();
    reversed = fill_forward(&reversed);
    reversed.reverse();
    reversed
}

/// Interpolates missing values linearly between their neighbors (`series_fill_linear()`).
/// With `fill_edges`, missing values before the first and after the last value take that
/// value; otherwise they stay missing. A series without values is returned as it is.
pub fn fill_linear(series: &[Option<f64>], fill_edges: bool) -> Vec<Option<f64>> {
    let known: Vec<(usize, f64)> = series
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|x| (i, x)))
        .collect();
    let (Some(&(first_i, first)), Some(&(last_i, last))) = (known.first(), known.last()) else {
        return series.to_vec();
    };
    let mut out = series.to_vec();
    for pair in known.windows(2) {
        let ((a, ya), (b, yb)) = (pair[0], pair[1]);
        for (i, slot) in out.iter_mut().enumerate().take(b).skip(a + 1) {
            let t = (i - a) as f64 / (b - a) as f64;
            *slot = Some(ya + t * (yb - ya));
        }
    }
    if fill_edges {
        for slot in out.iter_mut().take(first_i) {
            *slot = Some(first);
        }
        for slot in out.iter_mut().skip(last_i + 1) {
            *slot = Some(last);
        }
    }
    out
}

/// Applies `op` element by element (`series_add()` and the like). The result is as long as
/// the longer series, and a position missing in either is missing in the result.
pub fn elementwise(
    a: &[Option<f64>],
    b: &[Option<f64>],
    op: impl Fn(f64, f64) -> f64,
) -> Vec<Option<f64>> {
    let length = a.len().max(b.len());
    (0..length)
        .map(
            |i| match (a.get(i).copied().flatten(), b.get(i).copied().flatten()) {
                (Some(x), Some(y)) => Some(op(x, y)),
                _ => None,
            },
        )
        .collect()
}

/// Applies a finite impulse response filter (`series_fir()`): `y[i]` is the sum of
/// `filter[j] * x[i - j]`. With `normalize`, the filter is divided by its sum first; with
/// `center`, the window is centered on `i` instead of ending at it. Values outside the series
/// and missing values count as 0.
pub fn fir(series: &[Option<f64>], filter: &[f64], normalize: bool, center: bool) -> Vec<f64> {
    let total: f64 = filter.iter().sum();
    let weights: Vec<f64> = if normalize && total != 0.0 {
        filter.iter().map(|w| w / total).collect()
    } else {
        filter.to_vec()
    };
    let shift = if center {
        (filter.len() / 2) as isize
    } else {
        0
    };
    (0..series.len())
        .map(|i| {
            weights
                .iter()
                .enumerate()
                .map(|(j, w)| {
                    let position = i as isize - j as isize + shift;
                    let value = usize::try_from(position)
                        .ok()
                        .and_then(|p| series.get(p).copied().flatten())
                        .unwrap_or(0.0);
                    w * value
                })
                .sum()
        })
        .collect()
}

/// The output of `series_fit_line()`.
#[derive(Debug, Clone, PartialEq)]
pub struct LineFit {
    /// The coefficient of determination, from 0 to 1.
    pub rsquare: f64,
    pub slope: f64,
    /// The sample variance of the input.
    pub variance: f64,
    /// The sample variance of the residuals.
    pub rvariance: f64,
    /// The line's value at position 0.
    pub interception: f64,
    pub line_fit: Vec<f64>,
}

/// Fits a least-squares line through `(i, x[i])` (`series_fit_line()`). Missing values are
/// filled linearly first.
pub fn fit_line(series: &[Option<f64>]) -> LineFit {
    let y: Vec<f64> = fill_linear(series, true)
        .into_iter()
        .map(|v| v.unwrap_or(0.0))
        .collect();
    let line = line_fit(&y);
    let n = y.len() as f64;
    let mean = if y.is_empty() {
        0.0
    } else {
        y.iter().sum::<f64>() / n
    };
    let total: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    let residual: f64 = y.iter().zip(&line).map(|(v, l)| (v - l).powi(2)).sum();
    let denominator = (n - 1.0).max(1.0);
    LineFit {
        rsquare: if total == 0.0 {
            1.0
        } else {
            1.0 - residual / total
        },
        slope: if line.len() >= 2 {
            line[1] - line[0]
        } else {
            0.0
        },
        variance: total / denominator,
        rvariance: residual / denominator,
        interception: line.first().copied().unwrap_or(0.0),
        line_fit: line,
    }
}

/// The trend model of `series_decompose()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    /// A least-squares line.
    LineFit,
    /// The mean of the series.
    Average,
    /// No trend: the trend component is 0.
    None,
}

impl Trend {
    /// Parses Kusto's names `linefit`, `avg` and `none`.
    pub fn parse(name: &str) -> Option<Trend> {
        match name {
            "linefit" => Some(Trend::LineFit),
            "avg" => Some(Trend::Average),
            "none" => Some(Trend::None),
            _ => None,
        }
    }
}

/// The components of `series_decompose()`; `baseline` is `seasonal + trend`.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesDecomposition {
    pub baseline: Vec<f64>,
    pub seasonal: Vec<f64>,
    pub trend: Vec<f64>,
    pub residual: Vec<f64>,
    /// The period used for the seasonal component; `None` when there is none.
    pub period: Option<usize>,
}

/// Returns the least-squares line through `(i, y[i])` evaluated at each position.
fn line_fit(y: &[f64]) -> Vec<f64> {
    let n = y.len() as f64;
    if y.len() < 2 {
        return y.to_vec();
    }
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = y.iter().sum::<f64>() / n;
    let mut covariance = 0.0;
    let mut variance = 0.0;
    for (i, value) in y.iter().enumerate() {
        let dx = i as f64 - mean_x;
        covariance += dx * (value - mean_y);
        variance += dx * dx;
    }
    let slope = covariance / variance;
    (0..y.len())
        .map(|i| mean_y + slope * (i as f64 - mean_x))
        .collect()
}

/// Finds the period whose autocorrelation is highest, from 2 to a third of the length, and
/// returns it when that autocorrelation reaches `threshold`.
// NOTE: Kusto detects periods with `series_periods_detect()`, whose exact scoring is not
// published; this autocorrelation test is an approximation that finds clear periods.
pub fn detect_period(y: &[f64], threshold: f64) -> Option<usize> {
    let n = y.len();
    if n < 6 {
        return None;
    }
    let mean = y.iter().sum::<f64>() / n as f64;
    let denominator: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    if denominator == 0.0 {
        return None;
    }
    let mut best: Option<(usize, f64)> = None;
    for lag in 2..=n / 3 {
        let numerator: f64 = (0..n - lag)
            .map(|i| (y[i] - mean) * (y[i + lag] - mean))
            .sum();
        let correlation = numerator / denominator;
        if best.is_none_or(|(_, b)| correlation > b) {
            best = Some((lag, correlation));
        }
    }
    best.filter(|(_, c)| *c >= threshold).map(|(lag, _)| lag)
}

/// Decomposes a series into trend, seasonal and residual parts (`series_decompose()`).
///
/// Missing values are first filled linearly. `seasonality` is the period: `None` detects it
/// with [`detect_period`] and `Some(0)` means no seasonal part. The trend is fitted on the
/// first `length - test_points` values and extended over the test points. The seasonal part
/// is the mean of the detrended values at each phase of the period.
pub fn decompose(
    series: &[Option<f64>],
    seasonality: Option<usize>,
    trend: Trend,
    test_points: usize,
    seasonality_threshold: f64,
) -> SeriesDecomposition {
    let filled: Vec<f64> = fill_linear(series, true)
        .into_iter()
        .map(|v| v.unwrap_or(0.0))
        .collect();
    let n = filled.len();
    let train = n.saturating_sub(test_points).max(1).min(n);
    let trend_values: Vec<f64> = match trend {
        Trend::None => vec![0.0; n],
        Trend::Average => {
            let mean = filled[..train].iter().sum::<f64>() / train.max(1) as f64;
            vec![mean; n]
        }
        Trend::LineFit => {
            let fitted = line_fit(&filled[..train]);
            if train >= 2 {
                let slope = fitted[1] - fitted[0];
                (0..n).map(|i| fitted[0] + slope * i as f64).collect()
            } else {
                vec![fitted.first().copied().unwrap_or(0.0); n]
            }
        }
    };
    let detrended: Vec<f64> = filled
        .iter()
        .zip(&trend_values)
        .map(|(y, t)| y - t)
        .collect();
    let period = match seasonality {
        None => detect_period(&detrended[..train], seasonality_threshold),
        Some(0) | Some(1) => None,
        Some(p) => Some(p),
    };
    let seasonal: Vec<f64> = match period {
        None => vec![0.0; n],
        Some(p) => {
            let mut sums = vec![0.0; p];
            let mut counts = vec![0usize; p];
            for (i, value) in detrended[..train].iter().enumerate() {
                sums[i % p] += value;
                counts[i % p] += 1;
            }
            let means: Vec<f64> = sums
                .iter()
                .zip(&counts)
                .map(|(s, c)| if *c == 0 { 0.0 } else { s / *c as f64 })
                .collect();
            (0..n).map(|i| means[i % p]).collect()
        }
    };
    let baseline: Vec<f64> = seasonal
        .iter()
        .zip(&trend_values)
        .map(|(s, t)| s + t)
        .collect();
    let residual: Vec<f64> = filled.iter().zip(&baseline).map(|(y, b)| y - b).collect();
    SeriesDecomposition {
        baseline,
        seasonal,
        trend: trend_values,
        residual,
        period,
    }
}

/// Returns the `p`-th percentile (0 to 100) of `values` with linear interpolation between
/// the closest ranks.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let low = rank.floor() as usize;
    let high = rank.ceil() as usize;
    sorted[low] + (rank - low as f64) * (sorted[high] - sorted[low])
}

/// Scores each value with Tukey's fence test: 0 inside the range from the `low` to the `high`
/// percentile, otherwise the distance beyond that range in units of its width. The standard
/// test uses 25 and 75; Kusto's `ctukey` uses 10 and 90.
pub fn tukey_scores(values: &[f64], low: f64, high: f64) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let q1 = percentile(&sorted, low);
    let q3 = percentile(&sorted, high);
    let width = q3 - q1;
    values
        .iter()
        .map(|&v| {
            if width <= 0.0 {
                // A flat range: any value off it is an outlier of unbounded size.
                return if v > q3 {
                    f64::INFINITY
                } else if v < q1 {
                    f64::NEG_INFINITY
                } else {
                    0.0
                };
            }
            if v > q3 {
                (v - q3) / width
            } else if v < q1 {
                (v - q1) / width
            } else {
                0.0
            }
        })
        .collect()
}

/// The output of `series_decompose_anomalies()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomalies {
    /// +1 for a spike, -1 for a dip, 0 otherwise.
    pub flags: Vec<i64>,
    pub scores: Vec<f64>,
    pub baseline: Vec<f64>,
}

/// Finds anomalies in the residual of [`decompose`] with Tukey's fence test: a value whose
/// score is above `threshold` is a spike and one below `-threshold` a dip. `custom_tukey`
/// selects the 10-90 percentile range (`ctukey`, Kusto's default) over 25-75 (`tukey`).
/// Only the test points are flagged when `test_points` is positive.
pub fn decompose_anomalies(
    series: &[Option<f64>],
    threshold: f64,
    seasonality: Option<usize>,
    trend: Trend,
    test_points: usize,
    custom_tukey: bool,
    seasonality_threshold: f64,
) -> Anomalies {
    let parts = decompose(
        series,
        seasonality,
        trend,
        test_points,
        seasonality_threshold,
    );
    let (low, high) = if custom_tukey {
        (10.0, 90.0)
    } else {
        (25.0, 75.0)
    };
    let scores = tukey_scores(&parts.residual, low, high);
    let first_tested = if test_points > 0 {
        series.len().saturating_sub(test_points)
    } else {
        0
    };
    let flags = scores
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            if i < first_tested {
                0
            } else if s > threshold {
                1
            } else if s < -threshold {
                -1
            } else {
                0
            }
        })
        .collect();
    Anomalies {
        flags,
        scores,
        baseline: parts.baseline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(values: &[f64]) -> Vec<Option<f64>> {
        values.iter().copied().map(Some).collect()
    }

    #[test]
    fn stats_of_small_series() {
        let result = stats(&[Some(2.0), None, Some(6.0), Some(4.0)]);
        assert_eq!(result.min, Some(2.0));
        assert_eq!(result.min_idx, Some(0));
        assert_eq!(result.max, Some(6.0));
        assert_eq!(result.max_idx, Some(2));
        assert_eq!(result.avg, Some(4.0));
        // Sample variance of 2, 6, 4: ((4 + 4 + 0) / 2) = 4.
        assert_eq!(result.variance, Some(4.0));
        assert_eq!(result.stdev, Some(2.0));
        assert_eq!(stats(&[None]).avg, None);
    }

    #[test]
    fn fills() {
        let series = [None, Some(1.0), None, None, Some(4.0), None];
        assert_eq!(
            fill_linear(&series, true),
            some(&[1.0, 1.0, 2.0, 3.0, 4.0, 4.0])
        );
        assert_eq!(
            fill_linear(&series, false),
            vec![None, Some(1.0), Some(2.0), Some(3.0), Some(4.0), None]
        );
        assert_eq!(
            fill_forward(&series),
            vec![None, Some(1.0), Some(1.0), Some(1.0), Some(4.0), Some(4.0)]
        );
        assert_eq!(
            fill_backward(&series),
            vec![Some(1.0), Some(1.0), Some(4.0), Some(4.0), Some(4.0), None]
        );
        assert_eq!(fill_const(&series, 0.0)[0], Some(0.0));
    }

    #[test]
    fn fir_moving_sum_and_average() {
        let series = some(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(
            fir(&series, &[1.0, 1.0], false, false),
            vec![1.0, 3.0, 5.0, 7.0]
        );
        assert_eq!(
            fir(&series, &[1.0, 1.0], true, false),
            vec![0.5, 1.5, 2.5, 3.5]
        );
        // Centered 3-point sum: x[i-1] + x[i] + x[i+1].
        assert_eq!(
            fir(&series, &[1.0, 1.0, 1.0], false, true),
            vec![3.0, 6.0, 9.0, 7.0]
        );
    }

    #[test]
    fn elementwise_pads_with_missing() {
        let sum = elementwise(&some(&[1.0, 2.0]), &some(&[10.0, 20.0, 30.0]), |a, b| a + b);
        assert_eq!(sum, vec![Some(11.0), Some(22.0), None]);
    }

    #[test]
    fn line_trend_without_season() {
        let series = some(&[1.0, 3.0, 5.0, 7.0, 9.0, 11.0]);
        let parts = decompose(&series, Some(0), Trend::LineFit, 0, 0.6);
        for (t, expected) in parts.trend.iter().zip([1.0, 3.0, 5.0, 7.0, 9.0, 11.0]) {
            assert!((t - expected).abs() < 1e-9, "{t} vs {expected}");
        }
        assert!(parts.residual.iter().all(|r| r.abs() < 1e-9));
    }

    #[test]
    fn seasonal_means_per_phase() {
        // Period 3 with values 0, 3, 6 around a flat level, repeated four times.
        let series = some(&[0.0, 3.0, 6.0, 0.0, 3.0, 6.0, 0.0, 3.0, 6.0, 0.0, 3.0, 6.0]);
        let parts = decompose(&series, None, Trend::Average, 0, 0.6);
        assert_eq!(parts.period, Some(3));
        assert!((parts.seasonal[1] - 0.0).abs() < 1e-9);
        assert!((parts.seasonal[2] - 3.0).abs() < 1e-9);
        assert!(parts.residual.iter().all(|r| r.abs() < 1e-9));
    }

    #[test]
    fn spike_is_flagged() {
        let mut values = vec![10.0, 11.0, 10.0, 12.0, 10.0, 11.0, 10.0, 12.0];
        values.extend([10.0, 11.0, 90.0, 11.0, 10.0, 12.0, 10.0, 11.0]);
        let result = decompose_anomalies(&some(&values), 1.5, None, Trend::LineFit, 0, true, 0.6);
        assert_eq!(result.flags[10], 1);
        assert_eq!(result.flags.iter().filter(|f| **f != 0).count(), 1);
        assert!(result.scores[10] > 1.5);
    }

    #[test]
    fn line_fit_of_exact_line() {
        let fit = fit_line(&some(&[1.0, 3.0, 5.0, 7.0]));
        assert!((fit.slope - 2.0).abs() < 1e-12);
        assert!((fit.interception - 1.0).abs() < 1e-12);
        assert!((fit.rsquare - 1.0).abs() < 1e-12);
        assert!(fit.rvariance.abs() < 1e-12);
    }

    #[test]
    fn tukey_scores_in_range_widths() {
        let scores = tukey_scores(&[1.0, 2.0, 3.0, 4.0, 5.0], 25.0, 75.0);
        // Q1 = 2, Q3 = 4, width 2: 5 is (5 - 4) / 2 = 0.5 beyond the range.
        assert_eq!(scores, vec![-0.5, 0.0, 0.0, 0.0, 0.5]);
    }
}
