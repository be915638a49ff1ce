//! End-to-end tests of documents whose parse the server dropped to save memory: edits, hover
//! and diagnostics on them must equal those on a document opened fresh with the same text.
//!
//! `QUARRY_PARSED_TEXT_LIMIT=1` makes the server keep the parse of the most recently used
//! document only, so every other open document is idle.

mod lsp_client;

use lsp_client::{LspClient, position};
use serde_json::{Value, json};

const DOCUMENT_COUNT: usize = 6;
const BLOCKS_PER_DOCUMENT: usize = 40;

/// Builds a document of 5-line query blocks, with names that differ between documents.
fn document_text(number: usize) -> String {
    (0..BLOCKS_PER_DOCUMENT)
        .map(|block| {
            let index = number * BLOCKS_PER_DOCUMENT + block;
            format!(
                "SecurityEvent\n\
                 | where TimeGenerated > ago(1d) and EventID == 4625 and Account != \"user{index}\"\n\
                 | summarize n{index} = count(), hosts = dcount(Computer) by Account, bin(TimeGenerated, 1h)\n\
                 | where n{index} > 10\n\
                 \n"
            )
        })
        .collect()
}

fn uri(number: usize) -> String {
    format!("file:///hunt/idle{number}.kql")
}

/// Returns the byte offset of a line and character in ASCII text.
fn offset(text: &str, line: u32, character: u32) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line as usize)
        .map(str::len)
        .sum();
    line_start + character as usize
}

/// One open document as the client sees it.
struct OpenDocument {
    uri: String,
    text: String,
    version: i64,
}

impl OpenDocument {
    /// Replaces the text between two positions on one line, sends the change and returns the
    /// new version.
    fn replace(
        &mut self,
        client: &mut LspClient,
        line: u32,
        range: (u32, u32),
        new_text: &str,
    ) -> i64 {
        let start = offset(&self.text, line, range.0);
        let end = offset(&self.text, line, range.1);
        self.text.replace_range(start..end, new_text);
        self.version += 1;
        client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": self.uri, "version": self.version },
                "contentChanges": [{
                    "range": { "start": position(line, range.0), "end": position(line, range.1) },
                    "text": new_text,
                }],
            }),
        );
        self.version
    }
}

/// Opens `text` under a new URI and returns its diagnostics.
fn fresh_diagnostics(client: &mut LspClient, name: &str, text: &str) -> Vec<Value> {
    let uri = format!("file:///hunt/fresh-{name}.kql");
    client.did_open(&uri, text);
    client.wait_for_diagnostics(&uri, 1)
}

fn hover(client: &mut LspClient, uri: &str, line: u32, character: u32) -> Value {
    client.request_ok(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": position(line, character) }),
    )
}

/// Starts a server that keeps one parse, and waits until schemas are loaded, which the first
/// unknown-column error shows, so that every later publication has all diagnostics.
fn start_server() -> LspClient {
    let mut client = LspClient::start_with_env(Value::Null, &[("QUARRY_PARSED_TEXT_LIMIT", "1")]);
    let probe = "file:///hunt/probe.kql";
    client.did_open(probe, "SecurityEvent\n| where NoSuchColumn == 1\n");
    client.wait_for_notification("textDocument/publishDiagnostics", |params| {
        params["uri"] == probe
            && params["diagnostics"]
                .as_array()
                .is_some_and(|diagnostics| diagnostics.iter().any(|d| d["code"] == "KQL102"))
    });
    client
}

fn open_documents(client: &mut LspClient) -> Vec<OpenDocument> {
    let mut documents = Vec::new();
    for number in 0..DOCUMENT_COUNT {
        let document = OpenDocument {
            uri: uri(number),
            text: document_text(number),
            version: 1,
        };
        client.did_open(&document.uri, &document.text);
        let diagnostics = client.wait_for_diagnostics(&document.uri, 1);
        assert_eq!(diagnostics, Vec::<Value>::new(), "{}", document.uri);
        documents.push(document);
    }
    documents
}

#[test]
fn idle_document_edit_reports_unknown_column() {
    let mut client = start_server();
    let mut documents = open_documents(&mut client);

    // Document 0 has been idle since five others opened after it. Block 3 starts on line 15;
    // `EventID` sits at characters 36..43 of its `where` line.
    let document = &mut documents[0];
    let version = document.replace(&mut client, 16, (36, 43), "NoSuchColumn");
    let diagnostics = client.wait_for_diagnostics(&document.uri, version);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["code"], "KQL102");
    assert_eq!(diagnostics[0]["range"]["start"], position(16, 36));
    assert_eq!(diagnostics[0]["range"]["end"], position(16, 48));
    let text = document.text.clone();
    assert_eq!(
        fresh_diagnostics(&mut client, "unknown", &text),
        diagnostics
    );

    // The fix, sent to the document right after another one was used.
    hover(&mut client, &uri(4), 2, 60);
    let document = &mut documents[0];
    let version = document.replace(&mut client, 16, (36, 48), "EventID");
    let diagnostics = client.wait_for_diagnostics(&document.uri, version);
    assert_eq!(diagnostics, Vec::<Value>::new());

    let log = client.stderr();
    assert!(
        log.contains("dropped the parse of an idle document"),
        "no parse was dropped:\n{log}"
    );
    assert!(
        log.contains("parsed a document whose parse was dropped"),
        "no dropped parse was rebuilt:\n{log}"
    );
}

#[test]
fn idle_document_syntax_error_and_hover() {
    let mut client = start_server();
    let mut documents = open_documents(&mut client);

    // Two edits to idle document 2 before any request: an unclosed bracket on line 21, then a
    // second one on line 26.
    let document = &mut documents[2];
    document.replace(&mut client, 21, (8, 8), "(");
    let version = document.replace(&mut client, 26, (8, 8), "(");
    let diagnostics = client.wait_for_diagnostics(&document.uri, version);
    assert!(!diagnostics.is_empty(), "no syntax error reported");
    let text = document.text.clone();
    assert_eq!(fresh_diagnostics(&mut client, "syntax", &text), diagnostics);

    // Hover on `Account` in the `by` clause of the first block: in an idle document that was
    // never edited, then in the edited one after another document was used.
    for number in [3, 2] {
        let line = 2;
        let summarize = documents[number].text.lines().nth(line as usize).unwrap();
        let character = (summarize.find("by Account").unwrap() + 3) as u32;
        let account = hover(&mut client, &uri(number), line, character);
        let markdown = account["contents"]["value"].as_str().unwrap_or_default();
        assert!(markdown.contains("Account"), "{account}");
        assert!(markdown.contains("string"), "{account}");

        let text = documents[number].text.clone();
        let fresh_uri = format!("file:///hunt/fresh-hover{number}.kql");
        client.did_open(&fresh_uri, &text);
        assert_eq!(hover(&mut client, &fresh_uri, line, character), account);
    }
}
