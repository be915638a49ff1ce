//! Running a row function once per distinct string instead of once per row.
//!
//! Log columns repeat a few values many times: host names, accounts, command lines of
//! services. Polars stores strings, and the JSON text of dynamic values, as views. A Parquet
//! column read through its dictionary gives every repeat of a value the same view, which is
//! the same length, buffer and offset, or for short strings the same inline bytes. Two rows of
//! one array with equal views therefore contain equal values, so a function of that value can
//! be computed once and its result gathered for every row that repeats it.
//!
//! [`distinct_views`] finds the repeats with a small table of recent views, in which each view
//! has two possible slots. A miss only costs a recomputation, so columns without repeats run at
//! nearly the old speed.

use polars::prelude::{Column, DataType, IdxCa, IdxSize, PolarsResult};

/// Log2 of the number of slots in the table of recent views.
const SLOT_BITS: u32 = 12;

/// The rows of a column grouped by view. `first_rows[k]` is a row that contains the `k`th
/// value found, and `row_values[row]` is the number `k` of the value at `row`. Null rows share
/// one number, whose first row is null.
pub(crate) struct DistinctViews {
    pub first_rows: Vec<usize>,
    pub row_values: Vec<IdxSize>,
}

impl DistinctViews {
    /// Gathers `values`, one per distinct value in the order of `first_rows`, into one value
    /// per row.
    pub fn gather(&self, values: &Column) -> PolarsResult<Column> {
        let indices = IdxCa::from_vec("".into(), self.row_values.clone());
        values.take(&indices)
    }
}

/// Returns whether `column` stores its values as views that [`distinct_views`] can read:
/// strings, and the JSON text of dynamic values.
pub(crate) fn has_views(column: &Column) -> bool {
    matches!(column.dtype(), DataType::String | DataType::Binary)
}

/// Groups the rows of a string or binary `column` by view (see the module comment). Returns
/// `None` for other types.
pub(crate) fn distinct_views(column: &Column) -> Option<DistinctViews> {
    let series = column.as_materialized_series();
    // A string array reads as binary without a copy, with the same views.
    let binary = match series.dtype() {
        DataType::String => series.str().ok()?.as_binary(),
        DataType::Binary => series.binary().ok()?.clone(),
        _ => return None,
    };
    let mut first_rows = Vec::new();
    let mut row_values = Vec::with_capacity(series.len());
    let mut null_value: Option<IdxSize> = None;
    let mut offset = 0;
    // The slots hold a view and its value number; they are per array, because a view names a
    // buffer of its own array.
    let mut slots: Vec<(u128, IdxSize)> = vec![(0, IdxSize::MAX); 1 << SLOT_BITS];
    for (array, chunk) in binary.downcast_iter().zip(binary.chunks()) {
        slots.fill((0, IdxSize::MAX));
        let validity = chunk.validity();
        for (index, view) in array.views().iter().enumerate() {
            if validity.is_some_and(|bits| !bits.get_bit(index)) {
                let number = *null_value.get_or_insert_with(|| {
                    first_rows.push(offset + index);
                    (first_rows.len() - 1) as IdxSize
                });
                row_values.push(number);
                continue;
            }
            let view = view.as_u128();
            // Two slots per view, so that two frequent values whose first slots collide do not
            // evict each other on every row.
            let first = slot_of(view);
            let second = first ^ 1;
            let found = [first, second]
                .into_iter()
                .find(|&slot| slots[slot].1 != IdxSize::MAX && slots[slot].0 == view);
            if let Some(slot) = found {
                row_values.push(slots[slot].1);
            } else {
                first_rows.push(offset + index);
                let number = (first_rows.len() - 1) as IdxSize;
                let free = if slots[first].1 == IdxSize::MAX {
                    first
                } else if slots[second].1 == IdxSize::MAX {
                    second
                } else {
                    // Both taken: replace the one the view's hash prefers.
                    first
                };
                slots[free] = (view, number);
                row_values.push(number);
            }
        }
        offset += array.len();
    }
    Some(DistinctViews {
        first_rows,
        row_values,
    })
}

fn slot_of(view: u128) -> usize {
    let mixed = (view as u64) ^ ((view >> 64) as u64).rotate_left(29);
    (mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOT_BITS)) as usize
}

#[cfg(test)]
mod tests {
    use polars::prelude::{IntoColumn as _, IntoSeries as _, NewChunkedArray as _, StringChunked};

    use super::*;

    fn values_of(column: &Column, distinct: &DistinctViews) -> Vec<Option<String>> {
        let strings = column.str().unwrap();
        distinct
            .row_values
            .iter()
            .map(|&number| {
                strings
                    .get(distinct.first_rows[number as usize])
                    .map(str::to_owned)
            })
            .collect()
    }

    #[test]
    fn every_row_maps_to_an_equal_value() {
        let long = "a value longer than twelve bytes";
        let texts: Vec<Option<&str>> = (0..10_000)
            .map(|i| match i % 7 {
                0 => None,
                1 => Some("short"),
                2 => Some(long),
                3 => Some(""),
                _ => Some(if i % 2 == 0 {
                    "even rows here, also long"
                } else {
                    "odd"
                }),
            })
            .collect();
        let column = StringChunked::from_iter_options("t".into(), texts.iter().copied())
            .into_series()
            .into_column();
        let distinct = distinct_views(&column).unwrap();
        let expected: Vec<Option<String>> = texts.iter().map(|t| t.map(str::to_owned)).collect();
        assert_eq!(values_of(&column, &distinct), expected);
        // Inline strings and the null always share a number. Whether the long ones do depends
        // on where the builder placed them.
        assert!(distinct.first_rows.len() < texts.len());
    }

    #[test]
    fn chunks_keep_their_own_numbers() {
        let first = StringChunked::from_iter_values(
            "t".into(),
            ["x", "a long string in chunk one"].into_iter(),
        );
        let second = StringChunked::from_iter_values(
            "t".into(),
            ["a long string in chunk two", "x"].into_iter(),
        );
        let mut both = first.clone();
        both.append(&second).unwrap();
        assert_eq!(both.chunks().len(), 2);
        let column = both.into_series().into_column();
        let distinct = distinct_views(&column).unwrap();
        assert_eq!(
            values_of(&column, &distinct),
            [
                "x",
                "a long string in chunk one",
                "a long string in chunk two",
                "x"
            ]
            .map(|t| Some(t.to_owned()))
            .to_vec()
        );
    }

    #[test]
    fn gather_repeats_results() {
        let column = StringChunked::from_iter_values("t".into(), ["b", "a", "b", "b"].into_iter())
            .into_series()
            .into_column();
        let distinct = distinct_views(&column).unwrap();
        assert_eq!(distinct.first_rows, vec![0, 1]);
        let results = StringChunked::from_iter_values("r".into(), ["B", "A"].into_iter())
            .into_series()
            .into_column();
        let gathered = distinct.gather(&results).unwrap();
        let gathered: Vec<_> = gathered.str().unwrap().iter().flatten().collect();
        assert_eq!(gathered, ["B", "A", "B", "B"]);
    }

    #[test]
    fn other_types_are_not_read() {
        let column = Column::new("n".into(), [1i64, 2, 1]);
        assert!(distinct_views(&column).is_none());
        assert!(!has_views(&column));
    }
}
