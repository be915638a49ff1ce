//! Every built-in function of Kusto.Language with its signatures but no documentation, so that
//! name binding and argument counts cover functions the documented catalog does not yet have.

use serde::Deserialize;

use crate::{Function, FunctionKind, Parameter, Signature};

const BUILTINS_JSON: &str = include_str!("../data/reference/kql-builtins.json");

/// Names that Kusto still accepts but Kusto.Language's symbol list leaves out: deprecated
/// spellings (`parsejson`, `makeset`) and functions missing from the export. They are bound
/// with any number of arguments and an unknown result type.
const UNLISTED_FUNCTIONS: &[(&str, FunctionKind)] = &[
    ("array_sum", FunctionKind::Scalar),
    ("bin_auto", FunctionKind::Scalar),
    ("make_dictionary", FunctionKind::Aggregate),
    ("makelist", FunctionKind::Aggregate),
    ("makeset", FunctionKind::Aggregate),
    ("anyif", FunctionKind::Aggregate),
    ("pack", FunctionKind::Scalar),
    ("pack_dictionary", FunctionKind::Scalar),
    ("parsejson", FunctionKind::Scalar),
    ("replace", FunctionKind::Scalar),
    ("row_rank", FunctionKind::Scalar),
    ("postgresql_request", FunctionKind::Plugin),
];

#[derive(Deserialize)]
struct File {
    functions: Vec<Record>,
    aggregates: Vec<Record>,
    plugins: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    name: String,
    signatures: Vec<SignatureRecord>,
}

#[derive(Deserialize)]
struct SignatureRecord {
    returns: String,
    parameters: Vec<ParameterRecord>,
}

#[derive(Deserialize)]
struct ParameterRecord {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    optional: bool,
    repeatable: bool,
}

/// Parses the embedded reference list into functions with empty summaries and examples. A
/// name listed both as a scalar function and as an aggregate (`hll_merge`) becomes one entry
/// with the overloads of both, under the scalar kind.
pub(crate) fn load() -> Result<Vec<Function>, String> {
    let file: File = serde_json::from_str(BUILTINS_JSON)
        .map_err(|error| format!("kql-builtins.json: {error}"))?;
    let groups = [
        (FunctionKind::Scalar, file.functions),
        (FunctionKind::Aggregate, file.aggregates),
        (FunctionKind::Plugin, file.plugins),
    ];
    let mut functions = Vec::new();
    for (kind, records) in groups {
        for record in records {
            let signatures = record
                .signatures
                .into_iter()
                .map(|signature| Signature {
                    returns: signature.returns,
                    parameters: signature
                        .parameters
                        .into_iter()
                        .map(|p| Parameter {
                            name: p.name,
                            ty: p.ty,
                            optional: p.optional,
                            repeatable: p.repeatable,
                        })
                        .collect(),
                })
                .collect();
            match functions
                .iter_mut()
                .find(|function: &&mut Function| function.name == record.name)
            {
                Some(existing) => existing.signatures.extend(signatures),
                None => functions.push(Function {
                    name: record.name,
                    kind,
                    signatures,
                    summary: String::new(),
                    example: String::new(),
                    parameter_notes: Vec::new(),
                }),
            }
        }
    }
    for &(name, kind) in UNLISTED_FUNCTIONS {
        functions.push(Function {
            name: name.to_owned(),
            kind,
            signatures: vec![Signature {
                parameters: vec![Parameter {
                    name: "arguments".to_owned(),
                    ty: "Scalar".to_owned(),
                    optional: true,
                    repeatable: true,
                }],
                returns: String::new(),
            }],
            summary: String::new(),
            example: String::new(),
            parameter_notes: Vec::new(),
        });
    }
    Ok(functions)
}
