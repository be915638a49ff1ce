//! `quarry setup geoip`: installs free GeoIP and ASN databases that need no account.
//!
//! It downloads two npm packages of the ip-location-db project: the CC0-licensed
//! `@ip-location-db/geo-whois-asn-country-mmdb` (country databases in MaxMind DB format) and
//! `@ip-location-db/asn` (ASN ranges as CSV, CC BY 4.0 by RouteViews, DB-IP and the NRO). The
//! tarballs are checked against the registry's SHA-512 integrity value, the country databases
//! are copied, and the ASN ranges are turned into one MaxMind DB file with the crate's writer.
//! This is the only code in Quarry that downloads data.

use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};
use url::Url;

use crate::mmdb_writer::{MmdbValue, MmdbWriter};

/// The npm package with the country databases.
pub const COUNTRY_PACKAGE: &str = "@ip-location-db/geo-whois-asn-country-mmdb";
/// The npm package with the ASN ranges.
pub const ASN_PACKAGE: &str = "@ip-location-db/asn";
/// The default npm registry.
pub const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org/";
/// File name of the ASN database built from the CSV ranges.
pub const ASN_DATABASE: &str = "ip-location-db-asn.mmdb";

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("failed to download {url}: {message}")]
    Download { url: String, message: String },
    #[error("the npm registry's answer for {package} is invalid: {message}")]
    Metadata { package: String, message: String },
    #[error("the tarball of {package} does not match the registry's integrity value {expected}")]
    Integrity { package: String, expected: String },
    #[error("failed to unpack {package}: {message}")]
    Unpack { package: String, message: String },
    #[error("invalid ASN range in {file} line {line}: {message}")]
    AsnCsv {
        file: String,
        line: usize,
        message: String,
    },
    #[error("failed to write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to build the ASN database: {0}")]
    Build(#[from] crate::mmdb_writer::MmdbWriteError),
}

/// Download source and install folder.
#[derive(Debug, Clone)]
pub struct SetupOptions {
    /// The npm registry, such as `https://registry.npmjs.org/`.
    pub registry: Url,
    /// The folder that receives the databases; GeoIP discovery reads it as the user cache.
    pub destination: PathBuf,
    /// Time allowed for each download.
    pub timeout: Duration,
}

impl SetupOptions {
    /// Returns options with the registry from `npm_config_registry` (as npm itself reads it) or
    /// npm's default, and the user-cache GeoIP folder.
    pub fn with_defaults() -> Option<SetupOptions> {
        let registry = std::env::var("npm_config_registry")
            .ok()
            .and_then(|text| Url::parse(&text).ok())
            .unwrap_or_else(|| {
                Url::parse(DEFAULT_REGISTRY).expect("the default registry URL is valid")
            });
        Some(SetupOptions {
            registry,
            destination: crate::geoip::user_cache_folder()?,
            timeout: Duration::from_secs(300),
        })
    }
}

/// Summary of an installation.
#[derive(Debug, Clone, Serialize)]
pub struct SetupReport {
    pub destination: PathBuf,
    /// `(package, version)` of each package used.
    pub packages: Vec<(String, String)>,
    pub files: Vec<PathBuf>,
    /// Rows read from the ASN CSV files.
    pub asn_ranges: usize,
}

#[derive(Debug, Deserialize)]
struct PackageVersion {
    version: String,
    dist: Dist,
}

#[derive(Debug, Deserialize)]
struct Dist {
    tarball: String,
    integrity: Option<String>,
}

/// Downloads both packages and installs the databases into `options.destination`.
pub async fn setup_geoip(options: &SetupOptions) -> Result<SetupReport, SetupError> {
    let client = reqwest::Client::builder()
        .timeout(options.timeout)
        .user_agent(concat!("quarry/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| SetupError::Download {
            url: options.registry.to_string(),
            message: error.to_string(),
        })?;

    let (country_version, country_files) =
        fetch_package(&client, &options.registry, COUNTRY_PACKAGE, |name| {
            name.ends_with(".mmdb") || is_license(name)
        })
        .await?;
    let (asn_version, asn_files) = fetch_package(&client, &options.registry, ASN_PACKAGE, |name| {
        name == "asn-ipv4.csv" || name == "asn-ipv6.csv" || is_license(name)
    })
    .await?;
    if !country_files
        .iter()
        .any(|(name, _)| name.ends_with(".mmdb"))
    {
        return Err(SetupError::Unpack {
            package: COUNTRY_PACKAGE.to_owned(),
            message: "the package contains no .mmdb file".to_owned(),
        });
    }

    std::fs::create_dir_all(&options.destination).map_err(|source| SetupError::Write {
        path: options.destination.clone(),
        source,
    })?;
    let mut written = Vec::new();
    for (name, bytes) in &country_files {
        written.push(write_atomic(&options.destination, name, bytes)?);
    }

    let mut writer = MmdbWriter::new(
        "ip-location-db-ASN",
        &format!("ASN ranges from {ASN_PACKAGE} {asn_version} (CC BY 4.0: RouteViews, DB-IP, NRO)"),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs()),
    );
    let mut asn_ranges = 0;
    for (name, bytes) in &asn_files {
        if name.ends_with(".csv") {
            asn_ranges += add_asn_ranges(&mut writer, name, bytes)?;
        } else {
            // License files keep the package name so the two packages' files do not collide.
            written.push(write_atomic(
                &options.destination,
                &format!("asn-{name}"),
                bytes,
            )?);
        }
    }
    if asn_ranges == 0 {
        return Err(SetupError::Unpack {
            package: ASN_PACKAGE.to_owned(),
            message: "the package contains no asn-ipv4.csv or asn-ipv6.csv ranges".to_owned(),
        });
    }
    written.push(write_atomic(
        &options.destination,
        ASN_DATABASE,
        &writer.to_bytes()?,
    )?);

    let packages = vec![
        (COUNTRY_PACKAGE.to_owned(), country_version),
        (ASN_PACKAGE.to_owned(), asn_version),
    ];
    let sources = serde_json::json!({
        "packages": packages,
        "registry": options.registry.as_str(),
        "licenses": {
            COUNTRY_PACKAGE: "CC0-1.0",
            ASN_PACKAGE: "CC BY 4.0 (RouteViews, DB-IP, NRO); attribution required",
        },
    });
    written.push(write_atomic(
        &options.destination,
        "SOURCES.json",
        serde_json::to_string_pretty(&sources)
            .expect("the sources record serializes")
            .as_bytes(),
    )?);

    Ok(SetupReport {
        destination: options.destination.clone(),
        packages,
        files: written,
        asn_ranges,
    })
}

fn is_license(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.contains("LICENSE") || upper == "README.MD" || upper == "MODIFICATIONS"
}

/// Fetches the latest version of `package` and returns its version and the files whose names
/// `keep` accepts, as `(file name, bytes)`.
async fn fetch_package(
    client: &reqwest::Client,
    registry: &Url,
    package: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<(String, Vec<(String, Vec<u8>)>), SetupError> {
    // The registry addresses a scoped package with its slash encoded.
    let encoded = package.replace('/', "%2f");
    let base = registry.as_str().trim_end_matches('/');
    let metadata_url = format!("{base}/{encoded}/latest");
    let metadata = download(client, &metadata_url).await?;
    let version: PackageVersion =
        serde_json::from_slice(&metadata).map_err(|error| SetupError::Metadata {
            package: package.to_owned(),
            message: error.to_string(),
        })?;

    let tarball = download(client, &version.dist.tarball).await?;
    let integrity = version.dist.integrity.ok_or_else(|| SetupError::Metadata {
        package: package.to_owned(),
        message: "no dist.integrity value".to_owned(),
    })?;
    verify_integrity(package, &integrity, &tarball)?;

    let files = unpack(package, &tarball, keep)?;
    tracing::info!(package, version = %version.version, files = files.len(), "downloaded an npm package");
    Ok((version.version, files))
}

/// Largest download read into memory: far above the npm packages' size, so that only a broken
/// or hostile registry reaches it.
const MAX_DOWNLOAD_BYTES: usize = 256 * 1024 * 1024;

async fn download(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, SetupError> {
    let failure = |message: String| SetupError::Download {
        url: url.to_owned(),
        message,
    };
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|error| failure(error_chain(&error)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(failure(format!("HTTP {status}")));
    }
    let too_large = || {
        failure(format!(
            "the response is larger than {MAX_DOWNLOAD_BYTES} bytes"
        ))
    };
    if response
        .content_length()
        .is_some_and(|length| length > MAX_DOWNLOAD_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| failure(error_chain(&error)))?
    {
        if bytes.len() + chunk.len() > MAX_DOWNLOAD_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Joins an error and its sources, because reqwest's top-level message leaves out the cause,
/// such as a refused connection or a timeout.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Checks an npm `sha512-<base64>` integrity value (Subresource Integrity format).
fn verify_integrity(package: &str, integrity: &str, bytes: &[u8]) -> Result<(), SetupError> {
    let mismatch = || SetupError::Integrity {
        package: package.to_owned(),
        expected: integrity.to_owned(),
    };
    let expected = integrity
        .split_whitespace()
        .find_map(|entry| entry.strip_prefix("sha512-"))
        .ok_or_else(|| SetupError::Metadata {
            package: package.to_owned(),
            message: format!("integrity value `{integrity}` has no sha512 hash"),
        })?;
    let expected = STANDARD.decode(expected).map_err(|_| mismatch())?;
    let actual = Sha512::digest(bytes);
    if actual.as_slice() == expected.as_slice() {
        Ok(())
    } else {
        Err(mismatch())
    }
}

/// Returns the files that `keep` accepts from a gzip-compressed npm tarball by their base names. Entry paths
/// are never used as output paths, so a hostile archive cannot write outside the destination.
fn unpack(
    package: &str,
    tarball: &[u8],
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<(String, Vec<u8>)>, SetupError> {
    let failure = |message: String| SetupError::Unpack {
        package: package.to_owned(),
        message,
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    let mut files = Vec::new();
    for entry in archive
        .entries()
        .map_err(|error| failure(error.to_string()))?
    {
        let mut entry = entry.map_err(|error| failure(error.to_string()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(|error| failure(error.to_string()))?;
        let Some(name) = path
            .file_name()
            .and_then(|name| name.to_str())
            .map(str::to_owned)
        else {
            continue;
        };
        if !keep(&name) {
            continue;
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|error| failure(error.to_string()))?;
        files.push((name, bytes));
    }
    Ok(files)
}

/// Adds the rows of an ip-location-db ASN CSV file (`first,last,asn,organization`, inclusive
/// ranges) and returns how many it read.
fn add_asn_ranges(writer: &mut MmdbWriter, file: &str, bytes: &[u8]) -> Result<usize, SetupError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut count = 0;
    for (index, record) in reader.records().enumerate() {
        let invalid = |message: String| SetupError::AsnCsv {
            file: file.to_owned(),
            line: index + 1,
            message,
        };
        let record = record.map_err(|error| invalid(error.to_string()))?;
        let field = |position: usize| record.get(position).unwrap_or_default().trim();
        let first: IpAddr = field(0)
            .parse()
            .map_err(|_| invalid(format!("`{}` is not an IP address", field(0))))?;
        let last: IpAddr = field(1)
            .parse()
            .map_err(|_| invalid(format!("`{}` is not an IP address", field(1))))?;
        let asn: u32 = field(2)
            .parse()
            .map_err(|_| invalid(format!("`{}` is not an AS number", field(2))))?;
        if first.is_ipv4() != last.is_ipv4() || first > last {
            return Err(invalid(format!("{first} to {last} is not a range")));
        }
        let mut entries = vec![("autonomous_system_number", MmdbValue::Uint32(asn))];
        if !field(3).is_empty() {
            entries.push((
                "autonomous_system_organization",
                MmdbValue::string(field(3)),
            ));
        }
        writer.insert_range(first, last, &MmdbValue::map(entries))?;
        count += 1;
    }
    Ok(count)
}

/// Writes `bytes` to `folder/name` through a temporary file and a rename.
fn write_atomic(folder: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, SetupError> {
    let path = folder.join(name);
    let temporary = folder.join(format!(".{name}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(&temporary, &path)
    };
    write().map_err(|source| SetupError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
