//! End-to-end tests of the table schema per workspace folder in `quarry lsp`: schema files
//! from `schemaFiles` resolved against each folder, and the tables of the data folder.

mod lsp_client;

use std::path::{Path, PathBuf};

use lsp_client::LspClient;
use serde_json::{Value, json};

fn temp_folder(name: &str) -> PathBuf {
    let folder =
        std::env::temp_dir().join(format!("quarry-lsp-schema-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Starts the server with workspace folders and `initializationOptions`.
fn start(folders: &[&Path], options: Value) -> LspClient {
    let mut client = LspClient::spawn();
    let workspace_folders: Vec<Value> = folders
        .iter()
        .map(|folder| json!({ "uri": file_uri(folder), "name": folder.file_name().unwrap().to_str() }))
        .collect();
    let result = client.request_ok(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": null,
            "workspaceFolders": workspace_folders,
            "capabilities": {},
            "initializationOptions": options,
        }),
    );
    assert_eq!(
        result["capabilities"]["workspace"]["workspaceFolders"]["supported"],
        true
    );
    client.notify("initialized", json!({}));
    client
}

/// Waits until the diagnostics of `uri` contain exactly the unknown tables `expected`,
/// skipping publications made before the schemas finished loading.
fn wait_for_unknown_tables(client: &mut LspClient, uri: &str, expected: &[&str]) -> Vec<Value> {
    let text_of = |diagnostic: &Value| {
        diagnostic["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let params = client.wait_for_notification("textDocument/publishDiagnostics", |params| {
        if params["uri"] != uri {
            return false;
        }
        let unknown: Vec<String> = params["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|diagnostic| diagnostic["code"] == "KQL101")
            .map(text_of)
            .collect();
        unknown.len() == expected.len()
            && expected.iter().all(|table| {
                unknown
                    .iter()
                    .any(|message| message.contains(&format!("`{table}`")))
            })
    });
    params["diagnostics"].as_array().unwrap().clone()
}

fn write_schema(folder: &Path, table: &str) {
    std::fs::write(
        folder.join("schema.json"),
        format!(r#"{{"tables": {{"{table}": {{"Host": "string", "Bytes": "long"}}}}}}"#),
    )
    .unwrap();
}

#[test]
fn schema_files_per_folder() {
    let root = temp_folder("folders");
    let red = root.join("red");
    let blue = root.join("blue");
    std::fs::create_dir_all(&red).unwrap();
    std::fs::create_dir_all(&blue).unwrap();
    write_schema(&red, "RedProxy");
    write_schema(&blue, "BlueProxy");

    let mut client = start(&[&red, &blue], json!({ "schemaFiles": ["schema.json"] }));
    let text = "RedProxy | where Bytes > 10\n\nBlueProxy | take 1\n";
    let red_uri = file_uri(&red.join("hunt.kql"));
    let blue_uri = file_uri(&blue.join("hunt.kql"));
    client.did_open(&red_uri, text);
    client.did_open(&blue_uri, text);

    let red_diagnostics = wait_for_unknown_tables(&mut client, &red_uri, &["BlueProxy"]);
    assert_eq!(red_diagnostics.len(), 1, "{red_diagnostics:?}");
    let blue_diagnostics = wait_for_unknown_tables(&mut client, &blue_uri, &["RedProxy"]);
    assert_eq!(blue_diagnostics.len(), 1, "{blue_diagnostics:?}");

    // Hover on a column of the folder's own table shows its type.
    let hover = client.request_ok(
        "textDocument/hover",
        json!({
            "textDocument": { "uri": red_uri },
            "position": { "line": 0, "character": 19 },
        }),
    );
    let markdown = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(markdown.contains("long"), "{hover}");
}

#[test]
fn settings_change_reloads_schema() {
    let root = temp_folder("reload");
    write_schema(&root, "LateTable");
    let mut client = start(&[&root], Value::Null);
    let uri = file_uri(&root.join("hunt.kql"));
    client.did_open(&uri, "LateTable | take 1\n");
    wait_for_unknown_tables(&mut client, &uri, &["LateTable"]);

    client.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "quarry": { "schema": { "files": ["schema.json"] } } } }),
    );
    let diagnostics = wait_for_unknown_tables(&mut client, &uri, &[]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
}

#[test]
fn missing_schema_file_shows_warning() {
    let root = temp_folder("missing");
    let mut client = start(&[&root], json!({ "schemaFiles": ["nope.json"] }));
    let message = client.wait_for_notification("window/showMessage", |params| {
        params["message"]
            .as_str()
            .is_some_and(|text| text.contains("nope.json"))
    });
    assert_eq!(message["type"], 2, "warning");
    let uri = file_uri(&root.join("hunt.kql"));
    client.did_open(
        &uri,
        "SigninLogs | where TimeGenerated > ago(1d) | take 1\n",
    );
    wait_for_unknown_tables(&mut client, &uri, &[]);
}

#[test]
fn data_folder_tables_are_known() {
    let data = temp_folder("data");
    std::fs::write(data.join("WebProxy.csv"), "Host,Bytes\nexample.com,10\n").unwrap();
    let mut client = start(&[], json!({ "dataFolder": data }));
    let uri = "untitled:Untitled-1";
    client.did_open(uri, "WebProxy | where Bytes > 5\n\nNoSuchTable | take 1\n");
    let diagnostics = wait_for_unknown_tables(&mut client, uri, &["NoSuchTable"]);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
}
