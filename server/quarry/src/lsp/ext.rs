//! Quarry's additions to LSP: the `quarry.runQuery` command, as specified in
//! `docs/lsp-extensions.md`.

use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::{Position, Range, Uri};

/// Runs one query block on the local engine.
pub const RUN_QUERY: &str = "quarry.runQuery";

/// Panics inside the request handler; it exists to test panic recovery and is listed only
/// when the environment variable [`DEBUG_COMMANDS_ENV`] is `1`.
pub const DEBUG_PANIC: &str = "quarry.debug.panic";

/// Environment variable that enables the debug commands.
pub const DEBUG_COMMANDS_ENV: &str = "QUARRY_DEBUG_COMMANDS";

/// The single argument of `quarry.runQuery`, before its form is decided.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunQueryArgs {
    pub uri: Option<Uri>,
    pub position: Option<Position>,
    pub range: Option<Range>,
    pub query: Option<String>,
    pub data_folder: Option<String>,
    pub max_rows: Option<usize>,
    pub time_range: Option<TimeRangeArg>,
}

/// `timeRange` of `quarry.runQuery`: ISO-8601 times, dates, `now` or relative times like `-7d`.
#[derive(Debug, Deserialize)]
pub struct TimeRangeArg {
    pub start: Option<String>,
    pub end: Option<String>,
}

/// The text `quarry.runQuery` runs, in one of the three argument forms.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryTarget {
    /// The query block containing `position`.
    Cursor { uri: Uri, position: Position },
    /// The selected text.
    Selection { uri: Uri, range: Range },
    /// Text given by the client.
    Text(String),
}

impl RunQueryArgs {
    /// Decides the form: `query` wins, then `range`, then `position`; each of the last two
    /// needs `uri`.
    pub fn target(&self) -> Result<QueryTarget, String> {
        if let Some(query) = &self.query {
            return Ok(QueryTarget::Text(query.clone()));
        }
        let Some(uri) = &self.uri else {
            return Err(
                "quarry.runQuery needs `query`, or `uri` with `position` or `range`".to_owned(),
            );
        };
        if let Some(range) = self.range {
            return Ok(QueryTarget::Selection {
                uri: uri.clone(),
                range,
            });
        }
        if let Some(position) = self.position {
            return Ok(QueryTarget::Cursor {
                uri: uri.clone(),
                position,
            });
        }
        Err(format!(
            "quarry.runQuery for `{}` needs `position` or `range`",
            uri.as_str()
        ))
    }
}

/// The result of `quarry.runQuery`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunQueryResult {
    pub query: String,
    /// `"demo"` or `"folder:"` followed by the folder path.
    pub source: String,
    pub columns: Vec<quarry_engine::ColumnInfo>,
    pub rows: Vec<Vec<serde_json::Value>>,
    pub row_count: usize,
    pub truncated: bool,
    pub elapsed_ms: f64,
    /// The chart named by a trailing `render` operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub render: Option<quarry_engine::RenderHint>,
}
