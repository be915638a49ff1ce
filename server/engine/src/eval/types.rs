//! KQL scalar types and their mapping to polars data types.

use polars::prelude::{DataType, TimeUnit};

/// The KQL type of a column or an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KqlType {
    String,
    Long,
    Int,
    Real,
    Bool,
    Datetime,
    Timespan,
    Dynamic,
    /// The type of an untyped `null`; it combines with any other type.
    Null,
}

impl KqlType {
    /// Returns the KQL type of a polars column type.
    pub fn from_polars(dtype: &DataType) -> KqlType {
        match dtype {
            DataType::String => KqlType::String,
            DataType::Int32 => KqlType::Int,
            DataType::Int8
            | DataType::Int16
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => KqlType::Long,
            DataType::Float32 | DataType::Float64 => KqlType::Real,
            DataType::Boolean => KqlType::Bool,
            DataType::Datetime(_, _) | DataType::Date => KqlType::Datetime,
            DataType::Duration(_) => KqlType::Timespan,
            DataType::Null => KqlType::Null,
            _ => KqlType::Dynamic,
        }
    }

    /// Returns the polars type that the engine uses for values of this KQL type.
    pub fn to_polars(self) -> DataType {
        match self {
            KqlType::String => DataType::String,
            KqlType::Long => DataType::Int64,
            KqlType::Int => DataType::Int32,
            KqlType::Real => DataType::Float64,
            KqlType::Bool => DataType::Boolean,
            KqlType::Datetime => DataType::Datetime(TimeUnit::Nanoseconds, None),
            KqlType::Timespan => DataType::Duration(TimeUnit::Nanoseconds),
            KqlType::Dynamic => DataType::Binary,
            KqlType::Null => DataType::Null,
        }
    }

    /// Returns the type's name as KQL writes it.
    pub fn name(self) -> &'static str {
        match self {
            KqlType::String => "string",
            KqlType::Long => "long",
            KqlType::Int => "int",
            KqlType::Real => "real",
            KqlType::Bool => "bool",
            KqlType::Datetime => "datetime",
            KqlType::Timespan => "timespan",
            KqlType::Dynamic => "dynamic",
            KqlType::Null => "null",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, KqlType::Long | KqlType::Int | KqlType::Real)
    }

    /// Returns whether `==`, `<` and the like accept these two types side by side.
    pub fn is_comparable_with(self, other: KqlType) -> bool {
        self == other
            || self == KqlType::Null
            || other == KqlType::Null
            || (self.is_numeric() && other.is_numeric())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polars_types_round_trip() {
        for ty in [
            KqlType::String,
            KqlType::Long,
            KqlType::Int,
            KqlType::Real,
            KqlType::Bool,
            KqlType::Datetime,
            KqlType::Timespan,
        ] {
            assert_eq!(KqlType::from_polars(&ty.to_polars()), ty, "{}", ty.name());
        }
    }

    #[test]
    fn numeric_types_compare() {
        assert!(KqlType::Int.is_comparable_with(KqlType::Real));
        assert!(KqlType::Null.is_comparable_with(KqlType::String));
        assert!(!KqlType::String.is_comparable_with(KqlType::Long));
        assert!(!KqlType::Datetime.is_comparable_with(KqlType::Timespan));
    }
}
