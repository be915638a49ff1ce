//! Windows Security event IDs with their audit category, subcategory and title, for hover on
//! comparisons such as `EventID == 4688`.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

const WINDOWS_EVENTS_JSON: &str = include_str!("../data/windows-security-events.json");

/// One Windows Security log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowsEvent {
    pub id: u32,
    /// The event's title, for example "A new process has been created."
    pub title: String,
    /// The audit policy category, for example "Detailed Tracking".
    pub category: String,
    /// The audit policy subcategory, for example "Process Creation".
    pub subcategory: String,
}

#[derive(Deserialize)]
struct Record {
    event_id: u32,
    category: String,
    subcategory: String,
    description: String,
}

/// Looks up a Windows Security event by its ID.
///
/// # Panics
///
/// Panics if the embedded JSON is invalid; the crate's tests load it.
pub fn windows_security_event(id: u32) -> Option<&'static WindowsEvent> {
    static EVENTS: OnceLock<HashMap<u32, WindowsEvent>> = OnceLock::new();
    EVENTS
        .get_or_init(|| {
            let records: Vec<Record> = serde_json::from_str(WINDOWS_EVENTS_JSON)
                .unwrap_or_else(|error| panic!("windows-security-events.json is invalid: {error}"));
            records
                .into_iter()
                .map(|record| {
                    let event = WindowsEvent {
                        id: record.event_id,
                        title: record.description.trim().to_owned(),
                        category: record.category,
                        subcategory: record.subcategory,
                    };
                    (event.id, event)
                })
                .collect()
        })
        .get(&id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_creation_event() {
        let event = windows_security_event(4688).expect("4688 is listed");
        assert_eq!(event.title, "A new process has been created.");
        assert_eq!(event.category, "Detailed Tracking");
        assert_eq!(event.subcategory, "Process Creation");
    }

    #[test]
    fn unknown_event_id() {
        assert_eq!(windows_security_event(1), None);
    }
}
