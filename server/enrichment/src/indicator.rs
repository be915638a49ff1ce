//! Indicator types and the indicators found in a text.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kind of an indicator of compromise. The serialized names are MSTICPy's `IoCType` names,
/// so results line up with MSTICPy output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IocType {
    Ipv4,
    Ipv6,
    /// A domain or host name whose suffix is on the public suffix list.
    Dns,
    Url,
    Email,
    #[serde(rename = "md5_hash")]
    Md5,
    #[serde(rename = "sha1_hash")]
    Sha1,
    #[serde(rename = "sha256_hash")]
    Sha256,
    WindowsPath,
    LinuxPath,
}

impl IocType {
    pub const ALL: [IocType; 10] = [
        IocType::Ipv4,
        IocType::Ipv6,
        IocType::Dns,
        IocType::Url,
        IocType::Email,
        IocType::Md5,
        IocType::Sha1,
        IocType::Sha256,
        IocType::WindowsPath,
        IocType::LinuxPath,
    ];

    /// Returns MSTICPy's name for the type, such as `ipv4` or `md5_hash`.
    pub fn as_str(self) -> &'static str {
        match self {
            IocType::Ipv4 => "ipv4",
            IocType::Ipv6 => "ipv6",
            IocType::Dns => "dns",
            IocType::Url => "url",
            IocType::Email => "email",
            IocType::Md5 => "md5_hash",
            IocType::Sha1 => "sha1_hash",
            IocType::Sha256 => "sha256_hash",
            IocType::WindowsPath => "windows_path",
            IocType::LinuxPath => "linux_path",
        }
    }

    /// MSTICPy's match priority: when one string matches several types, the lowest number wins
    /// (from `msticpy.transform.iocextract.IoCExtract.__init__`, msticpy 3.0.2).
    pub fn priority(self) -> u8 {
        match self {
            IocType::Ipv4 | IocType::Ipv6 | IocType::Url => 0,
            IocType::Email | IocType::Md5 | IocType::Sha1 | IocType::Sha256 => 1,
            IocType::Dns => 2,
            IocType::WindowsPath => 3,
            IocType::LinuxPath => 4,
        }
    }

    pub fn is_ip(self) -> bool {
        matches!(self, IocType::Ipv4 | IocType::Ipv6)
    }

    pub fn is_hash(self) -> bool {
        matches!(self, IocType::Md5 | IocType::Sha1 | IocType::Sha256)
    }
}

impl fmt::Display for IocType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IocType {
    type Err = String;

    fn from_str(text: &str) -> Result<IocType, String> {
        let lower = text.to_ascii_lowercase();
        let found = IocType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == lower)
            .or(match lower.as_str() {
                "domain" | "hostname" => Some(IocType::Dns),
                "md5" => Some(IocType::Md5),
                "sha1" => Some(IocType::Sha1),
                "sha256" => Some(IocType::Sha256),
                _ => None,
            });
        found.ok_or_else(|| {
            let names: Vec<&str> = IocType::ALL.iter().map(|kind| kind.as_str()).collect();
            format!(
                "unknown indicator type `{text}`; expected one of {}",
                names.join(", ")
            )
        })
    }
}

/// One indicator found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    #[serde(rename = "type")]
    pub ioc_type: IocType,
    /// The indicator with defanging removed (`hxxp` becomes `http`, `[.]` becomes `.`).
    pub value: String,
    /// Byte offset of the first byte of the match in the original text.
    pub start: usize,
    /// Byte offset one past the last byte of the match in the original text.
    pub end: usize,
    /// True when the original text was defanged.
    pub defanged: bool,
}

impl Indicator {
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// Returns the indicator as a lookup key for GeoIP and threat intelligence.
    pub fn observable(&self) -> crate::ti::Observable {
        crate::ti::Observable::new(self.value.clone(), self.ioc_type)
    }
}
