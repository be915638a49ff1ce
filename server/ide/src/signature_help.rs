//! Signature help: the overloads of the function, aggregate or plugin whose argument list
//! contains the cursor, with the overload that fits the arguments and the parameter being typed.
//!
//! It works on tokens, not on the syntax tree, because the call being typed is usually
//! unfinished (`bin(TimeGenerated, `), which the parser turns into error nodes.

use std::ops::Range;

use quarry_analysis::{Catalog, Function, ScalarType, Signature};

use crate::cursor;
use crate::lexer::{Token, TokenKind};
use crate::{Analysis, SourceFile, completion};

/// The signatures of one call, ready for the editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHelp {
    /// The name of the called function.
    pub function: String,
    /// One entry per overload, in catalog order.
    pub signatures: Vec<SignatureInfo>,
    /// The index in `signatures` of the overload that fits the arguments written so far.
    pub active_signature: usize,
    /// The index of the parameter the cursor is in, within the active signature. `None` when
    /// the cursor is past the last parameter of that overload.
    pub active_parameter: Option<usize>,
}

/// One overload of the called function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInfo {
    /// The rendered signature, for example `bin(value: number, roundTo: number): number`.
    pub label: String,
    /// Markdown shown under the label: the function's summary.
    pub documentation: String,
    pub parameters: Vec<ParameterInfo>,
    /// The parameter the cursor is in for this overload, which may differ between overloads
    /// when one has a repeatable parameter.
    pub active_parameter: Option<usize>,
}

/// One parameter of an overload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterInfo {
    /// The byte range of the parameter inside [`SignatureInfo::label`].
    pub label: Range<usize>,
    /// The catalog's note on the parameter, when it has one.
    pub documentation: Option<String>,
}

/// The call around the cursor, found from the tokens.
struct Call<'a> {
    name: &'a str,
    /// Whether the name follows `evaluate`, which makes it a plugin.
    after_evaluate: bool,
    /// The zero-based index of the argument the cursor is in.
    argument: usize,
    /// The number of arguments written, counting the one at the cursor even when it is
    /// empty, unless the whole argument list is empty.
    argument_count: usize,
    /// The token index range of each argument, in order, and no range for an empty list.
    arguments: Vec<Range<usize>>,
}

/// Computes the signature help at `offset`. `preferred_signature` is the overload the editor
/// showed last, which the user may have switched to, and it is kept while it still fits.
pub fn signature_help(
    analysis: &Analysis,
    file: &SourceFile,
    offset: usize,
    preferred_signature: Option<usize>,
) -> Option<SignatureHelp> {
    if completion::in_string_or_comment(file, offset) {
        return None;
    }
    let call = call_at(file.text(), file.tokens(), offset)?;
    let Some(function) = lookup(analysis.catalog, &call) else {
        return user_function_help(analysis, file, offset, &call);
    };
    if function.signatures.is_empty() {
        return None;
    }
    let argument_types = if function.signatures.len() > 1 {
        argument_types(analysis, file, offset, &call)
    } else {
        Vec::new()
    };

    let active_signature = preferred_signature
        .filter(|&index| {
            function
                .signatures
                .get(index)
                .is_some_and(|signature| accepts(signature, call.argument_count))
        })
        .unwrap_or_else(|| best_signature(&function.signatures, &call, &argument_types));

    let signatures: Vec<SignatureInfo> = (0..function.signatures.len())
        .map(|index| signature_info(function, index, &call))
        .collect();
    let active_parameter = signatures[active_signature].active_parameter;
    Some(SignatureHelp {
        function: function.name.clone(),
        signatures,
        active_signature,
        active_parameter,
    })
}

/// Builds the help for a call of a function defined with `let` in the query block, such as
/// `let failures = (user: string, window: timespan = 1d) { ... };`. Parameters with a default
/// value are optional.
fn user_function_help(
    analysis: &Analysis,
    file: &SourceFile,
    offset: usize,
    call: &Call,
) -> Option<SignatureHelp> {
    if call.after_evaluate {
        return None;
    }
    let text = file.text();
    let is_function = |variable: &&quarry_hir::Variable| {
        variable.kind == quarry_hir::VariableKind::Function && variable.name == call.name
    };
    let variable = match analysis
        .model_at(file, offset)
        .variables_at(offset)
        .into_iter()
        .find(is_function)
    {
        Some(variable) => variable.clone(),
        // An unclosed call can keep the parser from binding the block, as for column names.
        None => {
            let (model, block_start) = repaired_model(analysis, file, offset)?;
            let variable = model
                .variables_at(offset - block_start)
                .into_iter()
                .find(is_function)?
                .clone();
            quarry_hir::Variable {
                definition: variable.definition.start + block_start
                    ..variable.definition.end + block_start,
                ..variable
            }
        }
    };

    let (parameters, result) = split_function_description(&variable.description)?;
    let mut label = format!("{}(", variable.name);
    let mut parameter_infos = Vec::new();
    for (index, parameter) in parameters.iter().enumerate() {
        if index > 0 {
            label.push_str(", ");
        }
        let start = label.len();
        label.push_str(parameter);
        parameter_infos.push(ParameterInfo {
            label: start..label.len(),
            documentation: None,
        });
    }
    // A tabular result lists every column, which is too long for a signature line.
    let result = if result.starts_with("table") {
        "table"
    } else {
        result
    };
    label.push_str("): ");
    label.push_str(result);

    let line = text[..variable.definition.start].matches('\n').count() + 1;
    let active_parameter = (call.argument < parameters.len()).then_some(call.argument);
    Some(SignatureHelp {
        function: variable.name.clone(),
        signatures: vec![SignatureInfo {
            label,
            documentation: format!("Function defined with `let` on line {line}."),
            parameters: parameter_infos,
            active_parameter,
        }],
        active_signature: 0,
        active_parameter,
    })
}

/// Splits the semantic model's description of a `let` function, `(a: string, b: long = 5):
/// bool`, into its parameters with runs of whitespace collapsed, and its result.
fn split_function_description(description: &str) -> Option<(Vec<String>, &str)> {
    let inner_start = description.find('(')? + 1;
    let mut depth = 0usize;
    let mut parameters = Vec::new();
    let mut start = inner_start;
    for (index, c) in description
        .char_indices()
        .skip_while(|&(i, _)| i < inner_start)
    {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth > 0 => depth -= 1,
            ')' => {
                let last = description[start..index].trim();
                if !last.is_empty() || !parameters.is_empty() {
                    parameters.push(last);
                }
                let result = description[index + 1..].trim_start();
                let result = result.strip_prefix(':').unwrap_or(result).trim();
                let parameters = parameters
                    .into_iter()
                    .map(|parameter: &str| {
                        parameter.split_whitespace().collect::<Vec<_>>().join(" ")
                    })
                    .collect();
                return Some((parameters, result));
            }
            ',' if depth == 0 => {
                parameters.push(description[start..index].trim());
                start = index + 1;
            }
            _ => {}
        }
    }
    None
}

/// Finds the catalog entry for a call. After `evaluate` only plugins match, and elsewhere only
/// scalar functions and aggregates. Deprecated names that the catalog does not document, such
/// as `parsejson`, fall back to the list of built-ins.
fn lookup<'a>(catalog: &'a Catalog, call: &Call) -> Option<&'a Function> {
    let function = catalog
        .function(call.name)
        .or_else(|| catalog.builtin(call.name))?;
    let is_plugin = function.kind == quarry_analysis::FunctionKind::Plugin;
    (is_plugin == call.after_evaluate).then_some(function)
}

fn signature_info(function: &Function, index: usize, call: &Call) -> SignatureInfo {
    let label = function.signature_label_with_ranges(index);
    let signature = &function.signatures[index];
    let parameters = signature
        .parameters
        .iter()
        .zip(label.parameters)
        .map(|(parameter, range)| ParameterInfo {
            label: range,
            documentation: function.parameter_note(&parameter.name).map(str::to_owned),
        })
        .collect();
    SignatureInfo {
        label: label.text,
        documentation: function.summary.clone(),
        parameters,
        active_parameter: parameter_index(signature, call.argument, call.argument_count),
    }
}

/// Walks back from `offset` to the innermost unclosed `(` that follows a name, counting the
/// commas at its level, then forward to its `)` to find every argument of the call.
fn call_at<'a>(text: &'a str, tokens: &[Token], offset: usize) -> Option<Call<'a>> {
    // Tokens that end at or before the cursor. A name being typed at the cursor belongs to
    // the current argument either way.
    let before = tokens.partition_point(|token| token.end <= offset);
    let mut depth = 0usize;
    let mut commas = 0usize;
    let mut call = None;
    for index in (0..before).rev() {
        let token = tokens[index];
        match token.kind {
            TokenKind::CloseParen | TokenKind::CloseBracket | TokenKind::CloseBrace => depth += 1,
            TokenKind::OpenParen | TokenKind::OpenBracket | TokenKind::OpenBrace if depth > 0 => {
                depth -= 1;
            }
            TokenKind::OpenParen => {
                if let Some(name) = call_name(text, tokens, index) {
                    call = Some((name, index));
                    break;
                }
                // A bracket that is not a call, such as `(a + b)` or `in (1, 2)`, is one
                // argument of the enclosing call, so its commas do not count there.
                commas = 0;
            }
            TokenKind::OpenBracket | TokenKind::OpenBrace => commas = 0,
            TokenKind::Comma if depth == 0 => commas += 1,
            // An argument list never spans a pipe or a statement end at its own level.
            TokenKind::Pipe | TokenKind::Semicolon if depth == 0 => return None,
            _ => {}
        }
    }
    let (name_index, open) = call?;

    let close = list_end(tokens, before);
    let arguments = split_arguments(tokens, open + 1..close);
    let previous = cursor::significant_before(tokens, tokens[name_index].start);
    let after_evaluate = previous
        .is_some_and(|i| tokens[i].kind == TokenKind::Ident && tokens[i].text(text) == "evaluate");
    Some(Call {
        name: tokens[name_index].text(text),
        after_evaluate,
        argument: commas,
        argument_count: arguments.len(),
        arguments,
    })
}

/// Splits the tokens of an argument list at the commas of its own level. An empty list has
/// no arguments, while `f(a, )` has two, the second one empty.
fn split_arguments(tokens: &[Token], list: Range<usize>) -> Vec<Range<usize>> {
    if !tokens[list.clone()].iter().any(Token::is_significant) {
        return Vec::new();
    }
    let mut arguments = Vec::new();
    let mut depth = 0usize;
    let mut start = list.start;
    for index in list.clone() {
        match tokens[index].kind {
            TokenKind::OpenParen | TokenKind::OpenBracket | TokenKind::OpenBrace => depth += 1,
            TokenKind::CloseParen | TokenKind::CloseBracket | TokenKind::CloseBrace => {
                depth = depth.saturating_sub(1);
            }
            TokenKind::Comma if depth == 0 => {
                arguments.push(start..index);
                start = index + 1;
            }
            _ => {}
        }
    }
    arguments.push(start..list.end);
    arguments
}

/// Returns the index of the name token right before the `(` at `open`, if there is one and it
/// is not a member access (`x.f(`).
fn call_name(text: &str, tokens: &[Token], open: usize) -> Option<usize> {
    let name = tokens[..open].iter().rposition(Token::is_significant)?;
    if tokens[name].kind != TokenKind::Ident {
        return None;
    }
    let before_name = tokens[..name].iter().rposition(Token::is_significant);
    let is_member = before_name.is_some_and(|i| tokens[i].text(text) == ".");
    (!is_member).then_some(name)
}

/// Returns the index of the token that ends an argument list, scanning from token `from`: its
/// closing `)`, a pipe or `;` at its level, or the end of the text for an unclosed list.
fn list_end(tokens: &[Token], from: usize) -> usize {
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate().skip(from) {
        match token.kind {
            TokenKind::OpenParen | TokenKind::OpenBracket | TokenKind::OpenBrace => depth += 1,
            TokenKind::CloseParen | TokenKind::CloseBracket | TokenKind::CloseBrace => {
                if depth == 0 {
                    return index;
                }
                depth -= 1;
            }
            TokenKind::Pipe | TokenKind::Semicolon if depth == 0 => return index,
            _ => {}
        }
    }
    tokens.len()
}

/// Returns the minimum and maximum number of arguments an overload takes, with no maximum when
/// a parameter repeats.
fn arity(signature: &Signature) -> (usize, Option<usize>) {
    let required = signature
        .parameters
        .iter()
        .filter(|parameter| !parameter.optional)
        .count();
    let unbounded = signature.parameters.iter().any(|p| p.repeatable);
    let max = (!unbounded).then_some(signature.parameters.len());
    (required, max)
}

/// Checks whether an overload can take `count` arguments, ignoring missing required ones,
/// since the user may still be typing them.
fn accepts(signature: &Signature, count: usize) -> bool {
    let (_, max) = arity(signature);
    max.is_none_or(|max| count <= max)
}

/// Picks the first overload that fits both the argument count and the argument types known
/// so far. Failing that, the first that fits the count, then the first that takes at least
/// that many arguments, and last the first overload.
fn best_signature(signatures: &[Signature], call: &Call, types: &[ScalarType]) -> usize {
    let count = call.argument_count;
    let fits_count = |signature: &Signature| {
        let (min, _) = arity(signature);
        min <= count && accepts(signature, count)
    };
    let fits_types = |signature: &Signature| {
        types.iter().enumerate().all(|(argument, &ty)| {
            parameter_index(signature, argument, count)
                .is_none_or(|index| parameter_accepts(&signature.parameters[index].ty, ty))
        })
    };
    signatures
        .iter()
        .position(|signature| fits_count(signature) && fits_types(signature))
        .or_else(|| signatures.iter().position(fits_count))
        .or_else(|| signatures.iter().position(|s| accepts(s, count)))
        .unwrap_or(0)
}

/// Returns the type of each argument where it is clear from the tokens alone or from the
/// column a name refers to: a literal, a column, or a call whose overloads all return one
/// concrete type (`ago(1h)`). Everything else is `Unknown`, which every parameter accepts.
fn argument_types(
    analysis: &Analysis,
    file: &SourceFile,
    offset: usize,
    call: &Call,
) -> Vec<ScalarType> {
    let text = file.text();
    let tokens = file.tokens();
    let mut columns = ColumnTypes::new(analysis, file, offset);
    call.arguments
        .iter()
        .map(|argument| {
            let significant: Vec<Token> = tokens[argument.clone()]
                .iter()
                .copied()
                .filter(Token::is_significant)
                .collect();
            match significant.as_slice() {
                [token] => token_type(text, *token, &mut columns),
                [name, open, .., close]
                    if name.kind == TokenKind::Ident
                        && open.kind == TokenKind::OpenParen
                        && close.kind == TokenKind::CloseParen =>
                {
                    call_type(analysis.catalog, name.text(text))
                }
                _ => ScalarType::Unknown,
            }
        })
        .collect()
}

/// Returns the type of a one-token argument.
fn token_type(text: &str, token: Token, columns: &mut ColumnTypes) -> ScalarType {
    let word = token.text(text);
    match token.kind {
        TokenKind::String => ScalarType::String,
        TokenKind::Number => number_type(word),
        TokenKind::Ident if word == "true" || word == "false" => ScalarType::Bool,
        TokenKind::Ident => columns.type_at(token.start),
        _ => ScalarType::Unknown,
    }
}

/// The types of column names in the call's query block, from semantic models built on first
/// use. The document's own model comes first. While a call is still unclosed the parser
/// often cannot bind the block, so the second model binds the block's text up to the cursor
/// with the open brackets closed.
struct ColumnTypes<'a> {
    analysis: &'a Analysis,
    file: &'a SourceFile,
    offset: usize,
    document: Option<quarry_hir::Model>,
    /// Empty until first use. Then the model of the repaired block with the block's start in
    /// the document, or `None` when no bracket is open and there is nothing to repair.
    repaired: Option<Option<(quarry_hir::Model, usize)>>,
}

impl<'a> ColumnTypes<'a> {
    fn new(analysis: &'a Analysis, file: &'a SourceFile, offset: usize) -> ColumnTypes<'a> {
        ColumnTypes {
            analysis,
            file,
            offset,
            document: None,
            repaired: None,
        }
    }

    fn type_at(&mut self, start: usize) -> ScalarType {
        let (analysis, file, offset) = (self.analysis, self.file, self.offset);
        let document = self
            .document
            .get_or_insert_with(|| analysis.model_at(file, offset));
        if let Some(ty) = column_type(document, start) {
            return ty;
        }
        let repaired = self
            .repaired
            .get_or_insert_with(|| repaired_model(analysis, file, offset));
        repaired
            .as_ref()
            .filter(|(_, block_start)| *block_start <= start)
            .and_then(|(model, block_start)| column_type(model, start - block_start))
            .unwrap_or(ScalarType::Unknown)
    }
}

/// Returns the type of the column named at `start`, or `None` when the name is not bound to a
/// column of known type, as in the open row type of a block the parser could not read.
fn column_type(model: &quarry_hir::Model, start: usize) -> Option<ScalarType> {
    match &model.reference_at(start)?.target {
        quarry_hir::Target::Column(column) if column.ty != ScalarType::Unknown => Some(column.ty),
        _ => None,
    }
}

/// Binds the query block around `offset`, cut at the cursor and with its open brackets closed,
/// so that `T | summarize count() by bin(TimeGenerated, ` binds like the finished call. Returns
/// `None` when no bracket is open.
fn repaired_model(
    analysis: &Analysis,
    file: &SourceFile,
    offset: usize,
) -> Option<(quarry_hir::Model, usize)> {
    // A block ends at its last token, so whitespace typed after a comma lies outside it.
    let tokens = file.tokens();
    let anchor = cursor::significant_before(tokens, offset).map_or(offset, |i| tokens[i].end);
    let block = analysis.query_block_at(file, anchor)?;
    let mut closers = Vec::new();
    for token in tokens {
        if token.start < block.start || token.end > offset {
            continue;
        }
        match token.kind {
            TokenKind::OpenParen => closers.push(')'),
            TokenKind::OpenBracket => closers.push(']'),
            TokenKind::OpenBrace => closers.push('}'),
            TokenKind::CloseParen | TokenKind::CloseBracket | TokenKind::CloseBrace => {
                closers.pop();
            }
            _ => {}
        }
    }
    if closers.is_empty() {
        return None;
    }
    let mut text = file.text()[block.start..offset].to_owned();
    text.extend(closers.iter().rev());
    let repaired = SourceFile::parse(&text);
    Some((analysis.model(&repaired), block.start))
}

/// Returns the type of a number token: a timespan when it ends with a unit (`30m`, `1.5h`), a
/// real with a fraction or exponent, and a long otherwise (including hexadecimal `0x1F`).
fn number_type(text: &str) -> ScalarType {
    if text.starts_with("0x") || text.starts_with("0X") {
        return ScalarType::Long;
    }
    if text.ends_with(|c: char| c.is_ascii_alphabetic()) && !text.ends_with(['e', 'E']) {
        let unit_start = text
            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .len();
        if !text[..unit_start].contains(['e', 'E']) || unit_start == text.len() {
            return ScalarType::TimeSpan;
        }
    }
    if text.contains(['.', 'e', 'E']) {
        ScalarType::Real
    } else {
        ScalarType::Long
    }
}

/// Returns the type a call produces when the type words of its function fix it:
/// `datetime(...)` and the other literal forms, or a function whose overloads all return the
/// same concrete type.
fn call_type(catalog: &Catalog, name: &str) -> ScalarType {
    if let Some(ty) = ScalarType::parse(name) {
        return ty;
    }
    let Some(function) = catalog.function(name) else {
        return ScalarType::Unknown;
    };
    let mut returns = function
        .signatures
        .iter()
        .map(|signature| ScalarType::parse(&signature.returns));
    match returns.next().flatten() {
        Some(first) if returns.all(|ty| ty == Some(first)) => first,
        _ => ScalarType::Unknown,
    }
}

/// Checks loosely whether a parameter type in Kusto.Language's terms accepts an argument type.
/// Unknown arguments and open parameter types (`Scalar`, `Orderable`, ...) accept anything.
fn parameter_accepts(parameter: &str, argument: ScalarType) -> bool {
    if argument == ScalarType::Unknown {
        return true;
    }
    match parameter {
        "Integer" => matches!(argument, ScalarType::Int | ScalarType::Long),
        "Number" => argument.is_numeric(),
        "Summable" => {
            argument.is_numeric() || matches!(argument, ScalarType::DateTime | ScalarType::TimeSpan)
        }
        "DynamicArray" | "DynamicBag" => argument == ScalarType::Dynamic,
        "StringOrDynamic" | "StringOrArray" => {
            matches!(argument, ScalarType::String | ScalarType::Dynamic)
        }
        "NumberOrBool" => argument.is_numeric() || argument == ScalarType::Bool,
        other => match ScalarType::parse(other) {
            Some(ty) => ty == argument || (ty.is_numeric() && argument.is_numeric()),
            None => true,
        },
    }
}

/// Maps argument `argument` of a call with `count` arguments to the parameter it binds to.
///
/// A run of repeatable parameters (`case`'s predicate and then, `bag_pack`'s key and value)
/// takes arguments in turn. Parameters after the run bind to the last arguments of the call,
/// so in `case(a, b, c)` the third argument is `else`.
fn parameter_index(signature: &Signature, argument: usize, count: usize) -> Option<usize> {
    let parameters = &signature.parameters;
    let Some(run_start) = parameters.iter().position(|p| p.repeatable) else {
        return (argument < parameters.len()).then_some(argument);
    };
    let run_end = parameters[run_start..]
        .iter()
        .position(|p| !p.repeatable)
        .map_or(parameters.len(), |i| run_start + i);
    let run_length = run_end - run_start;
    let trailing = parameters.len() - run_end;

    if argument < run_start {
        return Some(argument);
    }
    let first_trailing_argument = count.saturating_sub(trailing);
    let run_filled = first_trailing_argument >= run_start + run_length;
    if trailing > 0 && run_filled && argument >= first_trailing_argument {
        let index = run_end + (argument - first_trailing_argument);
        return (index < parameters.len()).then_some(index);
    }
    Some(run_start + (argument - run_start) % run_length)
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::fixture;

    /// Renders the help as the active label with the active parameter in `<...>`, followed
    /// by the overload number and count.
    fn check(fixture: &str, expect: Expect) {
        let (text, offset) = fixture::cursor(fixture);
        let file = SourceFile::parse(&text);
        let actual = match signature_help(&Analysis::new(Catalog::get()), &file, offset, None) {
            Some(help) => render(&help),
            None => "no signature help".to_owned(),
        };
        expect.assert_eq(&actual);
    }

    fn render(help: &SignatureHelp) -> String {
        let signature = &help.signatures[help.active_signature];
        let mut label = signature.label.clone();
        if let Some(active) = help.active_parameter {
            let range = signature.parameters[active].label.clone();
            label.replace_range(range.clone(), &format!("<{}>", &signature.label[range]));
        }
        format!(
            "{label} [{}/{}]",
            help.active_signature + 1,
            help.signatures.len()
        )
    }

    #[test]
    fn first_argument_after_open_paren() {
        check(
            "SecurityEvent | where isnotempty($0",
            expect!["isnotempty(<value: scalar>): bool [1/1]"],
        );
    }

    #[test]
    fn second_argument_after_comma() {
        check(
            "SecurityEvent | summarize count() by bin(TimeGenerated, $0",
            expect!["bin(value: datetime, <roundTo: datetime>): datetime [3/4]"],
        );
    }

    #[test]
    fn argument_at_cursor_in_closed_call() {
        check(
            "print x = substring('abcdef', 1$0, 3)",
            expect!["substring(string: scalar, <start: integer>, [length: integer]): string [1/1]"],
        );
    }

    #[test]
    fn nested_call_is_innermost() {
        check(
            "print strcat('a', tolower($0))",
            expect!["tolower(<value: scalar>): string [1/1]"],
        );
        check(
            "print strcat('a', tolower('B'), $0)",
            expect!["strcat(<arg: scalar>, ...): string [1/1]"],
        );
    }

    #[test]
    fn commas_inside_brackets_do_not_count() {
        check(
            "print split(strcat('a', 'b'), dynamic([1, 2])[0], $0)",
            expect![
                "split(source: scalar, delimiter: string, [<requestedIndex: integer>]): dynamic [1/1]"
            ],
        );
        check(
            "print iff((1, 2) == x, $0",
            expect!["iff(if: bool, <then: scalar>, else: scalar): scalar [1/1]"],
        );
    }

    #[test]
    fn overload_follows_argument_count() {
        check("T | summarize count($0)", expect!["count(): long [1/2]"]);
        check(
            "T | summarize count(x > 1$0)",
            expect!["count(<predicate: bool>): long [2/2]"],
        );
    }

    #[test]
    fn overload_follows_argument_types() {
        check(
            "SecurityEvent | summarize count() by bin(TimeGenerated, 1$0h)",
            expect!["bin(value: datetime, <roundTo: timespan>): datetime [4/4]"],
        );
        check(
            "SecurityEvent | summarize count() by bin(TimeGenerated, $0",
            expect!["bin(value: datetime, <roundTo: datetime>): datetime [3/4]"],
        );
        check(
            "print bin(ago(1d), 1$0d)",
            expect!["bin(value: datetime, <roundTo: timespan>): datetime [4/4]"],
        );
        check(
            "print bin(1.5, $0",
            expect!["bin(value: number, <roundTo: number>): number [1/4]"],
        );
        check(
            "SecurityEvent | summarize count() by bin(TimeGenerated, $0)",
            expect!["bin(value: datetime, <roundTo: datetime>): datetime [3/4]"],
        );
        check(
            "SecurityEvent | where EventID == 4625 | summarize count() by bin(TimeGenerated, $0",
            expect!["bin(value: datetime, <roundTo: datetime>): datetime [3/4]"],
        );
        check(
            "SecurityEvent | where TimeGenerated > ago(1d) | extend x = bin(TimeGenerated, $0\n| take 10",
            expect!["bin(value: datetime, <roundTo: datetime>): datetime [3/4]"],
        );
        check(
            "print bin(1h, $0",
            expect!["bin(value: timespan, <roundTo: timespan>): timespan [2/4]"],
        );
    }

    #[test]
    fn number_type_reads_units_and_fractions() {
        assert_eq!(number_type("10"), ScalarType::Long);
        assert_eq!(number_type("0x1F"), ScalarType::Long);
        assert_eq!(number_type("1.5"), ScalarType::Real);
        assert_eq!(number_type("1e3"), ScalarType::Real);
        assert_eq!(number_type("30m"), ScalarType::TimeSpan);
        assert_eq!(number_type("1.5h"), ScalarType::TimeSpan);
        assert_eq!(number_type("100ms"), ScalarType::TimeSpan);
    }

    #[test]
    fn repeatable_run_cycles_parameters() {
        check(
            "print bag_pack('a', 1, 'b', $0",
            expect!["bag_pack(key: string, <value: scalar>, ...): dynamic [1/1]"],
        );
        check(
            "print bag_pack('a', 1, $0",
            expect!["bag_pack(<key: string>, value: scalar, ...): dynamic [1/1]"],
        );
    }

    #[test]
    fn trailing_parameter_after_repeatable_run() {
        check(
            "print case(x > 1, 'a', $0",
            expect!["case(predicate: bool, then: scalar, ..., <else: scalar>): scalar [1/1]"],
        );
        check(
            "print case(x > 1, 'a', x > 2$0, 'b', 'c')",
            expect!["case(<predicate: bool>, then: scalar, ..., else: scalar): scalar [1/1]"],
        );
    }

    #[test]
    fn aggregate_in_summarize() {
        check(
            "SigninLogs | summarize make_set(IPAddress, $0) by UserPrincipalName",
            expect!["make_set(expr: scalar, [<maxSize: integer>]): dynamic [1/1]"],
        );
    }

    #[test]
    fn plugin_after_evaluate() {
        check(
            "SigninLogs | evaluate bag_unpack(DeviceDetail, $0",
            expect!["bag_unpack(column: scalar, [<column_prefix: string>]): table [1/1]"],
        );
    }

    #[test]
    fn let_function_parameters() {
        check(
            "let failures = (user: string, window: timespan = 1d) { SigninLogs | where UserPrincipalName == user };\nfailures(\"alice\", $0",
            expect!["failures(user: string, <window: timespan = 1d>): table [1/1]"],
        );
        check(
            "let failures = (user: string, window: timespan = 1d) { SigninLogs | where UserPrincipalName == user };\nfailures($0)",
            expect!["failures(<user: string>, window: timespan = 1d): table [1/1]"],
        );
        check(
            "let hosts = (T: (Computer: string)) { T | distinct Computer };\nhosts(SecurityEvent, $0)",
            expect!["hosts(T: (Computer: string)): table [1/1]"],
        );
        check(
            "let is_admin = (name: string) { name has \"admin\" };\nSecurityEvent | where is_admin($0)",
            expect!["is_admin(<name: string>): bool [1/1]"],
        );
    }

    #[test]
    fn split_function_description_reads_parameters() {
        assert_eq!(
            split_function_description("(a: string, b: long = 5): bool"),
            Some((
                vec!["a: string".to_owned(), "b: long = 5".to_owned()],
                "bool"
            ))
        );
        assert_eq!(
            split_function_description("(): long"),
            Some((Vec::new(), "long"))
        );
        assert_eq!(
            split_function_description("(T: (A: string,\n  B: long)): table"),
            Some((vec!["T: (A: string, B: long)".to_owned()], "table"))
        );
        assert_eq!(split_function_description("long"), None);
    }

    #[test]
    fn plugin_name_outside_evaluate_has_none() {
        check("print x = bag_unpack($0", expect!["no signature help"]);
    }

    #[test]
    fn past_last_parameter_has_no_active_parameter() {
        check(
            "print tolower('a', $0",
            expect!["tolower(value: scalar): string [1/1]"],
        );
    }

    #[test]
    fn none_outside_calls_and_in_strings() {
        check("SecurityEvent | where $0", expect!["no signature help"]);
        check("print x = (1 + $0", expect!["no signature help"]);
        check("print tolower('a$0b')", expect!["no signature help"]);
        check("print tolower(x) | where $0", expect!["no signature help"]);
        check("print my_function($0", expect!["no signature help"]);
        check("print x.tolower($0", expect!["no signature help"]);
    }

    #[test]
    fn pipe_inside_call_ends_search() {
        check(
            "T | where tolower(\n| take $0",
            expect!["no signature help"],
        );
    }

    #[test]
    fn preferred_overload_is_kept_while_it_fits() {
        let (text, offset) = fixture::cursor("T | summarize count() by bin(TimeGenerated, $0");
        let file = SourceFile::parse(&text);
        let analysis = Analysis::new(Catalog::get());
        let help = signature_help(&analysis, &file, offset, Some(3)).expect("help");
        assert_eq!(help.active_signature, 3);
        assert_eq!(
            render(&help),
            "bin(value: datetime, <roundTo: timespan>): datetime [4/4]"
        );
        let help = signature_help(&analysis, &file, offset, Some(9)).expect("help");
        assert_eq!(
            help.active_signature, 0,
            "an out-of-range preference is ignored"
        );
    }

    #[test]
    fn documentation_carries_summary_and_notes() {
        let (text, offset) = fixture::cursor("SigninLogs | evaluate bag_unpack(DeviceDetail, $0");
        let file = SourceFile::parse(&text);
        let help =
            signature_help(&Analysis::new(Catalog::get()), &file, offset, None).expect("help");
        let signature = &help.signatures[0];
        assert!(
            signature
                .documentation
                .starts_with("Expands a dynamic property bag"),
            "{}",
            signature.documentation
        );
        let note = signature.parameters[1].documentation.as_deref();
        assert!(
            note.is_some_and(|note| note.contains("new column")),
            "{note:?}"
        );
        for parameter in &signature.parameters {
            assert!(parameter.label.end <= signature.label.len());
        }
    }
}
