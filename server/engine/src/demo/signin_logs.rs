//! The demo `SigninLogs` table: Microsoft Entra ID sign-ins.

use polars::prelude::DataFrame;
use rand::Rng;
use rand::seq::IndexedRandom as _;
use rand_chacha::ChaCha8Rng;

use super::Timeline;
use super::org::{NANOS_PER_SECOND, Org, TENANT_ID, User, guid, office_time};
use super::security_event::sprayed_users;
use super::story;
use super::table::{ColumnType as T, TableBuilder};

// NOTE: the dynamic columns (LocationDetails, DeviceDetail, Status) are left out until the
// engine has a dynamic type; `Location` carries the country code.
const COLUMNS: &[(&str, T)] = &[
    ("TenantId", T::String),
    ("TimeGenerated", T::Datetime),
    ("CreatedDateTime", T::Datetime),
    ("OperationName", T::String),
    ("Category", T::String),
    ("Id", T::String),
    ("CorrelationId", T::String),
    ("UserPrincipalName", T::String),
    ("UserDisplayName", T::String),
    ("UserId", T::String),
    ("UserType", T::String),
    ("Identity", T::String),
    ("AppDisplayName", T::String),
    ("AppId", T::String),
    ("ClientAppUsed", T::String),
    ("IPAddress", T::String),
    ("Location", T::String),
    ("ResultType", T::String),
    ("ResultSignature", T::String),
    ("ResultDescription", T::String),
    ("ConditionalAccessStatus", T::String),
    ("AuthenticationRequirement", T::String),
    ("IsInteractive", T::Bool),
    ("RiskLevelDuringSignIn", T::String),
    ("RiskState", T::String),
    ("UserAgent", T::String),
    ("SourceSystem", T::String),
    ("Type", T::String),
];

/// Applications users sign in to: display name and application id.
const APPS: &[(&str, &str)] = &[
    (
        "Office 365 Exchange Online",
        "00000002-0000-0ff1-ce00-000000000000",
    ),
    ("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"),
    (
        "Office 365 SharePoint Online",
        "00000003-0000-0ff1-ce00-000000000000",
    ),
    ("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"),
    ("My Apps", "2793995e-0a7d-40d7-bd35-6968ba142197"),
];

const BROWSER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const SPRAY_AGENT: &str = "python-requests/2.31.0";

/// The office's internet egress addresses (RFC 5737 TEST-NET-1).
const OFFICE_IPS: &[&str] = &["192.0.2.10", "192.0.2.11", "192.0.2.12"];

struct SignIn<'a> {
    time: i64,
    user: &'a User,
    app: (&'a str, &'a str),
    ip: &'a str,
    location: &'a str,
    result: (&'a str, &'a str),
    client: &'a str,
    agent: &'a str,
    risk: &'a str,
}

fn push(table: &mut TableBuilder, rng: &mut ChaCha8Rng, sign_in: &SignIn<'_>) {
    let success = sign_in.result.0 == "0";
    table
        .row()
        .str("TenantId", TENANT_ID)
        .time("TimeGenerated", sign_in.time)
        .time(
            "CreatedDateTime",
            sign_in.time - rng.random_range(0..3) * NANOS_PER_SECOND,
        )
        .str("OperationName", "Sign-in activity")
        .str("Category", "SignInLogs")
        .str("Id", guid(rng))
        .str("CorrelationId", guid(rng))
        .str("UserPrincipalName", sign_in.user.upn())
        .str("UserDisplayName", sign_in.user.display_name.clone())
        .str("UserId", sign_in.user.object_id.clone())
        .str("UserType", "Member")
        .str("Identity", sign_in.user.display_name.clone())
        .str("AppDisplayName", sign_in.app.0)
        .str("AppId", sign_in.app.1)
        .str("ClientAppUsed", sign_in.client)
        .str("IPAddress", sign_in.ip)
        .str("Location", sign_in.location)
        .str("ResultType", sign_in.result.0)
        .str(
            "ResultSignature",
            if success { "SUCCESS" } else { "FAILURE" },
        )
        .str("ResultDescription", sign_in.result.1)
        .str(
            "ConditionalAccessStatus",
            if success { "success" } else { "notApplied" },
        )
        .str("AuthenticationRequirement", "singleFactorAuthentication")
        .bool("IsInteractive", true)
        .str("RiskLevelDuringSignIn", sign_in.risk)
        .str(
            "RiskState",
            if sign_in.risk == "none" {
                "none"
            } else {
                "atRisk"
            },
        )
        .str("UserAgent", sign_in.agent)
        .str("SourceSystem", "Azure AD")
        .str("Type", "SigninLogs");
}

const SUCCESS: (&str, &str) = ("0", "");
const BAD_PASSWORD: (&str, &str) = (
    "50126",
    "Error validating credentials due to invalid username or password.",
);
const MFA_REQUIRED: (&str, &str) = ("50074", "Strong Authentication is required.");

pub(super) fn generate(
    org: &Org,
    rng: &mut ChaCha8Rng,
    timeline: &Timeline,
    start: i64,
    end: i64,
) -> DataFrame {
    let mut table = TableBuilder::new(COLUMNS);

    for _ in 0..2_000 {
        let user = &org.users[rng.random_range(0..org.users.len())];
        let app = *APPS.choose(rng).expect("the app list is not empty");
        let ip = *OFFICE_IPS.choose(rng).expect("the IP list is not empty");
        let result = match rng.random_range(0..100) {
            0..=3 => BAD_PASSWORD,
            4..=7 => MFA_REQUIRED,
            _ => SUCCESS,
        };
        let time = office_time(rng, start, end);
        push(
            &mut table,
            rng,
            &SignIn {
                time,
                user,
                app,
                ip,
                location: "US",
                result,
                client: "Browser",
                agent: BROWSER_AGENT,
                risk: "none",
            },
        );
    }

    // The spray: one failed sign-in per account from the attacker's address, then a success.
    let sprayed = sprayed_users(org);
    let step = (timeline.spray_end - timeline.spray_start) / sprayed.len() as i64;
    let exchange = APPS[0];
    for (index, user) in sprayed.iter().enumerate() {
        let time = timeline.spray_start + index as i64 * step + rng.random_range(0..step.max(1));
        push(
            &mut table,
            rng,
            &SignIn {
                time,
                user,
                app: exchange,
                ip: story::ATTACKER_IP,
                location: "NL",
                result: BAD_PASSWORD,
                client: "Other clients",
                agent: SPRAY_AGENT,
                risk: "none",
            },
        );
    }
    let victim = org
        .users
        .iter()
        .find(|u| u.sam == story::COMPROMISED_USER)
        .expect("the story user exists");
    push(
        &mut table,
        rng,
        &SignIn {
            time: timeline.logon - 2 * 60 * NANOS_PER_SECOND,
            user: victim,
            app: exchange,
            ip: story::ATTACKER_IP,
            location: "NL",
            result: SUCCESS,
            client: "Other clients",
            agent: SPRAY_AGENT,
            risk: "medium",
        },
    );
    table.finish()
}
