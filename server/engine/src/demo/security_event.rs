//! The demo `SecurityEvent` table: Windows logons (4624), failed logons (4625) and process
//! creation (4688).

use polars::prelude::DataFrame;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::Timeline;
use super::org::{DOMAIN, NANOS_PER_SECOND, Org, ProcessLaunch, TENANT_ID, file_name, office_time};
use super::story;
use super::table::{ColumnType as T, TableBuilder};

const COLUMNS: &[(&str, T)] = &[
    ("TenantId", T::String),
    ("TimeGenerated", T::Datetime),
    ("SourceSystem", T::String),
    ("Computer", T::String),
    ("EventSourceName", T::String),
    ("Channel", T::String),
    ("Task", T::Int),
    ("Level", T::String),
    ("EventID", T::Int),
    ("Activity", T::String),
    ("Account", T::String),
    ("AccountType", T::String),
    ("SubjectUserSid", T::String),
    ("SubjectUserName", T::String),
    ("SubjectDomainName", T::String),
    ("SubjectLogonId", T::String),
    ("TargetUserSid", T::String),
    ("TargetUserName", T::String),
    ("TargetDomainName", T::String),
    ("TargetAccount", T::String),
    ("TargetLogonId", T::String),
    ("LogonType", T::Int),
    ("LogonTypeName", T::String),
    ("LogonProcessName", T::String),
    ("AuthenticationPackageName", T::String),
    ("WorkstationName", T::String),
    ("IpAddress", T::String),
    ("IpPort", T::String),
    ("Status", T::String),
    ("SubStatus", T::String),
    ("FailureReason", T::String),
    ("NewProcessId", T::String),
    ("NewProcessName", T::String),
    ("CommandLine", T::String),
    ("ParentProcessName", T::String),
    ("ProcessId", T::String),
    ("TokenElevationType", T::String),
    ("Process", T::String),
    ("Type", T::String),
];

const BAD_PASSWORD_STATUS: &str = "0xc000006d";
const BAD_PASSWORD_SUBSTATUS: &str = "0xc000006a";
const BAD_PASSWORD_REASON: &str = "%%2313";

/// A logon event to render: who, where, how, and from which address.
struct Logon<'a> {
    time: i64,
    computer: String,
    user_sid: &'a str,
    user_name: &'a str,
    domain: &'a str,
    logon_type: i32,
    ip: &'a str,
    workstation: &'a str,
    success: bool,
}

fn logon_type_name(logon_type: i32) -> &'static str {
    match logon_type {
        2 => "2 - Interactive",
        3 => "3 - Network",
        5 => "5 - Service",
        7 => "7 - Unlock",
        10 => "10 - RemoteInteractive",
        11 => "11 - CachedInteractive",
        _ => "",
    }
}

fn push_logon(table: &mut TableBuilder, rng: &mut ChaCha8Rng, logon: &Logon<'_>) {
    let computer_short = logon
        .computer
        .split('.')
        .next()
        .unwrap_or_default()
        .to_owned();
    let event_id = if logon.success { 4624 } else { 4625 };
    let activity = if logon.success {
        "4624 - An account was successfully logged on."
    } else {
        "4625 - An account failed to log on."
    };
    let account = format!("{}\\{}", logon.domain, logon.user_name);
    let mut row = table.row();
    common(
        &mut row,
        logon.time,
        &logon.computer,
        event_id,
        activity,
        12544,
    );
    row.str("Account", account.clone())
        .str(
            "AccountType",
            if logon.domain == "NT AUTHORITY" {
                "Machine"
            } else {
                "User"
            },
        )
        .str("SubjectUserSid", "S-1-5-18")
        .str("SubjectUserName", format!("{computer_short}$"))
        .str("SubjectDomainName", DOMAIN)
        .str("SubjectLogonId", "0x3e7")
        .str(
            "TargetUserSid",
            if logon.success {
                logon.user_sid
            } else {
                "S-1-0-0"
            },
        )
        .str("TargetUserName", logon.user_name)
        .str("TargetDomainName", logon.domain)
        .str("TargetAccount", account)
        .int("LogonType", logon.logon_type)
        .str("LogonTypeName", logon_type_name(logon.logon_type))
        .str(
            "LogonProcessName",
            if logon.logon_type == 3 {
                "NtLmSsp "
            } else {
                "User32 "
            },
        )
        .str(
            "AuthenticationPackageName",
            if logon.logon_type == 3 {
                "NTLM"
            } else {
                "Negotiate"
            },
        )
        .str("WorkstationName", logon.workstation)
        .str("IpAddress", logon.ip)
        .str(
            "IpPort",
            if logon.ip == "-" {
                "-".to_owned()
            } else {
                rng.random_range(49_152..65_535).to_string()
            },
        )
        .str(
            "Process",
            if logon.logon_type == 3 {
                "-"
            } else {
                "svchost.exe"
            },
        );
    if logon.success {
        row.str(
            "TargetLogonId",
            format!("0x{:x}", rng.random_range(0x10_0000..0xff_ffff)),
        );
    } else {
        row.str("Status", BAD_PASSWORD_STATUS)
            .str("SubStatus", BAD_PASSWORD_SUBSTATUS)
            .str("FailureReason", BAD_PASSWORD_REASON);
    }
}

fn common(
    row: &mut super::table::Row<'_>,
    time: i64,
    computer: &str,
    event_id: i32,
    activity: &str,
    task: i32,
) {
    row.str("TenantId", TENANT_ID)
        .time("TimeGenerated", time)
        .str("SourceSystem", "OpsManager")
        .str("Computer", computer)
        .str("EventSourceName", "Microsoft-Windows-Security-Auditing")
        .str("Channel", "Security")
        .int("Task", task)
        .str("Level", if event_id == 4625 { "0" } else { "8" })
        .int("EventID", event_id)
        .str("Activity", activity)
        .str("Type", "SecurityEvent");
}

fn push_process(table: &mut TableBuilder, org: &Org, launch: &ProcessLaunch) {
    let host = &org.hosts[launch.host];
    let computer_short = host.name.clone();
    let (account, sid, user_name, domain, logon_id, elevation) = match launch.user {
        Some(user) => {
            let user = &org.users[user];
            (
                user.account(),
                user.sid.clone(),
                user.sam.clone(),
                DOMAIN.to_owned(),
                "0x5b3c1f",
                "%%1938",
            )
        }
        None => (
            format!("{DOMAIN}\\{computer_short}$"),
            "S-1-5-18".to_owned(),
            format!("{computer_short}$"),
            DOMAIN.to_owned(),
            "0x3e7",
            "%%1936",
        ),
    };
    let mut row = table.row();
    common(
        &mut row,
        launch.time,
        &host.fqdn(),
        4688,
        "4688 - A new process has been created.",
        13312,
    );
    row.str("Account", account)
        .str(
            "AccountType",
            if launch.user.is_some() {
                "User"
            } else {
                "Machine"
            },
        )
        .str("SubjectUserSid", sid)
        .str("SubjectUserName", user_name)
        .str("SubjectDomainName", domain)
        .str("SubjectLogonId", logon_id)
        .str("TargetLogonId", "0x0")
        .str("NewProcessId", format!("0x{:x}", launch.pid))
        .str("NewProcessName", launch.image_path.clone())
        .str("CommandLine", launch.command_line.clone())
        .str("ParentProcessName", launch.parent_path.clone())
        .str("ProcessId", format!("0x{:x}", launch.parent_pid))
        .str("TokenElevationType", elevation)
        .str("Process", file_name(&launch.image_path));
}

pub(super) fn generate(
    org: &Org,
    rng: &mut ChaCha8Rng,
    launches: &[ProcessLaunch],
    timeline: &Timeline,
    start: i64,
    end: i64,
) -> DataFrame {
    let mut table = TableBuilder::new(COLUMNS);

    // Ordinary logons: users at their workstations, file share access, and service logons.
    for _ in 0..1_300 {
        let user = &org.users[rng.random_range(0..org.users.len())];
        let workstation = &org.hosts[user.workstation];
        let (computer, logon_type, ip, from) = match rng.random_range(0..10) {
            0..=3 => {
                let logon_type = [2, 7, 11][rng.random_range(0..3)];
                (
                    workstation.fqdn(),
                    logon_type,
                    "127.0.0.1",
                    workstation.name.as_str(),
                )
            }
            4..=8 => (
                org.host("FS01").fqdn(),
                3,
                workstation.ip.as_str(),
                workstation.name.as_str(),
            ),
            _ => (
                org.host("RDS01").fqdn(),
                10,
                workstation.ip.as_str(),
                workstation.name.as_str(),
            ),
        };
        let time = office_time(rng, start, end);
        push_logon(
            &mut table,
            rng,
            &Logon {
                time,
                computer,
                user_sid: &user.sid,
                user_name: &user.sam,
                domain: DOMAIN,
                logon_type,
                ip,
                workstation: from,
                success: true,
            },
        );
    }
    for _ in 0..300 {
        let host = &org.hosts[rng.random_range(0..org.hosts.len())];
        let time = office_time(rng, start, end);
        push_logon(
            &mut table,
            rng,
            &Logon {
                time,
                computer: host.fqdn(),
                user_sid: "S-1-5-18",
                user_name: "SYSTEM",
                domain: "NT AUTHORITY",
                logon_type: 5,
                ip: "-",
                workstation: "-",
                success: true,
            },
        );
    }

    // Ordinary failed logons: mistyped passwords, one or two at a time.
    for _ in 0..110 {
        let user = &org.users[rng.random_range(0..org.users.len())];
        let workstation = &org.hosts[user.workstation];
        let time = office_time(rng, start, end);
        push_logon(
            &mut table,
            rng,
            &Logon {
                time,
                computer: workstation.fqdn(),
                user_sid: &user.sid,
                user_name: &user.sam,
                domain: DOMAIN,
                logon_type: 2,
                ip: "127.0.0.1",
                workstation: &workstation.name,
                success: false,
            },
        );
    }

    // The password spray against the remote desktop server, then the attacker's logon.
    let rds = org.host(story::COMPROMISED_HOST).fqdn();
    let sprayed = sprayed_users(org);
    let step = (timeline.spray_end - timeline.spray_start) / sprayed.len() as i64;
    for (index, user) in sprayed.iter().enumerate() {
        let time = timeline.spray_start + index as i64 * step + rng.random_range(0..step.max(1));
        push_logon(
            &mut table,
            rng,
            &Logon {
                time,
                computer: rds.clone(),
                user_sid: &user.sid,
                user_name: &user.sam,
                domain: DOMAIN,
                logon_type: 3,
                ip: story::ATTACKER_IP,
                workstation: story::ATTACKER_WORKSTATION,
                success: false,
            },
        );
    }
    let victim = org
        .users
        .iter()
        .find(|u| u.sam == story::COMPROMISED_USER)
        .expect("the story user exists");
    let time = timeline.logon + rng.random_range(0..30) * NANOS_PER_SECOND;
    push_logon(
        &mut table,
        rng,
        &Logon {
            time,
            computer: rds,
            user_sid: &victim.sid,
            user_name: &victim.sam,
            domain: DOMAIN,
            logon_type: 10,
            ip: story::ATTACKER_IP,
            workstation: story::ATTACKER_WORKSTATION,
            success: true,
        },
    );

    for launch in launches {
        push_process(&mut table, org, launch);
    }
    table.finish()
}

/// Returns the accounts the spray targets: the compromised user and the first others in the directory.
pub(super) fn sprayed_users(org: &Org) -> Vec<&super::org::User> {
    let mut users: Vec<&super::org::User> = org
        .users
        .iter()
        .filter(|u| u.sam != story::COMPROMISED_USER)
        .take(story::SPRAYED_ACCOUNTS - 1)
        .collect();
    let victim = org
        .users
        .iter()
        .find(|u| u.sam == story::COMPROMISED_USER)
        .expect("the story user exists");
    users.insert(users.len() / 2, victim);
    users
}
