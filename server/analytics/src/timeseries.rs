//! Time-series anomalies: STL decomposition with MSTICPy's scoring, anomaly periods and a KQL
//! time filter for them.
//!
//! The scoring follows `ts_anomalies_stl` and the periods follow `extract_anomaly_periods` and
//! `create_time_period_kqlfilter` in msticpy 3.0.2, `msticpy/analysis/timeseries.py`.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::stl::{self, StlError, StlParams};

/// Options of [`score_anomalies`], with MSTICPy's defaults from [`AnomalyOptions::default`].
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalyOptions {
    pub stl: StlParams,
    /// Z-score of the residual above which a point is an anomaly.
    pub score_threshold: f64,
    /// Truncate the components to integers before scoring, as MSTICPy does with
    /// `astype("int64")`. Without it the residual keeps its fraction, which matters for series
    /// whose values are small.
    pub truncate_to_integers: bool,
}

impl Default for AnomalyOptions {
    fn default() -> Self {
        AnomalyOptions {
            stl: StlParams::new(24),
            score_threshold: 3.0,
            truncate_to_integers: true,
        }
    }
}

/// One scored observation, with MSTICPy's output columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoredPoint {
    pub time: DateTime<Utc>,
    pub value: f64,
    pub residual: f64,
    pub trend: f64,
    pub seasonal: f64,
    pub weights: f64,
    /// `seasonal + trend`, the expected value.
    pub baseline: f64,
    /// Z-score of the residual; `None` when the residuals have zero variance.
    pub score: Option<f64>,
    /// 1 for a spike, -1 for a dip, 0 otherwise.
    pub anomalies: i8,
}

/// Decomposes `values` with STL and scores each residual as MSTICPy does.
///
/// A point is an anomaly when its score exceeds the threshold. Its direction is the sign of the
/// seasonal component, not of the residual, which is MSTICPy's rule: a high score where the
/// seasonal component is exactly zero is not flagged. Points are sorted by time (stably) before
/// the decomposition, since STL assumes consecutive, evenly spaced observations.
pub fn score_anomalies(
    times: &[DateTime<Utc>],
    values: &[f64],
    options: &AnomalyOptions,
) -> Result<Vec<ScoredPoint>, StlError> {
    assert_eq!(
        times.len(),
        values.len(),
        "times and values must have the same length"
    );
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by_key(|&i| times[i]);
    let sorted_values: Vec<f64> = order.iter().map(|&i| values[i]).collect();

    let parts = stl::decompose(&sorted_values, &options.stl)?;

    let convert = |value: f64| {
        if options.truncate_to_integers {
            value.trunc()
        } else {
            value
        }
    };
    let mut points: Vec<ScoredPoint> = order
        .iter()
        .enumerate()
        .map(|(position, &original)| ScoredPoint {
            time: times[original],
            value: convert(sorted_values[position]),
            residual: convert(parts.residual[position]),
            trend: convert(parts.trend[position]),
            seasonal: convert(parts.seasonal[position]),
            weights: convert(parts.weights[position]),
            baseline: convert(parts.seasonal[position] + parts.trend[position]),
            score: None,
            anomalies: 0,
        })
        .collect();

    let residuals: Vec<f64> = points.iter().map(|point| point.residual).collect();
    let scores = z_scores(&residuals);
    for (point, score) in points.iter_mut().zip(scores) {
        point.score = score;
        if score.is_some_and(|score| score > options.score_threshold) {
            if point.seasonal > 0.0 {
                point.anomalies = 1;
            } else if point.seasonal < 0.0 {
                point.anomalies = -1;
            }
        }
    }
    Ok(points)
}

/// Returns `(x - mean) / std` with the population standard deviation, as `scipy.stats.zscore`
/// does by default, or `None` everywhere when the standard deviation is zero.
fn z_scores(values: &[f64]) -> Vec<Option<f64>> {
    let count = values.len() as f64;
    let mean = values.iter().sum::<f64>() / count;
    let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / count;
    let std = variance.sqrt();
    if std == 0.0 || !std.is_finite() {
        return vec![None; values.len()];
    }
    values.iter().map(|v| Some((v - mean) / std)).collect()
}

/// A time range around one or more adjacent anomalies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AnomalyPeriod {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Groups anomalous points into periods, as MSTICPy's `extract_anomaly_periods` does.
///
/// Anomaly times are floored to buckets of `bucket` length, counted from the Unix epoch (pandas
/// counts from midnight of the first day, which gives the same buckets when `bucket` divides a
/// day). Each bucket opens a period from one bucket before it to one bucket after it. A bucket
/// at most two bucket lengths after the previous anomalous bucket extends the current period
/// instead. With `positive_only`, only spikes count, which is MSTICPy's default.
pub fn anomaly_periods(
    points: &[ScoredPoint],
    bucket: Duration,
    positive_only: bool,
) -> Vec<AnomalyPeriod> {
    assert!(bucket > Duration::zero(), "bucket length must be positive");
    let bucket_ms = bucket.num_milliseconds();
    let mut buckets: Vec<DateTime<Utc>> = points
        .iter()
        .filter(|point| point.anomalies == 1 || (!positive_only && point.anomalies == -1))
        .map(|point| {
            let ms = point.time.timestamp_millis();
            let floored = ms - ms.rem_euclid(bucket_ms);
            DateTime::from_timestamp_millis(floored).expect("floored time is in range")
        })
        .collect();
    buckets.sort();
    buckets.dedup();

    let mut periods: Vec<AnomalyPeriod> = Vec::new();
    let mut previous: Option<DateTime<Utc>> = None;
    for time in buckets {
        match (previous, periods.last_mut()) {
            (Some(previous), Some(current)) if time - previous <= bucket * 2 => {
                current.end = time + bucket;
            }
            _ => periods.push(AnomalyPeriod {
                start: time - bucket,
                end: time + bucket,
            }),
        }
        previous = Some(time);
    }
    periods
}

/// Builds a KQL `where` clause that keeps rows of `time_column` inside any of `periods`, in the
/// form MSTICPy's `create_time_period_kqlfilter` produces, with ISO 8601 datetimes. Returns
/// `None` for no periods, since an empty `where` is not valid KQL.
pub fn kql_time_filter(time_column: &str, periods: &[AnomalyPeriod]) -> Option<String> {
    if periods.is_empty() {
        return None;
    }
    let clauses: Vec<String> = periods
        .iter()
        .map(|period| {
            format!(
                "{time_column} between (datetime({}) .. datetime({}))",
                format_kql_datetime(period.start),
                format_kql_datetime(period.end)
            )
        })
        .collect();
    Some(format!("| where {}", clauses.join(" or ")))
}

fn format_kql_datetime(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hour(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_556_668_800 + h * 3600, 0).unwrap()
    }

    fn point(time: DateTime<Utc>, anomalies: i8) -> ScoredPoint {
        ScoredPoint {
            time,
            value: 0.0,
            residual: 0.0,
            trend: 0.0,
            seasonal: 0.0,
            weights: 1.0,
            baseline: 0.0,
            score: Some(0.0),
            anomalies,
        }
    }

    #[test]
    fn z_scores_use_population_std() {
        let scores = z_scores(&[1.0, 2.0, 3.0, 4.0]);
        let expected = (4.0 - 2.5) / 1.25f64.sqrt();
        assert!((scores[3].unwrap() - expected).abs() < 1e-12);
        assert_eq!(z_scores(&[5.0, 5.0]), vec![None, None]);
    }

    #[test]
    fn adjacent_anomalies_merge_into_one_period() {
        let points = vec![point(hour(10), 1), point(hour(12), 1), point(hour(20), 1)];
        let periods = anomaly_periods(&points, Duration::hours(1), true);
        assert_eq!(
            periods,
            vec![
                AnomalyPeriod {
                    start: hour(9),
                    end: hour(13)
                },
                AnomalyPeriod {
                    start: hour(19),
                    end: hour(21)
                },
            ]
        );
    }

    #[test]
    fn dips_count_only_when_requested() {
        let points = vec![point(hour(3), -1), point(hour(30), 1)];
        assert_eq!(anomaly_periods(&points, Duration::hours(1), true).len(), 1);
        assert_eq!(anomaly_periods(&points, Duration::hours(1), false).len(), 2);
    }

    #[test]
    fn anomaly_times_are_floored_to_buckets() {
        let time = hour(5) + Duration::minutes(42);
        let periods = anomaly_periods(&[point(time, 1)], Duration::hours(1), true);
        assert_eq!(
            periods,
            vec![AnomalyPeriod {
                start: hour(4),
                end: hour(6)
            }]
        );
    }

    #[test]
    fn kql_filter_joins_periods_with_or() {
        let periods = [
            AnomalyPeriod {
                start: hour(0),
                end: hour(2),
            },
            AnomalyPeriod {
                start: hour(5),
                end: hour(7),
            },
        ];
        assert_eq!(
            kql_time_filter("TimeGenerated", &periods).unwrap(),
            "| where TimeGenerated between (datetime(2019-05-01T00:00:00Z) .. \
             datetime(2019-05-01T02:00:00Z)) or TimeGenerated between \
             (datetime(2019-05-01T05:00:00Z) .. datetime(2019-05-01T07:00:00Z))"
        );
        assert_eq!(kql_time_filter("TimeGenerated", &[]), None);
    }
}
