//! End-to-end tests of the `quarry lsp` lifecycle: initialize, panic recovery, shutdown and exit.

mod lsp_client;

use lsp_client::{LspClient, position};
use serde_json::{Value, json};

#[test]
fn initialize_announces_capabilities() {
    let mut client = LspClient::spawn();

    let result = client.initialize(Value::Null);

    let capabilities = &result["capabilities"];
    assert_eq!(capabilities["positionEncoding"], "utf-16");
    assert_eq!(
        capabilities["textDocumentSync"]["change"], 2,
        "incremental sync"
    );
    assert_eq!(capabilities["hoverProvider"], true);
    assert_eq!(
        capabilities["completionProvider"]["triggerCharacters"],
        json!(["|"])
    );
    assert_eq!(capabilities["documentSymbolProvider"], true);
    assert_eq!(capabilities["foldingRangeProvider"], true);
    assert_eq!(capabilities["semanticTokensProvider"]["full"], true);
    let legend = &capabilities["semanticTokensProvider"]["legend"];
    assert_eq!(
        legend["tokenTypes"],
        json!([
            "keyword", "operator", "function", "variable", "string", "number", "comment"
        ])
    );
    assert_eq!(
        legend["tokenModifiers"],
        json!(["declaration", "defaultLibrary"])
    );
    let commands = command_names(&capabilities["executeCommandProvider"]["commands"]);
    for expected in ["quarry.runQuery", "quarry.pivot"] {
        assert!(
            commands.iter().any(|name| name == expected),
            "{expected} missing from {commands:?}"
        );
    }
    assert!(
        commands.iter().all(|name| name.starts_with("quarry.")),
        "every command is namespaced: {commands:?}"
    );
    assert_eq!(result["serverInfo"]["name"], "quarry");
}

#[test]
fn stdio_flag_is_accepted() {
    let mut client = LspClient::spawn_with_args_and_env(&["--stdio"], &[]);

    let result = client.initialize(Value::Null);

    assert_eq!(result["serverInfo"]["name"], "quarry");
}

#[test]
fn shutdown_then_exit_ends_process() {
    let client = LspClient::start(Value::Null);

    let status = client.shutdown();

    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn panic_in_request_returns_internal_error() {
    let mut client = LspClient::start_with_env(Value::Null, &[("QUARRY_DEBUG_COMMANDS", "1")]);
    let uri = "file:///panic.kql";
    client.did_open(uri, "SecurityEvent\n| where EventID == 4625\n");

    let error = client
        .request(
            "workspace/executeCommand",
            json!({ "command": "quarry.debug.panic", "arguments": [] }),
        )
        .expect_err("a panicking handler must return an error");

    assert_eq!(error["code"], -32603, "InternalError: {error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("quarry.debug.panic` was called"),
        "{message}"
    );
    assert!(client.is_running());
    let hover = client.request_ok(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": position(1, 3) }),
    );
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("where"),
        "{hover}"
    );
    assert!(
        client.stderr().contains("handler panicked"),
        "{}",
        client.stderr()
    );
    assert!(client.shutdown().success());
}

#[test]
fn debug_command_hidden_by_default() {
    let mut client = LspClient::spawn();
    let result = client.initialize(Value::Null);
    let commands = command_names(&result["capabilities"]["executeCommandProvider"]["commands"]);
    assert!(
        !commands.iter().any(|name| name.starts_with("quarry.debug")),
        "debug commands are announced without the flag: {commands:?}"
    );

    let error = client
        .request(
            "workspace/executeCommand",
            json!({ "command": "quarry.debug.panic", "arguments": [] }),
        )
        .expect_err("the debug command is off");

    assert_eq!(error["code"], -32602, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("unknown command"),
        "{error}"
    );
    assert!(client.is_running());
}

#[test]
fn stderr_logs_never_contain_document_text() {
    let mut client = LspClient::start(Value::Null);
    let secret = "SecretTable_7f3a";
    client.did_open(
        "file:///secret.kql",
        &format!("{secret}\n| where x == 'hunter2'\n"),
    );
    client.wait_for_diagnostics("file:///secret.kql", 1);
    let _ = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": "file:///secret.kql" }, "position": position(0, 2) }),
    );

    let stderr = client.stderr();
    assert!(
        !stderr.is_empty(),
        "debug logging is on, so stderr has lines"
    );
    assert!(!stderr.contains(secret), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

/// The command names in an `executeCommandProvider.commands` array.
fn command_names(commands: &Value) -> Vec<String> {
    commands
        .as_array()
        .expect("a command list")
        .iter()
        .map(|name| name.as_str().expect("a command name").to_owned())
        .collect()
}
