//! Anomalous command sequences: sessions of user activity scored by Markov models, following
//! msticpy 3.0.2's `msticpy/analysis/anomalous_sequence/`.

mod model;
mod sessionize;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use model::{Model, ModelKind, RarestWindow};
pub use sessionize::{Session, SessionLimits, sessionize};

/// One command run by a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Values of the user identifier columns; `None` for an empty cell.
    pub user: Vec<Option<String>>,
    pub time: DateTime<Utc>,
    pub command: String,
    /// Parameters with unique names, in input order.
    pub params: Vec<Parameter>,
}

/// A command parameter. An empty value counts as no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    pub value: String,
}

/// Options of [`score_sessions`].
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreOptions {
    pub kind: ModelKind,
    /// Sliding window length, in commands.
    pub window_len: usize,
    /// Raise each window likelihood to the power of one over the window length.
    pub use_geo_mean: bool,
    /// Parameters whose values are modelled; `None` selects them with MSTICPy's rule.
    pub modellable_params: Option<Vec<String>>,
}

/// A session with its scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoredSession {
    /// Position of the session in [`sessionize`]'s output.
    pub session: usize,
    pub user: Vec<Option<String>>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub number_events: usize,
    pub commands: Vec<String>,
    pub likelihood: f64,
    pub geomean_likelihood: f64,
    /// Likelihood of the rarest window; `None` when the session plus the end token is shorter
    /// than the window.
    pub rarest_window_likelihood: Option<f64>,
    /// Position of the rarest window's first command in `commands`.
    pub rarest_window_start: Option<usize>,
    pub rarest_window: Vec<String>,
}

/// Result of [`score_sessions`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SequenceScores {
    pub sessions: Vec<ScoredSession>,
    /// Parameters whose values the model used, for [`ModelKind::ParamValues`].
    pub modellable_params: Vec<String>,
}

/// Trains a model on all sessions and scores each of them.
pub fn score_sessions(
    events: &[Event],
    sessions: &[Session],
    options: &ScoreOptions,
) -> SequenceScores {
    let model = Model::train(
        events,
        sessions,
        options.kind,
        options.modellable_params.as_deref(),
    );
    let scored = sessions
        .iter()
        .enumerate()
        .map(|(index, session)| {
            let commands: Vec<String> = session
                .events
                .iter()
                .map(|&event| events[event].command.clone())
                .collect();
            let rarest = model.rarest_window(session, options.window_len, options.use_geo_mean);
            let rarest_window = match &rarest {
                Some(window) => commands[window.start..window.start + window.len].to_vec(),
                None => Vec::new(),
            };
            ScoredSession {
                session: index,
                user: session.user.clone(),
                start: session.start,
                end: session.end,
                number_events: session.events.len(),
                likelihood: model.session_likelihood(session),
                geomean_likelihood: model.session_geomean_likelihood(session),
                rarest_window_likelihood: rarest.as_ref().map(|window| window.likelihood),
                rarest_window_start: rarest.as_ref().map(|window| window.start),
                rarest_window,
                commands,
            }
        })
        .collect();
    SequenceScores {
        sessions: scored,
        modellable_params: model.modellable_params(),
    }
}

/// Parses a parameter list in the Office 365 and Exchange audit form, a JSON array of
/// `{"Name": ..., "Value": ...}` objects, or a JSON object of names to values. Non-string values
/// are kept as their JSON text. A repeated name keeps its first position and its last value, as
/// building a Python dict does. Empty text means no parameters.
pub fn parse_parameters(text: &str) -> Result<Vec<Parameter>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let json: serde_json::Value = serde_json::from_str(text).map_err(|error| error.to_string())?;
    let pairs: Vec<(String, String)> = match json {
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|item| {
                let name = item
                    .get("Name")
                    .and_then(|name| name.as_str())
                    .ok_or_else(|| "array item without a string `Name`".to_string())?;
                let value = item.get("Value").map(json_text).unwrap_or_default();
                Ok((name.to_string(), value))
            })
            .collect::<Result<_, String>>()?,
        serde_json::Value::Object(map) => map
            .into_iter()
            .map(|(name, value)| (name, json_text(&value)))
            .collect(),
        _ => {
            return Err("expected a JSON array of Name/Value objects or a JSON object".to_string());
        }
    };

    let mut params: Vec<Parameter> = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        match params.iter_mut().find(|param| param.name == name) {
            Some(existing) => existing.value = value,
            None => params.push(Parameter { name, value }),
        }
    }
    Ok(params)
}

fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_parse_from_name_value_array() {
        let params = parse_parameters(
            r#"[{"Name": "Identity", "Value": "a"}, {"Name": "Force", "Value": ""},
                {"Name": "Identity", "Value": "b"}]"#,
        )
        .unwrap();
        assert_eq!(
            params,
            vec![
                Parameter {
                    name: "Identity".into(),
                    value: "b".into()
                },
                Parameter {
                    name: "Force".into(),
                    value: "".into()
                },
            ]
        );
    }

    #[test]
    fn parameters_parse_from_object_and_empty_text() {
        let params = parse_parameters(r#"{"Count": 3, "Name": null}"#).unwrap();
        assert_eq!(params.len(), 2);
        assert!(params.contains(&Parameter {
            name: "Count".into(),
            value: "3".into()
        }));
        assert!(params.contains(&Parameter {
            name: "Name".into(),
            value: "".into()
        }));
        assert_eq!(parse_parameters("  "), Ok(Vec::new()));
        assert!(parse_parameters("[1, 2]").is_err());
        assert!(parse_parameters("not json").is_err());
    }
}
