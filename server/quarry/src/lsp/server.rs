//! The `LanguageServer` implementation: session state and the routing table from each LSP
//! method to its handler.

use std::sync::{Arc, Mutex, RwLock};

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::capabilities;
use super::config::Config;
use super::diagnostics::DiagnosticsScheduler;
use super::documents::Documents;
use super::ext;
use super::handlers;

/// State shared by every handler.
pub struct Session {
    pub documents: Documents,
    pub config: RwLock<Config>,
    pub analysis: quarry_ide::Analysis,
    /// The analysis of each workspace folder, with that folder's schema; see `schema.rs`.
    pub schemas: RwLock<super::schema::SchemaSet>,
    pub workspace: RwLock<super::schema::Workspace>,
    /// Whether the debug commands, such as [`ext::DEBUG_PANIC`], are available.
    pub debug_commands: bool,
    /// The template library, reloaded when the template folders change.
    pub templates: handlers::templates::TemplateStore,
    /// The engine session of the last data source used, which caches loaded tables.
    engine: Mutex<Option<Arc<quarry_engine::Session>>>,
    /// Whether the client accepts snippet completion items, from `initialize`.
    pub snippet_support: std::sync::atomic::AtomicBool,
    /// Whether the client resolves completion items' `documentation` lazily, from `initialize`.
    pub resolves_completion_documentation: std::sync::atomic::AtomicBool,
}

impl Session {
    /// Returns the analysis for a document, bound against the schema of its workspace folder.
    pub fn analysis_for(&self, uri: &Uri) -> quarry_ide::Analysis {
        self.schemas
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .analysis_for(uri)
    }

    pub fn config(&self) -> Config {
        self.config
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Returns the engine session for `source`, reusing the cached one when the source is the
    /// same, so repeated runs do not reload files.
    pub fn engine(&self, source: quarry_engine::DataSource) -> Arc<quarry_engine::Session> {
        let mut engine = self
            .engine
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match engine.as_ref() {
            Some(session) if *session.source() == source => Arc::clone(session),
            _ => {
                let session = Arc::new(quarry_engine::Session::new(source));
                *engine = Some(Arc::clone(&session));
                session
            }
        }
    }
}

pub struct Server {
    client: Client,
    session: Arc<Session>,
    diagnostics: DiagnosticsScheduler,
}

impl Server {
    pub fn new(client: Client) -> Server {
        let debug_commands = std::env::var(ext::DEBUG_COMMANDS_ENV).is_ok_and(|value| value == "1");
        let session = Arc::new(Session {
            documents: Documents::default(),
            config: RwLock::new(Config::default()),
            analysis: quarry_ide::Analysis::new(quarry_analysis::Catalog::get()),
            schemas: RwLock::default(),
            workspace: RwLock::default(),
            debug_commands,
            templates: handlers::templates::TemplateStore::default(),
            engine: Mutex::new(None),
            snippet_support: std::sync::atomic::AtomicBool::new(false),
            resolves_completion_documentation: std::sync::atomic::AtomicBool::new(false),
        });
        let diagnostics = DiagnosticsScheduler::new(client.clone(), Arc::clone(&session));
        Server {
            client,
            session,
            diagnostics,
        }
    }

    /// Applies `didOpen`, `didChange` or `didClose` at once, in arrival order, and schedules
    /// diagnostics. The dispatcher calls this outside the async handlers; see `dispatch.rs`.
    pub fn apply_document_notification(&self, method: &str, params: Option<&Value>) {
        let params = params.cloned().unwrap_or(Value::Null);
        match method {
            "textDocument/didOpen" => match serde_json::from_value(params) {
                Ok(params) => {
                    let uri = handlers::document_sync::did_open(&self.session, params);
                    self.diagnostics.publish_now(uri);
                }
                Err(error) => tracing::error!(%error, "invalid didOpen params"),
            },
            "textDocument/didChange" => match serde_json::from_value(params) {
                Ok(params) => {
                    if let Some(uri) = handlers::document_sync::did_change(&self.session, params) {
                        self.diagnostics.publish_debounced(uri);
                    }
                }
                Err(error) => tracing::error!(%error, "invalid didChange params"),
            },
            "textDocument/didClose" => match serde_json::from_value(params) {
                Ok(params) => {
                    let uri = handlers::document_sync::did_close(&self.session, params);
                    self.diagnostics.clear(uri);
                }
                Err(error) => tracing::error!(%error, "invalid didClose params"),
            },
            _ => tracing::error!(method, "not a document notification"),
        }
    }
}

impl Server {
    /// `quarry/listTemplates`, see `handlers::templates`.
    pub async fn list_templates(&self, params: Value) -> Result<Value> {
        handlers::templates::list_templates(&self.session, &params)
    }

    /// `quarry/renderTemplate`, see `handlers::templates`.
    pub async fn render_template(&self, params: Value) -> Result<Value> {
        handlers::templates::render_template(&self.session, &params)
    }
}

impl Server {
    /// Reloads every workspace folder's schema and republishes the diagnostics of the open
    /// documents, because names that were unknown may now be tables or the reverse.
    async fn reload_schemas(&self) {
        super::schema::reload(&self.session, &self.client).await;
        for uri in self.session.documents.uris() {
            self.diagnostics.publish_now(uri);
        }
    }
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let client_name = params
            .client_info
            .as_ref()
            .map_or("unknown", |info| info.name.as_str());
        tracing::info!(client = client_name, "initialize");
        let snippet_support = params
            .capabilities
            .text_document
            .as_ref()
            .and_then(|text_document| text_document.completion.as_ref())
            .and_then(|completion| completion.completion_item.as_ref())
            .and_then(|item| item.snippet_support)
            .unwrap_or(false);
        self.session
            .snippet_support
            .store(snippet_support, std::sync::atomic::Ordering::Relaxed);
        let resolves_documentation = params
            .capabilities
            .text_document
            .as_ref()
            .and_then(|text_document| text_document.completion.as_ref())
            .and_then(|completion| completion.completion_item.as_ref())
            .and_then(|item| item.resolve_support.as_ref())
            .is_some_and(|support| support.properties.iter().any(|p| p == "documentation"));
        self.session
            .resolves_completion_documentation
            .store(resolves_documentation, std::sync::atomic::Ordering::Relaxed);
        super::remote::remember_client(&params);
        *self
            .session
            .workspace
            .write()
            .unwrap_or_else(|p| p.into_inner()) =
            super::schema::Workspace::from_initialize(&params);

        match Config::from_initialization_options(params.initialization_options.as_ref()) {
            Ok(config) => {
                *self
                    .session
                    .config
                    .write()
                    .unwrap_or_else(|p| p.into_inner()) = config
            }
            Err(message) => {
                tracing::warn!(%message, "using default settings");
                self.client
                    .show_message(MessageType::WARNING, message)
                    .await;
            }
        }

        Ok(InitializeResult {
            capabilities: capabilities::server_capabilities(self.session.debug_commands),
            server_info: Some(ServerInfo {
                name: "quarry".to_owned(),
                version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        tracing::info!("client initialized");
        self.reload_schemas().await;
    }

    async fn shutdown(&self) -> Result<()> {
        tracing::info!("shutdown requested");
        Ok(())
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        {
            let mut config = self
                .session
                .config
                .write()
                .unwrap_or_else(|p| p.into_inner());
            config.apply_settings(&params.settings);
            tracing::info!(
                data_folder = ?config.data_folder,
                max_rows = config.max_rows,
                "configuration changed"
            );
        }
        self.reload_schemas().await;
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        {
            let mut workspace = self
                .session
                .workspace
                .write()
                .unwrap_or_else(|p| p.into_inner());
            let removed = &params.event.removed;
            workspace
                .folders
                .retain(|(uri, _)| !removed.iter().any(|folder| &folder.uri == uri));
            for folder in params.event.added {
                if let Some(path) = super::schema::file_path(&folder.uri) {
                    workspace.folders.push((folder.uri, path));
                }
            }
        }
        self.reload_schemas().await;
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let indicator = handlers::enrich_hover::indicator_hover(&self.session, &params).await;
        let language = handlers::hover::handle(&self.session, params)?;
        Ok(handlers::enrich_hover::merge(language, indicator))
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        handlers::completion::handle(&self.session, params)
    }

    async fn completion_resolve(&self, item: CompletionItem) -> Result<CompletionItem> {
        Ok(handlers::completion::resolve(item))
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        handlers::signature_help::handle(&self.session, params)
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        handlers::definition::handle(&self.session, params)
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        handlers::references::handle(&self.session, params)
    }

    async fn document_highlight(
        &self,
        params: DocumentHighlightParams,
    ) -> Result<Option<Vec<DocumentHighlight>>> {
        handlers::highlight::handle(&self.session, params)
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        handlers::rename::prepare(&self.session, params)
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        handlers::rename::rename(&self.session, params)
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        handlers::code_action::handle(&self.session, params)
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        handlers::document_symbol::handle(&self.session, params)
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        handlers::folding_range::handle(&self.session, params)
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        handlers::formatting::document(&self.session, &self.client, params).await
    }

    async fn range_formatting(
        &self,
        params: DocumentRangeFormattingParams,
    ) -> Result<Option<Vec<TextEdit>>> {
        handlers::formatting::range(&self.session, &self.client, params).await
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        handlers::semantic_tokens::handle(&self.session, params)
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        if let Some(result) =
            handlers::pivot::execute_command(&self.session, &self.client, &params).await
        {
            return result;
        }
        if let Some(result) =
            super::remote::execute_command(&self.session, &self.client, &params).await
        {
            return result;
        }
        handlers::execute_command::handle(Arc::clone(&self.session), params).await
    }
}

impl Server {
    /// `quarry/pivots`: the templates that take an entity, see `handlers::pivot`.
    pub async fn pivots(&self, params: Value) -> Result<Value> {
        handlers::pivot::handle_pivots(&self.session, params).await
    }
}
