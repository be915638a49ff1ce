//! `quarry config check` on configuration files written by the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("quarry-config-check-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs `quarry config check` in `work` with `home` as the home folder and only `path` on PATH.
fn config_check(
    work: &Path,
    home: &Path,
    path: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quarry"));
    command
        .args(["config", "check"])
        .args(extra)
        .current_dir(work)
        .env("HOME", home)
        .env("PATH", path)
        .env_remove("MSTICPYCONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("SPLUNK_TOKEN");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run quarry")
}

const QUARRY_TOML: &str = r#"
[connections.prod]
kind = "log-analytics"
workspace-id = "6b0f1c9e-52d3-4a8c-9f1e-3d2c1b0a9f8e"

[connections.splunk]
kind = "splunk"
url = "https://splunk.example.com:8089"
auth = { method = "token", token = { env = "SPLUNK_TOKEN" } }
"#;

const MSTICPY_YAML: &str = "AzureSentinel:\n  Workspaces:\n    Default:\n      WorkspaceId: \"11111111-1111-1111-1111-111111111111\"\nTIProviders:\n  OTX:\n    Args:\n      AuthKey: x\n";

fn setup(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let root = temp_dir(name);
    let (work, home, bin) = (root.join("work"), root.join("home"), root.join("bin"));
    for dir in [&work, &home, &bin] {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(work.join("quarry.toml"), QUARRY_TOML).unwrap();
    std::fs::write(work.join("msticpyconfig.yaml"), MSTICPY_YAML).unwrap();
    (work, home, bin)
}

#[cfg(unix)]
fn install_az_stub(bin: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let az = bin.join("az");
    std::fs::write(&az, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[test]
fn config_check_healthy() {
    let (work, home, bin) = setup("healthy");
    install_az_stub(&bin);
    let output = config_check(
        &work,
        &home,
        &bin,
        &[],
        &[("SPLUNK_TOKEN", "splunk-secret-value")],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);

    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("msticpyconfig.yaml"), "{stdout}");
    assert!(stdout.contains("sentinel:Default"), "{stdout}");
    assert!(
        stdout.contains("workspace 6b0f1c9e-52d3-4a8c-9f1e-3d2c1b0a9f8e  auth azure-cli"),
        "{stdout}"
    );
    assert!(
        stdout.contains("auth token (secret from environment variable SPLUNK_TOKEN)"),
        "{stdout}"
    );
    assert!(stdout.contains("TIProviders: OTX"), "{stdout}");
    assert!(stdout.contains("3 connections, 0 problems"), "{stdout}");
    assert!(!stdout.contains("splunk-secret-value"), "{stdout}");
}

#[test]
fn config_check_lists_problems() {
    let (work, home, bin) = setup("problems");
    let output = config_check(&work, &home, &bin, &[], &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);

    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("connections.splunk.auth: environment variable SPLUNK_TOKEN is not set"),
        "{stdout}"
    );
    assert!(stdout.contains("`az` is not on PATH"), "{stdout}");
}

#[test]
fn config_check_json() {
    let (work, home, bin) = setup("json");
    let output = config_check(&work, &home, &bin, &["--format", "json"], &[]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");

    let names: Vec<&str> = report["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sentinel:Default", "prod", "splunk"]);
    let splunk_problem = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == "connections.splunk.auth")
        .expect("splunk problem");
    assert!(
        splunk_problem["message"]
            .as_str()
            .unwrap()
            .contains("SPLUNK_TOKEN is not set")
    );
}

#[test]
fn config_check_without_files() {
    let root = temp_dir("empty");
    let output = config_check(&root, &root, &root, &[], &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout.contains("No configuration found. Searched:"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&root.join("quarry.toml").display().to_string()),
        "{stdout}"
    );
}
