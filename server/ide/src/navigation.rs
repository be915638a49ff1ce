//! Go to definition, references, document highlights and rename for the names a query binds:
//! `let` bindings (materialized ones included), lambda and function parameters, query
//! parameters, `as` names and `partition` keys. They all come from the semantic model's
//! references, where each use of a binding carries the byte range of its definition.

use std::fmt;
use std::ops::Range;

use quarry_hir::{Model, Origin, Target, Variable};
use quarry_syntax::kinds;

use crate::diagnostics::Edit;
use crate::{Analysis, SourceFile};

/// One place a binding's name appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub range: Range<usize>,
    /// Whether this is where the name is bound, as opposed to a use.
    pub is_definition: bool,
}

/// A name that can be renamed, as `prepareRename` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameTarget {
    /// The bytes of the name under the cursor, brackets and quotes included.
    pub range: Range<usize>,
    /// The name without brackets or quotes.
    pub name: String,
}

/// The reason a rename cannot be done, in a sentence for the editor to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameError {
    pub message: String,
}

impl fmt::Display for RenameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RenameError {}

fn rename_error(message: String) -> RenameError {
    RenameError { message }
}

impl Analysis {
    /// Returns where the name at `offset` is defined: the defining name of a binding, or the
    /// expression that computes a column added by an operator such as `extend`.
    pub fn definition(&self, file: &SourceFile, offset: usize) -> Option<Range<usize>> {
        let model = self.model_at(file, offset);
        match &model.reference_at(offset)?.target {
            Target::Variable(variable) => Some(variable.definition.clone()),
            Target::Column(column) => match &column.origin {
                Origin::Operator { range, .. } => Some(range.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    /// Returns every occurrence of the binding at `offset` in document order, the definition
    /// included, or `None` when no binding is there.
    pub fn references(&self, file: &SourceFile, offset: usize) -> Option<Vec<Occurrence>> {
        let model = self.model_at(file, offset);
        let variable = variable_at(&model, offset)?;
        Some(occurrences(&model, variable))
    }

    /// Returns the occurrences to highlight for the name at `offset`: the same as
    /// [`Analysis::references`], and nothing for other names.
    pub fn document_highlights(&self, file: &SourceFile, offset: usize) -> Vec<Occurrence> {
        self.references(file, offset).unwrap_or_default()
    }

    /// Checks that the name at `offset` can be renamed. Returns `Ok(None)` where there is no
    /// name, and an error with the reason for names that are not bindings (columns, tables and
    /// built-in functions).
    pub fn prepare_rename(
        &self,
        file: &SourceFile,
        offset: usize,
    ) -> Result<Option<RenameTarget>, RenameError> {
        let model = self.model_at(file, offset);
        let Some(reference) = model.reference_at(offset) else {
            return Ok(None);
        };
        match &reference.target {
            Target::Variable(variable) => Ok(Some(RenameTarget {
                range: reference.range.clone(),
                name: variable.name.clone(),
            })),
            Target::Column(column) => Err(rename_error(format!(
                "`{}` is a column; only names bound in the query (`let`, parameters, `as`) \
                 can be renamed",
                column.name
            ))),
            Target::Table { name, .. } => Err(rename_error(format!(
                "`{name}` is a table of the schema; only names bound in the query can be renamed"
            ))),
            Target::Function { name } => Err(rename_error(format!(
                "`{name}` is a built-in function and cannot be renamed"
            ))),
        }
    }

    /// Returns the edits that rename the binding at `offset` to `new_name`. The new name may
    /// be written plainly or as `['...']`. A name that is not a plain KQL identifier (spaces,
    /// dots, keywords) is written as `['...']` in every edit.
    pub fn rename(
        &self,
        file: &SourceFile,
        offset: usize,
        new_name: &str,
    ) -> Result<Vec<Edit>, RenameError> {
        let model = self.model_at(file, offset);
        let variable = match self.prepare_rename(file, offset)? {
            Some(_) => variable_at(&model, offset).expect("prepare_rename found a binding"),
            None => {
                return Err(rename_error(
                    "there is no name at the cursor to rename".to_owned(),
                ));
            }
        };
        let (value, written) = written_name(new_name)?;
        let occurrences = occurrences(&model, variable);
        if value != variable.name {
            check_capture(&model, variable, &occurrences, &value)?;
        }
        Ok(occurrences
            .into_iter()
            .map(|occurrence| Edit {
                range: occurrence.range,
                new_text: written.clone(),
            })
            .collect())
    }
}

/// Returns the binding whose name covers `offset`.
fn variable_at(model: &Model, offset: usize) -> Option<&Variable> {
    match &model.reference_at(offset)?.target {
        Target::Variable(variable) => Some(variable),
        _ => None,
    }
}

fn occurrences(model: &Model, variable: &Variable) -> Vec<Occurrence> {
    let mut occurrences: Vec<Occurrence> = model
        .references
        .iter()
        .filter(|reference| match &reference.target {
            Target::Variable(other) => other.definition == variable.definition,
            _ => false,
        })
        .map(|reference| Occurrence {
            range: reference.range.clone(),
            is_definition: reference.range == variable.definition,
        })
        .collect();
    occurrences.sort_by_key(|occurrence| occurrence.range.start);
    occurrences.dedup();
    occurrences
}

/// Rejects a rename after which some name would bind to something else. That happens where
/// another column, table or binding called `new_name` is used inside the renamed binding's
/// scope, or where an inner binding called `new_name` would hide it at one of its uses.
fn check_capture(
    model: &Model,
    variable: &Variable,
    occurrences: &[Occurrence],
    new_name: &str,
) -> Result<(), RenameError> {
    let visible: Vec<Range<usize>> = model
        .variables
        .iter()
        .filter(|binding| binding.variable.definition == variable.definition)
        .map(|binding| binding.visible.clone())
        .collect();
    for reference in &model.references {
        let in_scope = visible
            .iter()
            .any(|range| range.start <= reference.range.start && reference.range.end <= range.end);
        if !in_scope {
            continue;
        }
        let (name, what) = match &reference.target {
            Target::Variable(other) if other.definition != variable.definition => {
                (other.name.as_str(), "a binding")
            }
            Target::Column(column) => (column.name.as_str(), "a column"),
            Target::Table { name, .. } => (name.as_str(), "a table"),
            Target::Function { name } => (name.as_str(), "a function"),
            Target::Variable(_) => continue,
        };
        if name == new_name {
            return Err(rename_error(format!(
                "renaming `{}` to `{new_name}` would change the meaning of the query: `{new_name}` \
                 is already used there as {what}; choose another name",
                variable.name
            )));
        }
    }
    for occurrence in occurrences
        .iter()
        .filter(|occurrence| !occurrence.is_definition)
    {
        let hidden = model
            .variables_at(occurrence.range.start)
            .into_iter()
            .any(|other| other.name == new_name && other.definition != variable.definition);
        if hidden {
            return Err(rename_error(format!(
                "renaming `{}` to `{new_name}` would change the meaning of the query: another \
                 binding named `{new_name}` is visible at one of its uses; choose another name",
                variable.name
            )));
        }
    }
    Ok(())
}

/// Returns a new name's value and how it is written in the query: plain where it is a plain
/// identifier, `['...']` otherwise. Rejects empty names and names with line breaks or other
/// control characters.
pub(crate) fn written_name(new_name: &str) -> Result<(String, String), RenameError> {
    if new_name.trim().is_empty() {
        return Err(rename_error(
            "the new name is empty; enter a name such as `FailedLogons`".to_owned(),
        ));
    }
    if let Some(value) = bracketed_value(new_name) {
        return written_name(&value).map(|(value, _)| (value, new_name.to_owned()));
    }
    if let Some(bad) = new_name.chars().find(|c| c.is_control()) {
        return Err(rename_error(format!(
            "the new name {new_name:?} contains the control character {bad:?}; KQL names \
             cannot contain line breaks, tabs or other control characters"
        )));
    }
    if is_plain_identifier(new_name) {
        return Ok((new_name.to_owned(), new_name.to_owned()));
    }
    let escaped = new_name.replace('\\', "\\\\").replace('\'', "\\'");
    Ok((new_name.to_owned(), format!("['{escaped}']")))
}

/// Returns the value of a name written as `['...']` or `["..."]`, if it parses as one.
fn bracketed_value(text: &str) -> Option<String> {
    if !(text.starts_with('[') && text.ends_with(']')) {
        return None;
    }
    let source = format!("let {text} = 1;\nprint {text}");
    let parse = quarry_syntax::parse(&source);
    if !parse.errors.is_empty() {
        return None;
    }
    let statement = parse
        .root()
        .named_child(0)
        .and_then(|block| block.named_child(0))?;
    let name = statement.child_by_field_name("name")?;
    if name.kind() != kinds::BRACKETED_NAME || name.byte_range() != (4..4 + text.len()) {
        return None;
    }
    let literal = name.named_child(0)?;
    let raw = &source[literal.byte_range()];
    let inner = raw.get(1..raw.len() - 1)?;
    Some(
        inner
            .replace("\\'", "'")
            .replace("\\\"", "\"")
            .replace("\\\\", "\\"),
    )
}

/// Words that Kusto reserves in queries beside the tabular operator names, so a binding with
/// one of these names must be written `['...']`.
const RESERVED_WORDS: &[&str] = &[
    "let",
    "set",
    "declare",
    "pattern",
    "alias",
    "restrict",
    "view",
    "by",
    "on",
    "with",
    "kind",
    "and",
    "or",
    "not",
    "true",
    "false",
    "null",
    "typeof",
    "between",
    "has",
    "has_cs",
    "contains",
    "contains_cs",
    "startswith",
    "endswith",
    "matches",
    "regex",
    "in",
    "like",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "to",
    "from",
    "step",
    "of",
    "withsource",
    "isfuzzy",
];

/// Checks whether `name` can be written without brackets: it is no reserved word or operator
/// name, and it parses as a plain identifier both where a `let` binds a name and where an
/// expression uses it.
fn is_plain_identifier(name: &str) -> bool {
    if name.starts_with('$')
        || name.chars().any(char::is_whitespace)
        || RESERVED_WORDS.contains(&name)
        || quarry_analysis::Catalog::get().operator(name).is_some()
    {
        return false;
    }
    let source = format!("let {name} = 1;\nprint {name}");
    let parse = quarry_syntax::parse(&source);
    if !parse.errors.is_empty() {
        return false;
    }
    let Some(statement) = parse
        .root()
        .named_child(0)
        .and_then(|block| block.named_child(0))
    else {
        return false;
    };
    statement.child_by_field_name("name").is_some_and(|node| {
        node.kind() == kinds::IDENTIFIER && node.byte_range() == (4..4 + name.len())
    })
}

#[cfg(test)]
mod tests {
    use quarry_analysis::Catalog;

    use super::*;

    fn analysis() -> Analysis {
        Analysis::new(Catalog::get())
    }

    /// Returns the texts of the occurrences, with `*` marking the definition.
    fn texts(text: &str, occurrences: &[Occurrence]) -> Vec<String> {
        occurrences
            .iter()
            .map(|occurrence| {
                let mark = if occurrence.is_definition { "*" } else { "" };
                format!(
                    "{mark}{}@{}",
                    &text[occurrence.range.clone()],
                    occurrence.range.start
                )
            })
            .collect()
    }

    fn apply(text: &str, mut edits: Vec<Edit>) -> String {
        edits.sort_by_key(|edit| std::cmp::Reverse(edit.range.start));
        let mut result = text.to_owned();
        for edit in edits {
            result.replace_range(edit.range, &edit.new_text);
        }
        result
    }

    #[test]
    fn definition_of_let_and_column() {
        let text = "let threshold = 5;\nSigninLogs\n| extend n = strlen(UserPrincipalName)\n| where n > threshold";
        let file = SourceFile::parse(text);
        let use_of_threshold = text.rfind("threshold").unwrap();
        assert_eq!(
            analysis().definition(&file, use_of_threshold + 2),
            Some(4..13)
        );
        let use_of_n = text.rfind("n >").unwrap();
        let definition = analysis().definition(&file, use_of_n).unwrap();
        assert_eq!(&text[definition], "n = strlen(UserPrincipalName)");
        let table = text.find("SigninLogs").unwrap();
        assert_eq!(analysis().definition(&file, table), None);
    }

    #[test]
    fn references_of_lambda_parameter() {
        let text = "let f = (x: long, y: long) { x * y + x };\nprint f(1, 2), x = 3";
        let file = SourceFile::parse(text);
        let occurrences = analysis()
            .references(&file, text.find("x *").unwrap())
            .unwrap();
        assert_eq!(texts(text, &occurrences), ["*x@9", "x@29", "x@37"]);
        let calls = analysis()
            .references(&file, text.rfind("f(").unwrap())
            .unwrap();
        assert_eq!(texts(text, &calls), ["*f@4", "f@48"]);
    }

    #[test]
    fn references_of_as_and_materialize() {
        let text = "let m = materialize(SigninLogs | take 10);\nm | as hits | join kind=inner (hits) on UserPrincipalName | union m";
        let file = SourceFile::parse(text);
        let materialized = analysis().references(&file, 4).unwrap();
        assert_eq!(texts(text, &materialized), ["*m@4", "m@43", "m@109"]);
        let hits = analysis()
            .references(&file, text.find("hits)").unwrap())
            .unwrap();
        assert_eq!(texts(text, &hits), ["*hits@50", "hits@74"]);
    }

    #[test]
    fn references_respect_shadowing() {
        let text = "let x = 1;\nlet f = (x: long) { x + 1 };\nprint x, f(x)";
        let file = SourceFile::parse(text);
        let outer = analysis().references(&file, 4).unwrap();
        assert_eq!(texts(text, &outer), ["*x@4", "x@46", "x@51"]);
        let inner = analysis()
            .references(&file, text.find("x + 1").unwrap())
            .unwrap();
        assert_eq!(texts(text, &inner), ["*x@20", "x@31"]);
    }

    #[test]
    fn references_none_for_column() {
        let text = "SigninLogs | where UserPrincipalName != ''";
        let file = SourceFile::parse(text);
        assert_eq!(
            analysis().references(&file, text.find("User").unwrap()),
            None
        );
        assert!(analysis().document_highlights(&file, 0).is_empty());
    }

    #[test]
    fn rename_let_everywhere() {
        let text =
            "let hits = SigninLogs | take 5;\nhits | join kind=inner (hits) on UserPrincipalName";
        let file = SourceFile::parse(text);
        let edits = analysis().rename(&file, 5, "signins").unwrap();
        assert_eq!(
            apply(text, edits),
            "let signins = SigninLogs | take 5;\nsignins | join kind=inner (signins) on UserPrincipalName"
        );
    }

    #[test]
    fn rename_quotes_names_that_need_it() {
        let text = "let x = 1;\nprint x";
        let file = SourceFile::parse(text);
        for (new_name, expected) in [
            (
                "failed logons",
                "let ['failed logons'] = 1;\nprint ['failed logons']",
            ),
            ("where", "let ['where'] = 1;\nprint ['where']"),
            ("it's", "let ['it\\'s'] = 1;\nprint ['it\\'s']"),
            ("['a.b']", "let ['a.b'] = 1;\nprint ['a.b']"),
            ("count_2", "let count_2 = 1;\nprint count_2"),
        ] {
            let edits = analysis().rename(&file, 4, new_name).unwrap();
            let renamed = apply(text, edits);
            assert_eq!(renamed, expected, "{new_name}");
            assert!(
                quarry_syntax::parse(&renamed).errors.is_empty(),
                "{renamed}"
            );
        }
    }

    #[test]
    fn rename_rejects_invalid_names() {
        let text = "let x = 1;\nprint x";
        let file = SourceFile::parse(text);
        let empty = analysis().rename(&file, 4, "  ").unwrap_err();
        assert!(empty.message.contains("empty"), "{empty}");
        let newline = analysis().rename(&file, 4, "a\nb").unwrap_err();
        assert!(newline.message.contains("control character"), "{newline}");
    }

    #[test]
    fn rename_rejects_capture() {
        let text = "let limit = 5;\nSigninLogs | where ResultType != 0 | take limit";
        let file = SourceFile::parse(text);
        let error = analysis().rename(&file, 5, "ResultType").unwrap_err();
        assert!(
            error.message.contains("already used there as a column"),
            "{error}"
        );

        let text = "let a = 1;\nlet f = (b: long) { a + b };\nprint f(2)";
        let file = SourceFile::parse(text);
        let error = analysis().rename(&file, 4, "b").unwrap_err();
        assert!(
            error.message.contains("would change the meaning"),
            "{error}"
        );
    }

    #[test]
    fn prepare_rename_explains_columns_and_tables() {
        let text =
            "SigninLogs | where UserPrincipalName != '' | extend n = tolower(UserPrincipalName)";
        let file = SourceFile::parse(text);
        let column = analysis()
            .prepare_rename(&file, text.find("User").unwrap())
            .unwrap_err();
        assert!(column.message.contains("is a column"), "{column}");
        let table = analysis().prepare_rename(&file, 2).unwrap_err();
        assert!(table.message.contains("is a table"), "{table}");
        let function = analysis()
            .prepare_rename(&file, text.find("tolower").unwrap())
            .unwrap_err();
        assert!(function.message.contains("built-in function"), "{function}");
        assert_eq!(
            analysis().prepare_rename(&file, text.find("where").unwrap() + 1),
            Ok(None)
        );
    }

    #[test]
    fn prepare_rename_bracketed_let() {
        let text = "let ['failed logons'] = 3;\nprint ['failed logons']";
        let file = SourceFile::parse(text);
        let target = analysis()
            .prepare_rename(&file, text.rfind("failed").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(&text[target.range.clone()], "['failed logons']");
        assert_eq!(target.name, "failed logons");
        let edits = analysis().rename(&file, 6, "total").unwrap();
        assert_eq!(apply(text, edits), "let total = 3;\nprint total");
    }
}
