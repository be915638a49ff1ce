//! GeoIP and ASN lookups in MaxMind DB files.
//!
//! Reads MaxMind's GeoLite2/GeoIP2 City, Country and ASN databases, DB-IP's lite databases
//! (same layout as MaxMind's) and the ip-location-db databases (flat `country_code`, `city`,
//! `latitude` fields). Several databases are combined: each field comes from the first
//! database, in the order city, country, ASN, that has it.

mod discover;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::Reader;
use serde::Serialize;
use serde_json::Value;

use crate::iptype::{IpType, ip_type};

pub use discover::{GeoIpConfig, msticpy_db_folder, user_cache_folder};

/// Errors from opening GeoIP databases.
#[derive(Debug, thiserror::Error)]
pub enum GeoIpError {
    #[error("failed to open GeoIP database {path}: {source}")]
    Open {
        path: PathBuf,
        source: maxminddb::MaxMindDbError,
    },
    #[error("failed to read GeoIP folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Location and network data for one address. Every field is optional because each database
/// layout has a different subset.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GeoLocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdivision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_organization: Option<String>,
    /// The `database_type` of every database that contributed a field.
    pub sources: Vec<String>,
}

impl GeoLocation {
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }
}

/// The GeoIP result for one address: its type, and its location when the address is public and
/// a database has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeoIpReport {
    pub address: IpAddr,
    pub ip_type: IpType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoLocation>,
}

/// A database that was opened, for listings and messages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatabaseInfo {
    pub path: PathBuf,
    pub database_type: String,
    pub ip_version: u16,
    pub build_epoch: u64,
}

struct Database {
    info: DatabaseInfo,
    reader: Reader<Vec<u8>>,
}

/// A set of open databases. Lookups are synchronous and take microseconds, so callers may
/// run them on any thread.
#[derive(Default)]
pub struct GeoIp {
    databases: Vec<Database>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("databases", &self.databases())
            .finish()
    }
}

/// Sort rank of a database: city databases first, then country, then ASN.
fn rank(info: &DatabaseInfo) -> u8 {
    let name = format!(
        "{} {}",
        info.database_type.to_ascii_lowercase(),
        info.path
            .file_name()
            .map(|name| name.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default()
    );
    if name.contains("city") {
        0
    } else if name.contains("country") {
        1
    } else if name.contains("asn") {
        2
    } else {
        3
    }
}

impl GeoIp {
    /// Opens the given database files.
    pub fn open_files(paths: &[PathBuf]) -> Result<GeoIp, GeoIpError> {
        let mut geoip = GeoIp::default();
        for path in paths {
            geoip.add_file(path)?;
        }
        Ok(geoip)
    }

    /// Opens one more database file and keeps the city, country, ASN order.
    pub fn add_file(&mut self, path: &Path) -> Result<(), GeoIpError> {
        let reader = Reader::open_readfile(path).map_err(|source| GeoIpError::Open {
            path: path.to_owned(),
            source,
        })?;
        let metadata = reader.metadata();
        let info = DatabaseInfo {
            path: path.to_owned(),
            database_type: metadata.database_type.clone(),
            ip_version: metadata.ip_version,
            build_epoch: metadata.build_epoch,
        };
        self.databases.push(Database { info, reader });
        self.databases.sort_by_key(|database| rank(&database.info));
        Ok(())
    }

    pub fn databases(&self) -> Vec<DatabaseInfo> {
        self.databases
            .iter()
            .map(|database| database.info.clone())
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.databases.is_empty()
    }

    /// Looks `address` up in every database. Non-public addresses are not looked up, since no
    /// public database has a location for them.
    pub fn lookup(&self, address: IpAddr) -> GeoIpReport {
        let kind = ip_type(address);
        let location = if kind == IpType::Public {
            let location = self.locate(address);
            (!location.is_empty()).then_some(location)
        } else {
            None
        };
        GeoIpReport {
            address,
            ip_type: kind,
            location,
        }
    }

    fn locate(&self, address: IpAddr) -> GeoLocation {
        let mut location = GeoLocation::default();
        for database in &self.databases {
            // An IPv4-only database has no records for IPv6 addresses.
            if address.is_ipv6() && database.info.ip_version == 4 {
                continue;
            }
            let record = match database.reader.lookup(address) {
                Ok(result) => match result.decode::<Value>() {
                    Ok(Some(record)) => record,
                    Ok(None) => continue,
                    Err(error) => {
                        tracing::warn!(database = %database.info.path.display(), %address, %error, "failed to decode GeoIP record");
                        continue;
                    }
                },
                Err(error) => {
                    tracing::warn!(database = %database.info.path.display(), %address, %error, "GeoIP lookup failed");
                    continue;
                }
            };
            if merge_record(&mut location, &record) {
                location.sources.push(database.info.database_type.clone());
            }
        }
        location
    }
}

fn text_at<'a>(record: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut node = record;
    for key in path {
        node = node.get(key)?;
    }
    node.as_str().filter(|text| !text.is_empty())
}

fn english_name(node: Option<&Value>) -> Option<String> {
    match node? {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Object(_) => text_at(node?, &["names", "en"]).map(str::to_owned),
        _ => None,
    }
}

fn fill<T>(slot: &mut Option<T>, value: Option<T>) -> bool {
    if slot.is_none() && value.is_some() {
        *slot = value;
        return true;
    }
    false
}

/// Copies the fields of one record (MaxMind, DB-IP or ip-location-db layout) into the empty
/// fields of `location`. Returns true when it filled at least one field.
fn merge_record(location: &mut GeoLocation, record: &Value) -> bool {
    let country_code = text_at(record, &["country", "iso_code"])
        .or_else(|| text_at(record, &["country_code"]))
        .or_else(|| text_at(record, &["registered_country", "iso_code"]))
        .map(str::to_owned);
    let country = english_name(record.get("country"))
        .or_else(|| text_at(record, &["country_name"]).map(str::to_owned));
    let subdivision = english_name(record.get("subdivisions").and_then(|list| list.get(0)))
        .or_else(|| text_at(record, &["state1"]).map(str::to_owned));
    let city = english_name(record.get("city"));
    let latitude = record
        .get("location")
        .and_then(|node| node.get("latitude"))
        .or_else(|| record.get("latitude"))
        .and_then(Value::as_f64);
    let longitude = record
        .get("location")
        .and_then(|node| node.get("longitude"))
        .or_else(|| record.get("longitude"))
        .and_then(Value::as_f64);
    let asn = record
        .get("autonomous_system_number")
        .and_then(Value::as_u64)
        .and_then(|number| u32::try_from(number).ok());
    let as_organization = text_at(record, &["autonomous_system_organization"]).map(str::to_owned);

    let mut filled = false;
    filled |= fill(&mut location.country_code, country_code);
    filled |= fill(&mut location.country, country);
    filled |= fill(&mut location.subdivision, subdivision);
    filled |= fill(&mut location.city, city);
    filled |= fill(&mut location.latitude, latitude);
    filled |= fill(&mut location.longitude, longitude);
    filled |= fill(&mut location.asn, asn);
    filled |= fill(&mut location.as_organization, as_organization);
    filled
}
