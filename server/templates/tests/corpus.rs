//! Loads MSTICPy's own template library (copied under tests/fixtures) and checks that every
//! file and query loads without errors.

use std::path::PathBuf;

use quarry_templates::{Library, Severity};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/msticpy-queries")
}

#[test]
fn corpus_loads_without_errors() {
    let library = Library::load(&[corpus_dir()]).expect("corpus folder is readable");
    assert_eq!(library.files.len(), 50, "template files in the corpus");

    let problems: Vec<String> = library
        .files
        .iter()
        .flat_map(|file| file.problems.iter())
        .map(ToString::to_string)
        .collect();
    let errors: Vec<&String> = library
        .files
        .iter()
        .flat_map(|file| file.problems.iter())
        .filter(|problem| problem.severity == Severity::Error)
        .map(|problem| {
            problems
                .iter()
                .find(|text| **text == problem.to_string())
                .unwrap()
        })
        .collect();
    assert!(errors.is_empty(), "errors:\n{}", problems.join("\n"));

    let templates: usize = library.files.iter().map(|file| file.templates.len()).sum();
    assert_eq!(templates, 308, "templates in the corpus");
}
