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

#[test]
fn field_spans_point_into_the_file() {
    let library = Library::load(&[corpus_dir()]).expect("corpus folder is readable");
    let mut checked = 0;
    let mut fallbacks = 0;
    for file in &library.files {
        for template in &file.templates {
            for (name, range) in template.field_spans(&file.text) {
                // A field that comes from a macro value or an aliased query (`*anchor`) is not
                // spelled in the query's own source and falls back to the whole value.
                if range == template.query_span {
                    fallbacks += 1;
                    continue;
                }
                assert_eq!(
                    &file.text[range.clone()],
                    format!("{{{name}}}"),
                    "{}:{} field {name}",
                    file.path.display(),
                    template.name
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked > 1000,
        "{checked} fields checked, {fallbacks} without a position"
    );
    assert!(
        fallbacks < checked / 10,
        "{fallbacks} fields without their own position"
    );
}

#[test]
fn template_spans_cover_names_and_queries() {
    let library = Library::load(&[corpus_dir()]).expect("corpus folder is readable");
    for file in &library.files {
        for template in &file.templates {
            assert_eq!(&file.text[template.name_span.clone()], template.name);
            let query_source = &file.text[template.query_span.clone()];
            assert!(!query_source.is_empty(), "{}", template.name);
            for param in &template.parameters {
                assert_eq!(&file.text[param.name_span.clone()], param.name);
            }
        }
    }
}

/// Loading must report problems, never panic, whatever the text: every prefix of every corpus
/// file (cut at character boundaries, in steps) is loaded.
#[test]
fn truncated_files_load_without_panics() {
    let library = Library::load(&[corpus_dir()]).expect("corpus folder is readable");
    let mut loaded = 0;
    for file in &library.files {
        let boundaries: Vec<usize> = file.text.char_indices().map(|(index, _)| index).collect();
        for cut in boundaries.iter().step_by(97) {
            let prefix = file.text[..*cut].to_string();
            let partial = quarry_templates::TemplateFile::parse(&file.path, prefix);
            for problem in &partial.problems {
                assert!(problem.range.start <= *cut, "{problem}");
                assert!(problem.line >= 1 && problem.column >= 1, "{problem}");
            }
            loaded += 1;
        }
    }
    assert!(loaded > 1000, "{loaded} prefixes loaded");
}
