//! `make-series count() on Axis step S by k1, k2, ...` in one pass over the rows, for an
//! integral axis (datetime, timespan, long or int) and keys that are plain columns.
//!
//! Hunters chart event counts per host or account over time, and the general `make-series`
//! path groups the rows by key and step before laying the groups out as arrays. With a few
//! thousand hosts over a week of hours, that grouping meets hundreds of thousands of
//! (key, step) pairs. Here each batch of rows that polars' streaming engine reads is grouped by
//! its keys alone ([`count::group_batch`]). Each group of the batch is looked up once in a map
//! of all the series seen so far, and each row adds one to its series' count at its step. The
//! counts of a series are an array indexed by step that grows as rows arrive.
//!
//! The batches may run on several threads in any order, so the series are numbered in the
//! order the batches reach the map. To give the result polars' order of first appearance, each
//! batch returns its groups' keys with their series numbers. Polars concatenates those in
//! input order, so the first row of each number there places its series.

use std::io::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use polars::prelude::{
    BinaryChunked, ChunkAgg as _, Column, DataFrame, DataType, Expr as PlExpr, GroupsIndicator,
    IdxCa, IdxSize, IntoColumn as _, LazyFrame, OptFlags, PlHashMap, PlSmallStr, PolarsError,
    PolarsResult, Schema, SchemaRef, UInt32Chunked, col,
};

use super::count;

/// The maximum number of steps in a series, the same limit as the general `make-series` path's.
pub(super) const MAX_STEPS: i64 = 1_000_000;

/// The maximum number of counts for all series together (8 bytes each). Beyond it the query
/// stops with an error that suggests a larger step or fewer groups.
const MAX_CELLS: usize = 100_000_000;

/// The rows of `frame` counted per series: what [`count_series`] returns.
pub(super) struct CountedSeries {
    /// The key columns, one row per series in order of first appearance.
    pub keys: Vec<Column>,
    /// The counts of each series, in the order of `keys`.
    pub series: Vec<Histogram>,
    /// The lowest and highest axis value counted, or `None` without rows.
    pub extremes: Option<(i64, i64)>,
}

/// The reason [`count_series`] stopped before counting every row.
#[derive(Debug, PartialEq)]
pub(super) enum TooLarge {
    /// One series spans at least this many steps.
    Steps(i64),
    /// The series together would hold more than [`MAX_CELLS`] counts.
    Cells,
}

/// The counts of one series, by step number.
#[derive(Default)]
pub(super) struct Histogram {
    /// The step number of `counts[0]`.
    first: i64,
    counts: Vec<u64>,
    /// The lowest and highest step number that a row was added at when the counts last grew.
    /// The counts can start before `low`, to leave room for earlier rows.
    low: i64,
    high: i64,
}

impl Histogram {
    /// Returns the count at step number `step`: 0 outside the steps that have rows.
    pub(super) fn get(&self, step: i64) -> u64 {
        step.checked_sub(self.first)
            .and_then(|offset| usize::try_from(offset).ok())
            .and_then(|offset| self.counts.get(offset))
            .copied()
            .unwrap_or(0)
    }

    /// Adds one row at `step`. Returns how many counts the histogram grew by, or an error when
    /// it would span more than [`MAX_STEPS`].
    #[inline]
    fn add(&mut self, step: i64) -> Result<usize, TooLarge> {
        if let Some(offset) = step.checked_sub(self.first)
            && let Ok(offset) = usize::try_from(offset)
            && let Some(count) = self.counts.get_mut(offset)
        {
            *count += 1;
            return Ok(0);
        }
        self.grow_to(step)
    }

    #[cold]
    fn grow_to(&mut self, step: i64) -> Result<usize, TooLarge> {
        let before = self.counts.len();
        if before == 0 {
            self.first = step;
            self.counts.push(1);
            (self.low, self.high) = (step, step);
            return Ok(1);
        }
        let last = self.first + before as i64 - 1;
        // The room left before `low` does not count: only the steps that rows arrived at.
        let (low, high) = (self.low.min(step), self.high.max(step));
        let span = (i128::from(high) - i128::from(low) + 1).min(i128::from(i64::MAX)) as i64;
        if span > MAX_STEPS {
            return Err(TooLarge::Steps(span));
        }
        (self.low, self.high) = (low, high);
        if step > last {
            self.counts.resize((step - self.first + 1) as usize, 0);
            self.counts[(step - self.first) as usize] = 1;
        } else {
            // Rows mostly arrive in time order. When one comes earlier, leave room for more
            // before it, so that the counts are not moved for each.
            let room = (before as i64).min(MAX_STEPS - span);
            debug_assert!(room >= 0);
            let first = step - room;
            let mut counts = vec![0; (self.first - first) as usize];
            counts.extend_from_slice(&self.counts);
            counts[(step - first) as usize] = 1;
            self.first = first;
            self.counts = counts;
        }
        Ok(self.counts.len() - before)
    }
}

/// Series numbers and counts shared by the batches.
#[derive(Default)]
struct Counts {
    /// The encoded keys of each series (see [`encode_keys`]) and its number.
    numbers: PlHashMap<Vec<u8>, u32>,
    series: Vec<Histogram>,
    extremes: Option<(i64, i64)>,
    cells: usize,
    too_large: Option<TooLarge>,
}

/// Counts the rows of `frame` per distinct combination of the `keys` columns and step, where a
/// row's step is `(axis - origin)` divided by `step`, rounded down. `axis` must give an
/// `Int64` column without nulls: the caller filters out rows without an axis value and those
/// outside `from`/`to`. Returns the series in order of first appearance, or why it stopped.
pub(super) fn count_series(
    frame: LazyFrame,
    keys: &[String],
    axis: PlExpr,
    origin: i64,
    step: i64,
) -> Result<PolarsResult<CountedSeries>, TooLarge> {
    let axis_name = PlSmallStr::from(super::unique_name("__axis", keys));
    let number_name = PlSmallStr::from(super::unique_name("__series", keys));
    let mut selected: Vec<PlExpr> = keys.iter().map(|key| col(key.as_str())).collect();
    selected.push(axis.alias(axis_name.clone()));

    let counts = Arc::new(Mutex::new(Counts::default()));
    let shared = Arc::clone(&counts);
    let key_count = keys.len();
    let output_number = number_name.clone();
    let schema_number = number_name.clone();
    let schema = move |input: &Schema| -> PolarsResult<SchemaRef> {
        let mut output: Schema = input
            .iter()
            .take(key_count)
            .map(|(name, dtype)| (name.clone(), dtype.clone()))
            .collect();
        output.insert(schema_number.clone(), DataType::UInt32);
        Ok(Arc::new(output))
    };
    let numbered = frame.select(selected).map(
        move |batch| count_batch(batch, key_count, origin, step, &shared, &output_number),
        OptFlags::STREAMING,
        Some(Arc::new(schema)),
        Some("count series"),
    );
    let collected = super::collect_plan(numbered);
    let mut counts = std::mem::take(&mut *counts.lock().unwrap_or_else(PoisonError::into_inner));
    if let Some(too_large) = counts.too_large.take() {
        return Err(too_large);
    }
    Ok(collected.and_then(|numbered| {
        let numbers = numbered.column(number_name.as_str())?.u32()?.clone();
        // The first row of each series number, in input order.
        let mut placed = vec![false; counts.series.len()];
        let mut first_rows: Vec<IdxSize> = Vec::new();
        let mut series: Vec<Histogram> = Vec::new();
        for (row, number) in numbers.iter().enumerate() {
            let Some(number) = number else { continue };
            let number = number as usize;
            if !placed[number] {
                placed[number] = true;
                first_rows.push(row as IdxSize);
                series.push(std::mem::take(&mut counts.series[number]));
            }
        }
        let rows = IdxCa::from_vec(PlSmallStr::EMPTY, first_rows);
        let keys = numbered.columns()[..key_count]
            .iter()
            .map(|key| key.take(&rows))
            .collect::<PolarsResult<Vec<Column>>>()?;
        Ok(CountedSeries {
            keys,
            series,
            extremes: counts.extremes,
        })
    }))
}

/// Counts one batch: its key columns, then the axis. Returns the key columns of the batch's
/// groups, in order of first rows, and the number of each group's series.
fn count_batch(
    batch: DataFrame,
    key_count: usize,
    origin: i64,
    step: i64,
    counts: &Mutex<Counts>,
    number_name: &PlSmallStr,
) -> PolarsResult<DataFrame> {
    let rows = batch.height();
    let columns = batch.columns();
    let axis = columns[key_count].i64()?;
    let keys = &columns[..key_count];
    let (groups, first_rows) = if keys.is_empty() {
        (vec![0; rows], if rows > 0 { vec![0] } else { Vec::new() })
    } else {
        let frame = DataFrame::new(rows, keys.to_vec())?;
        match count::group_batch(&frame) {
            Some(grouped) => grouped,
            None => group_with_polars(&frame)?,
        }
    };
    let first_rows = IdxCa::from_vec(PlSmallStr::EMPTY, first_rows);
    let group_keys = keys
        .iter()
        .map(|key| key.take(&first_rows))
        .collect::<PolarsResult<Vec<Column>>>()?;
    let encoded = encode_keys(&group_keys, first_rows.len())?;

    let mut counts = counts.lock().unwrap_or_else(PoisonError::into_inner);
    if counts.too_large.is_some() {
        return Err(stopped());
    }
    let counts = &mut *counts;
    let numbers: Vec<u32> = encoded
        .into_iter()
        .map(|key| {
            let next = counts.series.len() as u32;
            let number = *counts.numbers.entry(key).or_insert(next);
            if number == next {
                counts.series.push(Histogram::default());
            }
            number
        })
        .collect();
    let mut grown = 0;
    let mut row = 0;
    let cells_before = counts.cells;
    let mut add = |row: usize, value: i64| -> Result<(), TooLarge> {
        let series = &mut counts.series[numbers[groups[row] as usize] as usize];
        let added = series.add(step_of(value, origin, step))?;
        if added > 0 {
            grown += added;
            // Checked as the counts grow, because one batch can grow many series.
            if cells_before + grown > MAX_CELLS {
                return Err(TooLarge::Cells);
            }
        }
        Ok(())
    };
    let mut added = Ok(());
    'arrays: for array in axis.downcast_iter() {
        match array.validity() {
            None => {
                for &value in array.values().iter() {
                    added = add(row, value);
                    if added.is_err() {
                        break 'arrays;
                    }
                    row += 1;
                }
            }
            Some(valid) => {
                for (&value, valid) in array.values().iter().zip(valid.iter()) {
                    if valid {
                        added = add(row, value);
                        if added.is_err() {
                            break 'arrays;
                        }
                    }
                    row += 1;
                }
            }
        }
    }
    if let Err(too_large) = added {
        counts.too_large = Some(too_large);
        return Err(stopped());
    }
    counts.cells += grown;
    if let (Some(low), Some(high)) = (axis.min(), axis.max()) {
        counts.extremes = Some(match counts.extremes {
            Some((known_low, known_high)) => (known_low.min(low), known_high.max(high)),
            None => (low, high),
        });
    }

    let mut output = group_keys;
    output.push(UInt32Chunked::from_vec(number_name.clone(), numbers).into_column());
    DataFrame::new_infer_height(output)
}

/// Returns the error that ends the query when the counts grow too large. The caller reports
/// [`TooLarge`] in its place.
fn stopped() -> PolarsError {
    PolarsError::ComputeError("make-series stopped: too many points".into())
}

/// Returns the step number of `value`: `(value - origin) / step`, rounded down.
#[inline]
fn step_of(value: i64, origin: i64, step: i64) -> i64 {
    match value.checked_sub(origin) {
        Some(distance) => distance.div_euclid(step),
        None => (i128::from(value) - i128::from(origin)).div_euclid(i128::from(step)) as i64,
    }
}

/// Groups the rows of `keys` with polars, for a batch that [`count::group_batch`] does not
/// number. Returns the group of each row and the first row of each group, as that function does.
fn group_with_polars(keys: &DataFrame) -> PolarsResult<(Vec<u32>, Vec<IdxSize>)> {
    let names: Vec<PlSmallStr> = keys.get_column_names_owned();
    let grouped = keys.group_by_stable(names)?;
    let mut groups = vec![0u32; keys.height()];
    let mut first_rows = Vec::new();
    for (group, indicator) in grouped.get_groups().iter().enumerate() {
        first_rows.push(indicator.first());
        match indicator {
            GroupsIndicator::Idx((_, rows)) => {
                for &row in rows.iter() {
                    groups[row as usize] = group as u32;
                }
            }
            GroupsIndicator::Slice([first, len]) => {
                for row in first..first + len {
                    groups[row as usize] = group as u32;
                }
            }
        }
    }
    Ok((groups, first_rows))
}

/// Encodes each of the `rows` rows of `keys` as bytes that are equal only for equal keys: per
/// column a tag (0 for null) and the value, strings with their length first.
fn encode_keys(keys: &[Column], rows: usize) -> PolarsResult<Vec<Vec<u8>>> {
    let mut encoded: Vec<Vec<u8>> = vec![Vec::new(); rows];
    for column in keys {
        match column.dtype() {
            DataType::String | DataType::Binary => {
                let series = column.as_materialized_series();
                let binary: BinaryChunked = match series.dtype() {
                    DataType::String => series.str()?.as_binary(),
                    _ => series.binary()?.clone(),
                };
                for (out, value) in encoded.iter_mut().zip(binary.iter()) {
                    match value {
                        None => out.push(0),
                        Some(bytes) => {
                            out.push(1);
                            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
                            out.extend_from_slice(bytes);
                        }
                    }
                }
            }
            _ => {
                let physical = column.to_physical_repr().cast(&DataType::Int64)?;
                for (out, value) in encoded.iter_mut().zip(physical.i64()?.iter()) {
                    match value {
                        None => out.push(0),
                        Some(value) => {
                            out.push(1);
                            out.extend_from_slice(&value.to_le_bytes());
                        }
                    }
                }
            }
        }
    }
    Ok(encoded)
}

/// Writes the counts of `series` from step number `first` for `steps` steps as a JSON array,
/// with `default` where a step has no rows.
pub(super) fn write_counts(series: &Histogram, first: i64, steps: usize, default: &str) -> Vec<u8> {
    let mut text = Vec::with_capacity(steps * 2 + 2);
    text.push(b'[');
    for index in 0..steps {
        if index > 0 {
            text.push(b',');
        }
        match series.get(first + index as i64) {
            0 => text.extend_from_slice(default.as_bytes()),
            count => {
                let _ = write!(text, "{count}");
            }
        }
    }
    text.push(b']');
    text
}
