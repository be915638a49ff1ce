//! MSTICPy-compatible query templates: loading, validation and rendering.
//!
//! A template file (MSTICPy's YAML format) is read into a [`TemplateFile`] that keeps the byte
//! range of every key and value, so each [`Problem`] points at its place in the file. Its
//! queries become [`Template`]s, assembled with MSTICPy's merge rules, and [`render`] fills in
//! parameter values the way MSTICPy does, with escaping that keeps values inside their string
//! literals unless [`Escaping::Msticpy`] is asked for.

pub mod library;
pub mod problem;
pub mod pyformat;
pub mod quote;
pub mod render;
pub mod schema;
pub mod sentinel;
pub mod template;
pub mod time;
mod validate;
pub mod yaml;

pub use library::{Entry, Library, LookupError};
pub use problem::{Problem, Severity};
pub use quote::Dialect;
pub use render::{ArgValue, Escaping, RenderError, RenderOptions, render};
pub use template::{ParamType, Parameter, Template, TemplateFile};
pub use validate::placeholders;
