//! Checks with the tree-sitter CLI: the committed generated parser matches `grammar.js`, and the
//! corpus tests under `test/corpus` pass.
//!
//! The drift test regenerates the parser into a temporary directory with the pinned tree-sitter
//! CLI and compares it with `src/`. The CLI path comes from `QUARRY_TREE_SITTER`, by default
//! `$HOME/.cache/quarry-tools/bin/tree-sitter`. Both tests fail when the CLI is missing, because a
//! skipped check would let the grammar and its outputs drift apart unnoticed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The CLI version the committed parser was generated with.
const PINNED_VERSION: &str = "0.27.1";

/// Generated files under `src/`; `scanner.c` is hand-written and not among them.
const GENERATED_FILES: &[&str] = &[
    "parser.c",
    "grammar.json",
    "node-types.json",
    "tree_sitter/parser.h",
    "tree_sitter/alloc.h",
    "tree_sitter/array.h",
];

fn tree_sitter_cli() -> PathBuf {
    if let Some(path) = std::env::var_os("QUARRY_TREE_SITTER") {
        return PathBuf::from(path);
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    Path::new(&home).join(".cache/quarry-tools/bin/tree-sitter")
}

/// Returns the path of the pinned tree-sitter CLI, failing the test when it is missing or of
/// another version.
fn pinned_cli() -> PathBuf {
    let cli = tree_sitter_cli();
    assert!(
        cli.is_file(),
        "tree-sitter CLI not found at {}. Install it with \
         `cargo install tree-sitter-cli --version {PINNED_VERSION} --locked --root \"$HOME/.cache/quarry-tools\"` \
         or set QUARRY_TREE_SITTER to its path.",
        cli.display()
    );

    let version = Command::new(&cli)
        .arg("--version")
        .output()
        .unwrap_or_else(|error| panic!("failed to run {}: {error}", cli.display()));
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.split_whitespace().nth(1) == Some(PINNED_VERSION),
        "tree-sitter CLI at {} reports `{}`; the parser is generated with version {PINNED_VERSION}",
        cli.display(),
        version.trim()
    );
    cli
}

#[test]
fn corpus_tests_pass() {
    let cli = pinned_cli();
    let output = Command::new(&cli)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("test")
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|error| panic!("failed to run {}: {error}", cli.display()));
    assert!(
        output.status.success(),
        "`tree-sitter test` failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn generated_parser_matches_grammar() {
    let cli = pinned_cli();
    let grammar_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output_dir =
        std::env::temp_dir().join(format!("tree-sitter-kql-generate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&output_dir);
    std::fs::create_dir_all(&output_dir).unwrap();

    let status = Command::new(&cli)
        .current_dir(grammar_dir)
        .arg("generate")
        .arg("grammar.js")
        .arg("--output")
        .arg(&output_dir)
        .status()
        .unwrap_or_else(|error| panic!("failed to run {}: {error}", cli.display()));
    assert!(
        status.success(),
        "`tree-sitter generate` failed with {status}"
    );

    let mut drifted = Vec::new();
    for file in GENERATED_FILES {
        let committed = std::fs::read(grammar_dir.join("src").join(file))
            .unwrap_or_else(|error| panic!("failed to read src/{file}: {error}"));
        let generated = std::fs::read(output_dir.join(file))
            .unwrap_or_else(|error| panic!("tree-sitter did not generate {file}: {error}"));
        if committed != generated {
            drifted.push(*file);
        }
    }
    std::fs::remove_dir_all(&output_dir).unwrap();

    assert!(
        drifted.is_empty(),
        "src/ is out of date with grammar.js ({}); run grammars/tree-sitter-kql/generate.sh and commit src/",
        drifted.join(", ")
    );
}
