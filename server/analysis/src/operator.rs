//! Tabular operators: the words that follow `|` in a KQL pipeline.

use serde::Deserialize;

/// A tabular operator such as `where` or `summarize`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    /// The canonical name, for example `mv-expand`.
    pub name: String,
    /// Other spellings KQL accepts for the same operator, for example `filter` for `where`.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The syntax line, with `T` for the input table and `[...]` for optional parts.
    pub syntax: String,
    /// One to three sentences on what the operator does.
    pub summary: String,
    /// Notes on the operator's arguments and clauses, in syntax order.
    #[serde(default)]
    pub parameters: Vec<OperatorParameter>,
    /// A short query that uses the operator.
    pub example: String,
    /// A completion snippet in LSP snippet syntax (`${1:placeholder}`), starting with the name.
    pub snippet: String,
    /// Whether the operator can start a query on its own (`print`, `range`, `datatable`), as
    /// opposed to only following `|`.
    #[serde(default)]
    pub starts_query: bool,
}

/// A note on one argument or clause of an operator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorParameter {
    /// The name used in the syntax line.
    pub name: String,
    /// The argument's meaning and the values it accepts.
    pub note: String,
}

impl Operator {
    /// Iterates over the canonical name followed by the aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// Renders hover text: the syntax line in a `kusto` code block, the summary, the aliases,
    /// the parameter notes and the example.
    pub fn hover_markdown(&self) -> String {
        let mut markdown = format!("```kusto\n{}\n```\n\n{}\n", self.syntax, self.summary);

        if !self.aliases.is_empty() {
            let aliases: Vec<String> = self.aliases.iter().map(|a| format!("`{a}`")).collect();
            markdown.push_str(&format!("\nAlso written {}.\n", aliases.join(", ")));
        }

        if !self.parameters.is_empty() {
            markdown.push('\n');
            for parameter in &self.parameters {
                markdown.push_str(&format!("- `{}`: {}\n", parameter.name, parameter.note));
            }
        }

        markdown.push_str(&format!("\nExample:\n\n```kusto\n{}\n```\n", self.example));
        markdown
    }
}
