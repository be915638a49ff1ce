//! Math, conversion and conditional functions that take any number type.

use super::Call;
use crate::EngineError;
use crate::eval::expr::Compiled;
use crate::eval::types::KqlType;
use crate::eval::value::Value;

pub(super) fn compile(call: &Call<'_>) -> Option<Result<Compiled, EngineError>> {
    let real = |function: fn(f64) -> f64| {
        call.arity(1, 1).map(|()| {
            call.row(KqlType::Real, move |v| {
                v[0].to_real()
                    .map_or(Value::Null, |x| Value::Real(function(x)))
            })
        })
    };
    let result = match call.name {
        "sqrt" => real(f64::sqrt),
        "exp" => real(f64::exp),
        "exp2" => real(f64::exp2),
        "exp10" => real(|x| 10f64.powf(x)),
        "log" => real(f64::ln),
        "log2" => real(f64::log2),
        "log10" => real(f64::log10),
        "degrees" => real(f64::to_degrees),
        "radians" => real(f64::to_radians),
        "sin" => real(f64::sin),
        "cos" => real(f64::cos),
        "tan" => real(f64::tan),
        "asin" => real(f64::asin),
        "acos" => real(f64::acos),
        "atan" => real(f64::atan),
        "cot" => real(|x| 1.0 / x.tan()),
        "gamma" => real(gamma),
        "atan2" => call.arity(2, 2).map(|()| {
            call.row(KqlType::Real, |v| match (v[0].to_real(), v[1].to_real()) {
                (Some(y), Some(x)) => Value::Real(y.atan2(x)),
                _ => Value::Null,
            })
        }),
        "pow" => call.arity(2, 2).map(|()| {
            call.row(KqlType::Real, |v| match (v[0].to_real(), v[1].to_real()) {
                (Some(x), Some(y)) => Value::Real(x.powf(y)),
                _ => Value::Null,
            })
        }),
        "abs" | "sign" | "ceiling" => call.arity(1, 1).and_then(|()| {
            call.expect(
                0,
                &[
                    KqlType::Long,
                    KqlType::Int,
                    KqlType::Real,
                    KqlType::Timespan,
                ],
            )?;
            let ty = match call.args[0].ty {
                KqlType::Int | KqlType::Null => KqlType::Long,
                other => other,
            };
            let name = call.name.to_owned();
            Ok(call.row(ty, move |v| match (name.as_str(), v[0]) {
                ("abs", Value::Long(n)) => Value::Long(n.saturating_abs()),
                ("abs", Value::Timespan(n)) => Value::Timespan(n.saturating_abs()),
                ("abs", Value::Real(x)) => Value::Real(x.abs()),
                ("sign", Value::Long(n)) => Value::Long(n.signum()),
                ("sign", Value::Real(x)) if *x == 0.0 => Value::Real(0.0),
                ("sign", Value::Real(x)) => Value::Real(x.signum()),
                ("ceiling", Value::Real(x)) => Value::Real(x.ceil()),
                ("ceiling", Value::Long(n)) => Value::Long(*n),
                _ => Value::Null,
            }))
        }),
        "round" => call.arity(1, 2).and_then(|()| {
            call.expect(0, &[KqlType::Long, KqlType::Int, KqlType::Real])?;
            let ty = if call.args[0].ty == KqlType::Real {
                KqlType::Real
            } else {
                KqlType::Long
            };
            Ok(call.row(ty, |v| {
                let digits = v
                    .get(1)
                    .and_then(|x| x.to_long())
                    .unwrap_or(0)
                    .clamp(-18, 18);
                match v[0] {
                    Value::Long(n) if digits >= 0 => Value::Long(*n),
                    Value::Long(n) => {
                        let scale = 10f64.powi(-digits as i32);
                        Value::Long(((*n as f64 / scale).round() * scale) as i64)
                    }
                    Value::Real(x) => {
                        let scale = 10f64.powi(digits as i32);
                        Value::Real((x * scale).round() / scale)
                    }
                    _ => Value::Null,
                }
            }))
        }),
        "pi" => call
            .arity(0, 0)
            .map(|()| Compiled::from_literal(&crate::ast::Literal::Real(std::f64::consts::PI))),
        "isnan" | "isinf" | "isfinite" => call.arity(1, 1).map(|()| {
            let name = call.name.to_owned();
            call.row(KqlType::Bool, move |v| match v[0].to_real() {
                Some(x) => Value::Bool(match name.as_str() {
                    "isnan" => x.is_nan(),
                    "isinf" => x.is_infinite(),
                    _ => x.is_finite(),
                }),
                None => Value::Null,
            })
        }),
        "tobool" | "toboolean" => call.arity(1, 1).map(|()| {
            call.row(KqlType::Bool, |v| match v[0] {
                Value::Bool(flag) => Value::Bool(*flag),
                Value::Long(n) => Value::Bool(*n != 0),
                Value::Real(x) => Value::Bool(*x != 0.0),
                other => match other.as_str().map(|t| t.trim().to_ascii_lowercase()) {
                    Some(text) if text == "true" || text == "1" => Value::Bool(true),
                    Some(text) if text == "false" || text == "0" => Value::Bool(false),
                    _ => Value::Null,
                },
            })
        }),
        "min_of" | "max_of" => call.arity(2, 64).and_then(|()| {
            let ty = call
                .args
                .iter()
                .try_fold(KqlType::Null, |acc, arg| {
                    crate::eval::expr::unify(acc, arg.ty)
                })
                .ok_or_else(|| {
                    EngineError::at(
                        format!("the arguments of `{}()` have different types", call.name),
                        call.range.clone(),
                    )
                })?;
            let max = call.name == "max_of";
            Ok(call.row(ty, move |v| {
                let mut best: Option<&Value> = None;
                for value in v.iter().copied().filter(|x| !x.is_null()) {
                    best = match best {
                        None => Some(value),
                        Some(current) => {
                            let order = compare_values(value, current);
                            let better = if max {
                                order == Some(std::cmp::Ordering::Greater)
                            } else {
                                order == Some(std::cmp::Ordering::Less)
                            };
                            Some(if better { value } else { current })
                        }
                    };
                }
                best.cloned().unwrap_or(Value::Null)
            }))
        }),
        _ => return None,
    };
    Some(result)
}

/// Returns the gamma function of `x`, with the Lanczos approximation (g = 7, 9 terms).
fn gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma(1.0 - x));
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + 7.5;
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * sum
}

/// Orders two values of the same KQL type family; numbers compare by value.
pub fn compare_values(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Long(x), Value::Long(y)) => Some(x.cmp(y)),
        (Value::Datetime(x), Value::Datetime(y)) | (Value::Timespan(x), Value::Timespan(y)) => {
            Some(x.cmp(y))
        }
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => a.to_real()?.partial_cmp(&b.to_real()?),
    }
}
