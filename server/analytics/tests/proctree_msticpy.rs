//! Process trees against MSTICPy's `build_process_tree` on processes_on_host.csv (Windows
//! 4688 events of one host).

mod common;

use std::collections::HashMap;
use std::fs::File;

use quarry_analytics::input::FullTable;
use quarry_analytics::proctree::{build_process_tree, detect_schema, summarize};

#[test]
fn tree_matches_msticpy() {
    let reference = common::read_json("proctree_reference.json");
    let table =
        FullTable::read_csv(File::open(common::fixture("processes_on_host.csv")).unwrap()).unwrap();
    assert_eq!(detect_schema(&table.header).unwrap().name, "windows-4688");
    let tree = build_process_tree(&table.header, &table.rows, None).unwrap();

    let summary = summarize(&tree);
    let expected = &reference["summary"];
    assert_eq!(summary.processes, 369);
    assert_eq!(
        summary.processes as u64,
        expected["Processes"].as_u64().unwrap()
    );
    assert_eq!(
        summary.roots as u64,
        expected["RootProcesses"].as_u64().unwrap()
    );
    assert_eq!(
        summary.leaves as u64,
        expected["LeafProcesses"].as_u64().unwrap()
    );
    assert_eq!(
        summary.branches as u64,
        expected["BranchProcesses"].as_u64().unwrap()
    );
    assert_eq!(
        summary.isolated as u64,
        expected["IsolatedProcesses"].as_u64().unwrap()
    );
    assert_eq!(
        summary.max_depth as u64,
        expected["LargestTreeDepth"].as_u64().unwrap()
    );

    let by_key: HashMap<&str, &serde_json::Value> = reference["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|process| (process["key"].as_str().unwrap(), process))
        .collect();
    assert_eq!(by_key.len(), tree.len());
    for process in &tree {
        let expected = by_key
            .get(process.key.as_str())
            .unwrap_or_else(|| panic!("MSTICPy has no process {}", process.key));
        assert_eq!(
            process.parent_key.as_deref(),
            expected["parent_key"].as_str(),
            "{}",
            process.key
        );
        assert_eq!(
            process.is_root,
            expected["is_root"].as_bool().unwrap(),
            "{}",
            process.key
        );
        assert_eq!(
            process.is_leaf,
            expected["is_leaf"].as_bool().unwrap(),
            "{}",
            process.key
        );
        assert_eq!(
            process.is_branch,
            expected["is_branch"].as_bool().unwrap(),
            "{}",
            process.key
        );
        assert_eq!(
            process.depth as u64,
            expected["depth"].as_u64().unwrap(),
            "{}",
            process.key
        );
    }
}
