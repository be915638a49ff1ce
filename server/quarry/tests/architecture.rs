//! Checks that ARCHITECTURE.md and the crate layering stay true as the workspace grows.

use std::fs;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Returns the `members` entries of the root Cargo.toml.
fn workspace_members(root: &Path) -> Vec<String> {
    let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let start = manifest
        .find("members = [")
        .expect("root Cargo.toml has a members list");
    let list = &manifest[start..];
    let end = list.find(']').unwrap();
    list[..end]
        .lines()
        .skip(1)
        .map(|line| {
            line.trim()
                .trim_end_matches(',')
                .trim_matches('"')
                .to_owned()
        })
        .filter(|member| !member.is_empty())
        .collect()
}

#[test]
fn code_map_lists_every_crate() {
    let root = repo_root();
    let architecture = fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let members = workspace_members(&root);
    assert!(members.len() >= 6, "found only {members:?}");

    for member in members {
        let heading = format!("### `{member}`");
        assert!(
            architecture.contains(&heading),
            "ARCHITECTURE.md has no code-map section `{heading}`; add one for the new crate"
        );
    }
}

#[test]
fn only_binary_crate_depends_on_lsp() {
    let root = repo_root();
    for member in workspace_members(&root) {
        if member == "server/quarry" {
            continue;
        }
        let manifest = fs::read_to_string(root.join(&member).join("Cargo.toml")).unwrap();
        for lsp_crate in ["tower-lsp-server", "lsp-types", "tower-lsp"] {
            let dependency_line = manifest
                .lines()
                .any(|line| line.trim_start().starts_with(&format!("{lsp_crate} ")));
            assert!(
                !dependency_line,
                "{member}/Cargo.toml depends on {lsp_crate}; only server/quarry may know LSP"
            );
        }
    }
}
