//! `quarry enrich`: the IP type, GeoIP/ASN data and threat-intelligence verdicts for each
//! indicator given on the command line.
//!
//! Settings come from `enrichment.toml` in Quarry's configuration folder or from `--config`.
//! No remote provider is asked unless that file enables it, and the privacy guard keeps
//! private addresses and internal names from every remote provider.

use std::io::{self, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use quarry_enrichment::geoip::GeoIpReport;
use quarry_enrichment::paths::cache_dir;
use quarry_enrichment::rdap::{RdapClient, RdapError, WhoisRecord};
use quarry_enrichment::{EnrichmentConfig, GeoIp, IocType, Observable, TiResult, ip_type};
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub struct EnrichArgs {
    /// Indicators to look up: IP addresses, domains, URLs, hashes or e-mail addresses.
    /// Defanged forms such as `evil[.]com` are accepted.
    #[arg(required = true, value_name = "IOC")]
    iocs: Vec<String>,

    /// Treat every indicator as this type (MSTICPy names such as ipv4, dns, url, md5_hash)
    /// instead of detecting it.
    #[arg(short = 't', long = "type", value_name = "TYPE")]
    ioc_type: Option<IocType>,

    /// Enrichment configuration file (default: enrichment.toml in the Quarry configuration
    /// folder, `$QUARRY_CONFIG_DIR` or `~/.config/quarry`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Skip the GeoIP and ASN lookup.
    #[arg(long)]
    no_geoip: bool,

    /// Also look IP addresses and domains up over RDAP (whois). Needs `enabled = true` in the
    /// `[rdap]` table of enrichment.toml, which also sets the RDAP base URLs.
    #[arg(long)]
    whois: bool,

    /// Neither read nor write the threat-intelligence and RDAP caches.
    #[arg(long)]
    no_cache: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// One block per indicator.
    Human,
    /// A JSON array with one object per indicator.
    Json,
}

/// Everything known about one indicator, as printed in JSON.
#[derive(Debug, Serialize)]
struct Enrichment {
    ioc: String,
    #[serde(rename = "type")]
    ioc_type: IocType,
    #[serde(skip_serializing_if = "Option::is_none")]
    geoip: Option<GeoIpReport>,
    threat_intel: Vec<TiResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    whois: Option<WhoisOutcome>,
}

/// The RDAP record of an indicator, or the reason there is none.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum WhoisOutcome {
    Record(Box<WhoisRecord>),
    Error { error: String },
}

pub fn main(args: EnrichArgs) -> anyhow::Result<ExitCode> {
    let config = EnrichmentConfig::load(args.config.as_deref())?;
    let observables = parse_iocs(&args)?;

    let geoip = if args.no_geoip {
        None
    } else {
        Some(GeoIp::discover(&config.geoip).context("failed to open the GeoIP databases")?)
    };
    let cache_folder = if args.no_cache {
        None
    } else {
        cache_dir().map(|dir| dir.join("ti"))
    };
    let keyring = crate::secrets::SecretStore::default();
    let lookup = |name: &str| keyring.lookup_enrichment(name);
    let working_dir = std::env::current_dir().context("could not read the current folder")?;
    let sentinel = crate::sentinel_ti::sentinel_providers(
        config.ti.sentinel.as_ref(),
        &working_dir,
        &quarry_providers::config::ProcessEnvironment,
    )
    .map_err(anyhow::Error::msg)?;
    let enricher = config
        .ti
        .build_with(cache_folder.as_deref(), &lookup, sentinel)?;
    let has_address = observables
        .iter()
        .any(|observable| observable.value.parse::<IpAddr>().is_ok());
    if has_address && geoip.as_ref().is_some_and(GeoIp::is_empty) {
        eprintln!(
            "note: no GeoIP database was found, so addresses have no location or ASN; run \
             `quarry setup geoip` to install the free databases, or list yours under [geoip] in \
             enrichment.toml (see docs/enrichment.md, \"GeoIP databases\")"
        );
    }
    // A `--whois` run requests RDAP records, so a missing threat-intelligence provider is
    // expected there and not worth a note.
    if !enricher.has_providers() && !args.whois {
        eprintln!(
            "note: no threat-intelligence provider is configured, so there are no verdicts; add \
             one under [ti.providers.NAME] in enrichment.toml (see docs/enrichment.md, \
             \"quarry enrich\")"
        );
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let lookups = runtime.block_on(futures::future::join_all(
        observables
            .iter()
            .map(|observable| enricher.lookup(observable)),
    ));
    let whois: Vec<Option<WhoisOutcome>> = if args.whois {
        let rdap_cache = if args.no_cache {
            None
        } else {
            cache_dir().map(|dir| dir.join("rdap"))
        };
        let client = RdapClient::new(&config.rdap, &config.ti.privacy)
            .with_cache_folder(rdap_cache.as_deref());
        let records = runtime.block_on(futures::future::join_all(
            observables
                .iter()
                .map(|observable| client.lookup(observable)),
        ));
        records
            .into_iter()
            .map(|record| Some(whois_outcome(record)))
            .collect()
    } else {
        observables.iter().map(|_| None).collect()
    };

    let enrichments: Vec<Enrichment> = observables
        .into_iter()
        .zip(lookups)
        .zip(whois)
        .map(|((observable, threat_intel), whois)| {
            let geoip_report = match (&geoip, observable.value.parse::<IpAddr>()) {
                (Some(geoip), Ok(address)) => Some(geoip.lookup(address)),
                _ => None,
            };
            Enrichment {
                ioc: observable.value,
                ioc_type: observable.ioc_type,
                geoip: geoip_report,
                threat_intel,
                whois,
            }
        })
        .collect();

    let stdout = io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Human => write_human(&enrichments, &mut out)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &enrichments)?;
            writeln!(out)?;
        }
    }
    out.flush().context("failed to write to standard output")?;
    Ok(ExitCode::SUCCESS)
}

fn whois_outcome(record: Result<WhoisRecord, RdapError>) -> WhoisOutcome {
    match record {
        Ok(record) => WhoisOutcome::Record(Box::new(record)),
        Err(error) => WhoisOutcome::Error {
            error: error.to_string(),
        },
    }
}

fn parse_iocs(args: &EnrichArgs) -> anyhow::Result<Vec<Observable>> {
    let mut observables = Vec::new();
    for text in &args.iocs {
        let observable = match args.ioc_type {
            Some(kind) => Some(Observable::new(text.trim(), kind)),
            None => Observable::parse(text),
        };
        match observable {
            Some(observable) => observables.push(observable),
            None => bail!(
                "`{text}` is not an IP address, domain, URL, hash or e-mail address; pass --type to look it up anyway"
            ),
        }
    }
    Ok(observables)
}

fn write_human(enrichments: &[Enrichment], out: &mut impl Write) -> anyhow::Result<()> {
    for (index, enrichment) in enrichments.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        let address_type = enrichment
            .ioc
            .parse::<IpAddr>()
            .map(|address| format!("  ({})", ip_type(address)))
            .unwrap_or_default();
        writeln!(
            out,
            "{}  {}{address_type}",
            enrichment.ioc, enrichment.ioc_type
        )?;

        if let Some(location) = enrichment
            .geoip
            .as_ref()
            .and_then(|report| report.location.as_ref())
        {
            let mut place = Vec::new();
            if let Some(city) = &location.city {
                place.push(city.clone());
            }
            if let Some(country) = location.country.as_ref().or(location.country_code.as_ref()) {
                place.push(country.clone());
            }
            let mut line = place.join(", ");
            if let Some(asn) = location.asn {
                let organization = location.as_organization.as_deref().unwrap_or("");
                line.push_str(&format!(
                    "{}AS{asn} {organization}",
                    if line.is_empty() { "" } else { "; " }
                ));
            }
            writeln!(out, "  geoip        {}", line.trim_end())?;
        }

        for result in &enrichment.threat_intel {
            let cached = if result.cached { " (cached)" } else { "" };
            writeln!(
                out,
                "  {:<12} {:<11} {}{cached}",
                result.provider,
                result.severity.as_str(),
                result.summary
            )?;
            if let Some(link) = &result.reference {
                writeln!(out, "  {:<12} {:<11} {link}", "", "")?;
            }
        }

        match &enrichment.whois {
            Some(WhoisOutcome::Record(record)) => write_whois(record, out)?,
            Some(WhoisOutcome::Error { error }) => writeln!(out, "  whois        {error}")?,
            None => {}
        }
    }
    Ok(())
}

fn write_whois(record: &WhoisRecord, out: &mut impl Write) -> anyhow::Result<()> {
    let mut summary = vec![record.object_class.clone()];
    summary.extend(record.name.clone());
    summary.extend(record.handle.clone());
    summary.extend(record.country.clone());
    if record.cached {
        summary.push("(cached)".to_owned());
    }
    writeln!(out, "  whois        {}", summary.join("  "))?;
    if !record.cidrs.is_empty() {
        writeln!(out, "  {:<12} {}", "", record.cidrs.join(", "))?;
    }
    for event in &record.events {
        writeln!(out, "  {:<12} {} {}", "", event.action, event.date)?;
    }
    for entity in &record.entities {
        let label = entity
            .name
            .as_deref()
            .or(entity.handle.as_deref())
            .unwrap_or("(unnamed)");
        let email = entity
            .email
            .as_deref()
            .map(|email| format!(" <{email}>"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {:<12} {}: {label}{email}",
            "",
            entity.roles.join(", ")
        )?;
    }
    if let Some(link) = record.links.first() {
        writeln!(out, "  {:<12} {link}", "")?;
    }
    Ok(())
}
