//! The privacy guard: which indicators may leave the machine.
//!
//! The guard keeps these from third-party providers: addresses that are not public (private,
//! loopback, link-local, shared, documentation, multicast or reserved), names under a configured
//! internal domain suffix, configured internal host names, names under special-use suffixes
//! such as `home.arpa`, names without a public suffix (`fileserver`, `host.corp`,
//! `printer.local`) and file paths. URLs and e-mail addresses are judged by their
//! host and domain. Hashes always pass.

use std::net::IpAddr;

use serde::Deserialize;

use super::result::Observable;
use crate::domain::is_public_domain;
use crate::indicator::IocType;
use crate::iptype::{IpType, ip_type};

/// Names that must stay inside the organization.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacyGuard {
    /// Domain suffixes such as `corp.example.com`. The suffix itself and every name under it
    /// are internal.
    pub internal_domains: Vec<String>,
    /// Host names such as `dc01`. The name and its fully qualified forms (`dc01.anything`) are
    /// internal.
    pub internal_hosts: Vec<String>,
}

impl PrivacyGuard {
    /// Returns `Err` with the reason when `observable` must not go to a third party.
    pub fn check(&self, observable: &Observable) -> Result<(), String> {
        match observable.ioc_type {
            IocType::Ipv4 | IocType::Ipv6 => self.check_ip(&observable.value),
            IocType::Dns => self.check_host(&observable.value),
            IocType::Email => {
                let domain = observable.value.rsplit_once('@').map(|(_, domain)| domain);
                match domain {
                    Some(domain) => self.check_host(domain),
                    None => Err("the e-mail address has no domain".to_owned()),
                }
            }
            IocType::Url => match url::Url::parse(&observable.value) {
                Ok(url) => match url.host() {
                    Some(url::Host::Ipv4(address)) => self.check_ip(&address.to_string()),
                    Some(url::Host::Ipv6(address)) => self.check_ip(&address.to_string()),
                    Some(url::Host::Domain(name)) => self.check_host(name),
                    None => Err("the URL has no host".to_owned()),
                },
                Err(error) => Err(format!("the URL is invalid ({error})")),
            },
            IocType::Md5 | IocType::Sha1 | IocType::Sha256 => Ok(()),
            IocType::WindowsPath | IocType::LinuxPath => {
                Err("file paths are never sent to third parties".to_owned())
            }
        }
    }

    fn check_ip(&self, text: &str) -> Result<(), String> {
        let address: IpAddr = text
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address"))?;
        match ip_type(address) {
            IpType::Public => Ok(()),
            other => Err(format!(
                "{address} is a {} address",
                other.as_str().replace('_', "-")
            )),
        }
    }

    fn check_host(&self, name: &str) -> Result<(), String> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        for suffix in &self.internal_domains {
            let suffix = suffix
                .trim_start_matches('.')
                .trim_end_matches('.')
                .to_ascii_lowercase();
            if !suffix.is_empty() && (name == suffix || name.ends_with(&format!(".{suffix}"))) {
                return Err(format!("{name} is under the internal domain {suffix}"));
            }
        }
        for host in &self.internal_hosts {
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            if !host.is_empty() && (name == host || name.starts_with(&format!("{host}."))) {
                return Err(format!("{name} is the internal host {host}"));
            }
        }
        for suffix in SPECIAL_USE_SUFFIXES {
            if name == *suffix || name.ends_with(&format!(".{suffix}")) {
                return Err(format!(
                    "{name} is under {suffix}, which is for local names"
                ));
            }
        }
        if !is_public_domain(&name) {
            return Err(format!("{name} has no public domain suffix"));
        }
        Ok(())
    }
}

/// Special-use suffixes whose names only resolve inside a network, so a name under one always
/// describes an internal host: `local` (RFC 6762), `localhost` (RFC 6761), `home.arpa` (RFC
/// 8375) and `internal`, which ICANN reserved for private use in 2024. Reverse-lookup names
/// under `in-addr.arpa` and `ip6.arpa` spell out an address, possibly a private one. Some of
/// these are in the public suffix list, so the suffix check alone lets them through.
const SPECIAL_USE_SUFFIXES: &[&str] = &[
    "local",
    "localhost",
    "home.arpa",
    "internal",
    "in-addr.arpa",
    "ip6.arpa",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> PrivacyGuard {
        PrivacyGuard {
            internal_domains: vec![
                "corp.example.com".to_owned(),
                ".internal.example.org".to_owned(),
            ],
            internal_hosts: vec!["DC01".to_owned()],
        }
    }

    fn allowed(value: &str, kind: IocType) -> bool {
        guard().check(&Observable::new(value, kind)).is_ok()
    }

    #[test]
    fn addresses() {
        assert!(allowed("8.8.8.8", IocType::Ipv4));
        assert!(!allowed("10.0.0.1", IocType::Ipv4));
        assert!(!allowed("100.64.1.1", IocType::Ipv4));
        assert!(!allowed("192.0.2.1", IocType::Ipv4));
        assert!(!allowed("fe80::1", IocType::Ipv6));
        assert!(!allowed("::ffff:192.168.0.1", IocType::Ipv6));
        assert!(allowed("2606:4700::1111", IocType::Ipv6));
    }

    #[test]
    fn names() {
        assert!(allowed("evil.example.net", IocType::Dns));
        assert!(!allowed("corp.example.com", IocType::Dns));
        assert!(!allowed("files.CORP.example.com", IocType::Dns));
        assert!(!allowed("a.internal.example.org", IocType::Dns));
        assert!(!allowed("dc01.example.net", IocType::Dns));
        assert!(!allowed("printer.local", IocType::Dns));
        assert!(allowed("notcorp.example.com", IocType::Dns));
    }

    #[test]
    fn urls_and_email() {
        assert!(allowed("https://evil.example.net/x", IocType::Url));
        assert!(!allowed("http://10.1.1.1/admin", IocType::Url));
        assert!(!allowed("https://wiki.corp.example.com/page", IocType::Url));
        assert!(!allowed("http://[fd00::1]/", IocType::Url));
        assert!(!allowed("alice@corp.example.com", IocType::Email));
        assert!(allowed("attacker@evil.example.net", IocType::Email));
    }

    #[test]
    fn hashes_and_paths() {
        assert!(allowed("d41d8cd98f00b204e9800998ecf8427e", IocType::Md5));
        assert!(!allowed(
            r"C:\Users\alice\secret.docx",
            IocType::WindowsPath
        ));
    }
}
