//! Database schemas: which tables exist and which columns, with which types, they have.
//!
//! A [`Schema`] comes from one or more [`SchemaSource`]s: the bundled Sentinel and Defender XDR
//! tables, the demo dataset's tables, or a schema file. Three file shapes are read, and
//! [`parse_schema_json`] distinguishes them by their top-level keys:
//!
//! - Quarry's own shape, `{"tables": {"T": {"Column": "type", ...}, ...}}`, the same one the
//!   bundled data uses;
//! - the output of Azure Data Explorer's `.show database X schema as json`,
//!   `{"Databases": {"X": {"Tables": {"T": {"OrderedColumns": [{"Name", "CslType"}]}}}}}`;
//! - the response of Log Analytics' `GET /v1/workspaces/{id}/metadata`,
//!   `{"tables": [{"name": "T", "columns": [{"name", "type"}]}]}`.

mod formats;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::ScalarType;

const SENTINEL_TABLES_JSON: &str = include_str!("../data/schema/sentinel-tables.json");
const DEMO_TABLES_JSON: &str = include_str!("../data/schema/demo-tables.json");

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSchema {
    pub name: String,
    pub ty: ScalarType,
}

/// A table and its columns in declaration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<ColumnSchema>,
    /// The origin of the definition, shown in hover: the bundled data's name or a file path.
    pub source: Arc<str>,
}

impl TableSchema {
    /// Looks up a column by its exact (case-sensitive) name.
    pub fn column(&self, name: &str) -> Option<&ColumnSchema> {
        self.columns.iter().find(|column| column.name == name)
    }
}

/// A set of tables with lookup by name. Table names are case-sensitive, as in KQL.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    tables: Vec<TableSchema>,
    index: HashMap<String, usize>,
}

/// A failure to load a schema source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// The source that failed: a file path or the name of bundled data.
    pub source: String,
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

impl std::error::Error for SchemaError {}

/// A provider of table definitions: bundled data, a file, or (later) a connected workspace.
pub trait SchemaSource: Send + Sync {
    /// Names the source in messages and hover text.
    fn describe(&self) -> String;

    /// Reads the source's tables.
    fn load(&self) -> Result<Schema, SchemaError>;
}

/// The schemas compiled into Quarry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundledSchema {
    /// Microsoft Sentinel and Defender XDR tables.
    Sentinel,
    /// The tables of the built-in demo dataset that `quarry run` uses without a data folder.
    Demo,
}

impl BundledSchema {
    /// Returns the parsed schema, parsing the embedded JSON once per process.
    ///
    /// # Panics
    ///
    /// Panics if the embedded JSON is invalid; the crate's tests load both schemas.
    pub fn get(self) -> &'static Schema {
        static SENTINEL: OnceLock<Schema> = OnceLock::new();
        static DEMO: OnceLock<Schema> = OnceLock::new();
        let (cell, text) = match self {
            BundledSchema::Sentinel => (&SENTINEL, SENTINEL_TABLES_JSON),
            BundledSchema::Demo => (&DEMO, DEMO_TABLES_JSON),
        };
        cell.get_or_init(|| {
            parse_schema_json(text, &self.describe())
                .unwrap_or_else(|error| panic!("embedded schema is invalid: {error}"))
        })
    }
}

impl SchemaSource for BundledSchema {
    fn describe(&self) -> String {
        match self {
            BundledSchema::Sentinel => "bundled Sentinel and Defender XDR tables".to_owned(),
            BundledSchema::Demo => "demo dataset".to_owned(),
        }
    }

    fn load(&self) -> Result<Schema, SchemaError> {
        Ok(self.get().clone())
    }
}

/// A schema file in any of the shapes [`parse_schema_json`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFile {
    pub path: PathBuf,
}

impl SchemaFile {
    pub fn new(path: impl Into<PathBuf>) -> SchemaFile {
        SchemaFile { path: path.into() }
    }
}

impl SchemaSource for SchemaFile {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn load(&self) -> Result<Schema, SchemaError> {
        let text = std::fs::read_to_string(&self.path).map_err(|error| SchemaError {
            source: self.describe(),
            message: format!("failed to read the schema file: {error}"),
        })?;
        parse_schema_json(&text, &self.describe())
    }
}

/// Parses schema JSON in Quarry's, Azure Data Explorer's or Log Analytics' shape. `source`
/// names the input in errors and becomes each table's [`TableSchema::source`].
pub fn parse_schema_json(text: &str, source: &str) -> Result<Schema, SchemaError> {
    formats::parse(text, source).map_err(|message| SchemaError {
        source: source.to_owned(),
        message,
    })
}

impl Schema {
    /// Builds a schema from tables; a later table replaces an earlier one of the same name.
    pub fn from_tables(tables: impl IntoIterator<Item = TableSchema>) -> Schema {
        let mut schema = Schema::default();
        for table in tables {
            schema.insert(table);
        }
        schema
    }

    /// Loads every source in order and merges them, later sources replacing tables of the same
    /// name. Sources that fail are skipped and their errors returned beside the schema, so one
    /// broken file does not hide the other tables.
    pub fn load_all(sources: &[&dyn SchemaSource]) -> (Schema, Vec<SchemaError>) {
        let mut schema = Schema::default();
        let mut errors = Vec::new();
        for source in sources {
            match source.load() {
                Ok(loaded) => schema.merge(loaded),
                Err(error) => errors.push(error),
            }
        }
        (schema, errors)
    }

    /// Adds a table, replacing any table of the same name.
    pub fn insert(&mut self, table: TableSchema) {
        match self.index.get(&table.name) {
            Some(&i) => self.tables[i] = table,
            None => {
                self.index.insert(table.name.clone(), self.tables.len());
                self.tables.push(table);
            }
        }
    }

    /// Adds every table of `other`, replacing tables of the same name.
    pub fn merge(&mut self, other: Schema) {
        for table in other.tables {
            self.insert(table);
        }
    }

    /// Looks up a table by its exact name.
    pub fn table(&self, name: &str) -> Option<&TableSchema> {
        self.index.get(name).map(|&i| &self.tables[i])
    }

    /// Iterates over the tables in the order they were added.
    pub fn tables(&self) -> impl Iterator<Item = &TableSchema> {
        self.tables.iter()
    }

    pub fn len(&self) -> usize {
        self.tables.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}

/// Reads a schema file given as a path, for callers that do not need the trait object.
pub fn load_schema_file(path: &Path) -> Result<Schema, SchemaError> {
    SchemaFile::new(path).load()
}
