//! STL against statsmodels on parameter combinations that MSTICPy never uses: robust fitting,
//! jumps, degree-0 smoothers, explicit lengths and a seasonal window longer than the series.

mod common;

use quarry_analytics::stl::{StlParams, decompose};

fn params_from_json(value: &serde_json::Value) -> StlParams {
    let get = |name: &str| value.get(name).and_then(|v| v.as_u64()).map(|v| v as usize);
    let degree = |name: &str| get(name).unwrap_or(1) as u8;
    let mut params = StlParams::new(get("period").unwrap());
    params.seasonal = get("seasonal").unwrap();
    params.trend = get("trend");
    params.low_pass = get("low_pass");
    params.seasonal_deg = degree("seasonal_deg");
    params.trend_deg = degree("trend_deg");
    params.low_pass_deg = degree("low_pass_deg");
    params.robust = value
        .get("robust")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    params.seasonal_jump = get("seasonal_jump").unwrap_or(1);
    params.trend_jump = get("trend_jump").unwrap_or(1);
    params.low_pass_jump = get("low_pass_jump").unwrap_or(1);
    params
}

fn floats(value: &serde_json::Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[test]
fn stl_variants_match_statsmodels() {
    let reference = common::read_json("stl_variants_reference.json");
    let y = floats(&reference["y"]);
    let variants = reference["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 6);

    for variant in variants {
        let params = params_from_json(&variant["params"]);
        let result = decompose(&y, &params).unwrap();
        let label = variant["params"].to_string();
        for (name, actual, expected) in [
            ("trend", &result.trend, floats(&variant["trend"])),
            ("seasonal", &result.seasonal, floats(&variant["seasonal"])),
            ("residual", &result.residual, floats(&variant["residual"])),
            ("weights", &result.weights, floats(&variant["weights"])),
        ] {
            for (i, (a, e)) in actual.iter().zip(&expected).enumerate() {
                assert!(
                    (a - e).abs() <= 1e-9 * e.abs().max(1.0),
                    "{label} {name}[{i}]: {a} vs {e}"
                );
            }
        }
    }
}

#[test]
fn robust_weights_mark_spikes() {
    let reference = common::read_json("stl_variants_reference.json");
    let y = floats(&reference["y"]);
    let mut params = StlParams::new(24);
    params.robust = true;
    let result = decompose(&y, &params).unwrap();
    // The series has a +60 spike at every position congruent to 13 modulo 97.
    for spike in [13, 110, 207] {
        assert!(
            result.weights[spike] < 0.1,
            "weight at {spike}: {}",
            result.weights[spike]
        );
    }
    assert!(result.weights.iter().filter(|&&w| w > 0.5).count() > 250);
}
