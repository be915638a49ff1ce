//! Indicator extraction from free text: IP addresses, domains, URLs, hashes, e-mail addresses
//! and file paths, defanged or not, with the byte range of every match.
//!
//! The patterns follow MSTICPy's `IoCExtract` (msticpy 3.0.2), and so does the rule for a
//! string that matches several types: the type with the lowest priority number wins (see
//! [`IocType::priority`]). Where MSTICPy reports every matching string, overlapping matches here
//! are resolved so that each byte belongs to one indicator: the longest match wins, so a URL
//! keeps its path and a Linux path keeps a hash inside it. A URL's host is reported again on its
//! own as a domain or IP address, as MSTICPy does.
//!
//! Deliberate differences from MSTICPy, all to cut false positives in query text:
//! - IPv4 octets must be 0-255 and an address must not be part of a longer dotted number.
//! - Windows paths need a root (drive, UNC share, `%VARIABLE%` or `.\`), so escapes such as
//!   `\d` in a regex literal are not paths.
//! - Linux paths need at least two components (`/etc/passwd`, not `/60`) and no whitespace.
//! - Trailing sentence punctuation, quotes, pipes and backticks are not part of a URL.
//! - An e-mail local part starts at a letter or digit.
//! - Names that read as KQL property accesses (`p.Name`, `LocationDetails.city`) are not
//!   domains, although `name` and `city` are top-level domains.

mod refang;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use regex::Regex;

use crate::domain::is_public_domain;
use crate::indicator::{Indicator, IocType};

/// A match in the refanged text, before overlaps are resolved.
#[derive(Debug, Clone)]
struct Candidate {
    ioc_type: IocType,
    start: usize,
    end: usize,
}

impl Candidate {
    fn len(&self) -> usize {
        self.end - self.start
    }

    fn overlaps(&self, other: &Candidate) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Extracts every indicator in `text`, ordered by position.
pub fn extract(text: &str) -> Vec<Indicator> {
    let refanged = refang::refang(text);
    let normal = refanged.text.as_str();

    let mut candidates = Vec::new();
    find_urls(normal, &mut candidates);
    find_emails(normal, &mut candidates);
    find_ipv4(normal, &mut candidates);
    find_ipv6(normal, &mut candidates);
    find_domains(normal, &mut candidates);
    find_hashes(normal, &mut candidates);
    find_windows_paths(normal, &mut candidates);
    find_linux_paths(normal, &mut candidates);

    let mut accepted = resolve_overlaps(candidates);
    let hosts: Vec<Candidate> = accepted
        .iter()
        .filter(|candidate| candidate.ioc_type == IocType::Url)
        .filter_map(|url| url_host(normal, url))
        .collect();
    accepted.extend(hosts);
    accepted.sort_by_key(|candidate| (candidate.start, std::cmp::Reverse(candidate.end)));

    accepted
        .into_iter()
        .map(|candidate| {
            let (start, end, defanged) = refanged.original_range(candidate.start, candidate.end);
            Indicator {
                ioc_type: candidate.ioc_type,
                value: normal[candidate.start..candidate.end].to_owned(),
                start,
                end,
                defanged,
            }
        })
        .collect()
}

/// Returns the indicators whose range contains byte `offset` (an offset equal to the end
/// counts, as an editor cursor right after a word does), outermost first: on a URL's host that
/// is the URL, then the host.
pub fn indicators_at(text: &str, offset: usize) -> Vec<Indicator> {
    let mut found: Vec<Indicator> = extract(text)
        .into_iter()
        .filter(|indicator| indicator.start <= offset && offset <= indicator.end)
        .collect();
    found.sort_by_key(|indicator| std::cmp::Reverse(indicator.end - indicator.start));
    found
}

/// Returns the type of `value` when the whole string is one indicator, as MSTICPy's
/// `IoCExtract.get_ioc_type` does; `None` otherwise.
pub fn classify(value: &str) -> Option<IocType> {
    let trimmed = value.trim();
    extract(trimmed)
        .into_iter()
        .find(|indicator| indicator.start == 0 && indicator.end == trimmed.len())
        .map(|indicator| indicator.ioc_type)
}

/// Keeps the longest candidates, then the higher-priority type when two candidates cover the
/// same bytes, and drops every candidate that overlaps one already kept.
fn resolve_overlaps(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by(|a, b| {
        b.len()
            .cmp(&a.len())
            .then(a.ioc_type.priority().cmp(&b.ioc_type.priority()))
            .then(a.start.cmp(&b.start))
    });
    let mut accepted: Vec<Candidate> = Vec::new();
    for candidate in candidates {
        if accepted.iter().all(|kept| !kept.overlaps(&candidate)) {
            accepted.push(candidate);
        }
    }
    accepted
}

fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("indicator pattern compiles"))
}

fn byte_before(text: &str, index: usize) -> Option<u8> {
    index.checked_sub(1).map(|before| text.as_bytes()[before])
}

fn byte_at(text: &str, index: usize) -> Option<u8> {
    text.as_bytes().get(index).copied()
}

fn find_urls(text: &str, out: &mut Vec<Candidate>) {
    static URL: OnceLock<Regex> = OnceLock::new();
    let pattern = concat!(
        r"(?i)\b(?:https?|s?ftps?|telnet|ldap|file)://",
        r"(?:(?:[a-z0-9\-._~!$&()*+,;=:]|%[0-9a-f]{2})*@)?",
        r"(?:[a-z0-9\-._~!$&*+,;=]|%[0-9a-f]{2})*",
        r"(?::[0-9]*)?",
        r#"(?:/[^?#"'<>|`\s]*)?"#,
        r"(?:\?[a-z0-9\-._~!$&()*+,;=:/?@%]*)?",
        r"(?:#[a-z0-9\-._~!$&()*+,;=:/?@%]*)?",
    );
    for found in regex(&URL, pattern).find_iter(text) {
        let value = found.as_str();
        let trimmed = value.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}']);
        let scheme_end = trimmed.find("://").map_or(0, |index| index + 3);
        if trimmed.len() <= scheme_end {
            continue;
        }
        out.push(Candidate {
            ioc_type: IocType::Url,
            start: found.start(),
            end: found.start() + trimmed.len(),
        });
    }
}

/// Returns the host part of a URL candidate when it is a public domain or an IP address.
fn url_host(text: &str, url: &Candidate) -> Option<Candidate> {
    let value = &text[url.start..url.end];
    let authority_start = value.find("://")? + 3;
    let authority = &value[authority_start..];
    let authority_end = authority.find(['/', '?', '#']).unwrap_or(authority.len());
    let authority = &authority[..authority_end];
    let host_start = authority.rfind('@').map_or(0, |at| at + 1);
    let host_and_port = &authority[host_start..];
    let host = host_and_port.split(':').next().unwrap_or_default();
    if host.is_empty() {
        return None;
    }
    let ioc_type = if host.parse::<Ipv4Addr>().is_ok() {
        IocType::Ipv4
    } else if is_public_domain(host) {
        IocType::Dns
    } else {
        return None;
    };
    let start = url.start + authority_start + host_start;
    Some(Candidate {
        ioc_type,
        start,
        end: start + host.len(),
    })
}

/// Labels may contain runs of hyphens, so punycode labels (`xn--80ak6aa92e`) match, and the
/// top-level label is either letters or a punycode label (`xn--p1ai`).
const DOMAIN_BODY: &str = r"(?:[a-z0-9]+(?:-+[a-z0-9]+)*\.)+(?:xn--[a-z0-9]{1,59}|[a-z]{2,63})";

fn find_emails(text: &str, out: &mut Vec<Candidate>) {
    static EMAIL: OnceLock<Regex> = OnceLock::new();
    let pattern = format!(r"(?i)[a-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@({DOMAIN_BODY})");
    for captures in regex(&EMAIL, &pattern).captures_iter(text) {
        let whole = captures.get(0).expect("group 0 always matches");
        let domain = captures.get(1).expect("the domain group is not optional");
        if !is_public_domain(domain.as_str()) || followed_by_name_byte(text, whole.end()) {
            continue;
        }
        let local = &text[whole.start()..domain.start() - 1];
        let Some(local_start) = local.find(|c: char| c.is_ascii_alphanumeric()) else {
            continue;
        };
        out.push(Candidate {
            ioc_type: IocType::Email,
            start: whole.start() + local_start,
            end: whole.end(),
        });
    }
}

fn followed_by_name_byte(text: &str, end: usize) -> bool {
    byte_at(text, end)
        .is_some_and(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

fn find_ipv4(text: &str, out: &mut Vec<Candidate>) {
    static IPV4: OnceLock<Regex> = OnceLock::new();
    let pattern = r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}";
    for found in regex(&IPV4, pattern).find_iter(text) {
        let before_ok = byte_before(text, found.start())
            .is_none_or(|byte| !(byte.is_ascii_alphanumeric() || byte == b'.'));
        let after = byte_at(text, found.end());
        let after_next = byte_at(text, found.end() + 1);
        let continues_number = after.is_some_and(|byte| byte.is_ascii_alphanumeric())
            || (after == Some(b'.') && after_next.is_some_and(|byte| byte.is_ascii_digit()));
        if before_ok && !continues_number && found.as_str().parse::<Ipv4Addr>().is_ok() {
            out.push(Candidate {
                ioc_type: IocType::Ipv4,
                start: found.start(),
                end: found.end(),
            });
        }
    }
}

fn find_ipv6(text: &str, out: &mut Vec<Candidate>) {
    static IPV6: OnceLock<Regex> = OnceLock::new();
    let pattern = concat!(
        r"(?:[0-9a-fA-F]{0,4}:){2,7}",
        r"(?:[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|[0-9a-fA-F]{0,4})",
    );
    for found in regex(&IPV6, pattern).find_iter(text) {
        let value = found.as_str();
        let before_ok = byte_before(text, found.start()).is_none_or(|byte| {
            !(byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b':' | b'.'))
        });
        let after_ok = byte_at(text, found.end())
            .is_none_or(|byte| !(byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b':')));
        let has_digit = value.bytes().any(|byte| byte.is_ascii_hexdigit());
        if before_ok && after_ok && has_digit && value.parse::<Ipv6Addr>().is_ok() {
            out.push(Candidate {
                ioc_type: IocType::Ipv6,
                start: found.start(),
                end: found.end(),
            });
        }
    }
}

fn find_domains(text: &str, out: &mut Vec<Candidate>) {
    static DOMAIN: OnceLock<Regex> = OnceLock::new();
    let pattern = format!("(?i){DOMAIN_BODY}");
    for found in regex(&DOMAIN, &pattern).find_iter(text) {
        // A non-ASCII byte before the match means the name started with a non-ASCII letter.
        // NOTE: internationalized (non-ASCII) domain names are not extracted.
        let before_ok = byte_before(text, found.start()).is_none_or(|byte| {
            !(byte.is_ascii_alphanumeric() || !byte.is_ascii() || matches!(byte, b'-' | b'.'))
        });
        if before_ok
            && !followed_by_name_byte(text, found.end())
            && !looks_like_property_access(found.as_str())
            && is_public_domain(found.as_str())
        {
            out.push(Candidate {
                ioc_type: IocType::Dns,
                start: found.start(),
                end: found.end(),
            });
        }
    }
}

/// Returns true for KQL property accesses that happen to end in a top-level domain, such as
/// `p.Name` or `LocationDetails.city`. Either the last label is mixed case (`Name`), or a
/// two-label name starts with a camelCase label. A camelCase name that ends in an original gTLD
/// or a two-letter country code (`GitHub.com`) stays a domain.
fn looks_like_property_access(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    let last = labels.last().copied().unwrap_or_default();
    let mixed_case = last.bytes().any(|byte| byte.is_ascii_uppercase())
        && last.bytes().any(|byte| byte.is_ascii_lowercase());
    if mixed_case {
        return true;
    }
    let camel_case = |label: &str| {
        label
            .as_bytes()
            .windows(2)
            .any(|pair| pair[0].is_ascii_lowercase() && pair[1].is_ascii_uppercase())
    };
    let common_suffix = last.len() == 2
        || ["com", "net", "org", "edu", "gov", "mil", "int"]
            .contains(&last.to_ascii_lowercase().as_str());
    labels.len() == 2 && camel_case(labels[0]) && !common_suffix
}

fn find_hashes(text: &str, out: &mut Vec<Candidate>) {
    static HEX_RUN: OnceLock<Regex> = OnceLock::new();
    for found in regex(&HEX_RUN, "[0-9a-fA-F]+").find_iter(text) {
        let ioc_type = match found.len() {
            32 => IocType::Md5,
            40 => IocType::Sha1,
            64 => IocType::Sha256,
            _ => continue,
        };
        out.push(Candidate {
            ioc_type,
            start: found.start(),
            end: found.end(),
        });
    }
}

fn find_windows_paths(text: &str, out: &mut Vec<Candidate>) {
    static WINDOWS_PATH: OnceLock<Regex> = OnceLock::new();
    let pattern = concat!(
        r#"(?i)(?:\b[a-z]:|\\\\[a-z0-9_.$-]+|%[a-z0-9_()]+%|\.{1,2})"#,
        r#"(?:\\{1,2}[^\\/:*?"'<>|\r\n]+)*"#,
        r#"\\{1,2}[^\\/:*?"'<>|\s]+"#,
    );
    for found in regex(&WINDOWS_PATH, pattern).find_iter(text) {
        let before_ok = byte_before(text, found.start()).is_none_or(|byte| {
            !(byte.is_ascii_alphanumeric() || matches!(byte, b'\\' | b'.' | b'_' | b'-'))
        });
        if !before_ok {
            continue;
        }
        push_path(IocType::WindowsPath, found.start(), found.as_str(), out);
    }
}

fn find_linux_paths(text: &str, out: &mut Vec<Candidate>) {
    static LINUX_PATH: OnceLock<Regex> = OnceLock::new();
    let pattern = r#"(?:~|\.{1,2})?(?:/[^/\\\s:*?"'<>|(),;=`]+){2,}/?"#;
    for found in regex(&LINUX_PATH, pattern).find_iter(text) {
        let before_ok = byte_before(text, found.start()).is_none_or(|byte| {
            !(byte.is_ascii_alphanumeric()
                || matches!(byte, b':' | b'/' | b'.' | b'\\' | b'-' | b'_'))
        });
        if before_ok {
            push_path(IocType::LinuxPath, found.start(), found.as_str(), out);
        }
    }
}

/// Adds a path candidate without trailing sentence punctuation.
fn push_path(ioc_type: IocType, start: usize, value: &str, out: &mut Vec<Candidate>) {
    let trimmed = value.trim_end_matches(['.', ',', ';', ')', ']', '}']);
    if trimmed.len() > 2 {
        out.push(Candidate {
            ioc_type,
            start,
            end: start + trimmed.len(),
        });
    }
}
