//! Entities and enrichment for threat hunting: indicator extraction from text, IP address
//! types, GeoIP and ASN lookups in MaxMind DB files, and threat-intelligence lookups across
//! remote providers and offline sources behind one result type.
//!
//! Everything here works on plain data (strings, byte ranges, serde structs), so the CLI and the
//! language server can both call it.

pub mod config;
pub mod domain;
pub mod extract;
pub mod geoip;
pub mod hover;
pub mod indicator;
pub mod iptype;
pub mod mmdb_writer;
pub mod paths;
pub mod pivot;
pub mod rdap;
pub mod secret;
pub mod setup;
pub mod ti;

pub use config::EnrichmentConfig;
pub use extract::{classify, extract, indicators_at};
pub use geoip::{GeoIp, GeoIpConfig, GeoIpReport, GeoLocation};
pub use indicator::{Indicator, IocType};
pub use iptype::{IpType, ip_type};
pub use secret::Secret;
pub use ti::{Enricher, LookupStatus, Observable, PartialLookup, Severity, TiResult, Verdict};
