//! The demo `SigninLogs` table: Microsoft Entra ID sign-ins.

use polars::prelude::DataFrame;
use rand::seq::IndexedRandom as _;
use rand::{Rng, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::Timeline;
use super::org::{NANOS_PER_SECOND, Org, TENANT_ID, User, guid, office_time};
use super::security_event::sprayed_users;
use super::story;
use super::table::{ColumnType as T, TableBuilder};

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
    ("LocationDetails", T::Dynamic),
    ("ResultType", T::String),
    ("ResultSignature", T::String),
    ("ResultDescription", T::String),
    ("Status", T::Dynamic),
    ("ConditionalAccessStatus", T::String),
    ("AuthenticationRequirement", T::String),
    ("IsInteractive", T::Bool),
    ("RiskLevelDuringSignIn", T::String),
    ("RiskState", T::String),
    ("UserAgent", T::String),
    ("DeviceDetail", T::Dynamic),
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
const PHONE_AGENT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
const SPRAY_AGENT: &str = "python-requests/2.31.0";

/// The office's internet egress addresses (RFC 5737 TEST-NET-1).
const OFFICE_IPS: &[&str] = &["192.0.2.10", "192.0.2.11", "192.0.2.12"];

/// A sign-in's location as Entra ID records it: the `Location` country code and the fields of
/// `LocationDetails`.
struct Place {
    country: &'static str,
    state: &'static str,
    city: &'static str,
    latitude: f64,
    longitude: f64,
}

const OFFICE: Place = Place {
    country: "US",
    state: "Washington",
    city: "Seattle",
    latitude: 47.6062,
    longitude: -122.3321,
};

/// The location the spraying address resolves to.
const ATTACKER_PLACE: Place = Place {
    country: "NL",
    state: "Noord-Holland",
    city: "Amsterdam",
    latitude: 52.3676,
    longitude: 4.9041,
};

impl Place {
    /// Builds `LocationDetails` with the property names and shapes of Sentinel's column.
    fn details(&self) -> Value {
        json!({
            "city": self.city,
            "state": self.state,
            "countryOrRegion": self.country,
            "geoCoordinates": {"latitude": self.latitude, "longitude": self.longitude},
        })
    }
}

/// The device a sign-in came from: its `DeviceDetail` and the user agent that goes with it.
struct Device {
    detail: Value,
    agent: &'static str,
}

impl Device {
    /// Returns a user's hybrid-joined, managed office workstation with Chrome.
    fn workstation(entra_device_id: &str, name: &str) -> Device {
        Device {
            detail: json!({
                "deviceId": entra_device_id,
                "displayName": name,
                "operatingSystem": "Windows10",
                "browser": "Chrome 124.0.0",
                "isCompliant": true,
                "isManaged": true,
                "trustType": "Hybrid Azure AD joined",
            }),
            agent: BROWSER_AGENT,
        }
    }

    /// Returns a personal iPhone, which Entra ID does not manage.
    fn phone() -> Device {
        Device {
            detail: unregistered_device("Ios 17.4", "Mobile Safari 17.4"),
            agent: PHONE_AGENT,
        }
    }

    /// Returns the spraying script, whose user agent names no operating system.
    fn spray_script() -> Device {
        Device {
            detail: unregistered_device("", "Python Requests 2.31"),
            agent: SPRAY_AGENT,
        }
    }
}

fn unregistered_device(operating_system: &str, browser: &str) -> Value {
    json!({
        "deviceId": "",
        "displayName": "",
        "operatingSystem": operating_system,
        "browser": browser,
        "isCompliant": false,
        "isManaged": false,
        "trustType": "",
    })
}

/// Builds `Status` from a result code and description as Entra ID fills it. `errorCode` is the
/// numeric `ResultType`, and failures add `failureReason`.
fn status(result: (&str, &str)) -> Value {
    let (code, description) = result;
    let error_code: i64 = code.parse().expect("the demo result codes are numbers");
    if error_code == 0 {
        return json!({"errorCode": 0});
    }
    let mut status = json!({"errorCode": error_code, "failureReason": description});
    if code == MFA_REQUIRED.0 {
        status["additionalDetails"] = json!("MFA required in Azure AD");
    }
    status
}

struct SignIn<'a> {
    time: i64,
    user: &'a User,
    app: (&'a str, &'a str),
    ip: &'a str,
    place: &'a Place,
    result: (&'a str, &'a str),
    client: &'a str,
    device: &'a Device,
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
        .str("Location", sign_in.place.country)
        .dynamic("LocationDetails", sign_in.place.details())
        .str("ResultType", sign_in.result.0)
        .str(
            "ResultSignature",
            if success { "SUCCESS" } else { "FAILURE" },
        )
        .str("ResultDescription", sign_in.result.1)
        .dynamic("Status", status(sign_in.result))
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
        .str("UserAgent", sign_in.device.agent)
        .dynamic("DeviceDetail", sign_in.device.detail.clone())
        .str("SourceSystem", "Azure AD")
        .str("Type", "SigninLogs");
}

const SUCCESS: (&str, &str) = ("0", "");
const BAD_PASSWORD: (&str, &str) = (
    "50126",
    "Error validating credentials due to invalid username or password.",
);
const MFA_REQUIRED: (&str, &str) = ("50074", "Strong Authentication is required.");

/// Mixed into [`super::SEED`] for the generator of the device columns.
const DEVICE_SEED_SALT: u64 = 0x4445_5649_4345;

/// The share of office sign-ins, in percent, made from a personal phone.
const PHONE_PERCENT: u32 = 15;

pub(super) fn generate(
    org: &Org,
    rng: &mut ChaCha8Rng,
    timeline: &Timeline,
    start: i64,
    end: i64,
) -> DataFrame {
    let mut table = TableBuilder::new(COLUMNS);

    // The device columns use a generator of their own, so adding them changed no other value
    // of the dataset.
    let mut device_rng = ChaCha8Rng::seed_from_u64(super::SEED ^ DEVICE_SEED_SALT);
    let workstations: Vec<Device> = org
        .hosts
        .iter()
        .map(|host| Device::workstation(&guid(&mut device_rng), &host.name))
        .collect();
    let phone = Device::phone();
    let spray_script = Device::spray_script();

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
        let device = if device_rng.random_range(0..100) < PHONE_PERCENT {
            &phone
        } else {
            &workstations[user.workstation]
        };
        push(
            &mut table,
            rng,
            &SignIn {
                time,
                user,
                app,
                ip,
                place: &OFFICE,
                result,
                client: "Browser",
                device,
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
                place: &ATTACKER_PLACE,
                result: BAD_PASSWORD,
                client: "Other clients",
                device: &spray_script,
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
            place: &ATTACKER_PLACE,
            result: SUCCESS,
            client: "Other clients",
            device: &spray_script,
            risk: "medium",
        },
    );
    table.finish()
}
