//! KQL knowledge for Quarry: the catalog of tabular operators and built-in functions, the
//! table schemas ([`schema`]) and the Windows Security event IDs.
//!
//! The catalog is plain data (names, syntax lines, signatures, summaries, examples and
//! completion snippets) kept as JSON under `data/` and embedded in the binary. It is parsed
//! once, on the first call to [`Catalog::get`], and shared for the life of the process.
//! The crate has no LSP dependency, so hover text is Markdown in a plain `String`.

mod builtins;
mod function;
mod operator;
pub mod schema;
mod types;
mod windows_events;

use std::collections::HashMap;
use std::sync::OnceLock;

pub use function::{
    Function, FunctionKind, Parameter, ParameterNote, Signature, SignatureLabel,
    display_parameter_type, display_return_type,
};
pub use operator::{Operator, OperatorParameter};
pub use schema::{
    BundledSchema, ColumnSchema, Schema, SchemaError, SchemaFile, SchemaSource, TableSchema,
    parse_schema_json,
};
pub use types::ScalarType;
pub use windows_events::{WindowsEvent, windows_security_event};

const OPERATORS_JSON: &str = include_str!("../data/operators.json");
const FUNCTIONS_JSON: &str = include_str!("../data/functions.json");

/// The operators and functions in Quarry's catalog, with lookup by name.
#[derive(Debug)]
pub struct Catalog {
    operators: Vec<Operator>,
    functions: Vec<Function>,
    operator_index: HashMap<String, usize>,
    function_index: HashMap<String, usize>,
    /// Every Kusto.Language built-in, documented or not, by name.
    builtins: HashMap<String, Function>,
}

impl Catalog {
    /// Returns the process-wide catalog, parsing the embedded data on the first call.
    ///
    /// # Panics
    ///
    /// Panics if the embedded JSON is invalid. The data is compiled in, so the crate's tests
    /// catch such an error before a release.
    pub fn get() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            Catalog::from_json(OPERATORS_JSON, FUNCTIONS_JSON)
                .unwrap_or_else(|error| panic!("embedded catalog data is invalid: {error}"))
        })
    }

    /// Builds a catalog from the JSON text of an operator list and a function list.
    ///
    /// Returns an error naming the entry when the JSON does not parse, a signature is
    /// malformed, or a name (or operator alias) appears twice.
    pub fn from_json(operators_json: &str, functions_json: &str) -> Result<Catalog, String> {
        let operators: Vec<Operator> = serde_json::from_str(operators_json)
            .map_err(|error| format!("operators.json: {error}"))?;
        let functions: Vec<function::FunctionRecord> = serde_json::from_str(functions_json)
            .map_err(|error| format!("functions.json: {error}"))?;
        let functions = functions
            .into_iter()
            .map(Function::try_from)
            .collect::<Result<Vec<_>, _>>()?;

        let mut operator_index = HashMap::new();
        for (i, operator) in operators.iter().enumerate() {
            for name in operator.names() {
                if operator_index.insert(name.to_owned(), i).is_some() {
                    return Err(format!("operators.json: duplicate operator name `{name}`"));
                }
            }
        }

        let mut function_index = HashMap::new();
        for (i, function) in functions.iter().enumerate() {
            if function_index.insert(function.name.clone(), i).is_some() {
                return Err(format!(
                    "functions.json: duplicate function name `{}`",
                    function.name
                ));
            }
        }

        let builtins = builtins::load()?
            .into_iter()
            .map(|function| (function.name.clone(), function))
            .collect();

        Ok(Catalog {
            operators,
            functions,
            operator_index,
            function_index,
            builtins,
        })
    }

    /// Looks up a tabular operator by its name or one of its aliases (`filter` finds `where`).
    ///
    /// KQL operator names are case-sensitive, so `Where` finds nothing.
    pub fn operator(&self, name: &str) -> Option<&Operator> {
        self.operator_index.get(name).map(|&i| &self.operators[i])
    }

    /// Iterates over the tabular operators in catalog order, each once (aliases are listed on
    /// [`Operator::aliases`], not as separate items).
    pub fn operators(&self) -> impl Iterator<Item = &Operator> {
        self.operators.iter()
    }

    /// Looks up a scalar function, aggregate or plugin by name (case-sensitive, as in KQL).
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.function_index.get(name).map(|&i| &self.functions[i])
    }

    /// Iterates over the functions, aggregates and plugins in catalog order.
    pub fn functions(&self) -> impl Iterator<Item = &Function> {
        self.functions.iter()
    }

    /// Looks up any Kusto.Language built-in by name, with every overload Kusto.Language lists
    /// for it. The summary and example are empty; [`Catalog::function`] has them for the
    /// documented functions. Names missing from the reference list fall back to the catalog.
    pub fn builtin(&self, name: &str) -> Option<&Function> {
        self.builtins.get(name).or_else(|| self.function(name))
    }

    /// Iterates over every built-in once, documented entries first, then the rest by name.
    pub fn builtins(&self) -> impl Iterator<Item = &Function> {
        let mut undocumented: Vec<&Function> = self
            .builtins
            .values()
            .filter(|function| !self.function_index.contains_key(&function.name))
            .collect();
        undocumented.sort_by(|a, b| a.name.cmp(&b.name));
        self.functions.iter().chain(undocumented)
    }
}
