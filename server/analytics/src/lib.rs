//! Hunting analytics with MSTICPy's definitions: STL time-series anomalies, anomalous command
//! sequences and process trees. Each module names the MSTICPy or statsmodels source it follows.

pub mod decode;
mod fasthash;
pub mod input;
pub mod proctree;
pub mod sequences;
pub mod series;
pub mod stl;
pub mod timeseries;

/// The `chrono` version whose types appear in this crate's API.
pub use chrono;
