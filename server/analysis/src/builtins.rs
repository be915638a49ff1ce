//! Every built-in function of Kusto.Language with its signatures but no documentation, so that
//! name binding and argument counts cover functions the documented catalog does not yet have.

use serde::Deserialize;

use crate::{Function, FunctionKind, Parameter, Signature};

const BUILTINS_JSON: &str = include_str!("../data/reference/kql-builtins.json");

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

/// Parses the embedded reference list into functions with empty summaries and examples.
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
            functions.push(Function {
                name: record.name,
                kind,
                signatures,
                summary: String::new(),
                example: String::new(),
            });
        }
    }
    Ok(functions)
}
