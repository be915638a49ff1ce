//! The table schema of each workspace folder: the bundled Sentinel and Defender XDR tables,
//! then the folder's schema files (`quarry.schema.files`), then the tables of the configured
//! data folder that no schema defines. A document is bound against the schema of the
//! innermost workspace folder that contains it, and other documents against the bundled tables
//! plus the data folder's.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use quarry_analysis::{BundledSchema, Catalog, ColumnSchema, ScalarType, Schema, TableSchema};
use serde_json::Value;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{ConfigurationItem, InitializeParams, MessageType, Uri};

use super::config::schema_files_setting;
use super::server::Session;

/// The setting that lists schema files, read per workspace folder.
pub const SCHEMA_FILES_SECTION: &str = "quarry.schema.files";

/// The workspace folders the client opened, and how to read their settings.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub folders: Vec<(Uri, PathBuf)>,
    /// Whether the client supports `workspace/configuration` requests, which give each folder
    /// its own `quarry.schema.files`.
    pub pull_configuration: bool,
}

impl Workspace {
    /// Reads the folders from `workspaceFolders`, or from `rootUri` for older clients.
    pub fn from_initialize(params: &InitializeParams) -> Workspace {
        #[allow(deprecated)]
        let uris: Vec<Uri> = match &params.workspace_folders {
            Some(folders) => folders.iter().map(|folder| folder.uri.clone()).collect(),
            None => params.root_uri.iter().cloned().collect(),
        };
        let pull_configuration = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|workspace| workspace.configuration)
            .unwrap_or(false);
        Workspace {
            folders: uris
                .into_iter()
                .filter_map(|uri| file_path(&uri).map(|path| (uri, path)))
                .collect(),
            pull_configuration,
        }
    }
}

/// Reloads the schema of every workspace folder from the current settings and installs it in
/// `session`. Sources that fail are skipped, logged and shown to the user in one message.
pub async fn reload(session: &Session, client: &Client) {
    let workspace = session
        .workspace
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    let config = session.config();

    let mut folders = vec![FolderSettings {
        folder: None,
        files: config.schema_files.clone(),
    }];
    let folder_files = folder_schema_files(client, &workspace, &config.schema_files).await;
    for ((_, path), files) in workspace.folders.iter().zip(folder_files) {
        folders.push(FolderSettings {
            folder: Some(path.clone()),
            files,
        });
    }

    let engine = config
        .data_folder
        .is_some()
        .then(|| session.engine(config.data_source()));
    let loaded = tokio::task::spawn_blocking(move || {
        let (tables, mut errors) = match &engine {
            Some(engine) => data_tables(engine),
            None => (Vec::new(), Vec::new()),
        };
        let (set, build_errors) = build(&folders, &tables);
        errors.extend(build_errors);
        (set, errors, tables.len())
    })
    .await;
    let (set, errors, data_table_count) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => {
            tracing::error!(%error, "loading the schemas failed");
            // Publish the diagnostics of the bundled tables rather than none.
            session
                .schemas
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .loaded = true;
            return;
        }
    };

    *session
        .schemas
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = set;
    tracing::info!(
        folders = workspace.folders.len(),
        data_tables = data_table_count,
        errors = errors.len(),
        "schemas loaded"
    );
    for LoadError(message) in &errors {
        tracing::warn!(%message, "schema source skipped");
    }
    if !errors.is_empty() {
        let messages: Vec<&str> = errors
            .iter()
            .map(|LoadError(message)| message.as_str())
            .collect();
        client
            .show_message(MessageType::WARNING, messages.join("\n"))
            .await;
    }
}

/// Returns each workspace folder's `quarry.schema.files`. Where the client does not support
/// `workspace/configuration` or returns `null`, every folder gets the setting from
/// `initializationOptions` or `workspace/didChangeConfiguration`.
async fn folder_schema_files(
    client: &Client,
    workspace: &Workspace,
    fallback: &[String],
) -> Vec<Vec<String>> {
    let fallback_all = || vec![fallback.to_vec(); workspace.folders.len()];
    if !workspace.pull_configuration || workspace.folders.is_empty() {
        return fallback_all();
    }
    let items = workspace
        .folders
        .iter()
        .map(|(uri, _)| ConfigurationItem {
            scope_uri: Some(uri.clone()),
            section: Some(SCHEMA_FILES_SECTION.to_owned()),
        })
        .collect();
    match client.configuration(items).await {
        Ok(values) if values.len() == workspace.folders.len() => values
            .iter()
            .map(|value| match value {
                Value::Null => fallback.to_vec(),
                value => schema_files_setting(value),
            })
            .collect(),
        Ok(values) => {
            tracing::warn!(
                expected = workspace.folders.len(),
                received = values.len(),
                "workspace/configuration returned the wrong number of values"
            );
            fallback_all()
        }
        Err(error) => {
            tracing::warn!(%error, "workspace/configuration failed");
            fallback_all()
        }
    }
}

/// The analyses of the workspace folders and the one for documents outside them.
#[derive(Debug, Clone)]
pub struct SchemaSet {
    /// Workspace folders with their analysis, the longest path first so the innermost folder
    /// that contains a document wins.
    folders: Vec<(PathBuf, quarry_ide::Analysis)>,
    outside: quarry_ide::Analysis,
    /// Whether a schema load has finished. Until then the tables of schema files and the data
    /// folder are missing, so diagnostics that need the schema would be wrong.
    loaded: bool,
}

impl Default for SchemaSet {
    fn default() -> Self {
        SchemaSet {
            folders: Vec::new(),
            outside: quarry_ide::Analysis::new(Catalog::get()),
            loaded: false,
        }
    }
}

impl SchemaSet {
    /// Returns whether the first schema load has finished.
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    /// Returns the analysis for a document: that of the innermost workspace folder containing
    /// it, or the one for documents outside every folder.
    pub fn analysis_for(&self, uri: &Uri) -> quarry_ide::Analysis {
        let Some(path) = file_path(uri) else {
            return self.outside.clone();
        };
        self.folders
            .iter()
            .find(|(folder, _)| path.starts_with(folder))
            .map_or_else(|| self.outside.clone(), |(_, analysis)| analysis.clone())
    }
}

/// The schema sources of one workspace folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderSettings {
    /// The folder, or `None` for documents outside every workspace folder.
    pub folder: Option<PathBuf>,
    /// Schema file paths as configured; relative ones are resolved against `folder`.
    pub files: Vec<String>,
}

/// A failure to read one schema source, reported to the user and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError(pub String);

/// Builds the schema set for the given folders. `data_tables` are the tables of the data
/// folder; each is added to every schema that has no table of the same name.
pub fn build(
    folders: &[FolderSettings],
    data_tables: &[TableSchema],
) -> (SchemaSet, Vec<LoadError>) {
    let mut errors = Vec::new();
    let mut set = SchemaSet::default();
    for settings in folders {
        let analysis = match load_schema(settings, data_tables, &mut errors) {
            Some(schema) => {
                quarry_ide::Analysis::with_shared_schema(Catalog::get(), Arc::new(schema))
            }
            None => quarry_ide::Analysis::new(Catalog::get()),
        };
        match &settings.folder {
            Some(folder) => set.folders.push((folder.clone(), analysis)),
            None => set.outside = analysis,
        }
    }
    set.folders
        .sort_by_key(|(folder, _)| std::cmp::Reverse(folder.as_os_str().len()));
    set.loaded = true;
    (set, errors)
}

/// Loads one folder's schema, or returns `None` when it equals the bundled one.
fn load_schema(
    settings: &FolderSettings,
    data_tables: &[TableSchema],
    errors: &mut Vec<LoadError>,
) -> Option<Schema> {
    if settings.files.is_empty() && data_tables.is_empty() {
        return None;
    }
    let mut schema = BundledSchema::Sentinel.get().clone();
    for file in &settings.files {
        let path = resolve(settings.folder.as_deref(), file);
        match quarry_analysis::schema::load_schema_file(&path) {
            Ok(loaded) => schema.merge(loaded),
            Err(error) => errors.push(LoadError(format!(
                "schema file skipped: {error}. Check the path in `quarry.schema.files`; \
                 relative paths start at the workspace folder."
            ))),
        }
    }
    for table in data_tables {
        if schema.table(&table.name).is_none() {
            schema.insert(table.clone());
        }
    }
    Some(schema)
}

fn resolve(folder: Option<&Path>, file: &str) -> PathBuf {
    let path = PathBuf::from(file);
    match folder {
        Some(folder) if path.is_relative() => folder.join(path),
        _ => path,
    }
}

/// Reads the tables of a data source and their columns. Types the engine reports that are not
/// KQL scalar types become `unknown`.
// NOTE: `table_columns` loads each file once to learn its columns; the engine session caches
// the frames, so later query runs reuse them.
pub fn data_tables(engine: &quarry_engine::Session) -> (Vec<TableSchema>, Vec<LoadError>) {
    let source: Arc<str> = Arc::from(match engine.source() {
        quarry_engine::DataSource::Folder(folder) => folder.display().to_string(),
        quarry_engine::DataSource::Demo => "demo dataset".to_owned(),
    });
    let names = match engine.table_names() {
        Ok(names) => names,
        Err(error) => {
            return (
                Vec::new(),
                vec![LoadError(format!(
                    "failed to list the tables of the data folder {source}: {}",
                    error.message
                ))],
            );
        }
    };
    let mut tables = Vec::new();
    let mut errors = Vec::new();
    for name in names {
        match engine.table_columns(&name) {
            Ok(Some(columns)) => tables.push(TableSchema {
                name,
                columns: columns
                    .into_iter()
                    .map(|column| ColumnSchema {
                        ty: ScalarType::parse(&column.ty).unwrap_or(ScalarType::Unknown),
                        name: column.name,
                    })
                    .collect(),
                source: Arc::clone(&source),
            }),
            Ok(None) => {}
            Err(error) => errors.push(LoadError(format!(
                "failed to read the columns of table `{name}` in {source}: {}",
                error.message
            ))),
        }
    }
    (tables, errors)
}

/// Converts a `file:` URI to a path; other schemes give `None`.
pub fn file_path(uri: &Uri) -> Option<PathBuf> {
    url::Url::parse(uri.as_str())
        .ok()
        .filter(|url| url.scheme() == "file")
        .and_then(|url| url.to_file_path().ok())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    /// Creates an empty folder under the system temporary folder, unique to this test.
    fn temp_folder(test: &str) -> PathBuf {
        let folder =
            std::env::temp_dir().join(format!("quarry-schema-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        folder
    }

    fn uri(text: &str) -> Uri {
        Uri::from_str(text).unwrap()
    }

    fn write_schema(dir: &Path, name: &str, table: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(
            &path,
            format!(r#"{{"tables": {{"{table}": {{"Id": "long", "Name": "string"}}}}}}"#),
        )
        .unwrap();
        path
    }

    fn knows(set: &SchemaSet, document: &str, table: &str) -> bool {
        set.analysis_for(&uri(document))
            .schema()
            .table(table)
            .is_some()
    }

    #[test]
    fn folders_resolve_relative_files() {
        let dir = temp_folder("folders");
        let a = dir.join("a");
        let b = dir.join("a/b");
        std::fs::create_dir_all(&b).unwrap();
        write_schema(&a, "schema.json", "OnlyInA");
        write_schema(&b, "schema.json", "OnlyInB");
        let folders = [
            FolderSettings {
                folder: Some(a.clone()),
                files: vec!["schema.json".to_owned()],
            },
            FolderSettings {
                folder: Some(b.clone()),
                files: vec!["schema.json".to_owned()],
            },
        ];
        let (set, errors) = build(&folders, &[]);
        assert!(errors.is_empty(), "{errors:?}");

        let in_a = format!("file://{}/q.kql", a.display());
        let in_b = format!("file://{}/q.kql", b.display());
        assert!(knows(&set, &in_a, "OnlyInA"));
        assert!(!knows(&set, &in_a, "OnlyInB"));
        assert!(knows(&set, &in_b, "OnlyInB"), "the inner folder wins");
        assert!(!knows(&set, &in_b, "OnlyInA"));
        assert!(knows(&set, &in_b, "SecurityEvent"), "bundled tables stay");
        assert!(!knows(&set, "file:///elsewhere/q.kql", "OnlyInA"));
        assert!(!knows(&set, "untitled:Untitled-1", "OnlyInA"));
    }

    #[test]
    fn missing_file_is_reported_and_skipped() {
        let dir = temp_folder("missing");
        let folders = [FolderSettings {
            folder: Some(dir.clone()),
            files: vec!["missing.json".to_owned()],
        }];
        let (set, errors) = build(&folders, &[]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].0.contains("missing.json"), "{errors:?}");
        assert!(errors[0].0.contains("quarry.schema.files"), "{errors:?}");
        let document = format!("file://{}/q.kql", dir.display());
        assert!(knows(&set, &document, "SigninLogs"));
    }

    #[test]
    fn data_tables_fill_gaps_only() {
        let data = [
            TableSchema {
                name: "Proxy".to_owned(),
                columns: vec![ColumnSchema {
                    name: "Url".to_owned(),
                    ty: ScalarType::String,
                }],
                source: Arc::from("data"),
            },
            TableSchema {
                name: "SecurityEvent".to_owned(),
                columns: Vec::new(),
                source: Arc::from("data"),
            },
        ];
        let (set, _) = build(
            &[FolderSettings {
                folder: None,
                files: Vec::new(),
            }],
            &data,
        );
        let analysis = set.analysis_for(&uri("untitled:Untitled-1"));
        assert!(analysis.schema().table("Proxy").is_some());
        let security = analysis.schema().table("SecurityEvent").unwrap();
        assert!(
            !security.columns.is_empty(),
            "the bundled definition is kept"
        );
    }
}
