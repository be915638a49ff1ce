//! MSTICPy-compatible query templates: loading, validation and rendering.

pub mod yaml;
