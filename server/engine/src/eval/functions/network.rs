//! IPv4 and IPv6 functions: parsing, ranges, private addresses and search in text.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::Value as Json;

use super::{Call, text_of};
use crate::EngineError;
use crate::eval::expr::Compiled;
use crate::eval::types::KqlType;
use crate::eval::value::Value;

pub(super) fn compile(call: &Call<'_>) -> Option<Result<Compiled, EngineError>> {
    let result = match call.name {
        "parse_ipv4" => call.arity(1, 1).map(|()| {
            call.row(KqlType::Long, |v| match parse_ipv4_cidr(&text_of(v[0])) {
                Some((address, prefix)) => Value::Long(i64::from(address & mask(prefix))),
                None => Value::Null,
            })
        }),
        "parse_ipv4_mask" => call.arity(2, 2).map(|()| {
            call.row(KqlType::Long, |v| {
                match (parse_ipv4_cidr(&text_of(v[0])), v[1].to_long()) {
                    (Some((address, _)), Some(prefix)) if (0..=32).contains(&prefix) => {
                        Value::Long(i64::from(address & mask(prefix as u32)))
                    }
                    _ => Value::Null,
                }
            })
        }),
        "format_ipv4" => call.arity(1, 2).map(|()| {
            call.row(KqlType::String, |v| {
                let address = match v[0] {
                    Value::Long(n) => u32::try_from(*n).ok(),
                    other => parse_ipv4_cidr(&text_of(other)).map(|(a, _)| a),
                };
                let prefix = v.get(1).map_or(Some(32), |x| x.to_long());
                match (address, prefix) {
                    (Some(address), Some(prefix)) if (0..=32).contains(&prefix) => {
                        Value::String(Ipv4Addr::from(address & mask(prefix as u32)).to_string())
                    }
                    _ => Value::String(String::new()),
                }
            })
        }),
        // Text that is not an IPv4 address is not private.
        "ipv4_is_private" => call.arity(1, 1).map(|()| {
            call.row(KqlType::Bool, |v| match parse_ipv4_cidr(&text_of(v[0])) {
                Some((address, _)) => Value::Bool(is_private(address)),
                None => Value::Bool(false),
            })
        }),
        "format_ipv4_mask" => call.arity(1, 2).map(|()| {
            call.row(KqlType::String, |v| {
                let parsed = parse_ipv4_cidr(&text_of(v[0]));
                let prefix = match v.get(1) {
                    Some(value) => value
                        .to_long()
                        .filter(|p| (0..=32).contains(p))
                        .map(|p| p as u32),
                    None => parsed.map(|(_, p)| p),
                };
                match (parsed, prefix) {
                    (Some((address, own)), Some(prefix)) => {
                        let prefix = prefix.min(own);
                        Value::String(format!(
                            "{}/{prefix}",
                            Ipv4Addr::from(address & mask(prefix))
                        ))
                    }
                    _ => Value::String(String::new()),
                }
            })
        }),
        "has_any_ipv4" | "has_any_ipv4_prefix" => call.arity(2, 64).map(|()| {
            let prefix_only = call.name == "has_any_ipv4_prefix";
            call.row(KqlType::Bool, move |v| {
                let text = text_of(v[0]);
                let mut wanted: Vec<String> = Vec::new();
                for value in &v[1..] {
                    match value {
                        Value::Dynamic(Json::Array(items)) => wanted
                            .extend(items.iter().filter_map(|i| i.as_str().map(str::to_owned))),
                        other => wanted.push(text_of(other)),
                    }
                }
                Value::Bool(ipv4_tokens(&text).any(|token| {
                    wanted.iter().any(|w| {
                        if prefix_only {
                            token.starts_with(w.as_str())
                        } else {
                            token == w
                        }
                    })
                }))
            })
        }),
        "ipv4_is_in_range" => call.arity(2, 2).map(|()| {
            call.row(KqlType::Bool, |v| {
                match (
                    parse_ipv4_cidr(&text_of(v[0])),
                    parse_ipv4_cidr(&text_of(v[1])),
                ) {
                    (Some((address, _)), Some((network, prefix))) => {
                        Value::Bool(address & mask(prefix) == network & mask(prefix))
                    }
                    _ => Value::Null,
                }
            })
        }),
        "ipv4_is_in_any_range" => call.arity(2, 64).map(|()| {
            call.row(KqlType::Bool, |v| {
                let Some((address, _)) = parse_ipv4_cidr(&text_of(v[0])) else {
                    return Value::Null;
                };
                let mut ranges = Vec::new();
                for value in &v[1..] {
                    match value {
                        Value::Dynamic(Json::Array(items)) => ranges
                            .extend(items.iter().filter_map(|i| i.as_str().map(str::to_owned))),
                        other => ranges.push(text_of(other)),
                    }
                }
                Value::Bool(ranges.iter().any(|range| match parse_ipv4_cidr(range) {
                    Some((network, prefix)) => address & mask(prefix) == network & mask(prefix),
                    None => false,
                }))
            })
        }),
        "ipv4_is_match" | "ipv4_compare" => call.arity(2, 3).map(|()| {
            let compare = call.name == "ipv4_compare";
            call.row(
                if compare {
                    KqlType::Long
                } else {
                    KqlType::Bool
                },
                move |v| {
                    let (Some((a, a_prefix)), Some((b, b_prefix))) = (
                        parse_ipv4_cidr(&text_of(v[0])),
                        parse_ipv4_cidr(&text_of(v[1])),
                    ) else {
                        return Value::Null;
                    };
                    let prefix = match v.get(2).map(|x| x.to_long()) {
                        Some(Some(p)) if (0..=32).contains(&p) => p as u32,
                        Some(_) => return Value::Null,
                        None => a_prefix.min(b_prefix),
                    };
                    let order = (a & mask(prefix)).cmp(&(b & mask(prefix)));
                    if compare {
                        Value::Long(order as i64)
                    } else {
                        Value::Bool(order.is_eq())
                    }
                },
            )
        }),
        "ipv6_compare" | "ipv6_is_match" => call.arity(2, 3).map(|()| {
            let compare = call.name == "ipv6_compare";
            call.row(
                if compare {
                    KqlType::Long
                } else {
                    KqlType::Bool
                },
                move |v| {
                    let (Some((a, a_prefix)), Some((b, b_prefix))) = (
                        parse_ipv6_cidr(&text_of(v[0])),
                        parse_ipv6_cidr(&text_of(v[1])),
                    ) else {
                        return Value::Null;
                    };
                    let prefix = match v.get(2).map(|x| x.to_long()) {
                        Some(Some(p)) if (0..=128).contains(&p) => p as u32,
                        Some(_) => return Value::Null,
                        None => a_prefix.min(b_prefix),
                    };
                    let mask6 = if prefix == 0 {
                        0
                    } else {
                        u128::MAX << (128 - prefix)
                    };
                    let order = (a & mask6).cmp(&(b & mask6));
                    if compare {
                        Value::Long(order as i64)
                    } else {
                        Value::Bool(order.is_eq())
                    }
                },
            )
        }),
        "has_ipv4" | "has_ipv4_prefix" => call.arity(2, 2).map(|()| {
            let prefix_only = call.name == "has_ipv4_prefix";
            call.row(KqlType::Bool, move |v| {
                let text = text_of(v[0]);
                let wanted = text_of(v[1]);
                if !prefix_only && parse_ipv4_cidr(&wanted).is_none() {
                    return Value::Bool(false);
                }
                Value::Bool(ipv4_tokens(&text).any(|token| {
                    if prefix_only {
                        token.starts_with(&wanted)
                    } else {
                        token == wanted
                    }
                }))
            })
        }),
        _ => return None,
    };
    Some(result)
}

/// Returns the netmask of a prefix length from 0 to 32.
fn mask(prefix: u32) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32))
    }
}

/// Parses `a.b.c.d` or `a.b.c.d/n` into the address and the prefix length (32 without one).
pub(crate) fn parse_ipv4_cidr(text: &str) -> Option<(u32, u32)> {
    let text = text.trim();
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, prefix.parse::<u32>().ok().filter(|p| *p <= 32)?),
        None => (text, 32),
    };
    let parsed: Ipv4Addr = address.parse().ok()?;
    Some((u32::from(parsed), prefix))
}

fn parse_ipv6_cidr(text: &str) -> Option<(u128, u32)> {
    let text = text.trim();
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, prefix.parse::<u32>().ok().filter(|p| *p <= 128)?),
        None => (text, 128),
    };
    if let Ok(v6) = address.parse::<Ipv6Addr>() {
        return Some((u128::from(v6), prefix));
    }
    // An IPv4 address compares as its IPv4-mapped IPv6 form.
    let v4: Ipv4Addr = address.parse().ok()?;
    let prefix = if text.contains('/') { prefix + 96 } else { 128 };
    Some((u128::from(v4.to_ipv6_mapped()), prefix.min(128)))
}

/// The private ranges of RFC 1918: 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16.
fn is_private(address: u32) -> bool {
    let in_range = |network: [u8; 4], prefix: u32| {
        address & mask(prefix) == u32::from(Ipv4Addr::from(network))
    };
    in_range([10, 0, 0, 0], 8) || in_range([172, 16, 0, 0], 12) || in_range([192, 168, 0, 0], 16)
}

/// Yields the valid IPv4 addresses in `text` that stand between characters other than
/// letters, digits and dots.
fn ipv4_tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .filter(|token| token.parse::<Ipv4Addr>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parsing() {
        assert_eq!(parse_ipv4_cidr("10.1.2.3"), Some((0x0A01_0203, 32)));
        assert_eq!(parse_ipv4_cidr("10.0.0.0/8"), Some((0x0A00_0000, 8)));
        assert_eq!(parse_ipv4_cidr("10.0.0.0/33"), None);
        assert_eq!(parse_ipv4_cidr("300.0.0.1"), None);
    }

    #[test]
    fn private_ranges() {
        for (address, private) in [
            ("10.255.0.1", true),
            ("172.16.0.1", true),
            ("172.31.255.255", true),
            ("172.32.0.1", false),
            ("192.168.1.1", true),
            ("8.8.8.8", false),
        ] {
            let (parsed, _) = parse_ipv4_cidr(address).unwrap();
            assert_eq!(is_private(parsed), private, "{address}");
        }
    }

    #[test]
    fn tokens_need_delimiters() {
        let found: Vec<&str> = ipv4_tokens("src=10.0.0.1, dst:1.2.3.4.5 x").collect();
        assert_eq!(found, vec!["10.0.0.1"]);
    }
}
