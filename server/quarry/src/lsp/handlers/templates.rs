//! Query templates in the language server. This module keeps the session's template library
//! and answers `quarry/listTemplates` and `quarry/renderTemplate`. For template calls in KQL
//! documents it converts the results of `quarry_ide::templates` (hover, completion, signature
//! help, diagnostics, the "Expand template" code action, expansion before a run) to LSP types,
//! and it does the same for template YAML documents with `quarry_ide::template_yaml`.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use chrono::Utc;
use quarry_ide::templates::{
    self as ide_templates, ExpandError, TemplateCatalog, TemplateItemKind,
};
use quarry_ide::{Diagnostic, SourceFile};
use quarry_templates::library::{env_template_paths, template_dialect};
use quarry_templates::{
    ArgValue, Dialect, Escaping, Library, ParamType, RenderOptions, Severity, TemplateFile,
};
use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::{Error, Request, Result};
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CompletionItem, CompletionItemKind,
    CompletionTextEdit, Documentation, Hover, HoverContents, MarkupContent, MarkupKind,
    ParameterInformation, ParameterLabel, SignatureHelp, SignatureInformation, TextEdit, Uri,
    WorkspaceEdit,
};

use super::run_expansion::RunExpansion;
use crate::lsp::documents::DocumentSnapshot;
use crate::lsp::server::Session;
use crate::lsp::to_proto;

/// Lists the templates by family.
pub const LIST_TEMPLATES: &str = "quarry/listTemplates";

/// Renders one template with parameter values.
pub const RENDER_TEMPLATE: &str = "quarry/renderTemplate";

/// The template library as loaded for one list of folders.
pub struct LoadedTemplates {
    pub library: Library,
    pub catalog: TemplateCatalog,
    /// The folders read after the bundled library, in order.
    pub folders: Vec<PathBuf>,
    /// Folders that could not be read, with the error.
    pub unreadable: Vec<String>,
}

impl LoadedTemplates {
    fn load(folders: Vec<PathBuf>) -> LoadedTemplates {
        let mut library = Library {
            files: quarry_templates::library::bundled_files(),
        };
        let mut unreadable = Vec::new();
        for folder in &folders {
            match Library::load(std::slice::from_ref(folder)) {
                Ok(loaded) => library.files.extend(loaded.files),
                Err(error) => {
                    tracing::warn!(folder = %folder.display(), %error, "cannot read template folder");
                    unreadable.push(format!("{}: {error}", folder.display()));
                }
            }
        }
        let catalog = TemplateCatalog::new(&library);
        tracing::info!(
            files = library.files.len(),
            templates = catalog.entries().len(),
            "template library loaded"
        );
        LoadedTemplates {
            library,
            catalog,
            folders,
            unreadable,
        }
    }
}

/// The session's template library, reloaded when the configured folders change.
#[derive(Default)]
pub struct TemplateStore {
    loaded: RwLock<Option<Arc<LoadedTemplates>>>,
}

impl TemplateStore {
    /// Returns the library for the configured folders, loading it on first use or after the
    /// folders changed.
    pub fn get(&self, session: &Session) -> Arc<LoadedTemplates> {
        let mut folders = session.config().template_folders;
        folders.extend(env_template_paths());
        if let Some(loaded) = self
            .loaded
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
            .filter(|loaded| loaded.folders == folders)
        {
            return Arc::clone(loaded);
        }
        let loaded = Arc::new(LoadedTemplates::load(folders));
        *self
            .loaded
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::clone(&loaded));
        loaded
    }
}

/// `quarry/listTemplates`: families with their templates, parameters and pivot entities.
pub fn list_templates(session: &Session, params: &Value) -> Result<Value> {
    let search = match params {
        Value::Null => None,
        Value::Object(fields) => match fields.get("search") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(other) => {
                return Err(Error::invalid_params(format!(
                    "`search` must be a string, not {other}"
                )));
            }
        },
        other => {
            return Err(Error::invalid_params(format!(
                "{LIST_TEMPLATES} takes null or an object such as {{\"search\": \"logon\"}}, not {other}"
            )));
        }
    };
    let loaded = session.templates.get(session);
    let entries = match &search {
        Some(text) => loaded.library.search(text),
        None => loaded.library.entries(),
    };
    let mut families: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    let mut lines: HashMap<PathBuf, TemplateFile> = HashMap::new();
    for entry in &entries {
        let template = entry.template;
        let file = lines
            .entry(template.path.as_ref().clone())
            .or_insert_with(|| file_for(&loaded.library, &template.path));
        let line = file
            .lines
            .line_column(&file.text, template.name_span.start)
            .0;
        let parameters: Vec<Value> = ide_templates::sorted_parameters(template)
            .into_iter()
            .map(|param| {
                json!({
                    "name": param.name,
                    "type": param.param_type.map(ParamType::name),
                    "description": param.description,
                    "required": param.is_required(),
                    "default": param.default.as_ref().and_then(ArgValue::from_node).map(|value| crate::templates::arg_to_json(&value)),
                    "aliases": param.aliases,
                })
            })
            .collect();
        families.entry(entry.family).or_default().push(json!({
            "name": template.name,
            "qualifiedName": entry.qualified_name(),
            "description": template.description.trim(),
            "dialect": dialect_name(template_dialect(template)),
            "environments": template.environments,
            "pivotEntities": ide_templates::pivot_entities(template),
            "file": template.path.display().to_string(),
            "line": line,
            "parameters": parameters,
            "query": template.query,
        }));
    }
    let families: Vec<Value> = families
        .into_iter()
        .map(|(name, templates)| json!({ "name": name, "templates": templates }))
        .collect();
    let mut problems: Vec<Value> = loaded
        .library
        .files
        .iter()
        .flat_map(|file| &file.problems)
        .filter(|problem| problem.severity == Severity::Error)
        .map(|problem| {
            json!({
                "file": problem.path.display().to_string(),
                "line": problem.line,
                "column": problem.column,
                "message": problem.message,
            })
        })
        .collect();
    problems.extend(
        loaded
            .unreadable
            .iter()
            .map(|message| json!({ "file": message, "line": 0, "column": 0, "message": message })),
    );
    Ok(json!({ "families": families, "problems": problems }))
}

/// Returns the loaded file a template came from, for its line index.
fn file_for(library: &Library, path: &std::path::Path) -> TemplateFile {
    library
        .files
        .iter()
        .find(|file| file.path.as_path() == path)
        .cloned()
        .unwrap_or_else(|| TemplateFile::parse(path, String::new()))
}

fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Kql => "kql",
        Dialect::Splunk => "splunk",
    }
}

fn json_to_arg(name: &str, value: &Value) -> Result<ArgValue> {
    Ok(match value {
        Value::String(text) => ArgValue::Text(text.clone()),
        Value::Bool(flag) => ArgValue::Bool(*flag),
        Value::Number(number) => match number.as_i64() {
            Some(integer) => ArgValue::Int(integer),
            None => ArgValue::Float(number.as_f64().unwrap_or(f64::NAN)),
        },
        Value::Array(items) => ArgValue::List(
            items
                .iter()
                .map(|item| json_to_arg(name, item))
                .collect::<Result<_>>()?,
        ),
        Value::Null | Value::Object(_) => {
            return Err(Error::invalid_params(format!(
                "parameter `{name}` must be a string, number, boolean or array, not {value}"
            )));
        }
    })
}

/// `quarry/renderTemplate`: one template rendered with the given values.
pub fn render_template(session: &Session, params: &Value) -> Result<Value> {
    let name = params.get("name").and_then(Value::as_str).ok_or_else(|| {
        Error::invalid_params(format!(
            "{RENDER_TEMPLATE} needs `name`, such as \"WindowsSecurity.list_host_logons\""
        ))
    })?;
    let loaded = session.templates.get(session);
    let entry = loaded
        .library
        .find(name)
        .map_err(|error| Error::invalid_params(error.to_string()))?;
    let template = entry.template;

    let mut args = Vec::new();
    match params.get("parameters") {
        None | Some(Value::Null) => {}
        Some(Value::Object(values)) => {
            for (key, value) in values {
                args.push((key.clone(), json_to_arg(key, value)?));
            }
        }
        Some(other) => {
            return Err(Error::invalid_params(format!(
                "`parameters` must be an object of name to value, not {other}"
            )));
        }
    }
    let dialect = match params.get("dialect").and_then(Value::as_str) {
        None => template_dialect(template),
        Some("kql") => Dialect::Kql,
        Some("splunk") => Dialect::Splunk,
        Some(other) => {
            return Err(Error::invalid_params(format!(
                "unknown dialect `{other}`; use `kql` or `splunk`"
            )));
        }
    };
    let msticpy = params
        .get("msticpyCompatible")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let options = RenderOptions {
        dialect,
        escaping: if msticpy {
            Escaping::Msticpy
        } else {
            Escaping::Safe
        },
        now: Utc::now(),
    };
    let query = quarry_templates::render(template, &args, &options).map_err(|error| {
        Error::invalid_params(format!(
            "cannot render `{}`: {error}",
            entry.qualified_name()
        ))
    })?;
    Ok(json!({ "query": query, "dialect": dialect_name(dialect) }))
}

/// Hover over the family, template or parameter name of a template call.
pub fn hover(session: &Session, snapshot: &DocumentSnapshot, offset: usize) -> Option<Hover> {
    let loaded = session.templates.get(session);
    let (range, markdown) = ide_templates::template_hover(&loaded.catalog, &snapshot.file, offset)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: markdown,
        }),
        range: Some(to_proto::range(&snapshot.rope, range)),
    })
}

/// Completion items for template calls: families at the start of a query, templates after
/// `Family.`, and parameter names inside the argument list.
pub fn completion_items(
    session: &Session,
    snapshot: &DocumentSnapshot,
    offset: usize,
) -> Option<(bool, Vec<CompletionItem>)> {
    let loaded = session.templates.get(session);
    let (replace, items) =
        ide_templates::template_completions(&loaded.catalog, &snapshot.file, offset)?;
    let replace = to_proto::range(&snapshot.rope, replace);
    let mut exclusive = false;
    let items = items
        .into_iter()
        .map(|item| {
            let kind = match item.kind {
                TemplateItemKind::Family => CompletionItemKind::MODULE,
                TemplateItemKind::Template => {
                    exclusive = true;
                    CompletionItemKind::FUNCTION
                }
                TemplateItemKind::Parameter => {
                    exclusive = true;
                    CompletionItemKind::PROPERTY
                }
            };
            CompletionItem {
                label: item.label,
                kind: Some(kind),
                detail: Some(item.detail),
                documentation: Some(Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: item.documentation,
                })),
                text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                    range: replace,
                    new_text: item.insert_text,
                })),
                ..CompletionItem::default()
            }
        })
        .collect();
    Some((exclusive, items))
}

/// Signature help inside the argument list of a template call.
pub fn signature_help(
    session: &Session,
    snapshot: &DocumentSnapshot,
    offset: usize,
) -> Option<SignatureHelp> {
    let loaded = session.templates.get(session);
    let signature = ide_templates::template_signature(&loaded.catalog, &snapshot.file, offset)?;
    let utf16 = |range: &Range<usize>| {
        let start = signature.label[..range.start].encode_utf16().count() as u32;
        let end = start + signature.label[range.clone()].encode_utf16().count() as u32;
        [start, end]
    };
    let parameters = signature
        .parameters
        .iter()
        .map(|(range, documentation)| ParameterInformation {
            label: ParameterLabel::LabelOffsets(utf16(range)),
            documentation: Some(Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value: documentation.clone(),
            })),
        })
        .collect();
    let active_parameter = signature.active_parameter.map(|index| index as u32);
    Some(SignatureHelp {
        signatures: vec![SignatureInformation {
            label: signature.label,
            documentation: Some(Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value: signature.documentation,
            })),
            parameters: Some(parameters),
            active_parameter,
        }],
        active_signature: Some(0),
        active_parameter,
    })
}

/// Adds the diagnostics of template calls and drops the semantic diagnostics inside them,
/// because the KQL binder reports `Family.template` as an unknown name.
pub fn adjust_diagnostics(
    session: &Session,
    file: &SourceFile,
    diagnostics: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    let calls = ide_templates::template_calls(file);
    if calls.is_empty() {
        return diagnostics;
    }
    let loaded = session.templates.get(session);
    let syntax_codes: Vec<&str> = file
        .syntax()
        .errors
        .iter()
        .map(|error| error.code)
        .collect();
    let mut kept: Vec<Diagnostic> = diagnostics
        .into_iter()
        .filter(|diagnostic| {
            syntax_codes.contains(&diagnostic.code.as_str())
                || !calls.iter().any(|call| {
                    call.range.start <= diagnostic.range.start
                        && diagnostic.range.end <= call.range.end
                })
        })
        .collect();
    kept.extend(ide_templates::template_diagnostics(
        &loaded.catalog,
        file,
        Utc::now(),
    ));
    kept.sort_by_key(|diagnostic| diagnostic.range.start);
    kept
}

/// "Expand template" code actions for the template calls that overlap `range`.
pub fn code_actions(
    session: &Session,
    uri: &Uri,
    snapshot: &DocumentSnapshot,
    range: Range<usize>,
) -> Vec<CodeActionOrCommand> {
    let calls = ide_templates::template_calls(&snapshot.file);
    if calls.is_empty() {
        return Vec::new();
    }
    let loaded = session.templates.get(session);
    let now = Utc::now();
    calls
        .iter()
        .filter(|call| call.range.start <= range.end && range.start <= call.range.end)
        .filter_map(|call| {
            let expansion =
                ide_templates::expand_call(&loaded.catalog, &snapshot.file, call, now).ok()?;
            let edit = TextEdit {
                range: to_proto::range(&snapshot.rope, call.range.clone()),
                new_text: expansion,
            };
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Expand template {}.{}", call.family, call.name),
                kind: Some(CodeActionKind::REFACTOR_INLINE),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                    ..WorkspaceEdit::default()
                }),
                ..CodeAction::default()
            }))
        })
        .collect()
}

/// Expands the template calls in `range` of `file` before a run. Returns `None` when the range
/// contains no call, so the text runs as it is.
pub fn expand_for_run(
    session: &Session,
    file: &SourceFile,
    range: Range<usize>,
) -> std::result::Result<Option<RunExpansion>, ExpandError> {
    let has_call = ide_templates::template_calls(file)
        .iter()
        .any(|call| range.start <= call.range.start && call.range.end <= range.end);
    if !has_call {
        return Ok(None);
    }
    let loaded = session.templates.get(session);
    RunExpansion::build(&loaded.catalog, file, range, Utc::now()).map(Some)
}

/// The path reported for problems of a YAML document; the document's own URI is not passed
/// down to the diagnostics task.
const YAML_DOCUMENT: &str = "document.yaml";

/// Returns whether the document name ends in `.yaml` or `.yml`. Such documents get only the
/// template features below, and whole-document KQL features (semantic tokens, symbols, folding,
/// formatting) skip them.
pub fn is_yaml_document(uri: &tower_lsp_server::ls_types::Uri) -> bool {
    let path = uri.path().as_str().to_ascii_lowercase();
    path.ends_with(".yaml") || path.ends_with(".yml")
}

/// Hover in a template YAML document (MSTICPy templates, Sentinel queries and rules). Returns
/// `None` for KQL documents, which get KQL hover instead, and no hover for other YAML files.
pub fn yaml_hover(
    session: &Session,
    snapshot: &DocumentSnapshot,
    offset: usize,
) -> Option<Option<Hover>> {
    let text = snapshot.text();
    if quarry_ide::template_yaml::yaml_kind(text).is_none() {
        return is_yaml_document(&snapshot.uri).then_some(None);
    }
    let hover = quarry_ide::template_yaml::yaml_hover(
        &session.analysis,
        std::path::Path::new(YAML_DOCUMENT),
        text,
        offset,
    );
    Some(hover.map(|hover| to_proto::hover(&snapshot.rope, hover)))
}

/// Completion in a template YAML document; `None` for KQL documents, and no items for other
/// YAML files.
pub fn yaml_completion(
    session: &Session,
    snapshot: &DocumentSnapshot,
    offset: usize,
) -> Option<Option<tower_lsp_server::ls_types::CompletionResponse>> {
    let text = snapshot.text();
    if quarry_ide::template_yaml::yaml_kind(text).is_none() {
        return is_yaml_document(&snapshot.uri).then_some(None);
    }
    let completions = quarry_ide::template_yaml::yaml_completions(
        &session.analysis,
        std::path::Path::new(YAML_DOCUMENT),
        text,
        offset,
    );
    Some(completions.map(|completions| to_proto::completion_response(&snapshot.rope, completions)))
}

/// Diagnostics of a template YAML document in place of KQL ones; `None` for KQL documents, and
/// none at all for other YAML files.
pub fn yaml_diagnostics(
    session: &Session,
    snapshot: &DocumentSnapshot,
) -> Option<Vec<tower_lsp_server::ls_types::Diagnostic>> {
    let text = snapshot.text();
    if quarry_ide::template_yaml::yaml_kind(text).is_none() {
        return is_yaml_document(&snapshot.uri).then(Vec::new);
    }
    let diagnostics = quarry_ide::template_yaml::yaml_diagnostics(
        &session.analysis,
        std::path::Path::new(YAML_DOCUMENT),
        text,
    );
    Some(
        diagnostics
            .into_iter()
            .map(|diagnostic| to_proto::diagnostic(&snapshot.rope, diagnostic))
            .collect(),
    )
}

/// Gives a `quarry/listTemplates` request without `params` the params `{}`. Clients send no
/// params to list every template, and the JSON-RPC layer rejects a custom request that has a
/// params type but no params.
pub fn with_default_params(request: Request) -> Request {
    if request.method() != LIST_TEMPLATES || request.params().is_some() {
        return request;
    }
    let Some(id) = request.id().cloned() else {
        return request;
    };
    Request::build(LIST_TEMPLATES)
        .id(id)
        .params(json!({}))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_request_without_params_gets_empty_object() {
        let request = Request::build(LIST_TEMPLATES).id(7).finish();
        let request = with_default_params(request);
        assert_eq!(request.params(), Some(&json!({})));
        assert_eq!(request.id(), Some(&7.into()));

        let search = Request::build(LIST_TEMPLATES)
            .id(8)
            .params(json!({ "search": "logon" }))
            .finish();
        let kept = with_default_params(search);
        assert_eq!(kept.params(), Some(&json!({ "search": "logon" })));

        let other = with_default_params(Request::build(RENDER_TEMPLATE).id(9).finish());
        assert_eq!(other.params(), None);
    }
}
