//! Placeholder until the grammar lands.
