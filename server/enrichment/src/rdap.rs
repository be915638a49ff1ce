//! Whois over RDAP (RFC 9082 queries, RFC 9083 JSON responses) for IP addresses and domains.
//!
//! RDAP is off until the `[rdap]` table of `enrichment.toml` enables it, because a lookup sends
//! the indicator to a registry. The privacy guard of `[ti.privacy]` applies as it does for
//! threat-intelligence providers, so private addresses and internal names are never sent.
//!
//! ```toml
//! [rdap]
//! enabled = true
//! ip_base_url = "https://rdap.arin.net/registry/"
//! default_base_url = "https://rdap.org/"
//!
//! [rdap.domain_base_urls]
//! com = "https://rdap.verisign.com/com/v1/"
//! ```
//!
//! Records and "no record" responses are cached on disk like threat-intelligence results, so a
//! second lookup of the same indicator within `cache_ttl_hours` sends nothing.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::indicator::IocType;
use crate::ti::http::{ApiRequest, HttpCore};
use crate::ti::{
    DEFAULT_CACHE_TTL, DiskCache, HttpSettings, LookupStatus, Observable, PrivacyGuard, RateLimit,
};

/// Base URL used when RDAP is enabled without any base URL. rdap.org redirects each query to
/// the registry that IANA's bootstrap files name.
pub const DEFAULT_BASE_URL: &str = "https://rdap.org/";

/// The `[rdap]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RdapConfig {
    /// Allows lookups at all (default false).
    pub enabled: bool,
    /// Base URL for IP lookups. The query is `<base>ip/<address>`.
    pub ip_base_url: Option<Url>,
    /// Base URLs for domain lookups by top-level domain, without the dot (`com`, `xn--p1ai`).
    /// The query is `<base>domain/<name>`.
    pub domain_base_urls: BTreeMap<String, Url>,
    /// Base URL for every lookup that no other setting covers.
    pub default_base_url: Option<Url>,
    /// Time allowed for one request, in seconds (default 10).
    pub timeout_seconds: Option<f64>,
    /// Caches records and "no record" responses under the cache folder (default true).
    pub cache: bool,
    /// Time to live of a cached response, in hours (default 24).
    pub cache_ttl_hours: f64,
}

impl Default for RdapConfig {
    fn default() -> RdapConfig {
        RdapConfig {
            enabled: false,
            ip_base_url: None,
            domain_base_urls: BTreeMap::new(),
            default_base_url: None,
            timeout_seconds: None,
            cache: true,
            cache_ttl_hours: DEFAULT_CACHE_TTL.as_secs_f64() / 3600.0,
        }
    }
}

/// Reason a whois lookup returned no record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RdapError {
    #[error("RDAP is not enabled; set `enabled = true` in the [rdap] table of enrichment.toml")]
    NotEnabled,
    #[error("{value} is not an IP address or domain name, so it has no whois record")]
    UnsupportedType { value: String },
    #[error("{value} was not sent to RDAP: {reason}")]
    Blocked { value: String, reason: String },
    #[error(
        "no RDAP base URL covers {value}; set ip_base_url, domain_base_urls or default_base_url"
    )]
    NoBaseUrl { value: String },
    #[error("the RDAP server has no record of {value} (HTTP 404)")]
    NotFound { value: String },
    #[error("{message}")]
    RateLimited { message: String },
    #[error("{message}")]
    TimedOut { message: String },
    #[error("RDAP lookup of {value} failed: {message}")]
    Failed { value: String, message: String },
}

/// One dated event of an RDAP object, such as `registration` or `expiration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdapEvent {
    pub action: String,
    pub date: String,
}

/// A contact or organization attached to the object, with its roles (`registrant`,
/// `abuse`, `registrar`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdapEntity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    pub roles: Vec<String>,
    /// The vCard `fn` (formatted name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The fields of an RDAP IP network or domain object that a hunter reads first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoisRecord {
    /// The indicator as looked up.
    pub query: String,
    /// `ip network` or `domain`, from the response's `objectClassName`.
    pub object_class: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// The network name, or the domain's `ldhName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// First and last address of an IP network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_address: Option<String>,
    /// CIDR blocks of an IP network (`cidr0_cidrs` extension), such as `8.8.8.0/24`.
    pub cidrs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    pub status: Vec<String>,
    pub events: Vec<RdapEvent>,
    pub entities: Vec<RdapEntity>,
    pub nameservers: Vec<String>,
    /// `href` of every link, `self` first when the server sent one.
    pub links: Vec<String>,
    /// The URL that was queried.
    pub source_url: String,
    /// Whether the record came from the disk cache instead of the server.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
}

/// The response of an RDAP server that the cache keeps: a record, or a 404.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum CachedResponse {
    Record(Box<WhoisRecord>),
    NotFound,
}

/// The cache file name stem, which must differ from every threat-intelligence provider name
/// in case both share a folder.
const CACHE_NAME: &str = "rdap-whois";

/// Sends RDAP queries, one HTTP client (with its own rate limit) per configured base URL.
pub struct RdapClient {
    config: RdapConfig,
    privacy: PrivacyGuard,
    clients: HashMap<String, HttpCore>,
    cache: Option<DiskCache<CachedResponse>>,
}

impl RdapClient {
    /// Builds the client. When RDAP is enabled and no base URL is set, every lookup goes to
    /// [`DEFAULT_BASE_URL`].
    pub fn new(config: &RdapConfig, privacy: &PrivacyGuard) -> RdapClient {
        let mut config = config.clone();
        let no_base_url = config.ip_base_url.is_none()
            && config.domain_base_urls.is_empty()
            && config.default_base_url.is_none();
        if config.enabled && no_base_url {
            config.default_base_url =
                Some(Url::parse(DEFAULT_BASE_URL).expect("the default RDAP URL is valid"));
        }
        config.domain_base_urls = config
            .domain_base_urls
            .into_iter()
            .map(|(tld, url)| (tld.trim_start_matches('.').to_ascii_lowercase(), url))
            .collect();

        let timeout = config
            .timeout_seconds
            .map_or(Duration::from_secs(10), |seconds| {
                Duration::from_secs_f64(seconds.max(0.001))
            });
        let mut clients = HashMap::new();
        let all_urls = config
            .ip_base_url
            .iter()
            .chain(config.domain_base_urls.values())
            .chain(config.default_base_url.iter());
        for url in all_urls {
            clients.entry(url.to_string()).or_insert_with(|| {
                // Registries publish no common limit; 60 a minute keeps a hunter's bursts
                // polite without slowing single lookups.
                let mut settings = HttpSettings::new(url.as_str(), RateLimit::per_minute(60));
                settings.timeout = timeout;
                HttpCore::new("RDAP", settings)
            });
        }
        RdapClient {
            config,
            privacy: privacy.clone(),
            clients,
            cache: None,
        }
    }

    /// Caches responses in `folder`, unless `cache = false` in the `[rdap]` table. `None` leaves
    /// the cache off, as `quarry enrich --no-cache` does.
    pub fn with_cache_folder(mut self, folder: Option<&Path>) -> RdapClient {
        self.cache = match folder {
            Some(folder) if self.config.cache => Some(DiskCache::new(
                folder,
                Duration::from_secs_f64(self.config.cache_ttl_hours.max(0.0) * 3600.0),
            )),
            _ => None,
        };
        self
    }

    /// Looks `observable` up. Only IPv4, IPv6 and domain indicators have records.
    pub async fn lookup(&self, observable: &Observable) -> Result<WhoisRecord, RdapError> {
        let value = observable.normalized();
        if !self.config.enabled {
            return Err(RdapError::NotEnabled);
        }
        let (base_url, path) = match observable.ioc_type {
            IocType::Ipv4 | IocType::Ipv6 => {
                let address: IpAddr = value.parse().map_err(|_| RdapError::UnsupportedType {
                    value: value.clone(),
                })?;
                let base = self
                    .config
                    .ip_base_url
                    .as_ref()
                    .or(self.config.default_base_url.as_ref());
                (base, format!("ip/{address}"))
            }
            IocType::Dns => {
                let name = value.trim_end_matches('.').to_owned();
                let tld = name.rsplit('.').next().unwrap_or_default();
                let base = self
                    .config
                    .domain_base_urls
                    .get(tld)
                    .or(self.config.default_base_url.as_ref());
                (base, format!("domain/{name}"))
            }
            _ => return Err(RdapError::UnsupportedType { value }),
        };
        if let Err(reason) = self.privacy.check(observable) {
            return Err(RdapError::Blocked { value, reason });
        }
        let Some(base_url) = base_url else {
            return Err(RdapError::NoBaseUrl { value });
        };
        if let Some(response) = self
            .cache
            .as_ref()
            .and_then(|cache| cache.get_value(CACHE_NAME, observable))
        {
            tracing::debug!(query = %value, "RDAP response read from the cache");
            return match response {
                CachedResponse::Record(mut record) => {
                    record.cached = true;
                    Ok(*record)
                }
                CachedResponse::NotFound => Err(RdapError::NotFound { value }),
            };
        }
        let fetched = self.fetch(&value, base_url, &path).await;
        if let Some(cache) = &self.cache {
            match &fetched {
                Ok(record) => cache.put_value(
                    CACHE_NAME,
                    observable,
                    CachedResponse::Record(Box::new(record.clone())),
                ),
                Err(RdapError::NotFound { .. }) => {
                    cache.put_value(CACHE_NAME, observable, CachedResponse::NotFound)
                }
                // Errors are not cached, so the next lookup tries again.
                Err(_) => {}
            }
        }
        fetched
    }

    /// Sends the query `path` to `base_url` and reads the record.
    async fn fetch(
        &self,
        value: &str,
        base_url: &Url,
        path: &str,
    ) -> Result<WhoisRecord, RdapError> {
        let value = value.to_owned();
        let client = self
            .clients
            .get(base_url.as_str())
            .expect("every configured base URL has a client");

        let mut request = ApiRequest::get(path.to_owned());
        request.headers.push((
            "Accept",
            "application/rdap+json, application/json".to_owned(),
        ));
        let source_url = format!("{}{path}", ensure_trailing_slash(base_url.as_str()));
        let (status, body) = client.send(&request).await.map_err(|failure| {
            tracing::warn!(query = %value, error = %failure.message, "RDAP lookup failed");
            match failure.status {
                LookupStatus::RateLimited => RdapError::RateLimited {
                    message: failure.message,
                },
                LookupStatus::TimedOut => RdapError::TimedOut {
                    message: failure.message,
                },
                _ => RdapError::Failed {
                    value: value.clone(),
                    message: failure.message,
                },
            }
        })?;
        match status {
            200 => {}
            404 => return Err(RdapError::NotFound { value }),
            _ => {
                tracing::warn!(query = %value, status, "RDAP server returned an error status");
                return Err(RdapError::Failed {
                    value,
                    message: format!("the server returned HTTP {status}"),
                });
            }
        }
        let json: Value = serde_json::from_slice(&body).map_err(|error| RdapError::Failed {
            value: value.clone(),
            message: format!("the response is not valid JSON ({error})"),
        })?;
        parse_record(&value, &source_url, &json)
            .map_err(|message| RdapError::Failed { value, message })
    }
}

fn ensure_trailing_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    }
}

/// Reads an RFC 9083 IP network or domain object. Unknown members are ignored, and a member
/// of the wrong JSON type counts as absent.
pub fn parse_record(query: &str, source_url: &str, json: &Value) -> Result<WhoisRecord, String> {
    let Some(object) = json.as_object() else {
        return Err("the response is not a JSON object".to_owned());
    };
    let object_class = string_member(json, "objectClassName")
        .ok_or("the response has no objectClassName, so it is not an RDAP object")?;
    if let Some(code) = object.get("errorCode").and_then(Value::as_u64) {
        return Err(format!("the server returned RDAP error {code}"));
    }

    let name = string_member(json, "name").or_else(|| string_member(json, "ldhName"));
    let cidrs = array_member(json, "cidr0_cidrs")
        .iter()
        .filter_map(|cidr| {
            let prefix =
                string_member(cidr, "v4prefix").or_else(|| string_member(cidr, "v6prefix"))?;
            let length = cidr.get("length")?.as_u64()?;
            Some(format!("{prefix}/{length}"))
        })
        .collect();
    let events = array_member(json, "events")
        .iter()
        .filter_map(|event| {
            Some(RdapEvent {
                action: string_member(event, "eventAction")?,
                date: string_member(event, "eventDate")?,
            })
        })
        .collect();
    let mut entities = Vec::new();
    collect_entities(json, &mut entities, 0);
    let nameservers = array_member(json, "nameservers")
        .iter()
        .filter_map(|server| string_member(server, "ldhName"))
        .collect();
    let mut links: Vec<(bool, String)> = array_member(json, "links")
        .iter()
        .filter_map(|link| {
            let is_self = string_member(link, "rel").as_deref() == Some("self");
            Some((is_self, string_member(link, "href")?))
        })
        .collect();
    links.sort_by_key(|(is_self, _)| !is_self);

    Ok(WhoisRecord {
        query: query.to_owned(),
        object_class,
        handle: string_member(json, "handle"),
        name,
        start_address: string_member(json, "startAddress"),
        end_address: string_member(json, "endAddress"),
        cidrs,
        country: string_member(json, "country"),
        status: array_member(json, "status")
            .iter()
            .filter_map(|status| status.as_str().map(str::to_owned))
            .collect(),
        events,
        entities,
        nameservers,
        links: links.into_iter().map(|(_, href)| href).collect(),
        source_url: source_url.to_owned(),
        cached: false,
    })
}

/// Maximum depth of nested `entities` read, because registries nest the abuse contact inside
/// the registrar entity, and a hostile response could nest without end.
const MAX_ENTITY_DEPTH: usize = 4;

fn collect_entities(json: &Value, out: &mut Vec<RdapEntity>, depth: usize) {
    if depth >= MAX_ENTITY_DEPTH {
        return;
    }
    for entity in array_member(json, "entities") {
        let (name, email) = read_vcard(entity);
        out.push(RdapEntity {
            handle: string_member(entity, "handle"),
            roles: array_member(entity, "roles")
                .iter()
                .filter_map(|role| role.as_str().map(str::to_owned))
                .collect(),
            name,
            email,
        });
        collect_entities(entity, out, depth + 1);
    }
}

/// Reads `fn` and `email` from a jCard (RFC 7095): `["vcard", [[name, params, type, value],
/// ...]]`.
fn read_vcard(entity: &Value) -> (Option<String>, Option<String>) {
    let properties = entity
        .get("vcardArray")
        .and_then(|vcard| vcard.get(1))
        .and_then(Value::as_array);
    let mut name = None;
    let mut email = None;
    for property in properties.into_iter().flatten() {
        let key = property.get(0).and_then(Value::as_str);
        let value = property.get(3).and_then(Value::as_str).map(str::to_owned);
        match key {
            Some("fn") if name.is_none() => name = value.filter(|text| !text.is_empty()),
            Some("email") if email.is_none() => email = value,
            _ => {}
        }
    }
    (name, email)
}

fn string_member(json: &Value, key: &str) -> Option<String> {
    json.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn array_member<'a>(json: &'a Value, key: &str) -> &'a [Value] {
    json.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_ip_network() {
        let json = json!({
            "objectClassName": "ip network",
            "handle": "NET-8-8-8-0-1",
            "startAddress": "8.8.8.0",
            "endAddress": "8.8.8.255",
            "name": "LVLT-GOGL-8-8-8",
            "country": "US",
            "cidr0_cidrs": [{"v4prefix": "8.8.8.0", "length": 24}],
            "status": ["active"],
            "events": [{"eventAction": "registration", "eventDate": "2014-03-14T16:52:05-04:00"}],
            "links": [
                {"rel": "up", "href": "https://rdap.example/ip/8.0.0.0/9"},
                {"rel": "self", "href": "https://rdap.example/ip/8.8.8.0"}
            ],
            "entities": [{
                "handle": "GOGL",
                "roles": ["registrant"],
                "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Google LLC"]]],
                "entities": [{
                    "handle": "ABUSE5250-ARIN",
                    "roles": ["abuse"],
                    "vcardArray": ["vcard", [["fn", {}, "text", "Abuse"], ["email", {}, "text", "network-abuse@google.com"]]]
                }]
            }]
        });
        let record = parse_record("8.8.8.8", "http://x/ip/8.8.8.8", &json).unwrap();
        assert_eq!(record.object_class, "ip network");
        assert_eq!(record.name.as_deref(), Some("LVLT-GOGL-8-8-8"));
        assert_eq!(record.cidrs, ["8.8.8.0/24"]);
        assert_eq!(record.country.as_deref(), Some("US"));
        assert_eq!(record.links[0], "https://rdap.example/ip/8.8.8.0");
        assert_eq!(record.entities.len(), 2);
        assert_eq!(record.entities[0].name.as_deref(), Some("Google LLC"));
        assert_eq!(record.entities[1].roles, ["abuse"]);
        assert_eq!(
            record.entities[1].email.as_deref(),
            Some("network-abuse@google.com")
        );
        assert_eq!(record.events[0].action, "registration");
    }

    #[test]
    fn parse_rejects_non_rdap() {
        assert!(parse_record("x", "u", &json!([1, 2])).is_err());
        assert!(parse_record("x", "u", &json!({"name": "no class"})).is_err());
        assert!(
            parse_record(
                "x",
                "u",
                &json!({"objectClassName": "domain", "errorCode": 400})
            )
            .is_err()
        );
    }

    #[test]
    fn parse_ignores_wrong_member_types() {
        let json = json!({
            "objectClassName": "domain",
            "ldhName": "example.com",
            "events": "not an array",
            "entities": [{"roles": "registrar", "vcardArray": 5}],
            "nameservers": [{"ldhName": 3}, {"ldhName": "a.iana-servers.net"}]
        });
        let record = parse_record("example.com", "u", &json).unwrap();
        assert_eq!(record.name.as_deref(), Some("example.com"));
        assert!(record.events.is_empty());
        assert_eq!(record.entities.len(), 1);
        assert!(record.entities[0].roles.is_empty());
        assert_eq!(record.nameservers, ["a.iana-servers.net"]);
    }

    #[test]
    fn entity_nesting_is_bounded() {
        let mut json = json!({"objectClassName": "domain"});
        for _ in 0..10 {
            json = json!({"objectClassName": "domain", "entities": [json]});
        }
        let record = parse_record("x", "u", &json).unwrap();
        assert_eq!(record.entities.len(), MAX_ENTITY_DEPTH);
    }
}
