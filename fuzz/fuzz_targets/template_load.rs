//! Loads arbitrary text as an MSTICPy query template file, then renders every template it
//! yields in both dialects and both escaping modes.

#![no_main]

use std::path::Path;

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use quarry_templates::{
    ArgValue, Dialect, Escaping, ParamType, RenderOptions, TemplateFile, render,
};

/// Templates rendered per input at most, so one input cannot run for long.
const MAX_RENDERED: usize = 8;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let file = TemplateFile::parse(Path::new("fuzz.yaml"), text.clone());

    for problem in &file.problems {
        let range = &problem.range;
        assert!(
            range.start <= range.end && range.end <= text.len(),
            "problem range outside the file: {problem:?}"
        );
        assert!(
            !problem.message.is_empty(),
            "problem without a message: {problem:?}"
        );
    }

    let now = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
    for template in file.templates.iter().take(MAX_RENDERED) {
        for span in [&template.name_span, &template.query_span] {
            assert!(
                span.end <= text.len(),
                "template span outside the file: {span:?}"
            );
        }
        for parameter in &template.parameters {
            let span = &parameter.name_span;
            assert!(
                span.end <= text.len(),
                "parameter span outside the file: {span:?}"
            );
        }

        let args: Vec<(String, ArgValue)> = template
            .parameters
            .iter()
            .filter(|parameter| parameter.is_required())
            .map(|parameter| (parameter.name.clone(), sample_value(parameter.param_type)))
            .collect();
        for dialect in [Dialect::Kql, Dialect::Splunk] {
            for escaping in [Escaping::Msticpy, Escaping::Safe] {
                let options = RenderOptions {
                    dialect,
                    escaping,
                    now,
                };
                // Errors are expected for many inputs; only panics and hangs are failures.
                let _ = render(template, &args, &options);
            }
        }
    }
});

/// Returns a valid value of the declared type, so rendering gets past argument checks.
fn sample_value(param_type: Option<ParamType>) -> ArgValue {
    match param_type {
        Some(ParamType::Int) => ArgValue::Int(7),
        Some(ParamType::Float) => ArgValue::Float(1.5),
        Some(ParamType::Datetime) => ArgValue::Text("2024-04-30T00:00:00Z".to_owned()),
        Some(ParamType::List) => ArgValue::List(vec![
            ArgValue::Text("a".to_owned()),
            ArgValue::Text("b".to_owned()),
        ]),
        Some(ParamType::Str) | None => ArgValue::Text("host01".to_owned()),
    }
}
