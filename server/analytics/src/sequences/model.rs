//! Markov models of command sessions, as msticpy 3.0.2 defines them in
//! `msticpy/analysis/anomalous_sequence/` (`model.py` and the `utils/` modules).
//!
//! The model has three variants: commands only; commands with the set of parameter names; and
//! commands with parameter names and, for "modellable" parameters, their values. Counts include
//! start and end tokens around each session and are Laplace-smoothed with an unknown token, so
//! commands, parameters and values never seen in training get the unknown token's probability.
//! Products are taken in MSTICPy's order so that the likelihoods agree to rounding error.

use super::{Event, Session};
use crate::fasthash::FastHashMap;

/// The parts of an event that the model uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Commands only.
    Commands,
    /// Commands and the set of parameter names of each command.
    ParamNames,
    /// Commands, parameter names and the values of modellable parameters.
    ParamValues,
}

const START: u32 = 0;
const END: u32 = 1;
const UNKNOWN: u32 = 2;
const UNKNOWN_PARAM: u32 = 0;

/// Maximum number of distinct values for a parameter's values to be modelled automatically.
const MAX_DISTINCT_VALUES: usize = 20;
/// Minimum number of occurrences for a parameter's values to be modelled automatically.
const MIN_OCCURRENCES: u64 = 20;
/// Maximum percentage of distinct values among occurrences for automatic modelling.
const MAX_DISTINCT_PERCENT: f64 = 10.0;

/// Map from names to dense ids, with ids below `reserved` kept for tokens.
#[derive(Debug, Default)]
struct Interner {
    ids: FastHashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn with_tokens(tokens: &[&str]) -> Self {
        let mut interner = Interner::default();
        for token in tokens {
            interner.intern(token);
        }
        interner
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_string(), id);
        self.names.push(name.to_string());
        id
    }

    fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    fn len(&self) -> usize {
        self.names.len()
    }
}

/// A trained model together with each training event's parameter probability.
#[derive(Debug)]
pub struct Model {
    kind: ModelKind,
    commands: Interner,
    /// Laplace-smoothed count of each command, start and end tokens included.
    command_counts: Vec<u64>,
    total_commands: u64,
    /// Raw transition counts keyed by (previous, current) command id.
    transitions: FastHashMap<(u32, u32), u64>,
    /// Laplace-smoothed total of each row of the transition counts.
    transition_row_totals: Vec<u64>,
    params: Interner,
    /// For each command id, the probability of each parameter given the command, in the order
    /// the parameters were first seen, with the unknown parameter last.
    param_given_command: Vec<Vec<(u32, f64)>>,
    /// Whether the values of each parameter id are modelled.
    modellable: Vec<bool>,
    values: Interner,
    /// Raw count of each (parameter, value) pair.
    value_counts: FastHashMap<(u32, u32), u64>,
    /// Laplace-smoothed total of the value counts of each parameter id.
    value_row_totals: Vec<u64>,
    /// Command id of each event given to [`Model::train`].
    event_commands: Vec<u32>,
    /// Probability of each event's parameters given its command; 1.0 without parameters.
    event_param_probs: Vec<f64>,
}

/// The rarest window of a session.
#[derive(Debug, Clone, PartialEq)]
pub struct RarestWindow {
    /// Position of the window's first event in the session.
    pub start: usize,
    /// Number of session events in the window. It is one less than the window length when the
    /// window ends with the end token.
    pub len: usize,
    pub likelihood: f64,
}

impl Model {
    /// Trains a model on the events of `sessions`.
    ///
    /// With [`ModelKind::ParamValues`], `modellable_params` names the parameters whose values
    /// are modelled. `None` applies MSTICPy's rule: a parameter qualifies when it has at most 20
    /// distinct non-empty values, occurs at least 20 times, and its distinct values are at most
    /// 10% of its occurrences.
    pub fn train(
        events: &[Event],
        sessions: &[Session],
        kind: ModelKind,
        modellable_params: Option<&[String]>,
    ) -> Model {
        let mut model = Model {
            kind,
            commands: Interner::with_tokens(&["##START##", "##END##", "##UNK##"]),
            command_counts: Vec::new(),
            total_commands: 0,
            transitions: FastHashMap::default(),
            transition_row_totals: Vec::new(),
            params: Interner::with_tokens(&["##UNK##"]),
            param_given_command: Vec::new(),
            modellable: Vec::new(),
            values: Interner::default(),
            value_counts: FastHashMap::default(),
            value_row_totals: Vec::new(),
            event_commands: vec![UNKNOWN; events.len()],
            event_param_probs: vec![1.0; events.len()],
        };
        for event in events {
            model.commands.intern(&event.command);
        }

        let raw = model.count(events, sessions);
        model.smooth_commands(&raw);
        if kind != ModelKind::Commands {
            model.smooth_params(&raw);
        }
        if kind == ModelKind::ParamValues {
            model.select_modellable(&raw, modellable_params);
            model.smooth_values(&raw);
        }
        for (index, event) in events.iter().enumerate() {
            let command = model.command_id(&event.command);
            model.event_commands[index] = command;
            model.event_param_probs[index] = model.param_probability(command, event);
        }
        model
    }

    fn count(&mut self, events: &[Event], sessions: &[Session]) -> RawCounts {
        let command_total = self.commands.len();
        let mut raw = RawCounts {
            commands: vec![0; command_total],
            transition_rows: vec![0; command_total],
            params: Vec::new(),
            command_params: vec![Vec::new(); command_total],
            param_values: Vec::new(),
        };
        let mut command_param_slot: FastHashMap<(u32, u32), usize> = FastHashMap::default();
        let mut param_value_slot: FastHashMap<(u32, u32), usize> = FastHashMap::default();

        for session in sessions {
            let mut previous = START;
            raw.commands[START as usize] += 1;
            for &index in &session.events {
                let event = &events[index];
                let command = self.commands.get(&event.command).expect("interned");
                raw.commands[command as usize] += 1;
                *self.transitions.entry((previous, command)).or_insert(0) += 1;
                raw.transition_rows[previous as usize] += 1;
                previous = command;
                if self.kind == ModelKind::Commands {
                    continue;
                }

                for param in &event.params {
                    let param_id = self.params.intern(&param.name);
                    if raw.params.len() <= param_id as usize {
                        raw.params.resize(param_id as usize + 1, 0);
                        raw.param_values.resize(param_id as usize + 1, Vec::new());
                    }
                    raw.params[param_id as usize] += 1;
                    let row = &mut raw.command_params[command as usize];
                    let slot = *command_param_slot
                        .entry((command, param_id))
                        .or_insert_with(|| {
                            row.push((param_id, 0));
                            row.len() - 1
                        });
                    row[slot].1 += 1;

                    if self.kind == ModelKind::ParamValues && !param.value.is_empty() {
                        let value_id = self.values.intern(&param.value);
                        *self.value_counts.entry((param_id, value_id)).or_insert(0) += 1;
                        let values = &mut raw.param_values[param_id as usize];
                        let slot =
                            *param_value_slot
                                .entry((param_id, value_id))
                                .or_insert_with(|| {
                                    values.push((value_id, 0));
                                    values.len() - 1
                                });
                        values[slot].1 += 1;
                    }
                }
            }
            *self.transitions.entry((previous, END)).or_insert(0) += 1;
            raw.transition_rows[previous as usize] += 1;
            raw.commands[END as usize] += 1;
        }
        raw.params.resize(self.params.len(), 0);
        raw.param_values.resize(self.params.len(), Vec::new());
        raw
    }

    /// Adds one to every transition from a command other than the end token to a command other
    /// than the start token, the unknown token included, and counts both ends of each added
    /// transition in the command counts.
    fn smooth_commands(&mut self, raw: &RawCounts) {
        let tokens = self.commands.len() as u64;
        let added = tokens - 1;
        self.command_counts = raw
            .commands
            .iter()
            .enumerate()
            .map(|(id, &count)| {
                let id = id as u32;
                let as_previous = if id != END { added } else { 0 };
                let as_current = if id != START { added } else { 0 };
                count + as_previous + as_current
            })
            .collect();
        self.total_commands = self.command_counts.iter().sum();
        self.transition_row_totals = raw
            .transition_rows
            .iter()
            .map(|&count| count + added)
            .collect();
    }

    /// Adds one to each parameter seen with a command and gives every command the unknown
    /// parameter with a count of one, then divides by the smoothed command count.
    fn smooth_params(&mut self, raw: &RawCounts) {
        self.param_given_command = raw
            .command_params
            .iter()
            .enumerate()
            .map(|(command, row)| {
                let command_count = self.command_counts[command] as f64;
                let mut probs: Vec<(u32, f64)> = row
                    .iter()
                    .map(|&(param, count)| (param, (count + 1) as f64 / command_count))
                    .collect();
                probs.push((UNKNOWN_PARAM, 1.0 / command_count));
                probs
            })
            .collect();
    }

    fn select_modellable(&mut self, raw: &RawCounts, chosen: Option<&[String]>) {
        self.modellable = vec![false; self.params.len()];
        match chosen {
            Some(names) => {
                for name in names {
                    if let Some(id) = self.params.get(name) {
                        self.modellable[id as usize] = true;
                    }
                }
            }
            None => {
                for (param, values) in raw.param_values.iter().enumerate() {
                    let occurrences = raw.params[param];
                    if values.is_empty() || occurrences == 0 {
                        continue;
                    }
                    let distinct = values.len();
                    let percent = 100.0 * distinct as f64 / occurrences as f64;
                    self.modellable[param] = distinct <= MAX_DISTINCT_VALUES
                        && occurrences >= MIN_OCCURRENCES
                        && percent <= MAX_DISTINCT_PERCENT;
                }
            }
        }
    }

    /// Adds one to each value seen with a parameter and gives every parameter the unknown value
    /// with a count of one.
    fn smooth_values(&mut self, raw: &RawCounts) {
        self.value_row_totals = raw
            .param_values
            .iter()
            .map(|values| {
                let observed: u64 = values.iter().map(|&(_, count)| count).sum();
                observed + values.len() as u64 + 1
            })
            .collect();
    }

    fn command_id(&self, name: &str) -> u32 {
        self.commands.get(name).unwrap_or(UNKNOWN)
    }

    fn prior(&self, command: u32) -> f64 {
        self.command_counts[command as usize] as f64 / self.total_commands as f64
    }

    fn transition(&self, previous: u32, current: u32) -> f64 {
        // The end token has no row and the start token no column, so both fall back to the
        // unknown token, as MSTICPy's StateMatrix lookups do.
        let previous = if previous == END { UNKNOWN } else { previous };
        let current = if current == START { UNKNOWN } else { current };
        let count = self
            .transitions
            .get(&(previous, current))
            .copied()
            .unwrap_or(0)
            + 1;
        count as f64 / self.transition_row_totals[previous as usize] as f64
    }

    fn value_probability(&self, param: u32, value: &str) -> f64 {
        let total = self.value_row_totals[param as usize] as f64;
        let count = self
            .values
            .get(value)
            .and_then(|value| self.value_counts.get(&(param, value)))
            .copied()
            .unwrap_or(0);
        (count + 1) as f64 / total
    }

    /// Returns the geometric mean of the probabilities of the event's parameters (present or
    /// absent) given its command, and of its modelled values.
    fn param_probability(&self, command: u32, event: &Event) -> f64 {
        if self.kind == ModelKind::Commands || event.params.is_empty() {
            return 1.0;
        }
        let reference = &self.param_given_command[command as usize];
        let find = |param: u32| {
            let name = &self.params.names[param as usize];
            event
                .params
                .iter()
                .find(|candidate| &candidate.name == name)
        };
        let mut likelihood = 1.0;
        let mut modelled_values = 0;
        for &(param, prob) in reference {
            // The unknown parameter never matches a real name, as in MSTICPy.
            let present = if param == UNKNOWN_PARAM {
                None
            } else {
                find(param)
            };
            match present {
                Some(found) => {
                    likelihood *= prob;
                    if self.kind == ModelKind::ParamValues && self.modellable[param as usize] {
                        modelled_values += 1;
                        likelihood *= self.value_probability(param, &found.value);
                    }
                }
                None => likelihood *= 1.0 - prob,
            }
        }
        let k = reference.len() + modelled_values;
        likelihood.powf(1.0 / k as f64)
    }

    /// Multiplies the probabilities of a window of commands. `commands[i]` is a command id and
    /// `param_probs[i]` its parameter probability.
    fn window_likelihood(
        &self,
        commands: &[u32],
        param_probs: &[f64],
        use_start: bool,
        use_end: bool,
    ) -> f64 {
        let Some(&first) = commands.first() else {
            return f64::NAN;
        };
        let first_prob = if use_start {
            self.transition(START, first)
        } else {
            self.prior(first)
        };
        let mut likelihood = 1.0;
        if self.kind == ModelKind::Commands {
            likelihood *= first_prob;
        } else {
            likelihood *= first_prob * param_probs[0];
        }
        for i in 1..commands.len() {
            likelihood *= self.transition(commands[i - 1], commands[i]);
            if self.kind != ModelKind::Commands {
                likelihood *= param_probs[i];
            }
        }
        if use_end {
            likelihood *= self.transition(commands[commands.len() - 1], END);
        }
        likelihood
    }

    fn session_arrays(&self, session: &Session) -> (Vec<u32>, Vec<f64>) {
        let commands = session
            .events
            .iter()
            .map(|&i| self.event_commands[i])
            .collect();
        let probs = session
            .events
            .iter()
            .map(|&i| self.event_param_probs[i])
            .collect();
        (commands, probs)
    }

    /// Returns the likelihood of the whole session between the start and end tokens. `session`
    /// must come from the events the model was trained on.
    pub fn session_likelihood(&self, session: &Session) -> f64 {
        let (commands, probs) = self.session_arrays(session);
        self.window_likelihood(&commands, &probs, true, true)
    }

    /// Returns the session likelihood raised to the power of one over the session length.
    pub fn session_geomean_likelihood(&self, session: &Session) -> f64 {
        self.session_likelihood(session)
            .powf(1.0 / session.events.len() as f64)
    }

    /// Finds the window of `window_len` consecutive commands with the lowest likelihood,
    /// sliding over the session with the end token appended. The first window starts from the
    /// start token. With `use_geo_mean` each window's likelihood is raised to the power of one
    /// over `window_len`. Returns `None` when the session plus the end token is shorter than
    /// the window. Ties go to the earliest window.
    pub fn rarest_window(
        &self,
        session: &Session,
        window_len: usize,
        use_geo_mean: bool,
    ) -> Option<RarestWindow> {
        let (mut commands, mut probs) = self.session_arrays(session);
        commands.push(END);
        probs.push(1.0);
        if window_len == 0 || commands.len() < window_len {
            return None;
        }

        let mut rarest: Option<RarestWindow> = None;
        for start in 0..=commands.len() - window_len {
            let range = start..start + window_len;
            let mut likelihood =
                self.window_likelihood(&commands[range.clone()], &probs[range], start == 0, false);
            if use_geo_mean {
                likelihood = likelihood.powf(1.0 / window_len as f64);
            }
            if rarest
                .as_ref()
                .is_none_or(|best| likelihood < best.likelihood)
            {
                let len = window_len.min(session.events.len() - start);
                rarest = Some(RarestWindow {
                    start,
                    len,
                    likelihood,
                });
            }
        }
        rarest
    }

    /// Returns the parameters whose values the model uses, sorted by name.
    pub fn modellable_params(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .modellable
            .iter()
            .enumerate()
            .filter(|&(_, &modelled)| modelled)
            .map(|(id, _)| self.params.names[id].clone())
            .collect();
        names.sort();
        names
    }
}

/// Counts before smoothing.
struct RawCounts {
    /// Occurrences of each command id, with one start and one end token per session.
    commands: Vec<u64>,
    /// Number of transitions out of each command id.
    transition_rows: Vec<u64>,
    /// Occurrences of each parameter id.
    params: Vec<u64>,
    /// For each command id, its parameters and their counts in first-seen order.
    command_params: Vec<Vec<(u32, u64)>>,
    /// For each parameter id, its non-empty values and their counts in first-seen order.
    param_values: Vec<Vec<(u32, u64)>>,
}
