//! KQL scalar types, as schemas declare them and type inference computes them.

use std::fmt;

/// A KQL scalar type. `Unknown` stands for a type Quarry could not work out; it is compatible
/// with everything, so it never causes a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScalarType {
    Bool,
    Int,
    Long,
    Real,
    Decimal,
    String,
    DateTime,
    TimeSpan,
    Guid,
    Dynamic,
    Unknown,
}

impl ScalarType {
    /// Parses a type name as KQL, Azure Data Explorer and Log Analytics write it: the KQL words
    /// and their aliases (`double`, `boolean`, `date`, `time`, `uniqueid`), and the .NET names
    /// that `.show ... schema` reports (`System.String`, `System.Int64`, `System.Object`, ...).
    /// Case is ignored. Returns `None` for a name that is none of these.
    pub fn parse(name: &str) -> Option<ScalarType> {
        let name = name.trim();
        let lower = name.to_ascii_lowercase();
        let lower = lower.strip_prefix("system.").unwrap_or(&lower);
        let ty = match lower {
            "bool" | "boolean" => ScalarType::Bool,
            "int" | "int32" | "sbyte" | "byte" | "int16" | "uint16" => ScalarType::Int,
            "long" | "int64" | "bigint" | "uint32" | "uint64" => ScalarType::Long,
            "real" | "double" | "float" | "single" => ScalarType::Real,
            "decimal" | "data.sqltypes.sqldecimal" => ScalarType::Decimal,
            "string" => ScalarType::String,
            "datetime" | "date" => ScalarType::DateTime,
            "timespan" | "time" => ScalarType::TimeSpan,
            "guid" | "uniqueid" => ScalarType::Guid,
            "dynamic" | "object" | "array" | "bag" => ScalarType::Dynamic,
            _ => return None,
        };
        Some(ty)
    }

    /// Returns the KQL name of the type (`long`, `datetime`, ...); `Unknown` is shown as `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::Bool => "bool",
            ScalarType::Int => "int",
            ScalarType::Long => "long",
            ScalarType::Real => "real",
            ScalarType::Decimal => "decimal",
            ScalarType::String => "string",
            ScalarType::DateTime => "datetime",
            ScalarType::TimeSpan => "timespan",
            ScalarType::Guid => "guid",
            ScalarType::Dynamic => "dynamic",
            ScalarType::Unknown => "unknown",
        }
    }

    /// Checks whether the type is `int`, `long`, `real` or `decimal`.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ScalarType::Int | ScalarType::Long | ScalarType::Real | ScalarType::Decimal
        )
    }
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_aliases_and_dotnet_names() {
        assert_eq!(ScalarType::parse("System.String"), Some(ScalarType::String));
        assert_eq!(ScalarType::parse("System.Int64"), Some(ScalarType::Long));
        assert_eq!(
            ScalarType::parse("System.Object"),
            Some(ScalarType::Dynamic)
        );
        assert_eq!(ScalarType::parse("double"), Some(ScalarType::Real));
        assert_eq!(ScalarType::parse("Boolean"), Some(ScalarType::Bool));
        assert_eq!(ScalarType::parse("sbyte"), Some(ScalarType::Int));
        assert_eq!(ScalarType::parse("bigint"), Some(ScalarType::Long));
        assert_eq!(ScalarType::parse("table"), None);
    }

    #[test]
    fn name_round_trips() {
        for ty in [
            ScalarType::Bool,
            ScalarType::Int,
            ScalarType::Long,
            ScalarType::Real,
            ScalarType::Decimal,
            ScalarType::String,
            ScalarType::DateTime,
            ScalarType::TimeSpan,
            ScalarType::Guid,
            ScalarType::Dynamic,
        ] {
            assert_eq!(ScalarType::parse(ty.name()), Some(ty));
        }
    }
}
