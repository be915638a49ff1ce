//! The table schema an [`crate::Analysis`] binds against: the bundled one, shared for the life
//! of the process, or one loaded at run time from schema files and data folders.

use std::ops::Deref;
use std::sync::Arc;

use quarry_analysis::Schema;

#[derive(Debug, Clone)]
pub(crate) enum SchemaRef {
    Static(&'static Schema),
    Shared(Arc<Schema>),
}

impl Deref for SchemaRef {
    type Target = Schema;

    fn deref(&self) -> &Schema {
        match self {
            SchemaRef::Static(schema) => schema,
            SchemaRef::Shared(schema) => schema,
        }
    }
}
