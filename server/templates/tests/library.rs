//! Quarry's own template library in `queries/`: every template loads without problems, carries
//! a description, typed and described parameters and pivot entities, and renders to a query
//! that Quarry's KQL parser and Microsoft's Kusto.Language (through `tests/kusto-language`) both
//! accept. Splunk templates get a lexical check of their SPL.
//!
//! The Kusto.Language check needs Node.js and the `@kusto/language-service-next` package that
//! `npm ci` installs in `tests/kusto-language` (`scripts/test.sh` does it).
//! `KUSTO_LANGUAGE_PKG` points at another installed copy.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{DateTime, Utc};
use quarry_templates::library::template_dialect;
use quarry_templates::yaml::Node;
use quarry_templates::{ArgValue, Dialect, Entry, Library, RenderOptions, Template, render};

/// Entity types that MSTICPy's pivot functions attach queries to.
const PIVOT_ENTITIES: &[&str] = &[
    "Host",
    "Account",
    "IpAddress",
    "Dns",
    "Url",
    "File",
    "Process",
];

/// Tables the library must cover, each by at least one template.
const REQUIRED_TABLES: &[&str] = &[
    "SecurityEvent",
    "SigninLogs",
    "AuditLogs",
    "OfficeActivity",
    "Syslog",
    "CommonSecurityLog",
    "AzureActivity",
    "DnsEvents",
    "ThreatIntelligenceIndicator",
    "DeviceProcessEvents",
    "DeviceNetworkEvents",
    "DeviceFileEvents",
    "DeviceLogonEvents",
    "DeviceRegistryEvents",
    "EmailEvents",
    "EmailUrlInfo",
    "EmailAttachmentInfo",
    "IdentityLogonEvents",
    "IdentityDirectoryEvents",
    "IdentityQueryEvents",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load_library() -> Library {
    let library = Library::load(&[repo_root().join("queries")]).expect("queries/ is readable");
    for file in &library.files {
        assert!(
            file.problems.is_empty(),
            "{} has problems:\n{}",
            file.path.display(),
            file.problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    library
}

fn fixed_now() -> DateTime<Utc> {
    "2024-05-20T10:00:00Z".parse().expect("valid time")
}

/// Returns a realistic value for a required parameter, by its name.
fn sample_value(name: &str) -> Option<&'static str> {
    Some(match name {
        "host_name" => "WKS-001",
        "account_name" | "user_name" => "alice",
        "account_upn" => "alice@contoso.com",
        "ip_address" => "203.0.113.77",
        "process_name" => "rundll32.exe",
        "parent_name" => "winword.exe",
        "command_text" => "-enc",
        "country_code" => "RU",
        "app_name" => "Azure Portal",
        "target_name" => "alice@contoso.com",
        "caller" => "alice@contoso.com",
        "file_hash" => "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "url" => "http://cdn-sync.example.net/update.ps1",
        "domain" => "example.net",
        "sender" => "billing@example.net",
        "recipient" => "alice@contoso.com",
        _ => return None,
    })
}

/// Renders a template with its defaults and a sample value for each required parameter.
fn render_with_samples(entry: &Entry<'_>) -> String {
    let template = entry.template;
    let args: Vec<(String, ArgValue)> = template
        .parameters
        .iter()
        .filter(|param| param.is_required())
        .map(|param| {
            let value = sample_value(&param.name).unwrap_or_else(|| {
                panic!(
                    "{}: add a sample value for required parameter `{}` to sample_value",
                    entry.qualified_name(),
                    param.name
                )
            });
            (param.name.clone(), ArgValue::Text(value.to_owned()))
        })
        .collect();
    let options = RenderOptions {
        now: fixed_now(),
        ..RenderOptions::new(template_dialect(template))
    };
    render(template, &args, &options)
        .unwrap_or_else(|error| panic!("{} does not render: {error}", entry.qualified_name()))
}

fn pivot_entities(template: &Template) -> Option<Vec<String>> {
    let pivot = map_get(&template.metadata, "pivot")?;
    let entities = map_get(pivot, "direct_func_entities")?;
    let items = entities.as_seq()?;
    Some(
        items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_owned))
            .collect(),
    )
}

fn map_get<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    node.as_map()?
        .iter()
        .find(|(name, _)| name.key_text().as_deref() == Some(key))
        .map(|(_, value)| value)
}

#[test]
fn library_has_at_least_eighty_templates() {
    let library = load_library();
    let templates: usize = library.files.iter().map(|file| file.templates.len()).sum();
    assert!(templates >= 80, "queries/ holds {templates} templates");
    assert_eq!(
        library.entries().len(),
        templates,
        "no name is defined twice"
    );
}

#[test]
fn embedded_copy_matches_queries_folder() {
    let on_disk = load_library();
    let embedded = quarry_templates::library::embedded_files();
    assert_eq!(
        embedded.len(),
        on_disk.files.len(),
        "every file is embedded"
    );
    for (copy, file) in embedded.iter().zip(&on_disk.files) {
        assert!(
            copy.path
                .starts_with(quarry_templates::library::BUNDLED_PREFIX),
            "{}",
            copy.path.display()
        );
        let relative = file.path.strip_prefix(repo_root().join("queries")).unwrap();
        assert!(
            copy.path.ends_with(relative),
            "{} vs {}",
            copy.path.display(),
            file.path.display()
        );
        assert_eq!(copy.text, file.text, "{} is up to date", relative.display());
    }
}

#[test]
fn library_covers_required_tables() {
    let library = load_library();
    let queries: Vec<&str> = library
        .entries()
        .iter()
        .map(|entry| entry.template.query.as_str())
        .collect();
    for table in REQUIRED_TABLES {
        assert!(
            queries.iter().any(|query| query.contains(table)),
            "no template queries {table}"
        );
    }
    let environments: BTreeSet<String> = library
        .entries()
        .iter()
        .flat_map(|entry| entry.template.environments.iter().cloned())
        .collect();
    for environment in ["MSSentinel", "M365D", "LocalData", "Splunk"] {
        assert!(
            environments.contains(environment),
            "no template for {environment}"
        );
    }
}

#[test]
fn library_templates_are_documented() {
    let library = load_library();
    for entry in library.entries() {
        let template = entry.template;
        let name = entry.qualified_name();
        assert!(
            template.description.trim().len() >= 10,
            "{name} needs a description"
        );
        for param in &template.parameters {
            assert!(
                param.param_type.is_some(),
                "{name}: parameter `{}` has no valid type",
                param.name
            );
            assert!(
                param
                    .description
                    .as_deref()
                    .is_some_and(|text| !text.trim().is_empty()),
                "{name}: parameter `{}` has no description",
                param.name
            );
        }
        for time in ["start", "end"] {
            let param = template
                .parameter(time)
                .unwrap_or_else(|| panic!("{name} has no `{time}` parameter"));
            assert!(!param.is_required(), "{name}: `{time}` needs a default");
        }
        let entities = pivot_entities(template)
            .unwrap_or_else(|| panic!("{name} has no metadata.pivot.direct_func_entities"));
        for entity in &entities {
            assert!(
                PIVOT_ENTITIES.contains(&entity.as_str()),
                "{name}: unknown pivot entity {entity}"
            );
        }
    }
}

#[test]
fn library_kql_renders_without_quarry_syntax_errors() {
    let library = load_library();
    for entry in library.entries() {
        if template_dialect(entry.template) != Dialect::Kql {
            continue;
        }
        let query = render_with_samples(&entry);
        assert!(
            !query.contains('{') && !query.contains('}'),
            "{} leaves a placeholder:\n{query}",
            entry.qualified_name()
        );
        let parse = quarry_syntax::parse(&query);
        assert!(
            parse.errors.is_empty(),
            "{} has syntax errors {:?} in:\n{query}",
            entry.qualified_name(),
            parse.errors
        );
    }
}

#[test]
fn library_splunk_renders_to_well_formed_spl() {
    let library = load_library();
    let mut checked = 0;
    for entry in library.entries() {
        if template_dialect(entry.template) != Dialect::Splunk {
            continue;
        }
        let query = render_with_samples(&entry);
        let name = entry.qualified_name();
        let trimmed = query.trim_start();
        assert!(
            trimmed.starts_with("search ") || trimmed.starts_with('|'),
            "{name} must start with `search` or a generating command:\n{query}"
        );
        if let Err(problem) = check_spl_lexically(&query) {
            panic!("{name}: {problem} in:\n{query}");
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} Splunk templates");
}

/// Checks that every double-quoted string is closed and that brackets balance outside strings.
fn check_spl_lexically(query: &str) -> Result<(), String> {
    let mut stack = Vec::new();
    let mut chars = query.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => loop {
                match chars.next() {
                    Some('\\') => {
                        chars.next();
                    }
                    Some('"') => break,
                    Some(_) => {}
                    None => return Err("a string literal is not closed".to_owned()),
                }
            },
            '(' | '[' => stack.push(c),
            ')' | ']' => {
                let open = stack.pop();
                let expected = if c == ')' { '(' } else { '[' };
                if open != Some(expected) {
                    return Err(format!("unbalanced `{c}`"));
                }
            }
            '{' | '}' => return Err(format!("a `{c}` is left from a placeholder")),
            _ => {}
        }
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed {stack:?}"))
    }
}

#[test]
fn library_kql_passes_kusto_language_oracle() {
    let library = load_library();
    let rendered: Vec<(String, String)> = library
        .entries()
        .iter()
        .filter(|entry| template_dialect(entry.template) == Dialect::Kql)
        .map(|entry| (entry.qualified_name(), render_with_samples(entry)))
        .collect();
    let answers = run_oracle_syntax(&rendered);
    assert_eq!(answers.len(), rendered.len(), "one answer per query");
    let mut rejected = Vec::new();
    for ((name, query), answer) in rendered.iter().zip(&answers) {
        assert_eq!(answer["id"], name.as_str(), "answers come in input order");
        let errors = answer["errors"].as_array().expect("errors array");
        if !errors.is_empty() {
            rejected.push(format!("{name}: {errors:?} in:\n{query}"));
        }
        assert_eq!(answer["blocks"], 1, "{name} is one query block:\n{query}");
    }
    assert!(
        rejected.is_empty(),
        "Kusto.Language rejects {} templates:\n{}",
        rejected.len(),
        rejected.join("\n\n")
    );
}

/// Runs `tests/kusto-language/syntax-check.js` once over all queries and returns its JSON results
/// in input order.
fn run_oracle_syntax(queries: &[(String, String)]) -> Vec<serde_json::Value> {
    let folder = repo_root().join("tests/kusto-language");
    let package = std::env::var_os("KUSTO_LANGUAGE_PKG")
        .map(PathBuf::from)
        .unwrap_or_else(|| folder.join("node_modules/@kusto/language-service-next"));
    assert!(
        package.is_dir(),
        "Kusto.Language is not installed at {}; run `npm ci` in tests/kusto-language (needs \
         Node.js and npm; .ci/run does this) or set KUSTO_LANGUAGE_PKG to an installed copy",
        package.display()
    );
    let mut child = Command::new("node")
        .arg(folder.join("syntax-check.js"))
        .env("KUSTO_LANGUAGE_PKG", &package)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start node for the Kusto.Language check: {error}"));
    let mut input = String::new();
    for (id, query) in queries {
        let line = serde_json::json!({ "id": id, "query": query });
        input.push_str(&line.to_string());
        input.push('\n');
    }
    // Write from a thread so a full stdout pipe cannot block the write.
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("oracle output");
    writer
        .join()
        .expect("writer thread")
        .expect("queries written to the oracle");
    assert!(
        output.status.success(),
        "the Kusto.Language check failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8 answers")
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON answer"))
        .collect()
}
