//! Splitting events into sessions, as msticpy 3.0.2's `sessionize_data` does
//! (`msticpy/analysis/anomalous_sequence/sessionize.py`).

use chrono::{DateTime, Duration, Utc};

use super::Event;
use crate::fasthash::FastHashMap;

/// Limits that end a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Maximum time from a session's first event to its last.
    pub max_session: Duration,
    /// Maximum time between two consecutive events of a session.
    pub max_gap: Duration,
}

/// A run of events of one user, in time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Values of the user identifier columns; `None` for an empty cell.
    pub user: Vec<Option<String>>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Indices into the event slice given to [`sessionize`].
    pub events: Vec<usize>,
}

/// Groups events into sessions.
///
/// Events are sorted stably by user (empty cells first) and then by time. A new session starts
/// when any user column changes, when the gap to the previous event exceeds `max_gap`, or when
/// the time since the session's first event would exceed `max_session`. Equal limits do not split,
/// as in MSTICPy.
pub fn sessionize(events: &[Event], limits: SessionLimits) -> Vec<Session> {
    // Sorting by each user's rank instead of the user strings keeps the comparisons cheap.
    let mut ids: FastHashMap<&Vec<Option<String>>, usize> = FastHashMap::default();
    let event_ids: Vec<usize> = events
        .iter()
        .map(|event| {
            let next = ids.len();
            *ids.entry(&event.user).or_insert(next)
        })
        .collect();
    let mut users: Vec<(&Vec<Option<String>>, usize)> = ids.into_iter().collect();
    users.sort_unstable();
    let mut rank_of_id = vec![0; users.len()];
    for (rank, &(_, id)) in users.iter().enumerate() {
        rank_of_id[id] = rank;
    }
    let event_ranks: Vec<usize> = event_ids.iter().map(|&id| rank_of_id[id]).collect();
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&index| (event_ranks[index], events[index].time));

    let mut sessions: Vec<Session> = Vec::new();
    let mut elapsed = Duration::zero();
    for (position, &index) in order.iter().enumerate() {
        let event = &events[index];
        let continues = position > 0 && {
            let previous = &events[order[position - 1]];
            let gap = event.time - previous.time;
            let same_user = event_ranks[order[position - 1]] == event_ranks[index];
            let within = gap <= limits.max_gap && elapsed + gap <= limits.max_session;
            if same_user && within {
                elapsed += gap;
            }
            same_user && within
        };
        if continues {
            let session = sessions.last_mut().expect("a session is open");
            session.events.push(index);
            session.end = event.time;
        } else {
            elapsed = Duration::zero();
            sessions.push(Session {
                user: event.user.clone(),
                start: event.time,
                end: event.time,
                events: vec![index],
            });
        }
    }
    sessions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(user: &str, minute: i64) -> Event {
        Event {
            user: vec![(!user.is_empty()).then(|| user.to_string())],
            time: DateTime::from_timestamp(minute * 60, 0).unwrap(),
            command: "Cmd".to_string(),
            params: Vec::new(),
        }
    }

    fn limits(session: i64, gap: i64) -> SessionLimits {
        SessionLimits {
            max_session: Duration::minutes(session),
            max_gap: Duration::minutes(gap),
        }
    }

    fn session_events(sessions: &[Session]) -> Vec<Vec<usize>> {
        sessions
            .iter()
            .map(|session| session.events.clone())
            .collect()
    }

    #[test]
    fn gap_longer_than_limit_splits() {
        let events = [event("a", 0), event("a", 2), event("a", 5)];
        let sessions = sessionize(&events, limits(20, 2));
        assert_eq!(session_events(&sessions), vec![vec![0, 1], vec![2]]);
    }

    #[test]
    fn session_length_limit_splits() {
        let events: Vec<Event> = (0..8).map(|i| event("a", i * 2)).collect();
        let sessions = sessionize(&events, limits(6, 2));
        assert_eq!(
            session_events(&sessions),
            vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7]]
        );
    }

    #[test]
    fn user_change_splits_and_sorts() {
        let events = [event("b", 0), event("a", 1), event("", 0), event("a", 0)];
        let sessions = sessionize(&events, limits(20, 2));
        assert_eq!(
            session_events(&sessions),
            vec![vec![2], vec![3, 1], vec![0]]
        );
        assert_eq!(sessions[0].user, vec![None]);
        assert_eq!(sessions[1].start, events[3].time);
        assert_eq!(sessions[1].end, events[1].time);
    }

    #[test]
    fn equal_times_keep_input_order() {
        let events = [event("a", 1), event("a", 1), event("a", 0)];
        let sessions = sessionize(&events, limits(20, 2));
        assert_eq!(session_events(&sessions), vec![vec![2, 0, 1]]);
    }
}
