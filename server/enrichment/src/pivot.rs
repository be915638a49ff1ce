//! Pivots: the query templates that take an entity (an IP address, host, account, URL, domain,
//! file hash or process) as input, and their rendering with the entity's value.
//!
//! A template takes an entity when one of its parameters has a name that MSTICPy maps to the
//! entity (`PARAM_ENTITY_MAP` in `msticpy/init/pivot_init/pivot_data_queries.py`, msticpy
//! 3.0.2). It also takes an entity that its `metadata.pivot` lists under `direct_func_entities`
//! or `assigned_entities`, when it has exactly one required parameter to receive the value.

use std::fmt;
use std::str::FromStr;

use quarry_templates::library::template_dialect;
use quarry_templates::{ArgValue, Dialect, Library, ParamType, RenderOptions, Template, render};
use serde::Serialize;

use crate::indicator::IocType;

/// An MSTICPy entity type that pivots start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum EntityType {
    IpAddress,
    Host,
    Account,
    Url,
    Dns,
    File,
    Process,
    AzureResource,
}

impl EntityType {
    pub const ALL: [EntityType; 8] = [
        EntityType::IpAddress,
        EntityType::Host,
        EntityType::Account,
        EntityType::Url,
        EntityType::Dns,
        EntityType::File,
        EntityType::Process,
        EntityType::AzureResource,
    ];

    /// Returns MSTICPy's class name of the entity, such as `IpAddress`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::IpAddress => "IpAddress",
            EntityType::Host => "Host",
            EntityType::Account => "Account",
            EntityType::Url => "Url",
            EntityType::Dns => "Dns",
            EntityType::File => "File",
            EntityType::Process => "Process",
            EntityType::AzureResource => "AzureResource",
        }
    }

    /// Returns the entity an indicator of type `ioc_type` is: addresses are `IpAddress`,
    /// domains `Dns`, hashes and paths `File`, e-mail addresses `Account`.
    pub fn for_ioc(ioc_type: IocType) -> EntityType {
        match ioc_type {
            IocType::Ipv4 | IocType::Ipv6 => EntityType::IpAddress,
            IocType::Dns => EntityType::Dns,
            IocType::Url => EntityType::Url,
            IocType::Email => EntityType::Account,
            IocType::Md5
            | IocType::Sha1
            | IocType::Sha256
            | IocType::WindowsPath
            | IocType::LinuxPath => EntityType::File,
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityType {
    type Err = String;

    /// Reads MSTICPy's class names, ignoring case, and the short forms `ip`, `domain`, `hash`.
    fn from_str(text: &str) -> Result<EntityType, String> {
        let lower = text.trim().to_ascii_lowercase();
        let alias = match lower.as_str() {
            "ip" | "ipaddress" | "ip_address" => Some(EntityType::IpAddress),
            "domain" | "dns" => Some(EntityType::Dns),
            "hash" | "filehash" | "file" => Some(EntityType::File),
            "user" | "account" => Some(EntityType::Account),
            _ => None,
        };
        alias
            .or_else(|| {
                EntityType::ALL
                    .into_iter()
                    .find(|entity| entity.as_str().eq_ignore_ascii_case(&lower))
            })
            .ok_or_else(|| {
                let names: Vec<&str> = EntityType::ALL.iter().map(|e| e.as_str()).collect();
                format!(
                    "unknown entity type `{text}`; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Template parameter names and the entities MSTICPy fills them from, as `PARAM_ENTITY_MAP`
/// and its aliases define them in msticpy 3.0.2. `logon_session_id` is left out because its
/// entities (a process or logon session) have no single value to pivot on.
const PARAM_ENTITY_MAP: [(&str, &[EntityType]); 17] = [
    ("account_name", &[EntityType::Account]),
    ("host_name", &[EntityType::Host]),
    ("process_name", &[EntityType::Process]),
    ("ip_address", &[EntityType::IpAddress]),
    ("domain", &[EntityType::Dns]),
    ("process_id", &[EntityType::Process]),
    ("commandline", &[EntityType::Process]),
    ("url", &[EntityType::Url]),
    ("file_hash", &[EntityType::File]),
    ("resource_id", &[EntityType::AzureResource]),
    ("ip_address_list", &[EntityType::IpAddress]),
    ("source_ip_list", &[EntityType::IpAddress]),
    ("user", &[EntityType::Account]),
    ("file_hash_list", &[EntityType::File]),
    ("domain_list", &[EntityType::Dns]),
    ("url_list", &[EntityType::Url]),
    ("cmd_line", &[EntityType::Process]),
];

/// Returns the entities MSTICPy maps the parameter `name` to.
pub fn param_entities(name: &str) -> &'static [EntityType] {
    PARAM_ENTITY_MAP
        .iter()
        .find(|(param, _)| *param == name)
        .map_or(&[], |(_, entities)| entities)
}

/// A template that takes the entity, and the parameter that receives its value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pivot {
    /// `Family.name`.
    pub template: String,
    pub description: String,
    pub parameter: String,
    pub dialect: Dialect,
    pub environments: Vec<String>,
    pub file: String,
}

/// Returns the entity names listed under `metadata.pivot.direct_func_entities` and
/// `metadata.pivot.assigned_entities`.
pub fn declared_entities(template: &Template) -> Vec<String> {
    let Some(pivot) = template.metadata.get("pivot") else {
        return Vec::new();
    };
    ["direct_func_entities", "assigned_entities"]
        .into_iter()
        .filter_map(|key| pivot.get(key).and_then(|node| node.as_seq()))
        .flatten()
        .filter_map(|node| node.as_str().map(str::to_owned))
        .collect()
}

/// Returns the parameter of `template` that receives a value of type `entity`, or `None` when
/// the template does not take the entity.
pub fn pivot_parameter(template: &Template, entity: EntityType) -> Option<String> {
    let mapped = template
        .parameters
        .iter()
        .find(|param| param_entities(&param.name).contains(&entity));
    if let Some(param) = mapped {
        return Some(param.name.clone());
    }
    let declared = declared_entities(template)
        .iter()
        .any(|name| name.eq_ignore_ascii_case(entity.as_str()));
    if !declared {
        return None;
    }
    let required: Vec<_> = template
        .parameters
        .iter()
        .filter(|param| param.is_required())
        .collect();
    match required.as_slice() {
        [single] => Some(single.name.clone()),
        _ => None,
    }
}

/// Lists the templates of `library` that take `entity`, sorted by qualified name.
pub fn pivots(library: &Library, entity: EntityType) -> Vec<Pivot> {
    let mut found: Vec<Pivot> = library
        .entries()
        .into_iter()
        .filter_map(|entry| {
            let parameter = pivot_parameter(entry.template, entity)?;
            Some(Pivot {
                template: entry.qualified_name(),
                description: entry.template.description.clone(),
                parameter,
                dialect: template_dialect(entry.template),
                environments: entry.template.environments.clone(),
                file: entry.template.path.display().to_string(),
            })
        })
        .collect();
    found.sort_by(|a, b| a.template.cmp(&b.template));
    found.dedup_by(|a, b| a.template == b.template);
    found
}

/// A pivot template rendered with the entity's value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedPivot {
    pub query: String,
    pub dialect: Dialect,
    pub template: String,
    pub parameter: String,
}

/// A pivot to render: the template, the entity's value, and the other parameters' values.
#[derive(Debug, Clone)]
pub struct PivotRequest<'a> {
    /// `Family.name`, or the name alone when only one family has it.
    pub template: &'a str,
    pub value: &'a str,
    pub entity: EntityType,
    /// The parameter that receives the value; [`pivot_parameter`] picks it when `None`.
    pub parameter: Option<&'a str>,
    /// Values for the template's other parameters.
    pub other_values: Vec<(String, ArgValue)>,
}

/// Renders the template with the entity's value, escaped for the template's dialect and for
/// the literal it is placed in. A list parameter (such as `ip_address_list`) gets a one-item
/// list. The error names the template, the parameter or the value, and the fix.
pub fn render_pivot(
    library: &Library,
    request: &PivotRequest<'_>,
) -> Result<RenderedPivot, String> {
    let entry = library
        .find(request.template)
        .map_err(|error| error.to_string())?;
    let template = entry.template;
    let parameter = match request.parameter {
        Some(name) => template
            .resolve_parameter(name)
            .map(|param| param.name.clone())
            .ok_or_else(|| {
                let names: Vec<&str> = template.parameters.iter().map(|p| p.name.as_str()).collect();
                format!(
                    "template `{}` has no parameter `{name}`; its parameters are {}",
                    entry.qualified_name(),
                    names.join(", ")
                )
            })?,
        None => pivot_parameter(template, request.entity).ok_or_else(|| {
            format!(
                "template `{}` takes no {} entity: choose a template from quarry/pivots, or name the parameter",
                entry.qualified_name(),
                request.entity
            )
        })?,
    };
    let is_list = template
        .parameter(&parameter)
        .is_some_and(|param| param.param_type == Some(ParamType::List));
    let value = if is_list {
        ArgValue::List(vec![ArgValue::Text(request.value.to_owned())])
    } else {
        ArgValue::Text(request.value.to_owned())
    };

    let mut args: Vec<(String, ArgValue)> = request
        .other_values
        .iter()
        .filter(|(name, _)| *name != parameter)
        .cloned()
        .collect();
    args.push((parameter.clone(), value));
    let dialect = template_dialect(template);
    let query = render(template, &args, &RenderOptions::new(dialect))
        .map_err(|error| format!("template `{}`: {error}", entry.qualified_name()))?;
    Ok(RenderedPivot {
        query,
        dialect,
        template: entry.qualified_name(),
        parameter,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use quarry_templates::TemplateFile;

    use super::*;

    const TEMPLATES: &str = r#"
metadata:
  version: 1
  description: Pivot test queries
  data_environments: [MSSentinel]
  data_families: [Test]
defaults:
  parameters:
    start:
      description: Start
      type: datetime
      default: -1
sources:
  logons_from_ip:
    description: Logons from an address
    args:
      query: 'SigninLogs | where IPAddress == "{ip_address}"'
    parameters:
      ip_address:
        description: The address
        type: str
  hosts_in_list:
    description: Hosts that contacted addresses
    args:
      query: 'DeviceNetworkEvents | where RemoteIP in ({ip_address_list})'
    parameters:
      ip_address_list:
        description: Addresses
        type: list
  declared_host:
    description: Declared host pivot
    metadata:
      pivot:
        direct_func_entities: [Host]
    args:
      query: 'Heartbeat | where Computer =~ "{computer}"'
    parameters:
      computer:
        description: Computer name
        type: str
  no_entity:
    description: Unrelated
    args:
      query: 'Heartbeat | take {count}'
    parameters:
      count:
        description: Rows to return
        type: int
        default: 10
"#;

    fn library() -> Library {
        let file = TemplateFile::parse(Path::new("pivot_test.yaml"), TEMPLATES.to_owned());
        assert!(file.is_valid(), "{:?}", file.problems);
        Library { files: vec![file] }
    }

    #[test]
    fn entity_from_ioc_and_name() {
        assert_eq!(EntityType::for_ioc(IocType::Ipv6), EntityType::IpAddress);
        assert_eq!(EntityType::for_ioc(IocType::Sha256), EntityType::File);
        assert_eq!(EntityType::for_ioc(IocType::Email), EntityType::Account);
        assert_eq!("ipaddress".parse::<EntityType>(), Ok(EntityType::IpAddress));
        assert_eq!("Host".parse::<EntityType>(), Ok(EntityType::Host));
        assert!(
            "Mailbox"
                .parse::<EntityType>()
                .unwrap_err()
                .contains("Mailbox")
        );
    }

    #[test]
    fn pivots_by_parameter_and_metadata() {
        let library = library();
        let ip: Vec<(String, String)> = pivots(&library, EntityType::IpAddress)
            .into_iter()
            .map(|pivot| (pivot.template, pivot.parameter))
            .collect();
        assert_eq!(
            ip,
            [
                (
                    "Test.hosts_in_list".to_owned(),
                    "ip_address_list".to_owned()
                ),
                ("Test.logons_from_ip".to_owned(), "ip_address".to_owned()),
            ]
        );
        let host = pivots(&library, EntityType::Host);
        assert_eq!(host.len(), 1);
        assert_eq!(host[0].parameter, "computer");
        assert!(pivots(&library, EntityType::Url).is_empty());
    }

    #[test]
    fn render_escapes_hostile_value() {
        let library = library();
        let rendered = render_pivot(
            &library,
            &PivotRequest {
                template: "Test.logons_from_ip",
                value: r#"1.2.3.4" or 1==1 //"#,
                entity: EntityType::IpAddress,
                parameter: None,
                other_values: Vec::new(),
            },
        )
        .unwrap();
        assert_eq!(
            rendered.query,
            r#"SigninLogs | where IPAddress == "1.2.3.4\" or 1==1 //""#
        );
        assert_eq!(rendered.parameter, "ip_address");
        assert_eq!(rendered.dialect, Dialect::Kql);
    }

    #[test]
    fn render_list_parameter() {
        let library = library();
        let rendered = render_pivot(
            &library,
            &PivotRequest {
                template: "hosts_in_list",
                value: "203.0.113.7",
                entity: EntityType::IpAddress,
                parameter: None,
                other_values: Vec::new(),
            },
        )
        .unwrap();
        assert_eq!(
            rendered.query,
            "DeviceNetworkEvents | where RemoteIP in ('203.0.113.7')"
        );
    }

    #[test]
    fn render_rejects_wrong_entity() {
        let library = library();
        let error = render_pivot(
            &library,
            &PivotRequest {
                template: "Test.no_entity",
                value: "203.0.113.7",
                entity: EntityType::IpAddress,
                parameter: None,
                other_values: Vec::new(),
            },
        )
        .unwrap_err();
        assert!(error.contains("Test.no_entity"), "{error}");
        assert!(error.contains("IpAddress"), "{error}");
    }
}
