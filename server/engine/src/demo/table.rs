//! A row-at-a-time builder for the demo tables, with typed columns.

use polars::prelude::{
    BinaryChunked, DataFrame, DataType, IntoColumn as _, IntoSeries as _, NamedFrom as _, Series,
    SortMultipleOptions, TimeUnit,
};

/// The KQL type of a demo column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Int,
    Long,
    Bool,
    Datetime,
    /// JSON text in a `Binary` column, the engine's representation of `dynamic`.
    Dynamic,
}

/// One cell value; a column that a row leaves unset is an empty string or null.
#[derive(Debug, Clone)]
pub enum Cell {
    Str(String),
    Int(i32),
    Long(i64),
    Bool(bool),
    /// Nanoseconds since the Unix epoch.
    Time(i64),
    Dynamic(serde_json::Value),
}

pub struct TableBuilder {
    columns: Vec<(&'static str, ColumnType)>,
    rows: Vec<Vec<Option<Cell>>>,
}

impl TableBuilder {
    pub fn new(columns: &[(&'static str, ColumnType)]) -> TableBuilder {
        TableBuilder {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Starts a new row; set its cells with [`Row::set`].
    pub fn row(&mut self) -> Row<'_> {
        self.rows.push(vec![None; self.columns.len()]);
        Row { builder: self }
    }

    /// Builds the frame, sorted by `TimeGenerated` when the table has it.
    pub fn finish(self) -> DataFrame {
        let mut series = Vec::with_capacity(self.columns.len());
        for (index, (name, ty)) in self.columns.iter().enumerate() {
            let cells = self.rows.iter().map(|row| row[index].as_ref());
            let column = match ty {
                ColumnType::String => Series::new(
                    (*name).into(),
                    cells
                        .map(|cell| match cell {
                            Some(Cell::Str(s)) => s.clone(),
                            _ => String::new(),
                        })
                        .collect::<Vec<_>>(),
                ),
                ColumnType::Int => Series::new(
                    (*name).into(),
                    cells
                        .map(|cell| match cell {
                            Some(Cell::Int(v)) => Some(*v),
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                ),
                ColumnType::Long => Series::new(
                    (*name).into(),
                    cells
                        .map(|cell| match cell {
                            Some(Cell::Long(v)) => Some(*v),
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                ),
                ColumnType::Bool => Series::new(
                    (*name).into(),
                    cells
                        .map(|cell| match cell {
                            Some(Cell::Bool(v)) => Some(*v),
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                ),
                ColumnType::Datetime => Series::new(
                    (*name).into(),
                    cells
                        .map(|cell| match cell {
                            Some(Cell::Time(v)) => Some(*v),
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                )
                .cast(&DataType::Datetime(TimeUnit::Nanoseconds, None))
                .expect("an Int64 series casts to Datetime"),
                ColumnType::Dynamic => cells
                    .map(|cell| match cell {
                        Some(Cell::Dynamic(value)) => Some(value.to_string().into_bytes()),
                        _ => None,
                    })
                    .collect::<BinaryChunked>()
                    .with_name((*name).into())
                    .into_series(),
            };
            series.push(column.into_column());
        }
        let frame = DataFrame::new(self.rows.len(), series)
            .expect("every demo column has one value per row");
        if frame.schema().contains("TimeGenerated") {
            frame
                .sort(
                    ["TimeGenerated"],
                    SortMultipleOptions::default().with_maintain_order(true),
                )
                .expect("TimeGenerated is sortable")
        } else {
            frame
        }
    }
}

pub struct Row<'a> {
    builder: &'a mut TableBuilder,
}

impl Row<'_> {
    /// Sets a cell of the current row.
    ///
    /// # Panics
    /// When the table has no column `name`: the generators only use fixed, known names.
    pub fn set(&mut self, name: &str, cell: Cell) -> &mut Self {
        let index = self
            .builder
            .columns
            .iter()
            .position(|(column, _)| *column == name)
            .unwrap_or_else(|| panic!("the demo table has no column `{name}`"));
        let row = self.builder.rows.last_mut().expect("row() pushed a row");
        row[index] = Some(cell);
        self
    }

    pub fn str(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.set(name, Cell::Str(value.into()))
    }

    pub fn int(&mut self, name: &str, value: i32) -> &mut Self {
        self.set(name, Cell::Int(value))
    }

    pub fn long(&mut self, name: &str, value: i64) -> &mut Self {
        self.set(name, Cell::Long(value))
    }

    pub fn bool(&mut self, name: &str, value: bool) -> &mut Self {
        self.set(name, Cell::Bool(value))
    }

    pub fn time(&mut self, name: &str, nanos: i64) -> &mut Self {
        self.set(name, Cell::Time(nanos))
    }

    pub fn dynamic(&mut self, name: &str, value: serde_json::Value) -> &mut Self {
        self.set(name, Cell::Dynamic(value))
    }
}
