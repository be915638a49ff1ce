//! Series functions on dynamic arrays of numbers, computed by `quarry_analytics::series`.

use quarry_analytics::series::{self as math, Trend};
use serde_json::{Map, Value as Json};

use super::Call;
use super::dynamic::as_json;
use crate::EngineError;
use crate::eval::expr::Compiled;
use crate::eval::types::KqlType;
use crate::eval::value::Value;

pub(super) fn compile(call: &Call<'_>) -> Option<Result<Compiled, EngineError>> {
    let component = call.component.unwrap_or(0);
    let result = match call.name {
        "series_stats_dynamic" => call.arity(1, 2).map(|()| {
            call.row(KqlType::Dynamic, |v| {
                let Some(series) = numbers(v[0]) else {
                    return Value::Null;
                };
                Value::Dynamic(stats_bag(&math::stats(&series)))
            })
        }),
        "series_fill_const" => call.arity(1, 3).map(|()| {
            call.row(KqlType::Dynamic, |v| {
                let constant = v.get(1).and_then(|c| c.to_real()).unwrap_or(0.0);
                unary(v[0], |s| math::fill_const(s, constant))
            })
        }),
        "series_fill_forward" => call
            .arity(1, 2)
            .map(|()| call.row(KqlType::Dynamic, |v| unary(v[0], math::fill_forward))),
        "series_fill_backward" => call
            .arity(1, 2)
            .map(|()| call.row(KqlType::Dynamic, |v| unary(v[0], math::fill_backward))),
        "series_fill_linear" => call.arity(1, 4).map(|()| {
            call.row(KqlType::Dynamic, |v| {
                let fill_edges = !matches!(v.get(2), Some(Value::Bool(false)));
                unary(v[0], |s| math::fill_linear(s, fill_edges))
            })
        }),
        "series_add" | "series_subtract" | "series_multiply" | "series_divide" => {
            call.arity(2, 2).map(|()| {
                let operation = call.name.to_owned();
                call.row(KqlType::Dynamic, move |v| {
                    let op: fn(f64, f64) -> f64 = match operation.as_str() {
                        "series_add" => |a, b| a + b,
                        "series_subtract" => |a, b| a - b,
                        "series_multiply" => |a, b| a * b,
                        _ => |a, b| a / b,
                    };
                    // A scalar operand applies to every element of the other.
                    let (a, b) = match (numbers(v[0]), numbers(v[1])) {
                        (Some(a), Some(b)) => (a, b),
                        (Some(a), None) => match v[1].to_real() {
                            Some(x) => {
                                let b = vec![Some(x); a.len()];
                                (a, b)
                            }
                            None => return Value::Null,
                        },
                        (None, Some(b)) => match v[0].to_real() {
                            Some(x) => (vec![Some(x); b.len()], b),
                            None => return Value::Null,
                        },
                        (None, None) => return Value::Null,
                    };
                    array(&math::elementwise(&a, &b, op))
                })
            })
        }
        "series_fir" => call.arity(2, 4).map(|()| {
            call.row(KqlType::Dynamic, |v| {
                let (Some(series), Some(filter)) = (numbers(v[0]), numbers(v[1])) else {
                    return Value::Null;
                };
                let filter: Vec<f64> = filter.into_iter().map(|w| w.unwrap_or(0.0)).collect();
                let normalize = !matches!(v.get(2), Some(Value::Bool(false)));
                let center = matches!(v.get(3), Some(Value::Bool(true)));
                let output = math::fir(&series, &filter, normalize, center);
                array(&output.into_iter().map(Some).collect::<Vec<_>>())
            })
        }),
        "series_fit_line" => call.arity(1, 1).map(|()| {
            call.row(KqlType::Dynamic, move |v| {
                let Some(series) = numbers(v[0]) else {
                    return Value::Null;
                };
                let fit = math::fit_line(&series);
                let number =
                    |x: f64| serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number);
                match component {
                    0 => Value::Dynamic(number(fit.rsquare)),
                    1 => Value::Dynamic(number(fit.slope)),
                    2 => Value::Dynamic(number(fit.variance)),
                    3 => Value::Dynamic(number(fit.rvariance)),
                    4 => Value::Dynamic(number(fit.interception)),
                    _ => array(&fit.line_fit.into_iter().map(Some).collect::<Vec<_>>()),
                }
            })
        }),
        "series_decompose" => call.arity(1, 5).and_then(|()| {
            let options = DecomposeOptions::read(call, 1)?;
            Ok(call.row(KqlType::Dynamic, move |v| {
                let Some(series) = numbers(v[0]) else {
                    return Value::Null;
                };
                let parts = math::decompose(
                    &series,
                    options.seasonality,
                    options.trend,
                    options.test_points,
                    options.seasonality_threshold,
                );
                let chosen = match component {
                    0 => parts.baseline,
                    1 => parts.seasonal,
                    2 => parts.trend,
                    _ => parts.residual,
                };
                array(&chosen.into_iter().map(Some).collect::<Vec<_>>())
            }))
        }),
        "series_decompose_anomalies" => call.arity(1, 7).and_then(|()| {
            let threshold = match call.args.get(1) {
                Some(_) => constant_real(call, 1, "threshold")?,
                None => 1.5,
            };
            let options = DecomposeOptions::read(call, 2)?;
            let custom_tukey = match call.args.get(5) {
                None => true,
                Some(_) => match call.constant_string(5, "method")?.as_str() {
                    "ctukey" => true,
                    "tukey" => false,
                    other => {
                        return Err(EngineError::at(
                            format!("unknown method {other:?}; use \"ctukey\" or \"tukey\""),
                            call.ranges[5].clone(),
                        ));
                    }
                },
            };
            Ok(call.row(KqlType::Dynamic, move |v| {
                let Some(series) = numbers(v[0]) else {
                    return Value::Null;
                };
                let result = math::decompose_anomalies(
                    &series,
                    threshold,
                    options.seasonality,
                    options.trend,
                    options.test_points,
                    custom_tukey,
                    options.seasonality_threshold,
                );
                match component {
                    0 => Value::Dynamic(Json::Array(
                        result.flags.into_iter().map(Json::from).collect(),
                    )),
                    1 => array(&result.scores.into_iter().map(Some).collect::<Vec<_>>()),
                    _ => array(&result.baseline.into_iter().map(Some).collect::<Vec<_>>()),
                }
            }))
        }),
        _ => return None,
    };
    Some(result)
}

/// The optional arguments `seasonality, trend, test_points, seasonality_threshold` shared by
/// `series_decompose()` and `series_decompose_anomalies()`.
#[derive(Clone, Copy)]
struct DecomposeOptions {
    seasonality: Option<usize>,
    trend: Trend,
    test_points: usize,
    seasonality_threshold: f64,
}

impl DecomposeOptions {
    /// Reads the options from argument `first` on; missing ones take Kusto's defaults.
    fn read(call: &Call<'_>, first: usize) -> Result<DecomposeOptions, EngineError> {
        let seasonality = match call.args.get(first) {
            None => None,
            Some(_) => match call.constant_long(first, "seasonality")? {
                -1 => None,
                n if n >= 0 => Some(n as usize),
                _ => {
                    return Err(EngineError::at(
                        "seasonality must be -1 (detect), 0 (none) or a period",
                        call.ranges[first].clone(),
                    ));
                }
            },
        };
        let trend = match call.args.get(first + 1) {
            None => Trend::LineFit,
            Some(_) => {
                let name = call.constant_string(first + 1, "trend")?;
                Trend::parse(&name).ok_or_else(|| {
                    EngineError::at(
                        format!("unknown trend {name:?}; use \"linefit\", \"avg\" or \"none\""),
                        call.ranges[first + 1].clone(),
                    )
                })?
            }
        };
        let test_points = match call.args.get(first + 2) {
            None => 0,
            Some(_) => call.constant_long(first + 2, "test points")?.max(0) as usize,
        };
        let index = if first == 1 { first + 3 } else { first + 4 };
        let seasonality_threshold = match call.args.get(index) {
            None => 0.6,
            Some(_) => constant_real(call, index, "seasonality threshold")?,
        };
        Ok(DecomposeOptions {
            seasonality,
            trend,
            test_points,
            seasonality_threshold,
        })
    }
}

fn constant_real(call: &Call<'_>, index: usize, what: &str) -> Result<f64, EngineError> {
    match &call.args[index].constant {
        Some(crate::ast::Literal::Real(x)) => Ok(*x),
        Some(crate::ast::Literal::Long(n)) => Ok(*n as f64),
        _ => Err(EngineError::at(
            format!("`{}()` needs a constant number as its {what}", call.name),
            call.ranges[index].clone(),
        )),
    }
}

/// Reads a dynamic array as numbers; elements that are not numbers are missing.
fn numbers(value: &Value) -> Option<Vec<Option<f64>>> {
    match as_json(value) {
        Json::Array(items) => Some(items.iter().map(Json::as_f64).collect()),
        _ => None,
    }
}

/// Writes numbers as a dynamic array; whole numbers stay integers, missing values are null.
fn array(values: &[Option<f64>]) -> Value {
    Value::Dynamic(Json::Array(
        values
            .iter()
            .map(|v| match v {
                Some(x) if x.fract() == 0.0 && x.abs() < 9e15 => Json::from(*x as i64),
                Some(x) => serde_json::Number::from_f64(*x).map_or(Json::Null, Json::Number),
                None => Json::Null,
            })
            .collect(),
    ))
}

fn unary(value: &Value, function: impl Fn(&[Option<f64>]) -> Vec<Option<f64>>) -> Value {
    match numbers(value) {
        Some(series) => array(&function(&series)),
        None => Value::Null,
    }
}

/// The fields of `series_stats()`, in the order of Kusto's output columns (its documented
/// example puts `stdev` before `variance`), which a tuple `(a, b, ...) = series_stats(x)`
/// assigns in turn.
pub const STATS_FIELDS: [&str; 7] = [
    "min", "min_idx", "max", "max_idx", "avg", "stdev", "variance",
];

fn stats_bag(stats: &math::SeriesStats) -> Json {
    let number = |x: Option<f64>| {
        x.and_then(serde_json::Number::from_f64)
            .map_or(Json::Null, Json::Number)
    };
    let index = |i: Option<usize>| i.map_or(Json::Null, |i| Json::from(i as i64));
    let mut bag = Map::new();
    bag.insert("min".into(), number(stats.min));
    bag.insert("min_idx".into(), index(stats.min_idx));
    bag.insert("max".into(), number(stats.max));
    bag.insert("max_idx".into(), index(stats.max_idx));
    bag.insert("avg".into(), number(stats.avg));
    bag.insert("variance".into(), number(stats.variance));
    bag.insert("stdev".into(), number(stats.stdev));
    Json::Object(bag)
}
