//! Tests of data-source discovery and reading: compression, JSON arrays, globs, subfolder
//! tables, the schema file, CSV error messages and lazy scans.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use polars::prelude::*;

use super::*;

/// A folder under the system temporary directory, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new() -> Folder {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("quarry-load-test-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        Folder(path)
    }

    fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        path
    }

    fn write_gzip(&self, name: &str, contents: &str) -> PathBuf {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(contents.as_bytes()).unwrap();
        self.write(name, &encoder.finish().unwrap())
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn load(source: &Path, table: &str) -> DataFrame {
    let tables = list_tables(source).unwrap();
    let file = tables.get(table).unwrap_or_else(|| {
        panic!(
            "no table {table} in {:?}",
            tables.keys().collect::<Vec<_>>()
        )
    });
    load_table(file).unwrap()
}

fn load_error(source: &Path, table: &str) -> String {
    let tables = list_tables(source).unwrap();
    load_table(&tables[table]).unwrap_err().message
}

#[test]
fn file_names_give_table_format_and_compression() {
    assert_eq!(
        FileFormat::from_file_name("SecurityEvent.csv.gz"),
        Some((
            "SecurityEvent".to_owned(),
            FileFormat::Csv,
            Compression::Gzip
        ))
    );
    assert_eq!(
        FileFormat::from_file_name("a.b.jsonl"),
        Some(("a.b".to_owned(), FileFormat::JsonLines, Compression::None))
    );
    assert_eq!(FileFormat::from_file_name("notes.txt.gz"), None);
    assert_eq!(FileFormat::from_file_name("x.parquet.gz"), None);
    assert_eq!(FileFormat::from_file_name(".csv"), None);
}

#[test]
fn gzip_csv_loads_with_datetimes() {
    let folder = Folder::new();
    folder.write_gzip(
        "logons.csv.gz",
        "When,User\n2024-03-10 09:05:00,bob\n2024-03-10 10:00:00,\n",
    );
    let frame = load(&folder.0, "logons");
    assert_eq!(frame.height(), 2);
    assert_eq!(
        frame.column("When").unwrap().dtype(),
        &DataType::Datetime(TimeUnit::Nanoseconds, None)
    );
    let users: Vec<Option<&str>> = frame
        .column("User")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(users, [Some("bob"), Some("")]);
}

#[test]
fn gzip_json_lines_and_arrays_load() {
    let folder = Folder::new();
    folder.write_gzip("a.jsonl.gz", "{\"x\":1}\n{\"x\":2}\n");
    folder.write_gzip("b.json.gz", "[{\"x\":1},{\"x\":2},{\"x\":3}]");
    folder.write_gzip("c.tsv.gz", "x\ty\n1\t2\n");
    assert_eq!(load(&folder.0, "a").height(), 2);
    assert_eq!(load(&folder.0, "b").height(), 3);
    assert_eq!(load(&folder.0, "c").width(), 2);
}

#[test]
fn json_array_and_json_lines_share_extension() {
    let folder = Folder::new();
    folder.write(
        "array.json",
        b"  [\n {\"Host\": \"web\", \"Port\": 443},\n {\"Host\": \"db\", \"Port\": 5432}\n]\n",
    );
    folder.write("lines.json", b"{\"Host\": \"web\"}\n{\"Host\": \"db\"}\n");
    let array = load(&folder.0, "array");
    assert_eq!(array.height(), 2);
    assert_eq!(array.column("Port").unwrap().dtype(), &DataType::Int64);
    assert_eq!(load(&folder.0, "lines").height(), 2);
}

#[test]
fn subfolder_is_one_table() {
    let folder = Folder::new();
    folder.write("SecurityEvent/day1.csv", b"EventID,Computer\n4624,a\n");
    folder.write(
        "SecurityEvent/day2.csv",
        b"EventID,Computer\n4625,b\n4625,c\n",
    );
    folder.write("Other/readme.txt", b"not a table");
    let tables = list_tables(&folder.0).unwrap();
    assert_eq!(tables.keys().collect::<Vec<_>>(), ["SecurityEvent"]);
    assert_eq!(tables["SecurityEvent"].parts.len(), 2);
    assert_eq!(load(&folder.0, "SecurityEvent").height(), 3);
}

#[test]
fn subfolder_with_two_formats_is_an_error() {
    let folder = Folder::new();
    folder.write("T/a.csv", b"x\n1\n");
    folder.write("T/b.jsonl", b"{\"x\":1}\n");
    let error = list_tables(&folder.0).unwrap_err().message;
    assert!(error.contains("mixes files of two formats"), "{error}");
}

#[test]
fn parts_with_different_columns_are_an_error() {
    let folder = Folder::new();
    folder.write("T/a.csv", b"x\n1\n");
    folder.write("T/b.csv", b"y\n1\n");
    let error = load_error(&folder.0, "T");
    assert!(error.contains("have different columns"), "{error}");
    assert!(
        error.contains("a.csv") && error.contains("b.csv"),
        "{error}"
    );
    assert!(error.contains("`x` is only in the first"), "{error}");
    assert!(error.contains("same header"), "{error}");
}

/// Writes a Parquet part `name` with the columns `x` (of `x_dtype`) and `y` (text).
fn write_parquet_part(folder: &Folder, name: &str, x_dtype: &DataType) {
    let x = Series::new("x".into(), [1i64, 2])
        .cast(x_dtype)
        .unwrap()
        .into_column();
    let y = Column::new("y".into(), ["a", "b"]);
    let mut frame = DataFrame::new(2, vec![x, y]).unwrap();
    fs::create_dir_all(folder.0.join(Path::new(name).parent().unwrap())).unwrap();
    ParquetWriter::new(fs::File::create(folder.0.join(name)).unwrap())
        .finish(&mut frame)
        .unwrap();
}

#[test]
fn parquet_parts_with_different_types_name_the_column() {
    let folder = Folder::new();
    write_parquet_part(&folder, "T/a.parquet", &DataType::Int64);
    write_parquet_part(&folder, "T/b.parquet", &DataType::String);
    let tables = list_tables(&folder.0).unwrap();
    // Both the lazy scan and the eager loader explain the difference the same way.
    let scanned = scan::scan_table(&tables["T"])
        .err()
        .expect("the parts differ")
        .message;
    let loaded = load_table(&tables["T"]).unwrap_err().message;
    for error in [scanned, loaded] {
        assert!(
            error.contains("`x` is long in the first and string in the second"),
            "{error}"
        );
        assert!(
            error.contains("a.parquet") && error.contains("b.parquet"),
            "{error}"
        );
        assert!(error.contains("same columns and types"), "{error}");
        assert!(!error.contains("header"), "{error}");
    }
}

#[test]
fn parquet_parts_with_other_time_units_still_scan() {
    let folder = Folder::new();
    write_parquet_part(
        &folder,
        "T/a.parquet",
        &DataType::Datetime(TimeUnit::Microseconds, None),
    );
    write_parquet_part(
        &folder,
        "T/b.parquet",
        &DataType::Datetime(TimeUnit::Milliseconds, None),
    );
    let tables = list_tables(&folder.0).unwrap();
    let scan = scan::scan_table(&tables["T"])
        .unwrap()
        .expect("parquet scans lazily");
    assert_eq!(scan.collect().unwrap().height(), 4);
}

#[test]
fn glob_selects_and_groups_files() {
    let folder = Folder::new();
    folder.write("host1/SecurityEvent.csv", b"EventID\n4624\n");
    folder.write("host2/SecurityEvent.csv", b"EventID\n4625\n");
    folder.write("host2/Ignored.tsv", b"x\n1\n");
    let pattern = folder.0.join("*/SecurityEvent.csv");
    let tables = list_tables(&pattern).unwrap();
    assert_eq!(tables.keys().collect::<Vec<_>>(), ["SecurityEvent"]);
    assert_eq!(load(&pattern, "SecurityEvent").height(), 2);

    let everything = folder.0.join("**/*");
    let tables = list_tables(&everything).unwrap();
    assert_eq!(
        tables.keys().collect::<Vec<_>>(),
        ["Ignored", "SecurityEvent"]
    );
}

#[test]
fn glob_without_matches_names_pattern() {
    let folder = Folder::new();
    folder.write("a.csv", b"x\n1\n");
    let pattern = folder.0.join("*.parquet");
    let error = list_tables(&pattern).unwrap_err().message;
    assert!(
        error.contains("no CSV, TSV, JSON, JSON-lines or Parquet file matches"),
        "{error}"
    );
    assert!(error.contains("*.parquet"), "{error}");
}

#[test]
fn schema_file_sets_column_types() {
    let folder = Folder::new();
    folder.write(
        SCHEMA_FILE,
        br#"{"t": {"Port": "string", "When": "datetime", "Count": "int", "Ok": "bool"}}"#,
    );
    folder.write(
        "t.csv",
        b"Port,When,Count,Ok,Other\n0443,2024-03-10,7,true,x\n22,2024-03-11 10:00:00,,false,y\n",
    );
    let tables = list_tables(&folder.0).unwrap();
    assert_eq!(
        tables.keys().collect::<Vec<_>>(),
        ["t"],
        "the schema file is no table"
    );
    let frame = load(&folder.0, "t");
    let ports: Vec<Option<&str>> = frame
        .column("Port")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(
        ports,
        [Some("0443"), Some("22")],
        "leading zeros stay in text"
    );
    assert_eq!(
        frame.column("When").unwrap().dtype(),
        &DataType::Datetime(TimeUnit::Nanoseconds, None)
    );
    assert_eq!(frame.column("Count").unwrap().dtype(), &DataType::Int32);
    assert_eq!(frame.column("Count").unwrap().null_count(), 1);
    assert_eq!(frame.column("Ok").unwrap().dtype(), &DataType::Boolean);
}

#[test]
fn schema_value_error_names_line_and_value() {
    let folder = Folder::new();
    folder.write(SCHEMA_FILE, br#"{"t": {"Count": "long"}}"#);
    folder.write("t.csv", b"Count\n1\n2\nmany\n");
    let error = load_error(&folder.0, "t");
    assert!(error.contains("column `Count`"), "{error}");
    assert!(error.contains("line 4 has the value `many`"), "{error}");
    assert!(error.contains(SCHEMA_FILE), "{error}");
}

#[test]
fn schema_value_error_counts_quoted_lines() {
    let folder = Folder::new();
    folder.write(SCHEMA_FILE, br#"{"t": {"Count": "long"}}"#);
    folder.write("t.csv", b"Note,Count\n\"two\nlines\",1\n\nplain,many\n");
    let error = load_error(&folder.0, "t");
    assert!(error.contains("line 5 has the value `many`"), "{error}");
}

#[test]
fn schema_value_error_names_json_record() {
    let folder = Folder::new();
    folder.write(SCHEMA_FILE, br#"{"t": {"Count": "long"}}"#);
    folder.write("t.jsonl", b"{\"Count\": \"1\"}\n{\"Count\": \"many\"}\n");
    let error = load_error(&folder.0, "t");
    assert!(error.contains("record 2 has the value `many`"), "{error}");
}

#[test]
fn schema_unknown_column_and_type_are_errors() {
    let folder = Folder::new();
    folder.write(SCHEMA_FILE, br#"{"t": {"Nope": "long"}}"#);
    folder.write("t.csv", b"Count\n1\n");
    let error = load_error(&folder.0, "t");
    assert!(error.contains("has no such column"), "{error}");
    assert!(error.contains("Count"), "{error}");

    let problem = schema::parse_schema(r#"{"t": {"x": "decimal128"}}"#).unwrap_err();
    assert!(problem.contains("`t.x` is not supported"), "{problem}");
}

#[test]
fn ragged_csv_error_names_line_and_fix() {
    let folder = Folder::new();
    folder.write("t.csv", b"a,b\n1,2\n3,4\n5,6,7\n");
    let tables = list_tables(&folder.0).unwrap();
    let error = load_table(&tables["t"]).unwrap_err().message;
    assert!(error.contains("t.csv"), "{error}");
    assert!(
        error.contains("line 4 has 3 fields, but the header has 2"),
        "{error}"
    );
    assert!(error.contains("quote the values"), "{error}");
    assert!(!error.contains("truncate_ragged_lines"), "{error}");
}

#[test]
fn late_text_value_widens_inferred_type() {
    let folder = Folder::new();
    let mut text = String::from("Port\n");
    for i in 0..10_050 {
        text.push_str(&format!("{i}\n"));
    }
    text.push_str("unknown\n");
    folder.write("t.csv", text.as_bytes());
    let frame = load(&folder.0, "t");
    assert_eq!(frame.height(), 10_051);
    assert_eq!(frame.column("Port").unwrap().dtype(), &DataType::String);
}

fn wide_frame() -> DataFrame {
    let n = 50;
    let mut columns = Vec::new();
    for c in 0..8 {
        let values: Vec<i64> = (0..n).map(|i| i * 10 + c).collect();
        columns.push(Series::new(format!("c{c}").into(), values).into_column());
    }
    columns.push(Series::new("When".into(), vec!["2024-03-10 09:05:00"; n as usize]).into_column());
    DataFrame::new(n as usize, columns).unwrap()
}

#[test]
fn parquet_scan_reads_only_needed_columns() {
    let folder = Folder::new();
    let path = folder.0.join("wide.parquet");
    ParquetWriter::new(fs::File::create(&path).unwrap())
        .finish(&mut wide_frame())
        .unwrap();
    let tables = list_tables(&folder.0).unwrap();
    let scan = scan::scan_table(&tables["wide"])
        .unwrap()
        .expect("parquet scans lazily");
    let query = scan.filter(col("c1").gt(lit(100))).select([col("c2")]);
    let plan = query.clone().describe_optimized_plan().unwrap();
    assert!(plan.contains("PROJECT 2/9 COLUMNS"), "{plan}");
    assert!(
        plan.contains("SELECTION"),
        "the filter reaches the reader:\n{plan}"
    );
    assert_eq!(query.collect().unwrap().height(), 40);
}

/// Serves one lazily scanned table to the planner, as `Session` does for large files.
struct ScannedTable {
    name: &'static str,
    scan: LazyFrame,
}

impl crate::eval::TableProvider for ScannedTable {
    fn table(&self, name: &str) -> Result<Option<DataFrame>, crate::EngineError> {
        match self.scan(name)? {
            Some(scan) => scan
                .collect()
                .map(Some)
                .map_err(|error| crate::EngineError::new(error.to_string())),
            None => Ok(None),
        }
    }

    fn table_names(&self) -> Result<Vec<String>, crate::EngineError> {
        Ok(vec![self.name.to_owned()])
    }

    fn scan(&self, name: &str) -> Result<Option<LazyFrame>, crate::EngineError> {
        Ok((name == self.name).then(|| self.scan.clone()))
    }
}

/// Plans `query` over a lazy scan of `wide.parquet` and returns the optimized plan and result.
fn plan_on_wide_parquet(query: &str) -> (String, DataFrame) {
    plan_on_parquet("wide", &mut wide_frame(), None, query)
}

/// Writes `frame` as `NAME.parquet`, in row groups of `row_group_rows` rows when given, plans
/// `query` over a lazy scan of it and returns the optimized plan and result.
fn plan_on_parquet(
    name: &'static str,
    frame: &mut DataFrame,
    row_group_rows: Option<usize>,
    query: &str,
) -> (String, DataFrame) {
    let folder = Folder::new();
    let path = folder.0.join(format!("{name}.parquet"));
    ParquetWriter::new(fs::File::create(&path).unwrap())
        .with_row_group_size(row_group_rows)
        .finish(frame)
        .unwrap();
    let tables = list_tables(&folder.0).unwrap();
    let provider = ScannedTable {
        name,
        scan: scan::scan_table(&tables[name])
            .unwrap()
            .expect("parquet scans lazily"),
    };
    let parsed = crate::lower::lower_query(query).unwrap();
    let plan = crate::eval::plan_query(&parsed, &provider, 0).unwrap();
    let text = plan.describe_optimized_plan().unwrap();
    (text, crate::eval::collect_plan(plan).unwrap())
}

#[test]
fn kql_top_reads_used_columns_and_limits_sort() {
    let (plan, result) = plan_on_wide_parquet("wide | top 3 by c1 desc | project c1, c2");
    assert!(plan.contains("PROJECT 2/9 COLUMNS"), "{plan}");
    assert!(
        plan.contains("slice: (0, 3"),
        "the limit reaches the sort:\n{plan}"
    );
    let c1: Vec<Option<i64>> = result.column("c1").unwrap().i64().unwrap().iter().collect();
    assert_eq!(c1, vec![Some(491), Some(481), Some(471)]);
}

#[test]
fn kql_summarize_reads_key_column_only() {
    let (plan, result) =
        plan_on_wide_parquet("wide | where c1 > 100 | summarize n = count() by c3");
    assert!(plan.contains("PROJECT 2/9 COLUMNS"), "{plan}");
    assert!(
        plan.contains("SELECTION"),
        "the filter reaches the reader:\n{plan}"
    );
    assert_eq!(result.height(), 40);
}

#[test]
fn parquet_string_filter_pushdown() {
    // `Full` has no null, so a filter on it reaches the reader. `Gappy` has nulls, which must
    // still read as empty strings, so its filter stays after the `fill_null`.
    let folder = Folder::new();
    let full = Series::new("Full".into(), ["a", "b", "a", "c"]).into_column();
    let gappy = Series::new("Gappy".into(), [Some("x"), None, Some("y"), None]).into_column();
    let mut frame = DataFrame::new(4, vec![full, gappy]).unwrap();
    ParquetWriter::new(fs::File::create(folder.0.join("t.parquet")).unwrap())
        .with_statistics(StatisticsOptions::full())
        .finish(&mut frame)
        .unwrap();
    let tables = list_tables(&folder.0).unwrap();
    let scan = || {
        scan::scan_table(&tables["t"])
            .unwrap()
            .expect("parquet scans lazily")
    };

    let query = scan().filter(col("Full").eq(lit("a")));
    let plan = query.clone().describe_optimized_plan().unwrap();
    assert!(plan.contains("SELECTION"), "{plan}");
    assert!(!plan.contains(r#"col("Full").fill_null"#), "{plan}");
    assert_eq!(query.collect().unwrap().height(), 2);

    let gaps = scan().filter(col("Gappy").eq(lit(""))).collect().unwrap();
    assert_eq!(gaps.height(), 2, "null strings read as empty strings");
    let values: Vec<Option<&str>> = gaps
        .column("Gappy")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(values, [Some(""), Some("")]);
}

#[test]
fn parquet_microseconds_read_as_nanoseconds() {
    // Microsecond timestamps, one column with a UTC zone: the scan reads both as
    // nanoseconds without a zone, so a time filter reaches the reader with no cast before it.
    let folder = Folder::new();
    let micros = [
        1_700_000_000_000_000i64,
        1_700_000_060_000_000,
        1_700_000_120_000_000,
    ];
    let at = Series::new("At".into(), micros)
        .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
        .unwrap()
        .into_column();
    let utc = Series::new("Utc".into(), micros)
        .cast(&DataType::Datetime(
            TimeUnit::Microseconds,
            Some(TimeZone::UTC),
        ))
        .unwrap()
        .into_column();
    let mut frame = DataFrame::new(3, vec![at, utc]).unwrap();
    ParquetWriter::new(fs::File::create(folder.0.join("t.parquet")).unwrap())
        .finish(&mut frame)
        .unwrap();
    let tables = list_tables(&folder.0).unwrap();
    let scan = scan::scan_table(&tables["t"])
        .unwrap()
        .expect("parquet scans lazily");

    let nanoseconds = DataType::Datetime(TimeUnit::Nanoseconds, None);
    let schema = scan.clone().collect_schema().unwrap();
    assert_eq!(schema.get("At"), Some(&nanoseconds));
    assert_eq!(schema.get("Utc"), Some(&nanoseconds));

    let threshold = lit(1_700_000_060_000_000_000i64).cast(nanoseconds.clone());
    let query = scan.filter(col("At").gt_eq(threshold));
    let plan = query.clone().describe_optimized_plan().unwrap();
    assert!(plan.contains("SELECTION"), "{plan}");
    assert!(!plan.contains("cast(Datetime"), "{plan}");
    let result = query.collect().unwrap();
    let kept: Vec<Option<i64>> = result
        .column("Utc")
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(
        kept,
        [
            Some(1_700_000_060_000_000_000),
            Some(1_700_000_120_000_000_000)
        ]
    );
}

#[test]
fn csv_scan_reads_only_needed_columns() {
    let folder = Folder::new();
    let mut frame = wide_frame();
    let path = folder.0.join("wide.csv");
    CsvWriter::new(fs::File::create(&path).unwrap())
        .finish(&mut frame)
        .unwrap();
    let tables = list_tables(&folder.0).unwrap();
    let scan = scan::scan_table(&tables["wide"])
        .unwrap()
        .expect("CSV scans lazily");
    let query = scan.select([col("c3"), col("When")]);
    let plan = query.clone().describe_optimized_plan().unwrap();
    assert!(plan.contains("PROJECT 2/9 COLUMNS"), "{plan}");
    let result = query.collect().unwrap();
    assert_eq!(
        result.column("When").unwrap().dtype(),
        &DataType::Datetime(TimeUnit::Nanoseconds, None),
        "datetime text is parsed as in the eager loader"
    );
}

#[test]
fn scan_declines_gzip_and_schema_files() {
    let folder = Folder::new();
    folder.write_gzip("z.csv.gz", "x\n1\n");
    let tables = list_tables(&folder.0).unwrap();
    assert!(scan::scan_table(&tables["z"]).unwrap().is_none());
}

#[test]
fn parquet_count_by_keys() {
    // 300,000 rows in row groups of 40,000: each row group has its own dictionary, so equal
    // host names arrive with different views in different batches of the streaming engine.
    let rows = 300_000usize;
    let hosts: Vec<Option<String>> = (0..rows)
        .map(|i| {
            (i % 97 != 0).then(|| format!("workstation-{:03}.corp.example.com", (i * 31) % 211))
        })
        .collect();
    let ids: Vec<i64> = (0..rows).map(|i| 4624 + (i % 7) as i64).collect();
    let users: Vec<String> = (0..rows).map(|i| format!("u{}", i % 5)).collect();
    let mut frame = DataFrame::new(
        rows,
        vec![
            Column::new("Computer".into(), hosts),
            Column::new("EventID".into(), ids),
            Column::new("User".into(), users),
        ],
    )
    .unwrap();
    let folder = Folder::new();
    ParquetWriter::new(fs::File::create(folder.0.join("events.parquet")).unwrap())
        .with_row_group_size(Some(40_000))
        .finish(&mut frame)
        .unwrap();
    let tables = list_tables(&folder.0).unwrap();
    let provider = ScannedTable {
        name: "events",
        scan: scan::scan_table(&tables["events"])
            .unwrap()
            .expect("parquet scans lazily"),
    };
    for (query, keys) in [
        (
            "events | summarize n = count() by Computer, EventID",
            vec!["Computer", "EventID"],
        ),
        (
            "events | summarize n = count() by Computer",
            vec!["Computer"],
        ),
        (
            "events | summarize n = count(), m = count() by Computer, EventID, User",
            vec!["Computer", "EventID", "User"],
        ),
    ] {
        let parsed = crate::lower::lower_query(query).unwrap();
        let plan = crate::eval::plan_query(&parsed, &provider, 0).unwrap();
        let mut result = crate::eval::collect_plan(plan).unwrap();
        // The scan turns null strings into "", as every Quarry table does.
        let mut expected = frame
            .clone()
            .lazy()
            .with_column(col("Computer").fill_null(lit("")))
            .group_by(keys.iter().map(|key| col(*key)).collect::<Vec<_>>())
            .agg([len().cast(DataType::Int64).alias("n")])
            .collect()
            .unwrap();
        let first_seen = frame
            .clone()
            .lazy()
            .with_column(col("Computer").fill_null(lit("")))
            .group_by_stable(keys.iter().map(|key| col(*key)).collect::<Vec<_>>())
            .agg([len().cast(DataType::Int64).alias("n")])
            .collect()
            .unwrap();
        // Groups come in the order of their first row, as from `group_by_stable`.
        for key in &keys {
            assert_eq!(
                result.column(key).unwrap(),
                first_seen.column(key).unwrap(),
                "{query}"
            );
        }
        let sort = |frame: &mut DataFrame| {
            *frame = frame
                .sort(keys.clone(), SortMultipleOptions::default())
                .unwrap();
        };
        sort(&mut result);
        sort(&mut expected);
        assert_eq!(result.height(), expected.height(), "{query}");
        for key in &keys {
            assert_eq!(
                result.column(key).unwrap(),
                expected.column(key).unwrap(),
                "{query}"
            );
        }
        assert_eq!(
            result.column("n").unwrap(),
            expected.column("n").unwrap(),
            "{query}"
        );
        if query.contains("m = count()") {
            let repeated = expected.column("n").unwrap().clone().with_name("m".into());
            assert_eq!(result.column("m").unwrap(), &repeated, "{query}");
        }
    }
}

#[test]
fn conjunctions_filter_in_stages() {
    // `where a and b` over a Parquet scan filters by `a` in the scan and by `b` after it. The
    // rows must be those of one filter by the whole condition, in the same order.
    let rows = 40;
    let numbers: Vec<Option<i64>> = (0..rows).map(|i| (i % 7 != 3).then_some(i % 4)).collect();
    let texts: Vec<Option<String>> = (0..rows)
        .map(|i| (i % 5 != 0).then(|| format!("host-{} x{}", i % 3, i % 2)))
        .collect();
    let flags: Vec<Option<bool>> = (0..rows)
        .map(|i| (i % 6 != 1).then_some(i % 2 == 0))
        .collect();
    let columns = vec![
        Series::new("A".into(), numbers).into_column(),
        Series::new("B".into(), texts).into_column(),
        Series::new("C".into(), flags).into_column(),
        Series::new("I".into(), (0..rows).collect::<Vec<i64>>()).into_column(),
    ];
    let frame = DataFrame::new(rows as usize, columns).unwrap();
    for condition in [
        "A == 1 and B has \"x1\"",
        "A > 0 and isnotempty(B) and C",
        "B startswith \"host-2\" and A == 2",
        "C and isnull(A)",
        "A == 0 and A < 5 and I > 10",
    ] {
        let (plan, staged) = plan_on_parquet(
            "t",
            &mut frame.clone(),
            Some(7),
            &format!("t | where {condition}"),
        );
        assert!(plan.contains("filter in stages"), "{condition}:\n{plan}");
        let (plan, whole) = plan_on_parquet(
            "t",
            &mut frame.clone(),
            Some(7),
            &format!("t | where ({condition}) or false"),
        );
        assert!(!plan.contains("filter in stages"), "{condition}:\n{plan}");
        assert!(staged.height() > 0, "{condition}");
        assert!(
            staged.equals_missing(&whole),
            "{condition}:\n{staged}\n{whole}"
        );
    }

    // A second term over the first term's columns only gains nothing from a second stage.
    let (plan, _) = plan_on_parquet("t", &mut frame.clone(), None, "t | where A > 0 and A < 3");
    assert!(!plan.contains("filter in stages"), "{plan}");
}

#[test]
fn scan_of_decimal_parquet_is_a_clear_error() {
    let folder = Folder::new();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/parquet/decimal.parquet");
    fs::copy(&fixture, folder.0.join("ledger.parquet")).unwrap();
    let tables = list_tables(&folder.0).unwrap();
    let Err(error) = scan::scan_table(&tables["ledger"]) else {
        panic!("decimals are not scanned");
    };
    assert!(
        error
            .message
            .contains("column `Amount` holds decimal numbers"),
        "{}",
        error.message
    );
}
