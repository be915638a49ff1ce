//! Editor features for KQL as plain data: byte offsets into the document text and plain
//! strings. This crate does not depend on LSP, and the `quarry` binary converts these values to
//! protocol types.
//!
//! Entry points: [`SourceFile`] (one document version: text, tokens, syntax tree) and
//! [`Analysis`] (the features, each in its own module).

mod code_actions;
mod completion;
mod cursor;
mod diagnostics;
mod folding;
mod highlight;
mod hover;
mod lexer;
mod literals;
mod navigation;
mod query_blocks;
mod schema_ref;
mod semantic;
mod signature_help;
mod source_file;
mod symbols;
pub mod template_yaml;
pub mod templates;

#[cfg(test)]
mod fixture;

use std::ops::Range;
use std::sync::Arc;

use quarry_analysis::{BundledSchema, Catalog, Schema};
use schema_ref::SchemaRef;

pub use code_actions::CodeAction;
pub use completion::{CompletionItem, CompletionKind, Completions};
pub use diagnostics::{Diagnostic, Edit, Fix, Severity};
pub use folding::{Fold, FoldKind};
pub use highlight::{Highlight, HighlightTag};
pub use hover::HoverResult;
pub use navigation::{Occurrence, RenameError, RenameTarget};
pub use signature_help::{ParameterInfo, SignatureHelp, SignatureInfo};
pub use source_file::SourceFile;
pub use symbols::{Symbol, SymbolKind};

/// The editor features over one catalog and one table schema.
#[derive(Debug, Clone)]
pub struct Analysis {
    catalog: &'static Catalog,
    schema: SchemaRef,
}

impl Analysis {
    /// Creates the features with the bundled Sentinel and Defender XDR tables as the schema.
    pub fn new(catalog: &'static Catalog) -> Analysis {
        Analysis::with_schema(catalog, BundledSchema::Sentinel.get())
    }

    /// Creates the features over a given schema, for example one merged from schema files.
    pub fn with_schema(catalog: &'static Catalog, schema: &'static Schema) -> Analysis {
        Analysis {
            catalog,
            schema: SchemaRef::Static(schema),
        }
    }

    /// Creates the features over a schema loaded at run time, such as the tables of one
    /// workspace folder's schema files.
    pub fn with_shared_schema(catalog: &'static Catalog, schema: Arc<Schema>) -> Analysis {
        Analysis {
            catalog,
            schema: SchemaRef::Shared(schema),
        }
    }

    /// Returns the table schema names are bound against.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Syntax errors, then the semantic errors of query blocks without syntax errors, in
    /// document order.
    pub fn diagnostics(&self, file: &SourceFile) -> Vec<Diagnostic> {
        diagnostics::diagnostics(self, file)
    }

    /// Hover at `offset`: operators and functions, columns, tables and `let` bindings,
    /// timespan and datetime literals, and Windows event IDs compared with `EventID`.
    pub fn hover(&self, file: &SourceFile, offset: usize) -> Option<HoverResult> {
        hover::hover(self, file, offset)
    }

    /// Completions at `offset`. After `|` these are operators, at the start of a query tables
    /// and `let` names, and in expressions columns, variables and functions. Inside strings and
    /// comments there are none.
    pub fn completions(&self, file: &SourceFile, offset: usize) -> Option<Completions> {
        completion::completions(self, file, offset)
    }

    /// Signature help for the call whose argument list contains `offset`: a function, an
    /// aggregate, or a plugin after `evaluate`. `preferred_signature` is the overload the
    /// editor showed last, kept while it fits the arguments.
    pub fn signature_help(
        &self,
        file: &SourceFile,
        offset: usize,
        preferred_signature: Option<usize>,
    ) -> Option<SignatureHelp> {
        signature_help::signature_help(self, file, offset, preferred_signature)
    }

    /// Binds the document and returns its semantic model.
    // NOTE: the model is recomputed on every request; caching it per document version would
    // spare the work on large documents.
    pub fn model(&self, file: &SourceFile) -> quarry_hir::Model {
        quarry_hir::analyze(file.text(), file.syntax(), self.catalog, &self.schema)
    }

    /// Binds only the query block around `offset`, which is all hover and completion need.
    pub fn model_at(&self, file: &SourceFile, offset: usize) -> quarry_hir::Model {
        quarry_hir::analyze_range(
            file.text(),
            file.syntax(),
            self.catalog,
            &self.schema,
            offset..offset,
        )
    }

    /// Query blocks with the `let` statements inside them as children.
    pub fn document_symbols(&self, file: &SourceFile) -> Vec<Symbol> {
        symbols::document_symbols(file)
    }

    /// Folding regions: query blocks, multi-line brackets and runs of comment lines.
    pub fn folding_ranges(&self, file: &SourceFile) -> Vec<Fold> {
        folding::folding_ranges(file)
    }

    /// Semantic highlighting, in document order and without overlaps.
    pub fn highlight(&self, file: &SourceFile) -> Vec<Highlight> {
        highlight::highlight(self.catalog, file)
    }

    /// Returns the string literal or comment whose range contains `offset` or ends at it: the
    /// same item as the first such one of [`Analysis::highlight`], without highlighting the
    /// whole document.
    pub fn string_or_comment_at(&self, file: &SourceFile, offset: usize) -> Option<Highlight> {
        highlight::string_or_comment_at(file, offset)
    }

    /// Finds the query block (text between blank lines) containing `offset`, without surrounding
    /// whitespace; `None` on a blank line between blocks.
    pub fn query_block_at(&self, file: &SourceFile, offset: usize) -> Option<Range<usize>> {
        query_blocks::query_blocks(file)
            .into_iter()
            .find(|block| block.contains(&offset) || block.end == offset)
    }
}
