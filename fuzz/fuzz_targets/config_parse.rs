//! Reads arbitrary text as `quarry.toml` and as `msticpyconfig.yaml`, and checks that every
//! problem points into the file and that no problem repeats a secret written in the file.

#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use quarry_providers::config::{
    Environment, LoadedConfig, SecretRef, read_msticpy_yaml, read_quarry_toml,
};

/// An environment with no variables and no home folder, so results do not depend on the
/// machine the fuzzer runs on.
struct EmptyEnvironment;

impl Environment for EmptyEnvironment {
    fn var(&self, _name: &str) -> Option<String> {
        None
    }

    fn home_dir(&self) -> Option<PathBuf> {
        None
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let line_count = text.lines().count().max(1);

    let mut toml = LoadedConfig::default();
    read_quarry_toml(Path::new("quarry.toml"), &text, &mut toml);
    check(&toml, line_count);

    let mut yaml = LoadedConfig::default();
    read_msticpy_yaml(Path::new("msticpyconfig.yaml"), &text, &mut yaml);
    check(&yaml, line_count);
});

fn check(loaded: &LoadedConfig, line_count: usize) {
    let mut literal_secrets = Vec::new();
    for connection in &loaded.connections {
        let _ = connection.backend.target();
        let _ = connection.backend.kind();
        if let Some(secret) = connection.auth.secret() {
            // Resolving reports a missing variable or store as an error. A panic fails the target.
            let _ = secret.resolve(&EmptyEnvironment);
            if let SecretRef::Literal(value) = secret {
                literal_secrets.push(value.expose().to_owned());
            }
        }
    }

    for problem in &loaded.problems {
        if let Some(line) = problem.origin.line {
            // A parser may point one line past the last one at an unexpected end of file.
            assert!(
                line >= 1 && line <= line_count + 1,
                "problem line {line} outside the file of {line_count} lines: {problem:?}"
            );
        }
        let message = problem.to_string();
        for secret in &literal_secrets {
            // Short values (such as `1` or `true`) appear in messages for other reasons.
            if secret.len() >= 8 {
                assert!(
                    !message.contains(secret.as_str()),
                    "a problem repeats a literal secret: {message}"
                );
            }
        }
    }
}
