//! Built-in functions: scalar functions, aggregates and `evaluate` plugins.
//!
//! Parameter and return types keep Kusto.Language's type names (`Number`, `Scalar`,
//! `Parameter0`, ...) so that later type inference can use them. [`display_parameter_type`] and
//! [`display_return_type`] turn them into the short KQL type words shown in hover and signature
//! help.

use std::ops::Range;

use serde::Deserialize;

/// Whether a built-in is called in expressions, in `summarize`, or through `evaluate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FunctionKind {
    Scalar,
    Aggregate,
    Plugin,
}

impl FunctionKind {
    /// Returns the lowercase word for the kind, as used in the data files.
    pub fn as_str(self) -> &'static str {
        match self {
            FunctionKind::Scalar => "scalar",
            FunctionKind::Aggregate => "aggregate",
            FunctionKind::Plugin => "plugin",
        }
    }
}

/// A built-in function with its overloads.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub kind: FunctionKind,
    /// The overloads, in Kusto.Language's order.
    pub signatures: Vec<Signature>,
    /// One to three sentences on what the function computes.
    pub summary: String,
    /// A short query or expression that calls the function.
    pub example: String,
    /// Notes on the parameters whose meaning the name and type do not make clear, in
    /// signature order. Parameters without a note are left out.
    pub parameter_notes: Vec<ParameterNote>,
}

/// A note on one parameter of a function, shown in hover and signature help.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterNote {
    /// The parameter's name, as in the signatures.
    pub name: String,
    /// What the argument means and the values it accepts.
    pub note: String,
}

/// One overload of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub parameters: Vec<Parameter>,
    /// The return type in Kusto.Language's terms. `Parameter0` means "the type of the first
    /// argument", `Custom` means a rule specific to the function. Plugins may leave it empty.
    pub returns: String,
}

/// One parameter of a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    /// The accepted type in Kusto.Language's terms, for example `string`, `Number`, `DynamicArray`.
    pub ty: String,
    pub optional: bool,
    /// Whether the parameter may be given any number of times (`strcat(a, b, c)`).
    pub repeatable: bool,
}

/// A rendered signature with the byte range of each parameter inside `text`, as signature
/// help needs to highlight the active parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLabel {
    pub text: String,
    pub parameters: Vec<Range<usize>>,
}

/// The shape of one entry in `functions.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FunctionRecord {
    name: String,
    kind: FunctionKind,
    signatures: Vec<String>,
    summary: String,
    example: String,
    #[serde(default)]
    parameters: Vec<ParameterNote>,
}

impl TryFrom<FunctionRecord> for Function {
    type Error = String;

    fn try_from(record: FunctionRecord) -> Result<Function, String> {
        let signatures = record
            .signatures
            .iter()
            .map(|text| {
                parse_signature(text).map_err(|error| {
                    format!(
                        "functions.json: function `{}`: invalid signature `{text}`: {error}",
                        record.name
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        for note in &record.parameters {
            let known = signatures
                .iter()
                .flat_map(|signature| &signature.parameters)
                .any(|parameter| parameter.name == note.name);
            if !known {
                return Err(format!(
                    "functions.json: function `{}`: note for unknown parameter `{}`; use a \
                     parameter name from its signatures",
                    record.name, note.name
                ));
            }
        }
        Ok(Function {
            name: record.name,
            kind: record.kind,
            signatures,
            summary: record.summary,
            example: record.example,
            parameter_notes: record.parameters,
        })
    }
}

/// Parses the compact signature form used in `functions.json`:
/// `(value: Number, roundTo: Number): Widest`, where `name?` marks an optional parameter,
/// a trailing `...` on the type marks a repeatable one, and `: Returns` may be left out.
fn parse_signature(text: &str) -> Result<Signature, String> {
    let text = text.trim();
    let rest = text
        .strip_prefix('(')
        .ok_or_else(|| "expected `(` at the start".to_owned())?;
    let close = rest
        .rfind(')')
        .ok_or_else(|| "missing closing `)`".to_owned())?;
    let (parameter_list, after) = (&rest[..close], rest[close + 1..].trim());

    let returns = match after.strip_prefix(':') {
        Some(returns) => returns.trim().to_owned(),
        None if after.is_empty() => String::new(),
        None => return Err(format!("unexpected text `{after}` after `)`")),
    };

    let mut parameters = Vec::new();
    if !parameter_list.trim().is_empty() {
        for item in parameter_list.split(',') {
            let (name, ty) = item
                .split_once(':')
                .ok_or_else(|| format!("parameter `{}` has no `: type`", item.trim()))?;
            let name = name.trim();
            let ty = ty.trim();
            let (name, optional) = match name.strip_suffix('?') {
                Some(name) => (name, true),
                None => (name, false),
            };
            let (ty, repeatable) = match ty.strip_suffix("...") {
                Some(ty) => (ty, true),
                None => (ty, false),
            };
            if name.is_empty() || ty.is_empty() {
                return Err(format!(
                    "parameter `{}` needs a name and a type",
                    item.trim()
                ));
            }
            parameters.push(Parameter {
                name: name.to_owned(),
                ty: ty.to_owned(),
                optional,
                repeatable,
            });
        }
    }

    Ok(Signature {
        parameters,
        returns,
    })
}

/// Maps a Kusto.Language parameter type to the word shown to users.
pub fn display_parameter_type(ty: &str) -> &str {
    match ty {
        "Scalar"
        | "CommonScalar"
        | "CommonScalarOrDynamic"
        | "NotDynamic"
        | "Orderable"
        | "CommonOrderable"
        | "NotRealOrBool" => "scalar",
        "Number" => "number",
        "Integer" => "integer",
        "Summable" => "number|timespan|datetime",
        "DynamicArray" | "DynamicBag" => "dynamic",
        "StringOrDynamic" | "StringOrArray" => "string|dynamic",
        "NumberOrBool" => "number|bool",
        "IntegerOrArray" => "integer|dynamic",
        "Tabular" => "table",
        // Concrete KQL types (string, long, datetime, ...) and `type` are shown as they are.
        other => other,
    }
}

/// Maps a Kusto.Language return type to the word shown to users. Types that depend on the
/// arguments are shown as the first parameter's display type.
pub fn display_return_type(signature: &Signature, kind: FunctionKind) -> &str {
    let first_parameter = || {
        signature
            .parameters
            .first()
            .map_or("scalar", |p| display_parameter_type(&p.ty))
    };
    match signature.returns.as_str() {
        "Parameter0" | "Parameter0Promoted" | "Widest" => first_parameter(),
        "Parameter0Array" => "dynamic",
        "Common" | "CommonNonDynamic" | "ParameterNLiteral" | "Parameter1" => "scalar",
        "Parameter0Database" => "database",
        "Parameter0Cluster" => "cluster",
        "Custom" | "" => match kind {
            FunctionKind::Scalar => "dynamic",
            // Aggregates such as arg_max and percentiles produce several columns.
            FunctionKind::Aggregate => "columns",
            FunctionKind::Plugin => "table",
        },
        other if other.starts_with("Parameter0") => "table",
        other => other,
    }
}

impl Function {
    /// Renders overload `index` as `name(param: type, [optional: type], repeated: type, ...): returns`.
    ///
    /// # Panics
    ///
    /// Panics if `index` is not below `self.signatures.len()`.
    pub fn signature_label(&self, index: usize) -> String {
        self.signature_label_with_ranges(index).text
    }

    /// Renders overload `index` like [`Function::signature_label`] and records where each
    /// parameter sits in the text.
    ///
    /// # Panics
    ///
    /// Panics if `index` is not below `self.signatures.len()`.
    pub fn signature_label_with_ranges(&self, index: usize) -> SignatureLabel {
        let signature = &self.signatures[index];
        let mut text = format!("{}(", self.name);
        let mut ranges = Vec::with_capacity(signature.parameters.len());

        let parameters = &signature.parameters;
        let mut i = 0;
        while i < parameters.len() {
            // A run of parameters that share optionality and repeatability is rendered as one
            // group: `[a: t, b: u, ...]` for an optional repeatable pair such as bag_pack's.
            let start = i;
            let optional = parameters[i].optional;
            let repeatable = parameters[i].repeatable;
            while i < parameters.len()
                && parameters[i].optional == optional
                && parameters[i].repeatable == repeatable
                && (repeatable || i == start)
            {
                i += 1;
            }

            if start > 0 {
                text.push_str(", ");
            }
            if optional {
                text.push('[');
            }
            for (position, parameter) in parameters[start..i].iter().enumerate() {
                if position > 0 {
                    text.push_str(", ");
                }
                let begin = text.len();
                text.push_str(&parameter.name);
                text.push_str(": ");
                text.push_str(display_parameter_type(&parameter.ty));
                ranges.push(begin..text.len());
            }
            if repeatable {
                text.push_str(", ...");
            }
            if optional {
                text.push(']');
            }
        }

        text.push_str("): ");
        text.push_str(display_return_type(signature, self.kind));
        SignatureLabel {
            text,
            parameters: ranges,
        }
    }

    /// Returns the note on the parameter called `name`, if the catalog has one.
    pub fn parameter_note(&self, name: &str) -> Option<&str> {
        self.parameter_notes
            .iter()
            .find(|note| note.name == name)
            .map(|note| note.note.as_str())
    }

    /// Renders hover text: every overload in a `kusto` code block, the summary, the parameter
    /// notes and the example.
    pub fn hover_markdown(&self) -> String {
        let labels: Vec<String> = (0..self.signatures.len())
            .map(|i| self.signature_label(i))
            .collect();
        let kind = match self.kind {
            FunctionKind::Scalar => "Scalar function",
            FunctionKind::Aggregate => "Aggregate function, used in `summarize`",
            FunctionKind::Plugin => "Plugin, called with `evaluate`",
        };
        let mut markdown = format!(
            "```kusto\n{}\n```\n\n{kind}. {}\n",
            labels.join("\n"),
            self.summary
        );
        if !self.parameter_notes.is_empty() {
            markdown.push('\n');
            for note in &self.parameter_notes {
                markdown.push_str(&format!("- `{}`: {}\n", note.name, note.note));
            }
        }
        markdown.push_str(&format!("\nExample:\n\n```kusto\n{}\n```\n", self.example));
        markdown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_signature_reads_flags_and_returns() {
        let signature = parse_signature("(expr: Scalar, maxSize?: Integer...): Parameter0Array")
            .expect("valid signature");
        assert_eq!(signature.returns, "Parameter0Array");
        assert_eq!(signature.parameters.len(), 2);
        assert!(!signature.parameters[0].optional);
        assert!(signature.parameters[1].optional);
        assert!(signature.parameters[1].repeatable);
        assert_eq!(signature.parameters[1].ty, "Integer");
    }

    #[test]
    fn parse_signature_accepts_empty_lists() {
        let signature = parse_signature("(): long").expect("valid signature");
        assert!(signature.parameters.is_empty());
        let signature = parse_signature("(x: string)").expect("valid signature");
        assert_eq!(signature.returns, "");
    }

    #[test]
    fn parse_signature_rejects_malformed_text() {
        assert!(parse_signature("x: string): long").is_err());
        assert!(parse_signature("(x string): long").is_err());
        assert!(parse_signature("(x: string) long").is_err());
        assert!(parse_signature("(x: string").is_err());
    }
}
