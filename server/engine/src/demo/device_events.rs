//! The demo Defender tables: `DeviceProcessEvents` and `DeviceNetworkEvents`, plus the
//! attacker's process launches that `SecurityEvent` shares.

use polars::prelude::DataFrame;
use rand::Rng;
use rand::seq::IndexedRandom as _;
use rand_chacha::ChaCha8Rng;

use super::org::{
    DOMAIN, NANOS_PER_MINUTE, NANOS_PER_SECOND, Org, ProcessLaunch, TENANT_ID, file_name, folder,
    hex_id, office_time,
};
use super::table::{ColumnType as T, TableBuilder};
use super::{Timeline, encode_powershell_command, story};

const POWERSHELL: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
const CMD: &str = r"C:\Windows\System32\cmd.exe";

/// The process id of the attacker's PowerShell, which also owns the beacon connections.
const BEACON_PID: i64 = 7_412;

/// Returns the attacker's launches on the compromised server: a shell, the encoded PowerShell
/// download cradle, and discovery commands.
pub(super) fn attack_launches(
    org: &Org,
    rng: &mut ChaCha8Rng,
    timeline: &Timeline,
) -> Vec<ProcessLaunch> {
    let host = org
        .hosts
        .iter()
        .position(|h| h.name == story::COMPROMISED_HOST)
        .expect("the story host exists");
    let user = org
        .users
        .iter()
        .position(|u| u.sam == story::COMPROMISED_USER);
    let encoded = encode_powershell_command(story::DOWNLOAD_CRADLE);
    let shell_pid = 6_228;
    let steps: [(i64, &str, &str, String, i64, i64); 5] = [
        (
            0,
            r"C:\Windows\explorer.exe",
            CMD,
            r#""C:\Windows\system32\cmd.exe""#.to_owned(),
            shell_pid,
            5_120,
        ),
        (
            95,
            CMD,
            POWERSHELL,
            format!("powershell.exe -nop -w hidden -enc {encoded}"),
            BEACON_PID,
            shell_pid,
        ),
        (
            260,
            CMD,
            r"C:\Windows\System32\whoami.exe",
            "whoami /all".to_owned(),
            8_016,
            shell_pid,
        ),
        (
            330,
            CMD,
            r"C:\Windows\System32\net.exe",
            r#"net group "Domain Admins" /domain"#.to_owned(),
            8_140,
            shell_pid,
        ),
        (
            410,
            CMD,
            r"C:\Windows\System32\nltest.exe",
            "nltest /dclist:contoso.com".to_owned(),
            8_332,
            shell_pid,
        ),
    ];
    steps
        .into_iter()
        .map(
            |(offset, parent, image, command_line, pid, parent_pid)| ProcessLaunch {
                time: timeline.execution
                    + offset * NANOS_PER_SECOND
                    + rng.random_range(0..NANOS_PER_SECOND),
                host,
                user,
                parent_path: parent.to_owned(),
                image_path: image.to_owned(),
                command_line,
                pid,
                parent_pid,
            },
        )
        .collect()
}

const PROCESS_COLUMNS: &[(&str, T)] = &[
    ("TenantId", T::String),
    ("TimeGenerated", T::Datetime),
    ("Timestamp", T::Datetime),
    ("DeviceId", T::String),
    ("DeviceName", T::String),
    ("ActionType", T::String),
    ("FileName", T::String),
    ("FolderPath", T::String),
    ("SHA256", T::String),
    ("ProcessId", T::Long),
    ("ProcessCommandLine", T::String),
    ("ProcessCreationTime", T::Datetime),
    ("ProcessIntegrityLevel", T::String),
    ("AccountDomain", T::String),
    ("AccountName", T::String),
    ("AccountSid", T::String),
    ("AccountUpn", T::String),
    ("InitiatingProcessFileName", T::String),
    ("InitiatingProcessFolderPath", T::String),
    ("InitiatingProcessId", T::Long),
    ("InitiatingProcessCommandLine", T::String),
    ("InitiatingProcessAccountDomain", T::String),
    ("InitiatingProcessAccountName", T::String),
    ("ReportId", T::Long),
    ("Type", T::String),
];

/// Renders every process launch that happened on a Windows workstation or server.
pub(super) fn processes(org: &Org, rng: &mut ChaCha8Rng, launches: &[ProcessLaunch]) -> DataFrame {
    let mut table = TableBuilder::new(PROCESS_COLUMNS);
    // Hashes are stable per image, as they would be for one build of a program.
    let mut hashes: Vec<(String, String)> = Vec::new();
    for launch in launches {
        let host = &org.hosts[launch.host];
        let (domain, name, sid, upn, integrity) = match launch.user {
            Some(user) => {
                let user = &org.users[user];
                (
                    DOMAIN.to_lowercase(),
                    user.sam.clone(),
                    user.sid.clone(),
                    user.upn(),
                    "Medium",
                )
            }
            None => (
                "nt authority".to_owned(),
                "system".to_owned(),
                "S-1-5-18".to_owned(),
                String::new(),
                "System",
            ),
        };
        let sha256 = match hashes.iter().find(|(image, _)| *image == launch.image_path) {
            Some((_, hash)) => hash.clone(),
            None => {
                let hash = hex_id(rng, 64);
                hashes.push((launch.image_path.clone(), hash.clone()));
                hash
            }
        };
        let report_id = rng.random_range(1_000..900_000);
        table
            .row()
            .str("TenantId", TENANT_ID)
            .time("TimeGenerated", launch.time)
            .time("Timestamp", launch.time)
            .str("DeviceId", host.device_id.clone())
            .str("DeviceName", host.device_name())
            .str("ActionType", "ProcessCreated")
            .str("FileName", file_name(&launch.image_path).to_lowercase())
            .str("FolderPath", launch.image_path.clone())
            .str("SHA256", sha256)
            .long("ProcessId", launch.pid)
            .str("ProcessCommandLine", launch.command_line.clone())
            .time("ProcessCreationTime", launch.time)
            .str("ProcessIntegrityLevel", integrity)
            .str("AccountDomain", domain.clone())
            .str("AccountName", name.clone())
            .str("AccountSid", sid)
            .str("AccountUpn", upn)
            .str(
                "InitiatingProcessFileName",
                file_name(&launch.parent_path).to_lowercase(),
            )
            .str(
                "InitiatingProcessFolderPath",
                folder(&launch.parent_path).to_lowercase(),
            )
            .long("InitiatingProcessId", launch.parent_pid)
            .str(
                "InitiatingProcessCommandLine",
                file_name(&launch.parent_path).to_lowercase(),
            )
            .str("InitiatingProcessAccountDomain", domain)
            .str("InitiatingProcessAccountName", name)
            .long("ReportId", report_id)
            .str("Type", "DeviceProcessEvents");
    }
    table.finish()
}

const NETWORK_COLUMNS: &[(&str, T)] = &[
    ("TenantId", T::String),
    ("TimeGenerated", T::Datetime),
    ("Timestamp", T::Datetime),
    ("DeviceId", T::String),
    ("DeviceName", T::String),
    ("ActionType", T::String),
    ("RemoteIP", T::String),
    ("RemotePort", T::Int),
    ("RemoteUrl", T::String),
    ("RemoteIPType", T::String),
    ("LocalIP", T::String),
    ("LocalPort", T::Int),
    ("LocalIPType", T::String),
    ("Protocol", T::String),
    ("InitiatingProcessFileName", T::String),
    ("InitiatingProcessFolderPath", T::String),
    ("InitiatingProcessCommandLine", T::String),
    ("InitiatingProcessId", T::Long),
    ("InitiatingProcessAccountDomain", T::String),
    ("InitiatingProcessAccountName", T::String),
    ("ReportId", T::Long),
    ("Type", T::String),
];

/// Ordinary destinations: URL, address (RFC 5737 documentation ranges), port, process image.
const DESTINATIONS: &[(&str, &str, i32, &str)] = &[
    (
        "outlook.office365.com",
        "192.0.2.40",
        443,
        r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE",
    ),
    (
        "teams.microsoft.com",
        "192.0.2.41",
        443,
        r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    ),
    (
        "www.bing.com",
        "192.0.2.42",
        443,
        r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    ),
    (
        "github.com",
        "192.0.2.43",
        443,
        r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    ),
    (
        "login.microsoftonline.com",
        "192.0.2.44",
        443,
        r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    ),
    (
        "fs01.contoso.com",
        "10.10.0.6",
        445,
        r"C:\Windows\System32\svchost.exe",
    ),
    (
        "dc01.contoso.com",
        "10.10.0.5",
        389,
        r"C:\Windows\System32\lsass.exe",
    ),
    ("", "10.10.0.5", 53, r"C:\Windows\System32\svchost.exe"),
];

pub(super) fn network(
    org: &Org,
    rng: &mut ChaCha8Rng,
    timeline: &Timeline,
    start: i64,
    end: i64,
) -> DataFrame {
    let mut table = TableBuilder::new(NETWORK_COLUMNS);

    for _ in 0..2_400 {
        let user = &org.users[rng.random_range(0..org.users.len())];
        let host = &org.hosts[user.workstation];
        let (url, remote_ip, port, image) = *DESTINATIONS
            .choose(rng)
            .expect("the destination list is not empty");
        let system = image.ends_with("svchost.exe") || image.ends_with("lsass.exe");
        let account = if system { "system" } else { user.sam.as_str() };
        let domain = if system { "nt authority" } else { "contoso" };
        let time = office_time(rng, start, end);
        connection(
            &mut table,
            rng,
            host,
            time,
            (url, remote_ip, port),
            image,
            "",
            0,
            (domain, account),
        );
    }

    // The beacon: the attacker's PowerShell calls home every minute with a little jitter.
    let host = org.host(story::COMPROMISED_HOST);
    let command_line = format!(
        "powershell.exe -nop -w hidden -enc {}",
        encode_powershell_command(story::DOWNLOAD_CRADLE)
    );
    let interval = story::BEACON_INTERVAL_SECONDS * NANOS_PER_SECOND;
    let jitter = story::BEACON_JITTER_SECONDS * NANOS_PER_SECOND;
    let mut time = timeline.beacon_start;
    while time < end - NANOS_PER_MINUTE {
        connection(
            &mut table,
            rng,
            host,
            time,
            (story::C2_DOMAIN, story::C2_IP, story::C2_PORT),
            POWERSHELL,
            &command_line,
            BEACON_PID,
            ("contoso", story::COMPROMISED_USER),
        );
        time += interval + rng.random_range(-jitter..=jitter);
    }
    table.finish()
}

#[allow(clippy::too_many_arguments)]
fn connection(
    table: &mut TableBuilder,
    rng: &mut ChaCha8Rng,
    host: &super::org::Host,
    time: i64,
    (url, remote_ip, port): (&str, &str, i32),
    image: &str,
    command_line: &str,
    pid: i64,
    (domain, account): (&str, &str),
) {
    let remote_type = if remote_ip.starts_with("10.") {
        "Private"
    } else {
        "Public"
    };
    let pid = if pid == 0 {
        rng.random_range(1_000..30_000) / 4 * 4
    } else {
        pid
    };
    let command_line = if command_line.is_empty() {
        format!("\"{}\"", file_name(image))
    } else {
        command_line.to_owned()
    };
    table
        .row()
        .str("TenantId", TENANT_ID)
        .time("TimeGenerated", time)
        .time("Timestamp", time)
        .str("DeviceId", host.device_id.clone())
        .str("DeviceName", host.device_name())
        .str("ActionType", "ConnectionSuccess")
        .str("RemoteIP", remote_ip)
        .int("RemotePort", port)
        .str("RemoteUrl", url)
        .str("RemoteIPType", remote_type)
        .str("LocalIP", host.ip.clone())
        .int("LocalPort", rng.random_range(49_152..65_535))
        .str("LocalIPType", "Private")
        .str("Protocol", if port == 53 { "Udp" } else { "Tcp" })
        .str("InitiatingProcessFileName", file_name(image).to_lowercase())
        .str("InitiatingProcessFolderPath", folder(image).to_lowercase())
        .str("InitiatingProcessCommandLine", command_line)
        .long("InitiatingProcessId", pid)
        .str("InitiatingProcessAccountDomain", domain)
        .str("InitiatingProcessAccountName", account)
        .long("ReportId", rng.random_range(1_000..900_000))
        .str("Type", "DeviceNetworkEvents");
}
