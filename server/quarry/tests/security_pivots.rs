//! Injection safety of pivots: an entity value taken from hostile log data, rendered into every
//! bundled KQL pivot template, must stay a literal. The rendered query must have the same
//! syntax tree as the query rendered with a plain value (same node kinds, same shape), and
//! must not gain syntax errors.

use std::path::PathBuf;

use quarry_enrichment::pivot::{EntityType, PivotRequest, pivots, render_pivot};
use quarry_syntax::tree_sitter::Node;
use quarry_templates::{Dialect, Library};

/// Values that try to end a string literal, add a pipe stage, start a comment or a new
/// statement, or confuse the parser with quotes, escapes, line breaks and Unicode.
const HOSTILE_VALUES: &[&str] = &[
    "10.0.0.1\" | take 0 | union (SecurityEvent) //",
    "10.0.0.1' | take 0 | union (SecurityEvent) //",
    "x\"; let stolen = SecurityEvent; stolen //",
    "x'; drop table T //",
    "x\\\" | where 1 == 1 //",
    "x\\' | where 1 == 1 //",
    "x\\",
    "x\"\n| take 0\n//",
    "x'\r\n| take 0",
    "x\u{2028}| take 0",
    "@\"x\" | take 0",
    "h\"x\" | take 0",
    "```\n| take 0\n```",
    "{value}",
    "{0}",
    "%s%s%n",
    "$(rm -rf /)",
    "x) or (1 == 1",
    "x\u{0}y",
    "\u{202e}x\" | take 0",
    "x\" and \"\" == \"",
    "x''\" | take 0",
    "<script>alert(1)</script>",
    "*",
    "",
];

/// Value whose rendering is the reference shape.
const PLAIN_VALUE: &str = "plainvalue";

fn bundled_library() -> Library {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../queries");
    Library::load(&[folder]).expect("the bundled templates load")
}

/// Lists each node's kind and its depth in tree order, without text or ranges.
fn shape(query: &str) -> (Vec<(u16, usize)>, usize) {
    let parse = quarry_syntax::parse(query);
    let mut shape = Vec::new();
    collect(parse.root(), 0, &mut shape);
    (shape, parse.errors.len())
}

fn collect(node: Node<'_>, depth: usize, shape: &mut Vec<(u16, usize)>) {
    // String literals may be split into different tokens by escapes, so their inside is not
    // compared, only that they are string literals at the same place.
    shape.push((node.kind_id(), depth));
    if node.kind().contains("string") {
        return;
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        collect(child, depth + 1, shape);
    }
}

fn render(
    library: &Library,
    template: &str,
    entity: EntityType,
    value: &str,
) -> Result<String, String> {
    let request = PivotRequest {
        template,
        value,
        entity,
        parameter: None,
        other_values: Vec::new(),
    };
    render_pivot(library, &request).map(|rendered| rendered.query)
}

#[test]
fn hostile_pivot_values_stay_literals() {
    let library = bundled_library();
    let mut checked = 0;
    for entity in EntityType::ALL {
        for pivot in pivots(&library, entity) {
            if pivot.dialect != Dialect::Kql {
                continue;
            }
            let Ok(plain) = render(&library, &pivot.template, entity, PLAIN_VALUE) else {
                continue;
            };
            let (plain_shape, plain_errors) = shape(&plain);
            for value in HOSTILE_VALUES {
                let rendered = match render(&library, &pivot.template, entity, value) {
                    Ok(query) => query,
                    // Rejecting a value is safe, as long as the error says why.
                    Err(message) => {
                        assert!(!message.is_empty(), "{}: empty error", pivot.template);
                        continue;
                    }
                };
                let (hostile_shape, hostile_errors) = shape(&rendered);
                assert_eq!(
                    hostile_errors, plain_errors,
                    "{} with {value:?} changed the syntax errors:\n{rendered}",
                    pivot.template
                );
                assert_eq!(
                    hostile_shape, plain_shape,
                    "{} with {value:?} changed the query's structure:\n{rendered}\nplain:\n{plain}",
                    pivot.template
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= HOSTILE_VALUES.len(),
        "only {checked} pivot renderings were checked"
    );
    eprintln!("hostile_pivot_values_stay_literals: {checked} renderings checked");
}
