//! Expression types: literals, operators and built-in function results.

use quarry_analysis::{Function, ScalarType, Signature};

use ScalarType::*;

/// Returns the type of a binary operator's result from its operand types.
pub fn binary(operator: &str, left: ScalarType, right: ScalarType) -> ScalarType {
    match operator {
        "+" | "-" | "*" | "/" | "%" => arithmetic(operator, left, right),
        // Comparisons, string operators and logical operators.
        _ => Bool,
    }
}

/// Kusto's arithmetic rules: numbers promote to the wider of `int`, `long`, `decimal` and `real`,
/// and datetime and timespan follow calendar arithmetic (`datetime - datetime` is a timespan).
fn arithmetic(operator: &str, left: ScalarType, right: ScalarType) -> ScalarType {
    match (left, right) {
        (Unknown, _) | (_, Unknown) => Unknown,
        (Dynamic, _) | (_, Dynamic) => Dynamic,
        (DateTime, DateTime) if operator == "-" => TimeSpan,
        (DateTime, TimeSpan) if matches!(operator, "+" | "-") => DateTime,
        (TimeSpan, DateTime) if operator == "+" => DateTime,
        (TimeSpan, TimeSpan) => match operator {
            "+" | "-" | "%" => TimeSpan,
            "/" => Real,
            _ => Unknown,
        },
        (TimeSpan, number) | (number, TimeSpan) if number.is_numeric() => match operator {
            "*" => TimeSpan,
            "/" if left == TimeSpan => TimeSpan,
            _ => Unknown,
        },
        (a, b) if a.is_numeric() && b.is_numeric() => widest_number(a, b),
        _ => Unknown,
    }
}

fn widest_number(a: ScalarType, b: ScalarType) -> ScalarType {
    let rank = |ty: ScalarType| match ty {
        Int => 0,
        Long => 1,
        Decimal => 2,
        Real => 3,
        _ => 0,
    };
    if rank(a) >= rank(b) { a } else { b }
}

/// Returns the narrowest argument count and the widest (`None` for unbounded) over all
/// overloads of a function.
pub fn arity(function: &Function) -> (usize, Option<usize>) {
    let mut min = usize::MAX;
    let mut max = Some(0);
    for signature in &function.signatures {
        let required = signature
            .parameters
            .iter()
            .filter(|parameter| !parameter.optional)
            .count();
        min = min.min(required);
        if signature
            .parameters
            .iter()
            .any(|parameter| parameter.repeatable)
        {
            max = None;
        } else if let Some(current) = max {
            max = Some(current.max(signature.parameters.len()));
        }
    }
    if min == usize::MAX {
        min = 0;
    }
    (min, max)
}

/// Returns the result type of a call with the given argument types, or `Unknown`.
pub fn call_result(function: &Function, arguments: &[ScalarType]) -> ScalarType {
    let fits = |signature: &&Signature| {
        let required = signature
            .parameters
            .iter()
            .filter(|parameter| !parameter.optional)
            .count();
        let repeatable = signature
            .parameters
            .iter()
            .any(|parameter| parameter.repeatable);
        arguments.len() >= required && (repeatable || arguments.len() <= signature.parameters.len())
    };
    let candidates: Vec<&Signature> = function.signatures.iter().filter(fits).collect();
    let signature = candidates
        .iter()
        .find(|signature| {
            signature
                .parameters
                .iter()
                .zip(arguments)
                .all(|(parameter, &argument)| accepts(&parameter.ty, argument))
        })
        .or(candidates.first())
        .copied()
        .or(function.signatures.first());
    let Some(signature) = signature else {
        return Unknown;
    };
    match signature.returns.as_str() {
        "Parameter0" | "Parameter0Promoted" => arguments.first().copied().unwrap_or(Unknown),
        "Widest" | "Common" | "CommonNonDynamic" => arguments
            .iter()
            .copied()
            .filter(|&ty| ty != Unknown)
            .reduce(|a, b| {
                if a.is_numeric() && b.is_numeric() {
                    widest_number(a, b)
                } else {
                    a
                }
            })
            .unwrap_or(Unknown),
        "Parameter0Array" => Dynamic,
        "Parameter1" => arguments.get(1).copied().unwrap_or(Unknown),
        other => ScalarType::parse(other).unwrap_or(Unknown),
    }
}

/// Checks loosely whether a parameter type accepts an argument type; unknown types fit anything.
fn accepts(parameter: &str, argument: ScalarType) -> bool {
    if argument == Unknown {
        return true;
    }
    match parameter {
        "Integer" => matches!(argument, Int | Long),
        "Number" => argument.is_numeric(),
        "Summable" => argument.is_numeric() || matches!(argument, DateTime | TimeSpan),
        "DynamicArray" | "DynamicBag" => argument == Dynamic,
        "StringOrDynamic" | "StringOrArray" => matches!(argument, String | Dynamic),
        "NumberOrBool" => argument.is_numeric() || argument == Bool,
        other => match ScalarType::parse(other) {
            Some(ty) => ty == argument || (ty.is_numeric() && argument.is_numeric()),
            None => true,
        },
    }
}

/// The groups of scalar types between which Kusto converts nothing implicitly. Types outside
/// these groups (`dynamic`, `unknown`) are compatible with anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeGroup {
    Number,
    String,
    DateTime,
    TimeSpan,
    Bool,
    Guid,
}

fn group(ty: ScalarType) -> Option<TypeGroup> {
    match ty {
        Int | Long | Real | Decimal => Some(TypeGroup::Number),
        String => Some(TypeGroup::String),
        DateTime => Some(TypeGroup::DateTime),
        TimeSpan => Some(TypeGroup::TimeSpan),
        Bool => Some(TypeGroup::Bool),
        Guid => Some(TypeGroup::Guid),
        _ => None,
    }
}

/// Checks whether an ordering comparison (`<`, `>`, ...) can compare the two types. Only pairs that Kusto
/// rejects for certain are `false`: a string against a number, a datetime or a timespan, and a
/// number against a datetime or a timespan. Other pairs, such as `bool` against a number, are
/// left alone.
pub fn comparable(left: ScalarType, right: ScalarType) -> bool {
    use TypeGroup::*;
    let (Some(a), Some(b)) = (group(left), group(right)) else {
        return true;
    };
    !matches!(
        (a, b),
        (String, Number | DateTime | TimeSpan)
            | (Number | DateTime | TimeSpan, String)
            | (Number, DateTime | TimeSpan)
            | (DateTime | TimeSpan, Number)
            | (DateTime, TimeSpan)
            | (TimeSpan, DateTime)
    )
}

/// Returns the operators whose operands [`comparable`] checks: the ordering comparisons.
/// Equality is left out because Kusto.Language (12.4.1) accepts `EventID == "4624"`, an int
/// compared with a string.
pub fn is_ordering(operator: &str) -> bool {
    matches!(operator, "<" | "<=" | ">" | ">=")
}

/// An argument that no overload of a function accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentMismatch {
    /// The position of the argument in the call.
    pub index: usize,
    pub parameter: std::string::String,
    /// The accepted types in words, such as `a string` or `a number`.
    pub expected: &'static str,
}

/// Finds an argument whose type no overload that fits the argument count accepts. Only clear
/// cases count: a parameter of a definite type group (string, number, datetime, timespan)
/// given an argument of another definite group. Returns `None` when some overload accepts
/// every argument, or when no overload fits the count (argument counts are checked apart).
pub fn argument_mismatch(
    function: &Function,
    arguments: &[ScalarType],
) -> Option<ArgumentMismatch> {
    let mut first = None;
    for signature in &function.signatures {
        if !fits_count(signature, arguments.len()) {
            continue;
        }
        let mismatch = arguments.iter().enumerate().find_map(|(index, &argument)| {
            let parameter = parameter_at(signature, index)?;
            let expected = expected_groups(&parameter.ty)?;
            let actual = group(argument)?;
            (!expected.0.contains(&actual)).then(|| ArgumentMismatch {
                index,
                parameter: parameter.name.clone(),
                expected: expected.1,
            })
        });
        match mismatch {
            None => return None,
            Some(mismatch) => {
                first.get_or_insert(mismatch);
            }
        }
    }
    first
}

fn fits_count(signature: &Signature, count: usize) -> bool {
    let required = signature
        .parameters
        .iter()
        .filter(|parameter| !parameter.optional)
        .count();
    let repeatable = signature
        .parameters
        .iter()
        .any(|parameter| parameter.repeatable);
    count >= required && (repeatable || count <= signature.parameters.len())
}

/// Returns the parameter an argument at `index` binds to; arguments past the end bind to the
/// last repeatable parameter.
fn parameter_at(signature: &Signature, index: usize) -> Option<&quarry_analysis::Parameter> {
    signature.parameters.get(index).or_else(|| {
        signature
            .parameters
            .iter()
            .rev()
            .find(|parameter| parameter.repeatable)
    })
}

/// Returns the type groups a parameter type accepts and their description, or `None` for types
/// that accept more than one clear group (`Scalar`, `DynamicArray`, ...).
fn expected_groups(parameter: &str) -> Option<(&'static [TypeGroup], &'static str)> {
    use TypeGroup::*;
    Some(match parameter {
        "string" | "StringOrDynamic" | "StringOrArray" => (&[String], "a string"),
        // Kusto.Language (12.4.1) accepts bool values where numbers are expected, as in
        // `avg(IsFailure)`, so bool counts as a number here.
        "Number" | "Integer" | "long" | "int" | "real" | "decimal" => (&[Number, Bool], "a number"),
        "Summable" => (
            &[Number, DateTime, TimeSpan, Bool],
            "a number, datetime or timespan",
        ),
        "datetime" => (&[DateTime], "a datetime"),
        "timespan" => (&[TimeSpan], "a timespan"),
        _ => return None,
    })
}

/// Returns a type's name with an article, for messages: `a string`, `an int`.
pub fn with_article(ty: ScalarType) -> std::string::String {
    let name = ty.name();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

/// Returns the type of a literal node kind, or `None` for kinds that are not literals.
pub fn literal(kind: &str, text: &str) -> Option<ScalarType> {
    use quarry_syntax::kinds;
    let ty = match kind {
        kinds::STRING_LITERAL | kinds::CONCATENATED_STRING => String,
        kinds::INTEGER_LITERAL => {
            // Kusto types integer literals as long.
            Long
        }
        kinds::REAL_LITERAL => Real,
        kinds::BOOL_LITERAL => Bool,
        kinds::DATETIME_LITERAL => DateTime,
        kinds::TIMESPAN_LITERAL => TimeSpan,
        kinds::GUID_LITERAL => Guid,
        kinds::DYNAMIC_LITERAL => Dynamic,
        kinds::TYPEOF_LITERAL => Unknown,
        kinds::TYPED_LITERAL => {
            let name = text.split('(').next().unwrap_or_default();
            ScalarType::parse(name).unwrap_or(Unknown)
        }
        _ => return None,
    };
    Some(ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_promotes_numbers() {
        assert_eq!(binary("+", Int, Long), Long);
        assert_eq!(binary("*", Long, Real), Real);
        assert_eq!(binary("/", Int, Int), Int);
    }

    #[test]
    fn arithmetic_on_dates_and_times() {
        assert_eq!(binary("-", DateTime, DateTime), TimeSpan);
        assert_eq!(binary("+", DateTime, TimeSpan), DateTime);
        assert_eq!(binary("-", DateTime, TimeSpan), DateTime);
        assert_eq!(binary("*", TimeSpan, Long), TimeSpan);
        assert_eq!(binary("/", TimeSpan, TimeSpan), Real);
        assert_eq!(binary("+", DateTime, DateTime), Unknown);
    }

    #[test]
    fn comparisons_are_bool() {
        assert_eq!(binary("==", String, String), Bool);
        assert_eq!(binary("has", String, String), Bool);
    }
}
