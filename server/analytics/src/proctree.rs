//! Process trees from process-creation events, as msticpy 3.0.2 builds them for Windows 4688,
//! Sysmon event 1, Linux auditd and similar logs (`msticpy/transform/proc_tree_builder.py`,
//! `proc_tree_build_winlx.py` and the schemas in `proc_tree_schema.py`).
//!
//! A child is linked to the latest earlier (or simultaneous) event of a process with the child's
//! parent process id and, where the schema has a parent name column, the same lower-cased name.
//! A child whose parent was not captured gets an inferred parent, stamped at the Unix epoch.
//! Each process is identified by a key `name|pid|time`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use thiserror::Error;

use crate::input::{InputError, parse_timestamp};

/// Column names of one log format's process-creation events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProcSchema {
    pub name: &'static str,
    pub time_stamp: &'static str,
    pub process_name: &'static str,
    pub process_id: &'static str,
    pub parent_id: &'static str,
    pub parent_name: Option<&'static str>,
    pub cmd_line: Option<&'static str>,
    pub user_name: Option<&'static str>,
    pub user_id: Option<&'static str>,
    pub logon_id: Option<&'static str>,
    pub target_logon_id: Option<&'static str>,
    pub host_name: Option<&'static str>,
    pub event_id_column: Option<&'static str>,
    /// Value of `event_id_column` that marks a process creation.
    pub event_id_identifier: Option<&'static str>,
    /// Whether MSTICPy builds this schema's trees with its separate Defender path, which this
    /// module does not implement yet.
    pub defender: bool,
}

impl ProcSchema {
    fn columns(&self) -> Vec<&'static str> {
        let mut columns = vec![
            self.time_stamp,
            self.process_name,
            self.process_id,
            self.parent_id,
        ];
        columns.extend(
            [
                self.parent_name,
                self.cmd_line,
                self.user_name,
                self.user_id,
                self.logon_id,
                self.target_logon_id,
                self.host_name,
                self.event_id_column,
            ]
            .into_iter()
            .flatten(),
        );
        columns
    }
}

const fn schema(
    name: &'static str,
    time_stamp: &'static str,
    process_name: &'static str,
    process_id: &'static str,
    parent_id: &'static str,
) -> ProcSchema {
    ProcSchema {
        name,
        time_stamp,
        process_name,
        process_id,
        parent_id,
        parent_name: None,
        cmd_line: None,
        user_name: None,
        user_id: None,
        logon_id: None,
        target_logon_id: None,
        host_name: None,
        event_id_column: None,
        event_id_identifier: None,
        defender: false,
    }
}

/// The schemas MSTICPy recognises, in its order, which decides ties in [`detect_schema`].
pub const SCHEMAS: [ProcSchema; 7] = [
    ProcSchema {
        parent_name: Some("ParentProcessName"),
        cmd_line: Some("CommandLine"),
        user_name: Some("SubjectUserName"),
        user_id: Some("SubjectUserSid"),
        logon_id: Some("SubjectLogonId"),
        target_logon_id: Some("TargetLogonId"),
        host_name: Some("Computer"),
        event_id_column: Some("EventID"),
        event_id_identifier: Some("4688"),
        ..schema(
            "windows-4688",
            "TimeGenerated",
            "NewProcessName",
            "NewProcessId",
            "ProcessId",
        )
    },
    ProcSchema {
        cmd_line: Some("cmdline"),
        user_name: Some("acct"),
        user_id: Some("uid"),
        logon_id: Some("ses"),
        host_name: Some("Computer"),
        event_id_column: Some("EventType"),
        event_id_identifier: Some("SYSCALL_EXECVE"),
        ..schema("linux-auditd", "TimeGenerated", "exe", "pid", "ppid")
    },
    ProcSchema {
        parent_name: Some("ParentProcessName"),
        cmd_line: Some("CreatedProcessCommandLine"),
        user_name: Some("CreatedProcessAccountName"),
        user_id: Some("CreatedProcessAccountSid"),
        logon_id: Some("InitiatingProcessLogonId"),
        target_logon_id: Some("LogonId"),
        host_name: Some("ComputerDnsName"),
        defender: true,
        ..schema(
            "defender-internal",
            "CreatedProcessCreationTime",
            "CreatedProcessName",
            "CreatedProcessId",
            "CreatedProcessParentId",
        )
    },
    ProcSchema {
        parent_name: Some("InitiatingProcessFileName"),
        cmd_line: Some("ProcessCommandLine"),
        user_name: Some("AccountName"),
        user_id: Some("AccountSid"),
        logon_id: Some("InitiatingProcessLogonId"),
        target_logon_id: Some("LogonId"),
        host_name: Some("DeviceName"),
        event_id_column: Some("ActionType"),
        event_id_identifier: Some("ProcessCreated"),
        defender: true,
        ..schema(
            "defender-device-process-events",
            "Timestamp",
            "FileName",
            "ProcessId",
            "InitiatingProcessId",
        )
    },
    ProcSchema {
        parent_name: Some("ParentImage"),
        cmd_line: Some("CommandLine"),
        user_name: Some("User"),
        logon_id: Some("LogonId"),
        host_name: Some("Computer"),
        event_id_column: Some("EventID"),
        event_id_identifier: Some("1"),
        ..schema(
            "sysmon-1",
            "UtcTime",
            "Image",
            "ProcessId",
            "ParentProcessId",
        )
    },
    ProcSchema {
        parent_name: Some("pcmdline"),
        cmd_line: Some("cmdline"),
        user_name: Some("username"),
        user_id: Some("uid"),
        ..schema("osquery", "calendarTime", "name", "pid", "parent")
    },
    ProcSchema {
        parent_name: Some("parentprocess"),
        cmd_line: Some("processcmdline"),
        user_name: Some("username"),
        host_name: Some("hostname"),
        event_id_column: Some("eventtype"),
        event_id_identifier: Some("start"),
        ..schema(
            "hx-process-event",
            "starttime",
            "process",
            "pid",
            "parentpid",
        )
    },
];

/// Picks the schema sharing the most columns with `columns`, if it shares at least four, as
/// MSTICPy's `infer_schema` does. Ties go to the later schema in [`SCHEMAS`], as MSTICPy's dict
/// of match counts keeps the last schema per count.
pub fn detect_schema(columns: &[String]) -> Option<&'static ProcSchema> {
    let present: HashSet<&str> = columns.iter().map(String::as_str).collect();
    let mut best: Option<(usize, &'static ProcSchema)> = None;
    for schema in &SCHEMAS {
        let matches = schema
            .columns()
            .iter()
            .filter(|column| present.contains(*column))
            .count();
        if best.is_none_or(|(count, _)| matches >= count) {
            best = Some((matches, schema));
        }
    }
    best.filter(|&(count, _)| count >= 4)
        .map(|(_, schema)| schema)
}

/// A failure to build a process tree.
#[derive(Debug, Error)]
pub enum ProcTreeError {
    #[error(
        "no process schema matches the columns {0}; expected Windows 4688, Sysmon 1, auditd or similar events"
    )]
    UnknownSchema(String),
    #[error("process trees from {0} events are not supported yet")]
    Unsupported(&'static str),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("the input has no process-creation events")]
    NoEvents,
}

/// A process in the tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Process {
    /// `lower-cased name|process id|time`, with the time to 10 microseconds.
    pub key: String,
    /// Key of the parent; `None` for a root.
    pub parent_key: Option<String>,
    pub time: DateTime<Utc>,
    pub name: String,
    pub process_id: String,
    pub parent_id: Option<String>,
    pub command_line: Option<String>,
    pub host: Option<String>,
    /// Whether the process is an inferred parent that has no event of its own.
    pub inferred: bool,
    pub is_root: bool,
    pub is_leaf: bool,
    pub is_branch: bool,
    /// Position ids from the root to this process, zero-padded and joined with `/`.
    pub path: String,
    /// Number of processes on the path, 1 for a root.
    pub depth: usize,
}

/// Summary counts of a tree, as MSTICPy's `get_summary_info` reports them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeSummary {
    pub processes: usize,
    pub roots: usize,
    pub leaves: usize,
    pub branches: usize,
    pub isolated: usize,
    pub max_depth: usize,
}

/// Returns the summary counts of `processes`.
pub fn summarize(processes: &[Process]) -> TreeSummary {
    TreeSummary {
        processes: processes.len(),
        roots: processes.iter().filter(|p| p.is_root).count(),
        leaves: processes.iter().filter(|p| p.is_leaf).count(),
        branches: processes.iter().filter(|p| p.is_branch).count(),
        isolated: processes.iter().filter(|p| p.is_root && p.is_leaf).count(),
        max_depth: processes.iter().map(|p| p.depth).max().unwrap_or(0),
    }
}

/// One process-creation event after cleaning.
struct Row {
    time: DateTime<Utc>,
    name: String,
    name_lc: String,
    process_id: String,
    parent_id: String,
    /// Parent name as logged, for schemas with a parent name column.
    parent_name: Option<String>,
    parent_lc: Option<String>,
    command_line: Option<String>,
    host: Option<String>,
}

/// Builds the process tree of the events in `header` and `rows`, with `schema` or, when it is
/// `None`, the schema [`detect_schema`] picks. Processes are sorted by path, then time.
///
/// A column with an empty name is taken to be a saved DataFrame index and is ignored when
/// dropping duplicate events.
pub fn build_process_tree(
    header: &[String],
    rows: &[Vec<String>],
    schema: Option<&ProcSchema>,
) -> Result<Vec<Process>, ProcTreeError> {
    let schema = match schema {
        Some(schema) => schema,
        None => {
            detect_schema(header).ok_or_else(|| ProcTreeError::UnknownSchema(header.join(", ")))?
        }
    };
    if schema.defender {
        return Err(ProcTreeError::Unsupported("Microsoft Defender"));
    }
    let events = clean_events(header, rows, schema)?;
    if events.is_empty() {
        return Err(ProcTreeError::NoEvents);
    }
    let parents = link_parents(&events, schema.parent_name.is_some());
    Ok(assemble_tree(&events, &parents))
}

fn column_index(header: &[String], name: &str) -> Result<usize, InputError> {
    header
        .iter()
        .position(|column| column == name)
        .ok_or_else(|| InputError::MissingColumn {
            name: name.to_string(),
            available: header.join(", "),
        })
}

fn optional_cell(row: &[String], index: Option<usize>) -> Option<String> {
    index
        .map(|i| row[i].clone())
        .filter(|value| !value.is_empty())
}

/// Drops duplicate events, keeps process creations and sorts them by time (stably).
fn clean_events(
    header: &[String],
    rows: &[Vec<String>],
    schema: &ProcSchema,
) -> Result<Vec<Row>, ProcTreeError> {
    let time = column_index(header, schema.time_stamp)?;
    let name = column_index(header, schema.process_name)?;
    let pid = column_index(header, schema.process_id)?;
    let ppid = column_index(header, schema.parent_id)?;
    let parent_name = schema
        .parent_name
        .map(|column| column_index(header, column))
        .transpose()?;
    let find =
        |column: Option<&str>| column.and_then(|column| header.iter().position(|c| c == column));
    let cmd_line = find(schema.cmd_line);
    let host = find(schema.host_name);
    let event_filter = find(schema.event_id_column).zip(schema.event_id_identifier);
    let data_columns: Vec<usize> = (0..header.len())
        .filter(|&i| !header[i].is_empty())
        .collect();

    let mut seen: HashSet<Vec<&str>> = HashSet::new();
    let mut events = Vec::new();
    for (row_number, row) in rows.iter().enumerate() {
        let identity: Vec<&str> = data_columns.iter().map(|&i| row[i].as_str()).collect();
        if !seen.insert(identity) {
            continue;
        }
        if let Some((column, identifier)) = event_filter
            && row[column].trim() != identifier
        {
            continue;
        }
        let timestamp =
            parse_timestamp(&row[time]).ok_or_else(|| InputError::InvalidTimestamp {
                row: row_number + 1,
                column: schema.time_stamp.to_string(),
                value: row[time].clone(),
            })?;
        // MSTICPy names a parent with an empty name "unknown". NOTE: pandas reads an empty CSV
        // cell as NaN, which MSTICPy leaves as is, so its trees can differ for such rows.
        let logged_parent = parent_name.map(|i| {
            if row[i].is_empty() {
                "unknown".to_string()
            } else {
                row[i].clone()
            }
        });
        events.push(Row {
            time: timestamp,
            name: row[name].clone(),
            name_lc: row[name].to_lowercase(),
            process_id: row[pid].clone(),
            parent_id: row[ppid].clone(),
            parent_lc: logged_parent.as_ref().map(|name| name.to_lowercase()),
            parent_name: logged_parent,
            command_line: optional_cell(row, cmd_line),
            host: optional_cell(row, host),
        });
    }
    events.sort_by_key(|event| event.time);
    Ok(events)
}

/// Links each event to its parent event, as pandas' `merge_asof` does in MSTICPy: the last
/// event (in time order) of the parent process id, and the parent name when `by_name` is set,
/// whose time is at or before the child's.
fn link_parents(events: &[Row], by_name: bool) -> Vec<Option<usize>> {
    let mut candidates: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (index, event) in events.iter().enumerate() {
        let name = if by_name { event.name_lc.as_str() } else { "" };
        candidates
            .entry((event.process_id.as_str(), name))
            .or_default()
            .push(index);
    }
    events
        .iter()
        .map(|child| {
            let name = match (&child.parent_lc, by_name) {
                (Some(name), true) => name.as_str(),
                _ => "",
            };
            let list = candidates.get(&(child.parent_id.as_str(), name))?;
            let after = list.partition_point(|&candidate| events[candidate].time <= child.time);
            after.checked_sub(1).map(|position| list[position])
        })
        .collect()
}

fn format_key(name_lc: &str, process_id: &str, time: DateTime<Utc>) -> String {
    // pandas rounds to 10 microseconds, halves to even, before formatting with "%f".
    let nanos = time.timestamp_nanos_opt().unwrap_or(0);
    let units = nanos.div_euclid(10_000);
    let remainder = nanos.rem_euclid(10_000);
    let rounded = if remainder > 5_000 || (remainder == 5_000 && units % 2 != 0) {
        units + 1
    } else {
        units
    };
    let time = DateTime::from_timestamp_nanos(rounded * 10_000);
    format!(
        "{name_lc}|{process_id}|{}",
        time.format("%Y-%m-%d %H:%M:%S%.6f")
    )
}

/// Adds inferred parents, computes keys and flags, and walks the tree from its roots.
fn assemble_tree(events: &[Row], parents: &[Option<usize>]) -> Vec<Process> {
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    let mut processes: Vec<Process> = Vec::with_capacity(events.len());
    let mut inferred: Vec<Process> = Vec::new();
    let mut inferred_keys: HashSet<String> = HashSet::new();

    for (event, parent) in events.iter().zip(parents) {
        let parent_name_lc = match parent {
            Some(parent) => events[*parent].name_lc.clone(),
            None => event
                .parent_lc
                .clone()
                .unwrap_or_else(|| "unknown".to_string()),
        };
        let parent_time = parent.map_or(epoch, |parent| events[parent].time);
        let parent_key = format_key(&parent_name_lc, &event.parent_id, parent_time);
        if parent.is_none() && inferred_keys.insert(parent_key.clone()) {
            inferred.push(Process {
                key: parent_key.clone(),
                parent_key: None,
                time: epoch,
                name: event
                    .parent_name
                    .clone()
                    .unwrap_or_else(|| parent_name_lc.clone()),
                process_id: event.parent_id.clone(),
                parent_id: None,
                command_line: None,
                host: event.host.clone(),
                inferred: true,
                is_root: true,
                is_leaf: false,
                is_branch: false,
                path: String::new(),
                depth: 0,
            });
        }
        processes.push(Process {
            key: format_key(&event.name_lc, &event.process_id, event.time),
            parent_key: Some(parent_key),
            time: event.time,
            name: event.name.clone(),
            process_id: event.process_id.clone(),
            parent_id: Some(event.parent_id.clone()),
            command_line: event.command_line.clone(),
            host: event.host.clone(),
            inferred: false,
            is_root: false,
            is_leaf: false,
            is_branch: false,
            path: String::new(),
            depth: 0,
        });
    }
    processes.extend(inferred);

    let parent_keys: HashSet<&str> = processes
        .iter()
        .filter_map(|p| p.parent_key.as_deref())
        .collect();
    let has_child: Vec<bool> = processes
        .iter()
        .map(|p| parent_keys.contains(p.key.as_str()))
        .collect();
    for (process, has_child) in processes.iter_mut().zip(has_child) {
        process.is_root = process.parent_key.is_none();
        process.is_leaf = !has_child;
        process.is_branch = !process.is_root && has_child;
    }
    for (position, process) in processes.iter_mut().enumerate() {
        process.path = format!("{position:05}");
        process.depth = 1;
    }

    // MSTICPy keeps the first process of each key.
    let mut seen: HashSet<String> = HashSet::new();
    processes.retain(|process| seen.insert(process.key.clone()));

    assign_paths(&mut processes);
    processes.sort_by(|a, b| a.path.cmp(&b.path).then(a.time.cmp(&b.time)));
    processes
}

/// Extends each path with its ancestors' paths, level by level from the roots. A process whose
/// parent is never reached keeps its own id as its path.
fn assign_paths(processes: &mut [Process]) {
    let index_of: HashMap<String, usize> = processes
        .iter()
        .enumerate()
        .map(|(index, p)| (p.key.clone(), index))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); processes.len()];
    for (index, process) in processes.iter().enumerate() {
        if let Some(parent) = process
            .parent_key
            .as_ref()
            .and_then(|key| index_of.get(key))
            && *parent != index
        {
            children[*parent].push(index);
        }
    }
    let mut level: Vec<usize> = (0..processes.len())
        .filter(|&i| processes[i].is_root)
        .collect();
    let mut visited = vec![false; processes.len()];
    for &root in &level {
        visited[root] = true;
    }
    while !level.is_empty() {
        let mut next = Vec::new();
        for &parent in &level {
            for &child in &children[parent] {
                if visited[child] {
                    continue;
                }
                visited[child] = true;
                let own = processes[child].path.clone();
                processes[child].path = format!("{}/{own}", processes[parent].path);
                processes[child].depth = processes[parent].depth + 1;
                next.push(child);
            }
        }
        level = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| value.to_string()).collect()
    }

    fn auditd_rows() -> (Vec<String>, Vec<Vec<String>>) {
        let header = strings(&[
            "TimeGenerated",
            "Computer",
            "EventType",
            "exe",
            "pid",
            "ppid",
            "cmdline",
        ]);
        let rows = vec![
            strings(&[
                "2024-01-01T00:00:00Z",
                "web1",
                "SYSCALL_EXECVE",
                "/bin/bash",
                "100",
                "1",
                "bash",
            ]),
            strings(&[
                "2024-01-01T00:00:05Z",
                "web1",
                "SYSCALL_EXECVE",
                "/usr/bin/curl",
                "101",
                "100",
                "curl x",
            ]),
            strings(&[
                "2024-01-01T00:00:06Z",
                "web1",
                "SYSCALL_EXECVE",
                "/bin/sh",
                "102",
                "100",
                "sh -c",
            ]),
            strings(&[
                "2024-01-01T00:00:07Z",
                "web1",
                "SYSCALL_OPEN",
                "/bin/cat",
                "103",
                "102",
                "cat",
            ]),
            strings(&[
                "2024-01-01T00:00:06Z",
                "web1",
                "SYSCALL_EXECVE",
                "/bin/sh",
                "102",
                "100",
                "sh -c",
            ]),
        ];
        (header, rows)
    }

    #[test]
    fn auditd_schema_is_detected() {
        let (header, _) = auditd_rows();
        assert_eq!(detect_schema(&header).unwrap().name, "linux-auditd");
        assert!(detect_schema(&strings(&["a", "b", "pid"])).is_none());
    }

    #[test]
    fn auditd_tree_links_by_pid() {
        let (header, rows) = auditd_rows();
        let tree = build_process_tree(&header, &rows, None).unwrap();
        let summary = summarize(&tree);
        // bash, curl and sh, plus the inferred parent of bash (pid 1). The open event and the
        // duplicate sh event are dropped.
        assert_eq!(summary.processes, 4);
        assert_eq!(summary.roots, 1);
        assert_eq!(summary.leaves, 2);
        assert_eq!(summary.branches, 1);
        assert_eq!(summary.max_depth, 3);
        assert_eq!(tree[0].key, "unknown|1|1970-01-01 00:00:00.000000");
        assert!(tree[0].inferred);
        assert_eq!(tree[1].key, "/bin/bash|100|2024-01-01 00:00:00.000000");
    }

    #[test]
    fn keys_round_to_ten_microseconds() {
        let time = DateTime::from_timestamp(0, 123_455_000).unwrap();
        assert_eq!(format_key("a", "1", time), "a|1|1970-01-01 00:00:00.123460");
        let time = DateTime::from_timestamp(0, 123_445_000).unwrap();
        assert_eq!(format_key("a", "1", time), "a|1|1970-01-01 00:00:00.123440");
    }

    #[test]
    fn defender_events_are_rejected() {
        let header = strings(&[
            "Timestamp",
            "FileName",
            "ProcessId",
            "InitiatingProcessId",
            "InitiatingProcessFileName",
        ]);
        let error = build_process_tree(&header, &[], None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "process trees from Microsoft Defender events are not supported yet"
        );
    }
}
