//! Client settings: `initializationOptions` and `workspace/didChangeConfiguration`.
//!
//! The fields and their JSON names are part of the contract in `docs/lsp-extensions.md`.

use std::path::PathBuf;

use quarry_engine::DataSource;
use serde::Deserialize;
use serde_json::Value;

/// The row limit of `quarry.runQuery` when the client sets none.
pub const DEFAULT_MAX_ROWS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Folder of data files; `None` runs queries on the built-in demo dataset.
    pub data_folder: Option<PathBuf>,
    pub max_rows: usize,
    /// Schema files (`schemaFiles`, `quarry.schema.files`) for documents in every workspace
    /// folder. Relative paths are resolved against each workspace folder.
    pub schema_files: Vec<String>,
    /// Template folders read after Quarry's own library (`templateFolders`).
    pub template_folders: Vec<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_folder: None,
            max_rows: DEFAULT_MAX_ROWS,
            schema_files: Vec::new(),
            template_folders: Vec::new(),
        }
    }
}

/// `initializationOptions` as the client sends them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitializationOptions {
    data_folder: Option<String>,
    max_rows: Option<usize>,
    #[serde(default)]
    schema_files: Vec<String>,
    #[serde(default)]
    template_folders: Vec<String>,
}

impl Config {
    /// Reads `initializationOptions`; a missing or invalid object gives the defaults.
    pub fn from_initialization_options(options: Option<&Value>) -> Result<Config, String> {
        let Some(options) = options.filter(|options| !options.is_null()) else {
            return Ok(Config::default());
        };
        let options: InitializationOptions = serde_json::from_value(options.clone())
            .map_err(|error| format!("invalid initializationOptions: {error}"))?;
        Ok(Config {
            data_folder: non_empty_path(options.data_folder),
            max_rows: options.max_rows.unwrap_or(DEFAULT_MAX_ROWS),
            schema_files: non_empty_strings(options.schema_files.iter()),
            template_folders: options
                .template_folders
                .into_iter()
                .filter_map(|folder| non_empty_path(Some(folder)))
                .collect(),
        })
    }

    /// Applies `settings.quarry.data.folder`, `settings.quarry.run.maxRows` and
    /// `settings.quarry.templates.folders` when present.
    pub fn apply_settings(&mut self, settings: &Value) {
        let quarry = &settings["quarry"];
        if let Some(folder) = quarry["data"].get("folder") {
            self.data_folder = folder
                .as_str()
                .and_then(|folder| non_empty_path(Some(folder.to_owned())));
        }
        if let Some(max_rows) = quarry["run"].get("maxRows").and_then(Value::as_u64) {
            self.max_rows = usize::try_from(max_rows).unwrap_or(usize::MAX);
        }
        if let Some(files) = quarry["schema"].get("files") {
            self.schema_files = schema_files_setting(files);
        }
        if let Some(folders) = quarry["templates"].get("folders").and_then(Value::as_array) {
            self.template_folders = folders
                .iter()
                .filter_map(|folder| non_empty_path(folder.as_str().map(str::to_owned)))
                .collect();
        }
    }

    pub fn data_source(&self) -> DataSource {
        match &self.data_folder {
            Some(folder) => DataSource::Folder(folder.clone()),
            None => DataSource::Demo,
        }
    }
}

/// Reads the `quarry.schema.files` setting: a list of paths, with empty entries left out. Any
/// other JSON value, such as `null` for an unset setting, gives no files.
pub fn schema_files_setting(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|files| non_empty_strings(files.iter().filter_map(Value::as_str)))
        .unwrap_or_default()
}

fn non_empty_strings<'a>(values: impl Iterator<Item = impl AsRef<str> + 'a>) -> Vec<String> {
    values
        .map(|value| value.as_ref().trim().to_owned())
        .filter(|value| !value.is_empty())
        .collect()
}

/// Converts an empty folder setting to `None`, because VS Code sends `""` for an unset string.
fn non_empty_path(folder: Option<String>) -> Option<PathBuf> {
    folder
        .filter(|folder| !folder.trim().is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn initialization_options_defaults() {
        assert_eq!(
            Config::from_initialization_options(None),
            Ok(Config::default())
        );
        assert_eq!(
            Config::from_initialization_options(Some(&Value::Null)),
            Ok(Config::default())
        );
        assert_eq!(
            Config::from_initialization_options(Some(&json!({}))),
            Ok(Config::default())
        );
    }

    #[test]
    fn initialization_options_fields() {
        let options = json!({ "dataFolder": "/data/logs", "maxRows": 25 });
        let config = Config::from_initialization_options(Some(&options)).unwrap();
        assert_eq!(config.data_folder, Some(PathBuf::from("/data/logs")));
        assert_eq!(config.max_rows, 25);
        assert_eq!(
            config.data_source(),
            DataSource::Folder(PathBuf::from("/data/logs"))
        );
    }

    #[test]
    fn initialization_options_invalid() {
        let error = Config::from_initialization_options(Some(&json!({ "maxRows": "ten" })));
        assert!(error.unwrap_err().contains("invalid initializationOptions"));
    }

    #[test]
    fn settings_update_and_clear_folder() {
        let mut config = Config::default();
        config.apply_settings(
            &json!({ "quarry": { "data": { "folder": "/x" }, "run": { "maxRows": 7 } } }),
        );
        assert_eq!(config.data_folder, Some(PathBuf::from("/x")));
        assert_eq!(config.max_rows, 7);

        config.apply_settings(&json!({ "quarry": { "data": { "folder": "" } } }));
        assert_eq!(config.data_folder, None);
        assert_eq!(config.max_rows, 7);

        config.apply_settings(&json!({ "other": 1 }));
        assert_eq!(config.max_rows, 7);
    }
}
