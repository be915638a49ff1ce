//! Anomalous sequences against MSTICPy's sessionizer and Model on demo_exchange_data.csv:
//! UserId and ClientIP as the user, sessions of at most 20 minutes with gaps of at most 2
//! minutes, and the three model kinds.

mod common;

use std::collections::HashMap;
use std::fs::File;

use chrono::Duration;
use quarry_analytics::input::{Table, parse_timestamp};
use quarry_analytics::sequences::{
    Event, Model, ModelKind, Session, SessionLimits, parse_parameters, sessionize,
};

const TOLERANCE: f64 = 1e-9;

fn demo_events() -> Vec<Event> {
    let file = File::open(common::fixture("demo_exchange_data.csv")).unwrap();
    let columns = [
        "TimeGenerated",
        "UserId",
        "ClientIP",
        "Operation",
        "Parameters",
    ];
    let table = Table::read_csv(file, &columns).unwrap();
    table
        .rows
        .iter()
        .map(|row| Event {
            user: row[1..3]
                .iter()
                .map(|cell| (!cell.is_empty()).then(|| cell.clone()))
                .collect(),
            time: parse_timestamp(&row[0]).unwrap(),
            command: row[3].clone(),
            params: parse_parameters(&row[4]).unwrap(),
        })
        .collect()
}

fn demo_sessions(events: &[Event]) -> Vec<Session> {
    let limits = SessionLimits {
        max_session: Duration::minutes(20),
        max_gap: Duration::minutes(2),
    };
    sessionize(events, limits)
}

/// Key that identifies a session independently of output order: MSTICPy sorts missing users
/// as the string "dummy_str", Quarry sorts them first.
fn session_key(user: &[Option<String>], start: &str) -> String {
    format!("{user:?}@{start}")
}

/// Maps each reference session's key to its position in the reference.
fn reference_positions(reference: &serde_json::Value) -> HashMap<String, usize> {
    reference["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(position, session)| {
            let user: Vec<Option<String>> = session["user"]
                .as_array()
                .unwrap()
                .iter()
                .map(|cell| cell.as_str().map(str::to_string))
                .collect();
            (
                session_key(&user, session["start"].as_str().unwrap()),
                position,
            )
        })
        .collect()
}

fn format_time(session: &Session) -> String {
    session.start.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[test]
fn sessions_match_msticpy() {
    let reference = common::read_json("sequences_reference.json");
    let events = demo_events();
    let sessions = demo_sessions(&events);
    let positions = reference_positions(&reference);
    assert_eq!(sessions.len(), 400);
    assert_eq!(sessions.len(), positions.len());

    for session in &sessions {
        let key = session_key(&session.user, &format_time(session));
        let expected = &reference["sessions"][positions[&key]];
        assert_eq!(
            session.end.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            expected["end"].as_str().unwrap(),
            "{key}"
        );
        let commands: Vec<&str> = session
            .events
            .iter()
            .map(|&i| events[i].command.as_str())
            .collect();
        let expected_commands: Vec<&str> = expected["commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert_eq!(commands, expected_commands, "{key}");
    }
}

fn assert_close(actual: f64, expected: &serde_json::Value, context: &str) {
    let expected = expected
        .as_f64()
        .unwrap_or_else(|| panic!("{context}: reference has no number"));
    let error = common::relative_error(actual, expected);
    assert!(
        error <= TOLERANCE,
        "{context}: {actual} vs {expected} (relative error {error:e})"
    );
}

fn check_model(kind: ModelKind, section: &str) {
    let reference = common::read_json("sequences_reference.json");
    let events = demo_events();
    let sessions = demo_sessions(&events);
    let positions = reference_positions(&reference);
    let model = Model::train(&events, &sessions, kind, None);
    let expected_sessions = &reference[section]["sessions"];

    let expected_modellable: Vec<String> = reference[section]["modellable_params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap().to_string())
        .collect();
    assert_eq!(model.modellable_params(), expected_modellable);

    for session in &sessions {
        let key = session_key(&session.user, &format_time(session));
        let expected = &expected_sessions[positions[&key]];
        assert_close(
            model.session_likelihood(session),
            &expected["likelihood"],
            &format!("{section} likelihood {key}"),
        );
        assert_close(
            model.session_geomean_likelihood(session),
            &expected["geomean_likelihood"],
            &format!("{section} geomean {key}"),
        );
        for window_len in [2, 3] {
            for geo in [false, true] {
                let name = if geo {
                    format!("rarest_window{window_len}_geomean_likelihood")
                } else {
                    format!("rarest_window{window_len}_likelihood")
                };
                let context = format!("{section} {name} {key}");
                match model.rarest_window(session, window_len, geo) {
                    Some(window) => {
                        assert_close(window.likelihood, &expected[&name], &context);
                        if !geo {
                            let commands: Vec<&str> = session.events
                                [window.start..window.start + window.len]
                                .iter()
                                .map(|&i| events[i].command.as_str())
                                .collect();
                            let window_name = format!("rarest_window{window_len}");
                            let expected_window: Vec<&str> = expected[&window_name]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|c| c.as_str().unwrap())
                                .collect();
                            assert_eq!(commands, expected_window, "{context}");
                        }
                    }
                    None => assert!(expected[&name].is_null(), "{context}: expected a window"),
                }
            }
        }
    }
}

#[test]
fn command_model_matches_msticpy() {
    check_model(ModelKind::Commands, "commands");
}

#[test]
fn param_name_model_matches_msticpy() {
    check_model(ModelKind::ParamNames, "names");
}

#[test]
fn param_value_model_matches_msticpy() {
    check_model(ModelKind::ParamValues, "values");
}
