//! `summarize count() by k1, k2, ...` in two steps: counts per batch of rows, then polars'
//! grouping of those counts.
//!
//! Hunting queries count rows by host, account, event ID and the like, and the count-first
//! rewrites of `mv-expand` and `parse` (`rewrite.rs`) turn more queries into that shape. Polars
//! groups such keys by hashing every row's strings, and for several keys by row-encoding them
//! first. [`count_batch`] runs on each batch of rows that polars' streaming engine reads and
//! counts it without looking at string bytes: each key column gets a small number per row that
//! is equal only where the values are equal.
//!
//! - Strings and dynamic values are numbered by view. A Parquet column read through its
//!   dictionary repeats one view for each repeat of a value, so a table of views
//!   ([`ViewTable`]) finds the distinct values of the batch.
//! - Integers, booleans and times whose values in the batch span a small range are numbered by
//!   rank, found through a table indexed by the value.
//!
//! The numbers of the keys combine into one integer per row, and the rows are counted per
//! integer, in a table indexed by it or, when the combinations are too many, in a hash map. The
//! batch becomes one row per combination with its count, in the order of first rows.
//!
//! Equal strings can still have different views in other batches. Polars therefore groups the
//! counted rows by value and adds up the counts; there are far fewer of them than input rows.
//! A batch whose strings rarely repeat, whose integers span a wide range, or whose key
//! combinations overflow a `u64` passes its rows on with a count of 1 each, and polars'
//! grouping does all the work for it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use polars::prelude::{
    ChunkAgg as _, Column, DataFrame, DataType, IdxCa, IdxSize, Int64Chunked, IntoColumn as _,
    PlSmallStr, PolarsResult,
};
use polars_arrow::array::View;

/// The range of integer values in a batch (highest minus lowest) below which the key gets a
/// rank table. Wider keys, most often timestamps, pass through [`count_batch`] uncounted.
const RANK_TABLE_LIMIT: i64 = 1 << 22;

/// The largest number of key combinations counted in a table indexed by the combination.
/// The table must also have at most about four slots per row; otherwise a hash map counts.
const DENSE_TABLE_LIMIT: u64 = 1 << 22;

/// Returns whether a key column of type `dtype` can be numbered here. Floats stay with polars,
/// which puts -0.0 and 0.0 (and every NaN) in one group.
pub(crate) fn counts_by_number(dtype: &DataType) -> bool {
    matches!(
        dtype,
        DataType::String
            | DataType::Binary
            | DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::Date
            | DataType::Datetime(_, _)
            | DataType::Duration(_)
    )
}

/// Counts the rows of `batch`, whose columns are the keys, per distinct combination of key
/// numbers. Returns the key columns followed by an `Int64` column `count`: one row per
/// combination in the order of first rows, or every row with a count of 1 when numbering does
/// not pay. Rows with equal keys can appear more than once in the result, so the caller groups
/// it again and sums `count`.
pub(crate) fn count_batch(batch: DataFrame, count: &PlSmallStr) -> PolarsResult<DataFrame> {
    // The scratch buffers are borrowed only while numbering and counting, which call no polars
    // code that could run another batch on this thread. Should that ever happen, the other
    // batch gets buffers of its own.
    let counted = with_scratch(|scratch| number_and_count(&batch, scratch));
    let rows = batch.height();
    let Some((first_rows, row_counts)) = counted else {
        let mut batch = batch;
        let ones = Int64Chunked::from_vec(count.clone(), vec![1; rows]).into_column();
        batch.with_column(ones)?;
        return Ok(batch);
    };
    let mut grouped = batch.take(&IdxCa::from_vec(PlSmallStr::EMPTY, first_rows))?;
    grouped.with_column(Int64Chunked::from_vec(count.clone(), row_counts).into_column())?;
    Ok(grouped)
}

/// Buffers that [`count_batch`] keeps from one batch to the next on the same thread, so that
/// each batch does not touch newly allocated memory, which the kernel must zero first.
#[derive(Default)]
struct Scratch {
    combined: Vec<u64>,
    /// The group number plus one of each key combination; 0 where the combination has not
    /// been seen. Every entry is 0 between batches.
    groups: Vec<u32>,
    views: Option<ViewTable>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// Numbers the rows of `batch` and counts each combination of numbers. Returns the first row
/// of each combination and its count, in the order of first rows, or `None` when a key cannot
/// be numbered or the combinations overflow a `u64`.
fn number_and_count(batch: &DataFrame, scratch: &mut Scratch) -> Option<(Vec<IdxSize>, Vec<i64>)> {
    let rows = batch.height();
    let combinations = combine_numbers(batch, scratch, Patience::Probe)?;
    let mut first_rows: Vec<IdxSize> = Vec::new();
    let mut counts: Vec<i64> = Vec::new();
    assign_groups(
        &scratch.combined,
        combinations,
        rows,
        &mut scratch.groups,
        |row, group| {
            if group as usize == counts.len() {
                first_rows.push(row as IdxSize);
                counts.push(1);
            } else {
                counts[group as usize] += 1;
            }
        },
    );
    Some((first_rows, counts))
}

/// Groups the rows of `batch`, whose columns are keys, by the combination of their key
/// numbers. Returns the group of each row, numbered from 0 in the order of first rows, and the
/// first row of each group. Returns `None` when a key column's type has no numbering here, its
/// integer values span too wide a range, or the combinations overflow a `u64`. Rows with equal keys
/// always share a group, whatever their views, but the groups of two batches are unrelated.
pub(crate) fn group_batch(batch: &DataFrame) -> Option<(Vec<u32>, Vec<IdxSize>)> {
    let group = |scratch: &mut Scratch| {
        let rows = batch.height();
        let combinations = combine_numbers(batch, scratch, Patience::Always)?;
        let mut groups: Vec<u32> = Vec::with_capacity(rows);
        let mut first_rows: Vec<IdxSize> = Vec::new();
        assign_groups(
            &scratch.combined,
            combinations,
            rows,
            &mut scratch.groups,
            |row, group| {
                if group as usize == first_rows.len() {
                    first_rows.push(row as IdxSize);
                }
                groups.push(group);
            },
        );
        Some((groups, first_rows))
    };
    with_scratch(group)
}

/// Runs `work` with this thread's scratch buffers, or with new ones when they are in use.
fn with_scratch<T>(work: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => work(&mut scratch),
        Err(_) => work(&mut Scratch::default()),
    })
}

/// Whether numbering gives up on string columns that hardly repeat.
#[derive(Clone, Copy, PartialEq)]
enum Patience {
    /// Give up when the first rows of an array, or the whole batch, are mostly distinct: the
    /// caller's fallback groups such rows faster.
    Probe,
    /// Number every row.
    Always,
}

/// Fills `scratch.combined` with one number per row of `batch` that is equal only where the
/// rows' keys are equal, and returns how many such numbers there can be. See
/// [`number_and_count`] for when it returns `None`.
fn combine_numbers(batch: &DataFrame, scratch: &mut Scratch, patience: Patience) -> Option<u64> {
    let rows = batch.height();
    let combined = &mut scratch.combined;
    combined.clear();
    combined.resize(rows, 0);
    let views = scratch
        .views
        .get_or_insert_with(|| ViewTable::with_capacity(1024));
    let mut combinations: u64 = 1;
    for column in batch.columns() {
        // The products below wrap when the combinations overflow a `u64`. The check after
        // this column then gives up on the batch before the numbers are used.
        let distinct = add_numbers(column, rows, combinations, combined, views, patience)?;
        combinations = combinations.checked_mul(u64::from(distinct))?;
    }
    Some(combinations)
}

/// Calls `on_row(row, group)` for each row of `combined` in order, where `group` numbers the
/// distinct values of `combined` from 0 in the order of first rows. When `combinations` is
/// small enough, the values are looked up in `groups`, a table indexed by value whose entries
/// are all 0 and are left 0 again. Otherwise a hash map numbers them.
fn assign_groups(
    combined: &[u64],
    combinations: u64,
    rows: usize,
    groups: &mut Vec<u32>,
    mut on_row: impl FnMut(usize, u32),
) {
    if combinations <= DENSE_TABLE_LIMIT && combinations <= 4 * rows as u64 + 1024 {
        let slots = combinations as usize;
        if groups.len() < slots {
            groups.resize(slots, 0);
        }
        let mut seen: Vec<u64> = Vec::new();
        for (row, &value) in combined.iter().enumerate() {
            let group = &mut groups[value as usize];
            if *group == 0 {
                seen.push(value);
                *group = seen.len() as u32;
            }
            on_row(row, *group - 1);
        }
        for value in seen {
            groups[value as usize] = 0;
        }
    } else {
        let mut map: HashMap<u64, u32, BuildHasherDefault<MixHasher>> = HashMap::default();
        for (row, &value) in combined.iter().enumerate() {
            let next = map.len() as u32;
            on_row(row, *map.entry(value).or_insert(next));
        }
    }
}

/// Numbers the rows of `column` and adds `number * stride` to each row's entry of `combined`.
/// Returns how many numbers there are, or `None` when the column's type has no numbering here,
/// its integer values span too wide a range, or its strings repeat too little for the
/// numbering to pay.
fn add_numbers(
    column: &Column,
    rows: usize,
    stride: u64,
    combined: &mut [u64],
    views: &mut ViewTable,
    patience: Patience,
) -> Option<u32> {
    match column.dtype() {
        DataType::String | DataType::Binary => {
            number_views(column, rows, stride, combined, views, patience)
        }
        dtype if counts_by_number(dtype) => rank_integers(column, stride, combined),
        _ => None,
    }
}

/// Numbers a string or binary column by view; see the module comment. Nulls share a number.
fn number_views(
    column: &Column,
    rows: usize,
    stride: u64,
    combined: &mut [u64],
    table: &mut ViewTable,
    patience: Patience,
) -> Option<u32> {
    let series = column.as_materialized_series();
    // A string array reads as binary without a copy, with the same views.
    let binary = match series.dtype() {
        DataType::String => series.str().ok()?.as_binary(),
        DataType::Binary => series.binary().ok()?.clone(),
        _ => return None,
    };
    // Few repeats: polars' grouping of the passed-on rows does the work once.
    let limit = match patience {
        Patience::Probe => (rows / 2).max(1024) as u32,
        Patience::Always => u32::MAX,
    };
    let mut next: u32 = 1;
    let mut row = 0;
    for (array, chunk) in binary.downcast_iter().zip(binary.chunks()) {
        // A view names a buffer of its own array, so each array starts a new table.
        let first_of_array = next;
        table.clear();
        table.begin_array(
            array.data_buffers().iter().map(|buffer| buffer.len()),
            array.len(),
        );
        let validity = chunk.validity();
        for (index, view) in array.views().iter().enumerate() {
            // Give up early on an array whose first rows hardly repeat.
            if patience == Patience::Probe
                && index == PROBE_ROWS
                && ((next - first_of_array) as usize) > PROBE_ROWS / 2
            {
                table.clear();
                return None;
            }
            let number = if validity.is_some_and(|bits| !bits.get_bit(index)) {
                0
            } else {
                table.number(view, &mut next)
            };
            combined[row] = combined[row].wrapping_add(u64::from(number).wrapping_mul(stride));
            row += 1;
        }
        if next > limit {
            table.clear();
            return None;
        }
    }
    table.clear();
    Some(next)
}

/// Views of one array and their numbers.
///
/// A view of more than 12 bytes names its bytes by buffer and offset. When the array's buffers
/// are small, as a dictionary's are, such views are looked up in a table indexed by position
/// in the buffers divided by 13. Values that do not overlap, as in a dictionary, start at least
/// 13 bytes apart, which gives each a slot of its own. A view that finds its slot used by
/// another goes to the hash table. Short views, which hold their bytes inline, and the views of arrays
/// with large buffers go to an open-addressing hash table.
struct ViewTable {
    views: Vec<u128>,
    /// The number of the view in the same slot, or 0 for an empty slot.
    numbers: Vec<u32>,
    len: usize,
    /// By position in the buffers divided by 13: the position and length of the view that
    /// starts there, which for a view of more than 12 bytes determine its bytes, and its
    /// number, or a number of 0. Has only numbers of 0 between arrays.
    positions: Vec<[u32; 3]>,
    /// The entries of `positions` that hold a number.
    used_slots: Vec<usize>,
    /// The start of each buffer in `positions`; empty when the array's views use the hash
    /// table only.
    starts: Vec<usize>,
}

/// The rows after which [`number_views`] checks whether an array repeats its values: when
/// more than half of them were new, the rest of the batch passes through uncounted.
const PROBE_ROWS: usize = 8192;

/// How many bytes of buffers per row of an array [`ViewTable::begin_array`] accepts.
const BUFFER_BYTES_PER_ROW: usize = 4;

/// The bytes of buffer per slot of [`ViewTable::positions`]: one more than the longest inline
/// view.
const POSITION_STEP: usize = View::MAX_INLINE_SIZE as usize + 1;

impl ViewTable {
    fn with_capacity(slots: usize) -> ViewTable {
        ViewTable {
            views: vec![0; slots],
            numbers: vec![0; slots],
            len: 0,
            positions: Vec::new(),
            used_slots: Vec::new(),
            starts: Vec::new(),
        }
    }

    /// Empties the table.
    fn clear(&mut self) {
        if self.len > 0 {
            self.numbers.fill(0);
            self.len = 0;
        }
        for &position in &self.used_slots {
            self.positions[position][2] = 0;
        }
        self.used_slots.clear();
        self.starts.clear();
    }

    /// Prepares the table for an array of `rows` views over buffers of `buffer_lengths` bytes.
    fn begin_array(&mut self, buffer_lengths: impl Iterator<Item = usize>, rows: usize) {
        let mut total = 0;
        for length in buffer_lengths {
            self.starts.push(total);
            total += length;
        }
        if total > BUFFER_BYTES_PER_ROW * rows || total >= u32::MAX as usize {
            self.starts.clear();
            return;
        }
        let slots = total / POSITION_STEP + 1;
        if self.positions.len() < slots {
            self.positions.resize(slots, [0; 3]);
        }
    }

    /// Returns the number of `view`, giving it `next` (and advancing `next`) when it is new.
    fn number(&mut self, view: &View, next: &mut u32) -> u32 {
        if view.length > View::MAX_INLINE_SIZE && !self.starts.is_empty() {
            // `begin_array` keeps positions below `u32::MAX`.
            let position = (self.starts[view.buffer_idx as usize] + view.offset as usize) as u32;
            let slot = position as usize / POSITION_STEP;
            let [known, length, number] = self.positions[slot];
            if number == 0 {
                let number = *next;
                *next += 1;
                self.positions[slot] = [position, view.length, number];
                self.used_slots.push(slot);
                return number;
            }
            if known == position && length == view.length {
                return number;
            }
            // Another view from a nearby position: the hash table separates the two.
        }
        self.number_in_hash_table(view.as_u128(), next)
    }

    fn number_in_hash_table(&mut self, view: u128, next: &mut u32) -> u32 {
        let mask = self.numbers.len() - 1;
        let mut slot = slot_of(view) & mask;
        loop {
            let number = self.numbers[slot];
            if number == 0 {
                let number = *next;
                *next += 1;
                self.views[slot] = view;
                self.numbers[slot] = number;
                self.len += 1;
                if self.len * 2 > self.numbers.len() {
                    self.grow();
                }
                return number;
            }
            if self.views[slot] == view {
                return number;
            }
            slot = (slot + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let slots = self.numbers.len() * 2;
        let mask = slots - 1;
        let mut views = vec![0; slots];
        let mut numbers = vec![0; slots];
        for (&view, &number) in self.views.iter().zip(&self.numbers) {
            if number == 0 {
                continue;
            }
            let mut slot = slot_of(view) & mask;
            while numbers[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            views[slot] = view;
            numbers[slot] = number;
        }
        self.views = views;
        self.numbers = numbers;
    }
}

/// Two random numbers of this process that [`slot_of`] mixes into each half of a view before
/// multiplying the halves. Which short strings share a slot then depends on them, so crafted
/// strings in the logs cannot be chosen to collide.
static SLOT_SEEDS: std::sync::LazyLock<(u64, u64)> = std::sync::LazyLock::new(rand::random);

fn slot_of(view: u128) -> usize {
    let (low_seed, high_seed) = *SLOT_SEEDS;
    let product =
        u128::from((view as u64) ^ low_seed) * u128::from(((view >> 64) as u64) ^ high_seed);
    ((product as u64) ^ ((product >> 64) as u64)) as usize
}

/// Numbers an integer-like column by rank: nulls get 0 and the present values 1, 2, ... in
/// increasing order. Adds `number * stride` to `combined` as [`add_numbers`] does.
fn rank_integers(column: &Column, stride: u64, combined: &mut [u64]) -> Option<u32> {
    let physical = column.to_physical_repr();
    macro_rules! rank {
        ($values:expr) => {{
            let values = $values;
            let (Some(low), Some(high)) = (values.min(), values.max()) else {
                // Every value is null: one number.
                return Some(1);
            };
            let (low, high) = (i64::from(low), i64::from(high));
            let span = high.checked_sub(low)?;
            if span >= RANK_TABLE_LIMIT {
                return None;
            }
            let mut ranks: Vec<u32> = vec![0; span as usize + 1];
            // Null slots hold some value too; marking it present only adds an unused rank.
            for array in values.downcast_iter() {
                for &value in array.values().iter() {
                    if let Some(index) = i64::from(value).checked_sub(low)
                        && (0..=span).contains(&index)
                    {
                        ranks[index as usize] = 1;
                    }
                }
            }
            let mut next = 0u32;
            for rank in ranks.iter_mut() {
                if *rank != 0 {
                    next += 1;
                    *rank = next;
                }
            }
            if values.null_count() == 0 {
                let present = values
                    .downcast_iter()
                    .flat_map(|array| array.values().iter());
                for (slot, &value) in combined.iter_mut().zip(present) {
                    let rank = u64::from(ranks[(i64::from(value) - low) as usize]);
                    *slot = slot.wrapping_add(rank.wrapping_mul(stride));
                }
            } else {
                for (slot, value) in combined.iter_mut().zip(values.iter()) {
                    if let Some(value) = value {
                        let rank = u64::from(ranks[(i64::from(value) - low) as usize]);
                        *slot = slot.wrapping_add(rank.wrapping_mul(stride));
                    }
                }
            }
            Some(next + 1)
        }};
    }
    match physical.dtype() {
        DataType::Boolean => {
            let values = physical.cast(&DataType::Int32).ok()?;
            rank!(values.i32().ok()?)
        }
        DataType::Int8 => rank!(physical.i8().ok()?),
        DataType::Int16 => rank!(physical.i16().ok()?),
        DataType::Int32 => rank!(physical.i32().ok()?),
        DataType::Int64 => rank!(physical.i64().ok()?),
        DataType::UInt8 => rank!(physical.u8().ok()?),
        DataType::UInt16 => rank!(physical.u16().ok()?),
        DataType::UInt32 => rank!(physical.u32().ok()?),
        _ => None,
    }
}

/// A hasher for the `u64` keys of [`assign_groups`]: one multiply and a fold. The keys are
/// combinations of small numbers, not attacker-chosen text.
#[derive(Default)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, value: u64) {
        let product = u128::from(value ^ self.0) * 0x9E37_79B9_7F4A_7C15;
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::{
        AnyValue, ChunkTake as _, IntoLazy as _, IntoSeries as _, NamedFrom as _,
        NewChunkedArray as _, Series, StringChunked, TimeUnit, col, len,
    };

    use super::*;

    const COUNT: &str = "n";

    /// Rows of `frame` as text, for comparing two results.
    fn rows_of(frame: &DataFrame) -> Vec<String> {
        (0..frame.height())
            .map(|row| {
                frame
                    .columns()
                    .iter()
                    .map(|column| format!("{}", column.get(row).unwrap_or(AnyValue::Null)))
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect()
    }

    /// Counts `frame` in `batches` batches with [`count_batch`] and groups the counted rows by
    /// value, as the plan of `summarize` does.
    fn count_in_batches(frame: &DataFrame, batches: usize) -> DataFrame {
        let keys: Vec<_> = frame
            .get_column_names_owned()
            .into_iter()
            .map(col)
            .collect();
        let size = frame.height().div_ceil(batches);
        let mut counted: Option<DataFrame> = None;
        for start in (0..frame.height()).step_by(size) {
            let batch = frame.slice(start as i64, size);
            let part = count_batch(batch, &COUNT.into()).unwrap();
            match &mut counted {
                None => counted = Some(part),
                Some(all) => {
                    all.vstack_mut_owned(part).unwrap();
                }
            }
        }
        counted
            .unwrap()
            .lazy()
            .group_by_stable(keys)
            .agg([col(COUNT).sum()])
            .collect()
            .unwrap()
    }

    fn assert_same_as_polars(frame: DataFrame) {
        let keys: Vec<_> = frame
            .get_column_names_owned()
            .into_iter()
            .map(col)
            .collect();
        let expected = frame
            .clone()
            .lazy()
            .group_by_stable(keys)
            .agg([len().cast(DataType::Int64).alias(COUNT)])
            .collect()
            .unwrap();
        for batches in [1, 3] {
            let actual = count_in_batches(&frame, batches);
            assert_eq!(actual.get_column_names(), expected.get_column_names());
            assert_eq!(actual.dtypes(), expected.dtypes());
            assert_eq!(rows_of(&actual), rows_of(&expected), "{batches} batches");
        }
    }

    /// Builds a string column of `chunks` arrays that repeat `distinct` values (one of them
    /// null) by view, as a Parquet column read through its dictionaries does. Each array has its own
    /// copy of the values, so equal strings in two arrays have different views.
    fn chunked_strings(name: &str, rows: usize, distinct: usize, chunks: usize) -> Column {
        let per_chunk = rows / chunks;
        let mut all: Option<StringChunked> = None;
        for chunk in 0..chunks {
            let values = StringChunked::from_iter_options(
                name.into(),
                (0..distinct)
                    .map(|value| (value != 3).then(|| format!("host-{value}.corp.example.com"))),
            );
            let picks: Vec<IdxSize> = (0..per_chunk)
                .map(|i| ((i * 7 + chunk) % distinct) as IdxSize)
                .collect();
            let part = values.take(&IdxCa::from_vec("".into(), picks)).unwrap();
            match &mut all {
                None => all = Some(part),
                Some(all) => all.append(&part).unwrap(),
            }
        }
        all.unwrap().into_series().into_column()
    }

    #[test]
    fn strings_and_integers_count_as_polars_does() {
        let rows = 120_000;
        let hosts = chunked_strings("Computer", rows, 50, 4);
        let ids: Vec<Option<i32>> = (0..rows)
            .map(|i| (i % 11 != 0).then_some(4624 + (i % 5) as i32 * 64))
            .collect();
        let frame =
            DataFrame::new_infer_height(vec![hosts, Column::new("EventID".into(), ids)]).unwrap();
        // The batch is counted, not passed on row by row.
        let counted = count_batch(frame.clone(), &COUNT.into()).unwrap();
        assert!(counted.height() <= 4 * 50 * 6, "{}", counted.height());
        assert_same_as_polars(frame);
    }

    #[test]
    fn three_keys_with_strings() {
        let rows = 90_000;
        let hosts = chunked_strings("Computer", rows, 40, 3);
        let users = chunked_strings("Account", rows, 7, 3);
        let ids: Vec<i64> = (0..rows as i64).map(|i| i % 4).collect();
        let frame =
            DataFrame::new_infer_height(vec![hosts, users, Column::new("EventID".into(), ids)])
                .unwrap();
        assert_same_as_polars(frame);
    }

    #[test]
    fn times_and_booleans_with_nulls() {
        let rows = 75_000;
        let times: Vec<Option<i64>> = (0..rows as i64)
            .map(|i| {
                (i % 19 != 0).then_some(1_700_000_000_000_000_000 + (i % 23) * 3_600_000_000_000)
            })
            .collect();
        let times = Series::new("t".into(), times)
            .cast(&DataType::Datetime(TimeUnit::Nanoseconds, None))
            .unwrap()
            .into_column();
        let flags: Vec<Option<bool>> = (0..rows)
            .map(|i| (i % 9 != 0).then_some(i % 2 == 0))
            .collect();
        let frame =
            DataFrame::new_infer_height(vec![times, Column::new("flag".into(), flags)]).unwrap();
        assert_same_as_polars(frame);
    }

    #[test]
    fn combinations_beyond_u64_pass_rows_on() {
        // Eight keys of 300 values each: 301^8 combinations overflow a u64.
        let rows = 60_000;
        let columns: Vec<Column> = [7i64, 11, 13, 17, 19, 23, 29, 31]
            .iter()
            .map(|&factor| {
                // A factor prime to 300 takes every value from 0 to 299.
                let values: Vec<i64> = (0..rows as i64).map(|i| (i * factor) % 300).collect();
                Column::new(format!("k{factor}").into(), values)
            })
            .collect();
        let frame = DataFrame::new_infer_height(columns).unwrap();
        let counted = count_batch(frame.clone(), &COUNT.into()).unwrap();
        assert_eq!(counted.height(), rows);
        assert_same_as_polars(frame);
    }

    #[test]
    fn each_array_is_probed_on_its_own_values() {
        // Two arrays of 10,000 rows, each repeating the same 2,100 values: together they have
        // more new values than half the probe, each alone has fewer.
        let hosts = chunked_strings("Computer", 20_000, 2_100, 2);
        let frame = DataFrame::new_infer_height(vec![hosts]).unwrap();
        let counted = count_batch(frame.clone(), &COUNT.into()).unwrap();
        assert!(counted.height() <= 2 * 2_100, "{}", counted.height());
        assert_same_as_polars(frame);
    }

    #[test]
    fn many_combinations_use_the_hash_map() {
        let rows = 200_000;
        let a: Vec<i64> = (0..rows as i64).map(|i| (i * 7919) % 3_000_000).collect();
        let b: Vec<i64> = (0..rows as i64)
            .map(|i| (i * 104_729) % 2_000_000)
            .collect();
        let frame = DataFrame::new_infer_height(vec![
            Column::new("a".into(), a),
            Column::new("b".into(), b),
        ])
        .unwrap();
        assert_same_as_polars(frame);
    }

    #[test]
    fn times_booleans_and_small_integers_keep_their_types() {
        let rows = 80_000;
        let times: Vec<i64> = (0..rows as i64)
            .map(|i| 1_700_000_000_000 + (i % 13) * 1_000)
            .collect();
        let times = Series::new("t".into(), times)
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .unwrap()
            .into_column();
        let flags: Vec<Option<bool>> = (0..rows)
            .map(|i| (i % 9 != 0).then_some(i % 2 == 0))
            .collect();
        let small: Vec<u32> = (0..rows).map(|i| (i % 3) as u32).collect();
        let signed: Vec<i16> = (0..rows).map(|i| (i % 5) as i16 - 2).collect();
        let frame = DataFrame::new_infer_height(vec![
            times,
            Column::new("flag".into(), flags),
            Column::new("u".into(), small),
            Column::new("i".into(), signed),
        ])
        .unwrap();
        let counted = count_batch(frame.clone(), &COUNT.into()).unwrap();
        assert!(counted.height() < 13 * 3 * 3 * 5, "{}", counted.height());
        assert_same_as_polars(frame);
    }

    #[test]
    fn wide_ranges_and_rare_repeats_pass_rows_on() {
        let rows = 60_000;
        // Nanosecond timestamps span more than the rank table allows.
        let wide: Vec<i64> = (0..rows as i64)
            .map(|i| (i % 10) * 1_000_000_000_000)
            .collect();
        let unique = StringChunked::from_iter_values(
            "s".into(),
            (0..rows).map(|i| format!("command line number {}", i % 40_000)),
        )
        .into_series()
        .into_column();
        for column in [Column::new("wide".into(), wide), unique] {
            let frame = DataFrame::new_infer_height(vec![column]).unwrap();
            let counted = count_batch(frame.clone(), &COUNT.into()).unwrap();
            assert_eq!(counted.height(), rows);
            assert_same_as_polars(frame);
        }
    }

    #[test]
    fn all_null_and_negative_integers() {
        let rows = 70_000;
        let nulls: Vec<Option<i64>> = vec![None; rows];
        let negative: Vec<i64> = (0..rows as i64).map(|i| -(i % 17) - 1_000).collect();
        let frame = DataFrame::new_infer_height(vec![
            Column::new("none".into(), nulls),
            Column::new("neg".into(), negative),
        ])
        .unwrap();
        assert_same_as_polars(frame);
    }

    #[test]
    fn view_table_numbers_each_view_once_while_growing() {
        let mut table = ViewTable::with_capacity(4);
        let mut next = 1;
        let views: Vec<View> = (0..1_000u32)
            .map(|v| View::new_from_bytes(format!("value {v:08}").as_bytes(), 0, v * 20))
            .collect();
        // No buffers: every view goes to the hash table, which grows from 4 slots.
        table.begin_array(std::iter::empty(), 1_000);
        let first: Vec<u32> = views.iter().map(|v| table.number(v, &mut next)).collect();
        let again: Vec<u32> = views.iter().map(|v| table.number(v, &mut next)).collect();
        assert_eq!(first, again);
        assert_eq!(first, (1..=1_000).collect::<Vec<u32>>());
        table.clear();

        // With a buffer, long views are numbered by position; a shorter view from the same
        // position is another value.
        next = 1;
        table.begin_array([20_000].into_iter(), 1_000 * BUFFER_BYTES_PER_ROW);
        let by_position: Vec<u32> = views.iter().map(|v| table.number(v, &mut next)).collect();
        assert_eq!(by_position, first);
        let shorter = View::new_from_bytes(b"value 000000", 0, 20);
        let longer = View::new_from_bytes(b"value 00000001 and more", 0, 20);
        assert_eq!(table.number(&longer, &mut next), 1_001);
        assert_eq!(table.number(&shorter, &mut next), 1_002);
        assert_eq!(table.number(&views[1], &mut next), 2);
        table.clear();
        assert!(table.positions.iter().all(|&[_, _, number]| number == 0));
    }
}
