//! Glob patterns for data sources: `*` and `?` match within one path component, `**` matches
//! any number of folders, and `[abc]` matches one listed character.

use std::fs;
use std::path::{Path, PathBuf};

use super::TableFile;

/// Returns whether `text` contains a glob metacharacter.
pub fn is_pattern(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

/// Splits a pattern into the folder before its first component with a metacharacter, and the
/// rest, relative to that folder, with `/` separators.
pub fn split_pattern(text: &str) -> (PathBuf, String) {
    let normalized = text.replace('\\', "/");
    let components: Vec<&str> = normalized.split('/').collect();
    let first_pattern = components
        .iter()
        .position(|component| is_pattern(component))
        .unwrap_or(components.len());
    let root = components[..first_pattern].join("/");
    let root = if root.is_empty() && normalized.starts_with('/') {
        PathBuf::from("/")
    } else if root.is_empty() {
        PathBuf::from(".")
    } else {
        PathBuf::from(root)
    };
    (root, components[first_pattern..].join("/"))
}

/// Lists the supported table files below `root` whose relative path matches `pattern`, in
/// path order.
pub fn matching_files(root: &Path, pattern: &str) -> std::io::Result<Vec<TableFile>> {
    let mut found = Vec::new();
    walk(root, "", pattern, &mut found)?;
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

fn walk(
    folder: &Path,
    prefix: &str,
    pattern: &str,
    found: &mut Vec<TableFile>,
) -> std::io::Result<()> {
    for entry in fs::read_dir(folder)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let relative = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let path = entry.path();
        if path.is_dir() {
            // Descending is only useful while the pattern has more components than the path.
            if pattern.contains("**")
                || relative.matches('/').count() < pattern.matches('/').count()
            {
                walk(&path, &relative, pattern, found)?;
            }
        } else if matches(pattern, &relative)
            && let Some(file) = super::table_file(path)
        {
            found.push(file);
        }
    }
    Ok(())
}

/// Returns whether `path` (with `/` separators) matches the glob `pattern`.
pub fn matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let path: Vec<char> = path.chars().collect();
    match_from(&pattern, &path)
}

fn match_from(pattern: &[char], path: &[char]) -> bool {
    match pattern {
        [] => path.is_empty(),
        ['*', '*', '/', rest @ ..] => {
            // `**/` matches no folder, or one folder and then `**/` again.
            match_from(rest, path)
                || path
                    .iter()
                    .position(|&c| c == '/')
                    .is_some_and(|slash| match_from(pattern, &path[slash + 1..]))
        }
        ['*', '*'] => true,
        ['*', rest @ ..] => (0..=path.len())
            .take_while(|&skip| skip == 0 || path[skip - 1] != '/')
            .any(|skip| match_from(rest, &path[skip..])),
        ['?', rest @ ..] => {
            matches!(path.first(), Some(&c) if c != '/') && match_from(rest, &path[1..])
        }
        ['[', rest @ ..] => {
            let Some(close) = rest.iter().position(|&c| c == ']') else {
                return path.first() == Some(&'[') && match_from(rest, &path[1..]);
            };
            let (set, after) = (&rest[..close], &rest[close + 1..]);
            matches!(path.first(), Some(c) if set.contains(c)) && match_from(after, &path[1..])
        }
        [literal, rest @ ..] => path.first() == Some(literal) && match_from(rest, &path[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_stays_in_component() {
        assert!(matches("*.csv", "a.csv"));
        assert!(!matches("*.csv", "x/a.csv"));
        assert!(matches("*/*.csv", "x/a.csv"));
        assert!(!matches("*.csv", "a.csv.gz"));
    }

    #[test]
    fn double_star_crosses_folders() {
        assert!(matches("**/*.json", "a.json"));
        assert!(matches("**/*.json", "x/y/a.json"));
        assert!(matches("logs/**", "logs/x/a.csv"));
    }

    #[test]
    fn question_mark_and_sets() {
        assert!(matches("day?.csv", "day1.csv"));
        assert!(!matches("day?.csv", "day10.csv"));
        assert!(matches("day[12].csv", "day2.csv"));
        assert!(!matches("day[12].csv", "day3.csv"));
    }

    #[test]
    fn pattern_splits_at_first_metacharacter() {
        assert_eq!(
            split_pattern("exports/2024/*.csv.gz"),
            (PathBuf::from("exports/2024"), "*.csv.gz".to_owned())
        );
        assert_eq!(
            split_pattern("*.csv"),
            (PathBuf::from("."), "*.csv".to_owned())
        );
        assert_eq!(
            split_pattern("/data/**/x.json"),
            (PathBuf::from("/data"), "**/x.json".to_owned())
        );
    }
}
