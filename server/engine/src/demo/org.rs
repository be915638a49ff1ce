//! The fictional organisation behind the demo dataset: users, hosts and process launches.
//!
//! Everything here comes from the seeded random generator, never from the clock, so the same
//! anchor day always yields the same rows.

use rand::Rng;
use rand::seq::IndexedRandom as _;
use rand_chacha::ChaCha8Rng;

pub const DOMAIN: &str = "CONTOSO";
pub const DNS_SUFFIX: &str = "contoso.com";
pub const TENANT_ID: &str = "4f3c2b1a-7d6e-4a5b-9c8d-0e1f2a3b4c5d";
const DOMAIN_SID: &str = "S-1-5-21-3623811015-3361044348-30300820";

pub const NANOS_PER_SECOND: i64 = 1_000_000_000;
pub const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SECOND;
pub const NANOS_PER_HOUR: i64 = 60 * NANOS_PER_MINUTE;
pub const NANOS_PER_DAY: i64 = 24 * NANOS_PER_HOUR;

const FIRST_NAMES: &[&str] = &[
    "alex", "blair", "casey", "dana", "eli", "frankie", "gray", "harper", "indra", "jordan", "kai",
    "logan", "morgan", "noor", "oakley", "parker", "quinn", "reese", "sam", "taylor", "uma", "val",
    "wren", "yuki",
];
const LAST_NAMES: &[&str] = &[
    "adams", "baker", "chen", "diaz", "evans", "fischer", "garcia", "hughes", "ito", "jensen",
    "khan", "lee", "moreau", "novak", "okafor", "patel", "rossi", "silva", "tanaka", "ueda",
    "vance", "weber", "young",
];

#[derive(Debug, Clone)]
pub struct User {
    /// `jordan.lee`
    pub sam: String,
    pub display_name: String,
    pub sid: String,
    pub object_id: String,
    /// Index into [`Org::hosts`] of the user's workstation.
    pub workstation: usize,
}

impl User {
    pub fn upn(&self) -> String {
        format!("{}@{DNS_SUFFIX}", self.sam)
    }

    pub fn account(&self) -> String {
        format!("{DOMAIN}\\{}", self.sam)
    }
}

#[derive(Debug, Clone)]
pub struct Host {
    /// Short name such as `WKS-017`.
    pub name: String,
    pub device_id: String,
    pub ip: String,
}

impl Host {
    /// Returns the fully qualified name that Windows logs as `Computer`.
    pub fn fqdn(&self) -> String {
        format!("{}.{DNS_SUFFIX}", self.name)
    }

    /// Returns the lowercase name that Defender logs as `DeviceName`.
    pub fn device_name(&self) -> String {
        self.fqdn().to_lowercase()
    }
}

pub struct Org {
    pub users: Vec<User>,
    pub hosts: Vec<Host>,
}

pub const WORKSTATIONS: usize = 40;
pub const USERS: usize = 60;
pub const SERVERS: &[&str] = &["DC01", "FS01", "APP01", "RDS01"];

impl Org {
    pub fn generate(rng: &mut ChaCha8Rng) -> Org {
        let mut hosts = Vec::new();
        for index in 1..=WORKSTATIONS {
            hosts.push(Host {
                name: format!("WKS-{index:03}"),
                device_id: hex_id(rng, 40),
                ip: format!("10.20.{}.{}", 1 + index / 200, 10 + index % 200),
            });
        }
        for (index, name) in SERVERS.iter().enumerate() {
            hosts.push(Host {
                name: (*name).to_owned(),
                device_id: hex_id(rng, 40),
                ip: format!("10.10.0.{}", 5 + index),
            });
        }

        // The story's compromised account always exists; the other names are drawn at random.
        let mut names = vec![super::story::COMPROMISED_USER.to_owned()];
        while names.len() < USERS {
            let first = FIRST_NAMES.choose(rng).expect("name lists are not empty");
            let last = LAST_NAMES.choose(rng).expect("name lists are not empty");
            let sam = format!("{first}.{last}");
            if !names.contains(&sam) {
                names.push(sam);
            }
        }

        let mut users: Vec<User> = Vec::new();
        // Domain accounts get relative ids from 1104 up, after the built-in and admin accounts.
        for (rid, sam) in (1104..).zip(names) {
            let display_name = sam.split('.').map(capitalize).collect::<Vec<_>>().join(" ");
            let workstation = users.len() % WORKSTATIONS;
            users.push(User {
                sam,
                display_name,
                sid: format!("{DOMAIN_SID}-{rid}"),
                object_id: guid(rng),
                workstation,
            });
        }
        Org { users, hosts }
    }

    pub fn host(&self, name: &str) -> &Host {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .expect("the story names an existing host")
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// Returns a random lowercase hexadecimal string of `digits` digits.
pub fn hex_id(rng: &mut ChaCha8Rng, digits: usize) -> String {
    (0..digits)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).expect("digit below 16"))
        .collect()
}

/// Returns a random GUID in its usual text form.
pub fn guid(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        hex_id(rng, 8),
        hex_id(rng, 4),
        hex_id(rng, 4),
        hex_id(rng, 4),
        hex_id(rng, 12)
    )
}

/// Returns a random time in `[start, end)`, weighted towards working hours (08:00 to 18:00 UTC).
pub fn office_time(rng: &mut ChaCha8Rng, start: i64, end: i64) -> i64 {
    let days = ((end - start) / NANOS_PER_DAY).max(1);
    for _ in 0..8 {
        let day = start + rng.random_range(0..days) * NANOS_PER_DAY;
        let hour = if rng.random_bool(0.8) {
            rng.random_range(8..18)
        } else {
            rng.random_range(0..24)
        };
        let time = day + hour * NANOS_PER_HOUR + rng.random_range(0..NANOS_PER_HOUR);
        if time >= start && time < end {
            return time;
        }
    }
    rng.random_range(start..end)
}

/// A process start, shared by `SecurityEvent` (4688) and `DeviceProcessEvents`.
#[derive(Debug, Clone)]
pub struct ProcessLaunch {
    pub time: i64,
    pub host: usize,
    /// `None` for processes that run as SYSTEM.
    pub user: Option<usize>,
    pub parent_path: String,
    pub image_path: String,
    pub command_line: String,
    pub pid: i64,
    pub parent_pid: i64,
}

/// Ordinary programs: (parent image, image, command line, runs as SYSTEM, relative weight).
const PROGRAMS: &[(&str, &str, &str, bool, u32)] = &[
    (
        r"C:\Windows\System32\services.exe",
        r"C:\Windows\System32\svchost.exe",
        r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
        true,
        14,
    ),
    (
        r"C:\Windows\System32\svchost.exe",
        r"C:\Windows\System32\taskhostw.exe",
        r"taskhostw.exe Install $(Arg0)",
        true,
        8,
    ),
    (
        r"C:\Windows\System32\svchost.exe",
        r"C:\Windows\System32\backgroundTaskHost.exe",
        r#""C:\Windows\system32\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider"#,
        false,
        6,
    ),
    (
        r"C:\Windows\explorer.exe",
        r"C:\Program Files\Google\Chrome\Application\chrome.exe",
        r#""C:\Program Files\Google\Chrome\Application\chrome.exe""#,
        false,
        16,
    ),
    (
        r"C:\Windows\explorer.exe",
        r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE",
        r#""C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE""#,
        false,
        10,
    ),
    (
        r"C:\Windows\explorer.exe",
        r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
        r#""C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE" /n "C:\Users\Public\Documents\Quarterly report.docx""#,
        false,
        5,
    ),
    (
        r"C:\Windows\explorer.exe",
        r"C:\Windows\System32\notepad.exe",
        r#""C:\Windows\system32\notepad.exe" C:\Users\Public\notes.txt"#,
        false,
        4,
    ),
    (
        r"C:\Windows\explorer.exe",
        r"C:\Windows\System32\cmd.exe",
        r#""C:\Windows\system32\cmd.exe""#,
        false,
        4,
    ),
    (
        r"C:\Windows\System32\cmd.exe",
        r"C:\Windows\System32\ipconfig.exe",
        r"ipconfig /all",
        false,
        3,
    ),
    (
        r"C:\Windows\System32\cmd.exe",
        r"C:\Windows\System32\PING.EXE",
        r"ping -n 4 fs01.contoso.com",
        false,
        2,
    ),
    (
        r"C:\Windows\System32\svchost.exe",
        r"C:\Windows\System32\conhost.exe",
        r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1",
        true,
        8,
    ),
    (
        r"C:\Windows\System32\svchost.exe",
        r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
        r"powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\IT\Scripts\Get-Inventory.ps1",
        true,
        3,
    ),
    (
        r"C:\Windows\System32\services.exe",
        r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MsMpEng.exe",
        r#""C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MsMpEng.exe""#,
        true,
        2,
    ),
    (
        r"C:\Windows\System32\services.exe",
        r"C:\Windows\System32\msiexec.exe",
        r"C:\Windows\system32\msiexec.exe /V",
        true,
        2,
    ),
];

/// Generates `count` ordinary process launches spread over `[start, end)`.
pub fn background_launches(
    org: &Org,
    rng: &mut ChaCha8Rng,
    count: usize,
    start: i64,
    end: i64,
) -> Vec<ProcessLaunch> {
    let total_weight: u32 = PROGRAMS.iter().map(|p| p.4).sum();
    let mut launches = Vec::with_capacity(count);
    for _ in 0..count {
        let mut pick = rng.random_range(0..total_weight);
        let program = PROGRAMS
            .iter()
            .find(|p| {
                if pick < p.4 {
                    true
                } else {
                    pick -= p.4;
                    false
                }
            })
            .expect("the pick is below the total weight");
        let (parent, image, command_line, as_system, _) = *program;
        let (host, user) = if as_system {
            (rng.random_range(0..org.hosts.len()), None)
        } else {
            let user = rng.random_range(0..org.users.len());
            (org.users[user].workstation, Some(user))
        };
        launches.push(ProcessLaunch {
            time: office_time(rng, start, end),
            host,
            user,
            parent_path: parent.to_owned(),
            image_path: image.to_owned(),
            command_line: command_line.to_owned(),
            pid: rng.random_range(1_000..40_000) / 4 * 4,
            parent_pid: rng.random_range(400..12_000) / 4 * 4,
        });
    }
    launches
}

/// Returns the file name part of a Windows path.
pub fn file_name(path: &str) -> &str {
    path.rsplit('\\').next().unwrap_or(path)
}

/// Returns the folder part of a Windows path.
pub fn folder(path: &str) -> &str {
    path.rsplit_once('\\')
        .map(|(folder, _)| folder)
        .unwrap_or("")
}
