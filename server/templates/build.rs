//! Embeds Quarry's template library (`queries/` at the repository root) into the crate, so a
//! `quarry` binary installed away from its source tree still has the templates.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let queries = manifest.join("../../queries");
    println!("cargo:rerun-if-changed={}", queries.display());

    let mut files = Vec::new();
    if queries.is_dir() {
        collect(&queries, &mut files);
    }
    files.sort();

    let mut code = String::from("pub const BUNDLED_FILES: &[(&str, &str)] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let relative = file
            .strip_prefix(&queries)
            .expect("found under queries/")
            .to_string_lossy()
            .replace('\\', "/");
        let absolute = file.canonicalize().expect("file exists");
        writeln!(code, "    ({relative:?}, include_str!({absolute:?})),").expect("write to String");
    }
    code.push_str("];\n");

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("bundled_queries.rs"), code).expect("OUT_DIR is writable");
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("queries/ is readable");
    for entry in entries {
        let path = entry.expect("queries/ entry is readable").path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(&path, files);
        } else if path
            .extension()
            .is_some_and(|extension| extension == "yaml" || extension == "yml")
        {
            files.push(path);
        }
    }
}
