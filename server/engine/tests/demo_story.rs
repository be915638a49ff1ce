//! Hunting the demo dataset's planted intrusion with KQL, as a hunter would.

mod common;

use std::sync::Arc;

use common::*;
use quarry_engine::demo::story;
use quarry_engine::{DataSource, FixedClock, QueryOutput, RunOptions, Session};

fn hunt(query: &str) -> QueryOutput {
    Session::with_clock(DataSource::Demo, Arc::new(FixedClock(NOW)))
        .run(query, &RunOptions::default())
        .unwrap_or_else(|error| panic!("{error} at {:?}\n{query}", error.range))
}

#[test]
fn password_spray_stands_out() {
    let output = hunt(
        "SecurityEvent | where TimeGenerated > ago(2d) and EventID == 4625 \
         | summarize accounts = dcount(TargetUserName), attempts = count() by IpAddress, bin(TimeGenerated, 1h) \
         | where accounts >= 10",
    );
    assert_eq!(strings(&output, "IpAddress"), [story::ATTACKER_IP]);
    assert_eq!(
        longs(&output, "accounts"),
        [Some(story::SPRAYED_ACCOUNTS as i64)]
    );

    let output = hunt(
        "SigninLogs | where ResultType == '50126' | summarize users = dcount(UserPrincipalName) by IPAddress | top 1 by users",
    );
    assert_eq!(strings(&output, "IPAddress"), [story::ATTACKER_IP]);
}

#[test]
fn sprayed_account_then_logs_on() {
    let output = hunt(&format!(
        "SecurityEvent | where EventID == 4624 and IpAddress == '{}' | project TargetUserName, Computer, LogonType",
        story::ATTACKER_IP
    ));
    assert_eq!(
        strings(&output, "TargetUserName"),
        [story::COMPROMISED_USER]
    );
    assert_eq!(strings(&output, "Computer"), ["RDS01.contoso.com"]);
    assert_eq!(longs(&output, "LogonType"), [Some(10)]);

    let output = hunt(&format!(
        "SigninLogs | where IPAddress == '{}' and ResultType == '0' | project UserPrincipalName",
        story::ATTACKER_IP
    ));
    assert_eq!(
        strings(&output, "UserPrincipalName"),
        ["jordan.lee@contoso.com"]
    );
}

#[test]
fn encoded_powershell_is_found() {
    let output = hunt(
        "DeviceProcessEvents | where FileName =~ 'powershell.exe' and ProcessCommandLine has '-enc' \
         | project DeviceName, AccountName, InitiatingProcessFileName",
    );
    assert_eq!(strings(&output, "DeviceName"), ["rds01.contoso.com"]);
    assert_eq!(strings(&output, "AccountName"), [story::COMPROMISED_USER]);
    assert_eq!(strings(&output, "InitiatingProcessFileName"), ["cmd.exe"]);

    let output =
        hunt("SecurityEvent | where EventID == 4688 and CommandLine contains ' -enc ' | count");
    assert_eq!(longs(&output, "Count"), [Some(1)]);
}

#[test]
fn beacon_is_regular() {
    let output = hunt(&format!(
        "DeviceNetworkEvents | where RemoteIP == '{}' \
         | summarize n = count(), first = min(TimeGenerated), last = max(TimeGenerated), devices = dcount(DeviceName)",
        story::C2_IP
    ));
    let n = longs(&output, "n")[0].unwrap();
    // About five hours of one connection a minute.
    assert!((250..=340).contains(&n), "{n} beacons");
    assert_eq!(longs(&output, "devices"), [Some(1)]);

    let output = hunt(&format!(
        "DeviceNetworkEvents | where RemoteIP == '{}' | summarize n = count() by bin(TimeGenerated, 1h) | where n >= 55",
        story::C2_IP
    ));
    assert!(
        output.row_count >= 4,
        "{} full hours of beaconing",
        output.row_count
    );
}

#[test]
fn system_clock_ago_finds_the_story() {
    // With the real clock, the dataset is anchored to today, so `ago(2d)` always covers the intrusion.
    let output = Session::new(DataSource::Demo)
        .run(
            &format!(
                "DeviceNetworkEvents | where TimeGenerated > ago(2d) and RemoteIP == '{}' | count",
                story::C2_IP
            ),
            &RunOptions::default(),
        )
        .unwrap();
    assert!(output.rows[0][0].as_i64().unwrap() > 250);
}

#[test]
fn signin_location_details_by_country() {
    let output = hunt(
        "SigninLogs | extend c = tostring(LocationDetails.countryOrRegion) \
         | summarize n = count() by c | order by c asc",
    );
    assert_eq!(strings(&output, "c"), ["NL", "US"]);
    // The spray sends one sign-in per account, and the attacker signs in once more.
    assert_eq!(
        longs(&output, "n")[0],
        Some(story::SPRAYED_ACCOUNTS as i64 + 1)
    );

    let output = hunt(
        "SigninLogs | where tostring(LocationDetails.countryOrRegion) != Location \
         or isempty(tostring(LocationDetails.city)) \
         or isnull(toreal(LocationDetails.geoCoordinates.latitude)) | count",
    );
    assert_eq!(longs(&output, "Count"), [Some(0)]);
}

#[test]
fn signin_status_matches_result_type() {
    let output = hunt("SigninLogs | where tolong(Status.errorCode) != tolong(ResultType) | count");
    assert_eq!(longs(&output, "Count"), [Some(0)]);

    let output = hunt(
        "SigninLogs | extend reason = tostring(Status.failureReason) \
         | summarize n = count(), with_reason = countif(isnotempty(reason)), reasons = dcount(reason) by ResultType \
         | order by ResultType asc",
    );
    assert_eq!(strings(&output, "ResultType"), ["0", "50074", "50126"]);
    // Successes carry no failure reason; every failure has one, the same for each code.
    let counts = longs(&output, "n");
    assert_eq!(
        longs(&output, "with_reason"),
        [Some(0), counts[1], counts[2]]
    );
    assert_eq!(longs(&output, "reasons"), [Some(1), Some(1), Some(1)]);

    let output = hunt(
        "SigninLogs | where ResultType == '50126' | take 1 | project reason = tostring(Status.failureReason)",
    );
    assert_eq!(
        strings(&output, "reason"),
        ["Error validating credentials due to invalid username or password."]
    );
}

#[test]
fn signin_device_detail_tells_spray_apart() {
    let output = hunt(&format!(
        "SigninLogs | where IPAddress == '{}' \
         | summarize n = count() by browser = tostring(DeviceDetail.browser), trust = tostring(DeviceDetail.trustType)",
        story::ATTACKER_IP
    ));
    assert_eq!(strings(&output, "browser"), ["Python Requests 2.31"]);
    assert_eq!(strings(&output, "trust"), [""]);

    // Office sign-ins come from managed workstations and some unmanaged phones.
    let output = hunt(&format!(
        "SigninLogs | where IPAddress != '{}' \
         | summarize n = count(), devices = dcount(tostring(DeviceDetail.deviceId)) \
         by os = tostring(DeviceDetail.operatingSystem), managed = tobool(DeviceDetail.isManaged) \
         | order by os asc",
        story::ATTACKER_IP
    ));
    assert_eq!(strings(&output, "os"), ["Ios 17.4", "Windows10"]);
    let counts = longs(&output, "n");
    assert!(
        counts[0] < counts[1],
        "more phone than workstation sign-ins: {counts:?}"
    );
    // Phones have no Entra device id; each workstation has its own.
    let devices = longs(&output, "devices");
    assert_eq!(devices[0], Some(1));
    assert!(devices[1].unwrap() > 10, "{devices:?}");
}
