//! The tree-sitter grammar for the Kusto Query Language (KQL).
//!
//! Load it into a parser with [`LANGUAGE`]:
//!
//! ```
//! let mut parser = tree_sitter::Parser::new();
//! parser
//!     .set_language(&tree_sitter_kql::LANGUAGE.into())
//!     .expect("the grammar matches the tree-sitter library version");
//! let tree = parser.parse("T | where x > 1", None).unwrap();
//! assert_eq!(tree.root_node().kind(), "source_file");
//! assert!(!tree.root_node().has_error());
//! ```

use tree_sitter_language::LanguageFn;

unsafe extern "C" {
    fn tree_sitter_kql() -> *const ();
}

/// The tree-sitter [`LanguageFn`] for KQL.
pub const LANGUAGE: LanguageFn = unsafe { LanguageFn::from_raw(tree_sitter_kql) };

/// The contents of `node-types.json`: every node kind with its fields and children.
pub const NODE_TYPES: &str = include_str!("../../src/node-types.json");

#[cfg(test)]
mod tests {
    #[test]
    fn language_loads() {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&super::LANGUAGE.into())
            .expect("the grammar matches the tree-sitter library version");
    }
}
