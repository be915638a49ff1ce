//! A set of template folders, read the way MSTICPy reads its query folders.
//!
//! Every `*.yaml` and `*.yml` file under each folder is read, recursively, in path order. A
//! query is listed as `Family.name` under each of its data families. As in MSTICPy, a later
//! file that defines the same family and name replaces the earlier query. Files with errors are
//! kept with their problems, but their queries are not listed (MSTICPy skips such files or
//! rejects them).

use std::path::{Path, PathBuf};

use crate::quote::Dialect;
use crate::template::{Template, TemplateFile};

/// Environment variable with extra template folders, separated like `PATH`.
pub const TEMPLATE_PATH_VAR: &str = "QUARRY_TEMPLATE_PATH";

#[derive(Clone, Debug, Default)]
pub struct Library {
    pub files: Vec<TemplateFile>,
}

/// A query as listed in the library: one family and the template.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    pub family: &'a str,
    pub template: &'a Template,
}

impl Entry<'_> {
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.family, self.template.name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("no template named `{0}`; run `quarry templates list --search TEXT` to find one")]
    NotFound(String),
    #[error("template name `{name}` is ambiguous; use one of: {}", candidates.join(", "))]
    Ambiguous {
        name: String,
        candidates: Vec<String>,
    },
}

impl Library {
    /// Reads every template file under the folders (files are also accepted).
    pub fn load(paths: &[PathBuf]) -> std::io::Result<Library> {
        let mut files = Vec::new();
        for path in paths {
            let mut found = Vec::new();
            collect_yaml_files(path, &mut found)?;
            found.sort();
            for file in found {
                files.push(TemplateFile::read(&file)?);
            }
        }
        Ok(Library { files })
    }

    /// Returns the queries of valid files as `(family, template)` entries, sorted by qualified
    /// name, with later definitions of the same family and name replacing earlier ones.
    pub fn entries(&self) -> Vec<Entry<'_>> {
        let mut entries: Vec<Entry<'_>> = Vec::new();
        for file in self.files.iter().filter(|file| file.is_valid()) {
            for template in &file.templates {
                for family in &template.families {
                    let entry = Entry { family, template };
                    match entries.iter_mut().find(|known| {
                        known.family == family && known.template.name == template.name
                    }) {
                        Some(known) => *known = entry,
                        None => entries.push(entry),
                    }
                }
            }
        }
        entries.sort_by_key(Entry::qualified_name);
        entries
    }

    /// Finds a query by `Family.name`, or by `name` alone when only one family has it.
    pub fn find(&self, name: &str) -> Result<Entry<'_>, LookupError> {
        let entries = self.entries();
        if let Some(entry) = entries.iter().find(|entry| entry.qualified_name() == name) {
            return Ok(*entry);
        }
        let matches: Vec<&Entry<'_>> = entries
            .iter()
            .filter(|entry| entry.template.name == name)
            .collect();
        match matches.as_slice() {
            [] => Err(LookupError::NotFound(name.to_string())),
            [single] => Ok(**single),
            many => Err(LookupError::Ambiguous {
                name: name.to_string(),
                candidates: many.iter().map(|entry| entry.qualified_name()).collect(),
            }),
        }
    }

    /// Returns the entries whose name, description, parameter names or query contain `text`,
    /// ignoring case.
    pub fn search(&self, text: &str) -> Vec<Entry<'_>> {
        let needle = text.to_lowercase();
        self.entries()
            .into_iter()
            .filter(|entry| {
                let template = entry.template;
                entry.qualified_name().to_lowercase().contains(&needle)
                    || template.description.to_lowercase().contains(&needle)
                    || template.query.to_lowercase().contains(&needle)
                    || template
                        .parameters
                        .iter()
                        .any(|param| param.name.to_lowercase().contains(&needle))
            })
            .collect()
    }
}

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled_queries.rs"));
}

/// The path prefix of bundled template files when they are read from the binary.
pub const BUNDLED_PREFIX: &str = "<bundled>/queries";

/// Returns Quarry's own template files (`queries/` at the repository root).
///
/// In a source checkout the files are read from disk, so their paths point at real files that
/// an editor can open. Elsewhere, such as after `cargo install`, the copies embedded at build
/// time are parsed, with paths under [`BUNDLED_PREFIX`].
pub fn bundled_files() -> Vec<TemplateFile> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../queries");
    if folder.is_dir()
        && let Ok(library) = Library::load(&[folder])
    {
        return library.files;
    }
    embedded_files()
}

/// Parses the copies of `queries/` embedded at build time, with paths under
/// [`BUNDLED_PREFIX`].
pub fn embedded_files() -> Vec<TemplateFile> {
    bundled::BUNDLED_FILES
        .iter()
        .map(|(relative, text)| {
            let path = PathBuf::from(format!("{BUNDLED_PREFIX}/{relative}"));
            TemplateFile::parse(&path, (*text).to_owned())
        })
        .collect()
}

impl Library {
    /// Reads Quarry's own templates, then the given folders; later definitions of the same
    /// `Family.name` replace earlier ones.
    pub fn load_with_bundled(paths: &[PathBuf]) -> std::io::Result<Library> {
        let mut files = bundled_files();
        files.extend(Library::load(paths)?.files);
        Ok(Library { files })
    }
}

/// Returns the folders named in `QUARRY_TEMPLATE_PATH`.
pub fn env_template_paths() -> Vec<PathBuf> {
    std::env::var_os(TEMPLATE_PATH_VAR)
        .map(|value| {
            std::env::split_paths(&value)
                .filter(|path| !path.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Maps an MSTICPy data environment name or alias to its canonical name, as
/// `DataEnvironment.parse` does (msticpy 3.0.2). A dotted name such as `Custom.Env` is read as
/// its second part. Unknown names are returned unchanged.
pub fn canonical_environment(name: &str) -> String {
    let name = name.split('.').nth(1).unwrap_or(name);
    let canonical = match name {
        "AzureSentinel" | "LogAnalytics" | "MSSentinel_New" => "MSSentinel",
        "AzureDataExplorer" | "Kusto_New" => "Kusto",
        "SecurityGraph" => "MSGraph",
        "MDATP" => "MDE",
        "Mordor" => "OTRF",
        "OSQuery" => "OSQueryLogs",
        "MSSentinel_KQLM" => "MSSentinel_Legacy",
        "Kusto_KQLM" => "Kusto_Legacy",
        "Velociraptor" => "VelociraptorLogs",
        other => other,
    };
    canonical.to_string()
}

/// Returns the dialect a template is written in: SPL for Splunk environments, KQL otherwise.
pub fn template_dialect(template: &Template) -> Dialect {
    let splunk = template
        .environments
        .iter()
        .any(|environment| canonical_environment(environment) == "Splunk");
    if splunk {
        Dialect::Splunk
    } else {
        Dialect::Kql
    }
}

fn collect_yaml_files(path: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_file() {
        found.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let child = entry.path();
        if entry.file_type()?.is_dir() {
            collect_yaml_files(&child, found)?;
        } else if child
            .extension()
            .is_some_and(|extension| extension == "yaml" || extension == "yml")
        {
            found.push(child);
        }
    }
    Ok(())
}
