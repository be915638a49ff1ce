//! The address type of an IP address: public, private, loopback and the other special-purpose
//! ranges of the IANA IPv4 and IPv6 special-purpose address registries (RFC 6890 and its
//! updates).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpType {
    /// Globally routable.
    Public,
    /// RFC 1918 ranges, IPv6 unique local addresses (fc00::/7) and the deprecated site-local
    /// range (fec0::/10).
    Private,
    Loopback,
    /// 169.254.0.0/16 and fe80::/10.
    LinkLocal,
    Multicast,
    /// Shared address space for carrier-grade NAT, 100.64.0.0/10 (RFC 6598).
    Shared,
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32 and 3fff::/20.
    Documentation,
    /// Every other special-purpose range: unspecified, "this network", benchmarking,
    /// protocol assignments, broadcast, the former class E space, and IPv6 outside 2000::/3.
    Reserved,
}

impl IpType {
    pub fn as_str(self) -> &'static str {
        match self {
            IpType::Public => "public",
            IpType::Private => "private",
            IpType::Loopback => "loopback",
            IpType::LinkLocal => "link_local",
            IpType::Multicast => "multicast",
            IpType::Shared => "shared",
            IpType::Documentation => "documentation",
            IpType::Reserved => "reserved",
        }
    }
}

impl fmt::Display for IpType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returns the type of `address`. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) take the type of
/// the IPv4 address they carry.
pub fn ip_type(address: IpAddr) -> IpType {
    match address {
        IpAddr::V4(v4) => ipv4_type(v4),
        IpAddr::V6(v6) => ipv6_type(v6),
    }
}

fn in_v4(address: Ipv4Addr, network: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    u32::from(address) & mask == u32::from(Ipv4Addr::from(network)) & mask
}

fn ipv4_type(address: Ipv4Addr) -> IpType {
    let table: [([u8; 4], u32, IpType); 16] = [
        ([127, 0, 0, 0], 8, IpType::Loopback),
        ([10, 0, 0, 0], 8, IpType::Private),
        ([172, 16, 0, 0], 12, IpType::Private),
        ([192, 168, 0, 0], 16, IpType::Private),
        ([169, 254, 0, 0], 16, IpType::LinkLocal),
        ([100, 64, 0, 0], 10, IpType::Shared),
        ([192, 0, 2, 0], 24, IpType::Documentation),
        ([198, 51, 100, 0], 24, IpType::Documentation),
        ([203, 0, 113, 0], 24, IpType::Documentation),
        ([224, 0, 0, 0], 4, IpType::Multicast),
        ([255, 255, 255, 255], 32, IpType::Reserved),
        ([240, 0, 0, 0], 4, IpType::Reserved),
        ([0, 0, 0, 0], 8, IpType::Reserved),
        ([192, 0, 0, 0], 24, IpType::Reserved),
        ([198, 18, 0, 0], 15, IpType::Reserved),
        ([192, 88, 99, 0], 24, IpType::Reserved),
    ];
    table
        .iter()
        .find(|(network, prefix, _)| in_v4(address, *network, *prefix))
        .map_or(IpType::Public, |(_, _, kind)| *kind)
}

fn in_v6(address: Ipv6Addr, network: [u16; 8], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    u128::from(address) & mask == u128::from(Ipv6Addr::from(network)) & mask
}

fn ipv6_type(address: Ipv6Addr) -> IpType {
    if let Some(v4) = address.to_ipv4_mapped() {
        return ipv4_type(v4);
    }
    if address.is_loopback() {
        return IpType::Loopback;
    }
    if address.is_unspecified() {
        return IpType::Reserved;
    }
    let table: [([u16; 8], u32, IpType); 10] = [
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, IpType::Multicast),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, IpType::LinkLocal),
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, IpType::Private),
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, IpType::Private),
        (
            [0x2001, 0x0db8, 0, 0, 0, 0, 0, 0],
            32,
            IpType::Documentation,
        ),
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, IpType::Documentation),
        // NAT64 local-use prefix (RFC 8215).
        ([0x0064, 0xff9b, 0x0001, 0, 0, 0, 0, 0], 48, IpType::Private),
        // Benchmarking (RFC 5180) and the discard-only prefix (RFC 6666).
        ([0x2001, 0x0002, 0, 0, 0, 0, 0, 0], 48, IpType::Reserved),
        ([0x0100, 0, 0, 0, 0, 0, 0, 0], 64, IpType::Reserved),
        // ORCHIDv2 (RFC 7343) identifiers are not routable addresses.
        ([0x2001, 0x0020, 0, 0, 0, 0, 0, 0], 28, IpType::Reserved),
    ];
    if let Some((_, _, kind)) = table
        .iter()
        .find(|(network, prefix, _)| in_v6(address, *network, *prefix))
    {
        return *kind;
    }
    // The well-known NAT64 prefix carries an IPv4 address in its last 32 bits.
    if in_v6(address, [0x0064, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        let bits = u128::from(address) as u32;
        return ipv4_type(Ipv4Addr::from(bits));
    }
    // Only 2000::/3 is allocated for global unicast.
    if in_v6(address, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3) {
        IpType::Public
    } else {
        IpType::Reserved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> IpType {
        ip_type(text.parse().unwrap())
    }

    #[test]
    fn ipv4_types() {
        let cases = [
            ("8.8.8.8", IpType::Public),
            ("10.1.2.3", IpType::Private),
            ("172.16.0.1", IpType::Private),
            ("172.32.0.1", IpType::Public),
            ("192.168.1.1", IpType::Private),
            ("127.0.0.1", IpType::Loopback),
            ("169.254.10.1", IpType::LinkLocal),
            ("224.0.0.251", IpType::Multicast),
            ("100.64.0.1", IpType::Shared),
            ("100.128.0.1", IpType::Public),
            ("192.0.2.10", IpType::Documentation),
            ("198.51.100.7", IpType::Documentation),
            ("203.0.113.99", IpType::Documentation),
            ("0.0.0.0", IpType::Reserved),
            ("255.255.255.255", IpType::Reserved),
            ("240.0.0.1", IpType::Reserved),
            ("198.18.0.1", IpType::Reserved),
        ];
        for (address, expected) in cases {
            assert_eq!(kind(address), expected, "{address}");
        }
    }

    #[test]
    fn ipv6_types() {
        let cases = [
            ("2606:4700:4700::1111", IpType::Public),
            ("::1", IpType::Loopback),
            ("::", IpType::Reserved),
            ("fe80::1", IpType::LinkLocal),
            ("fd00::1", IpType::Private),
            ("ff02::1", IpType::Multicast),
            ("2001:db8::1", IpType::Documentation),
            ("::ffff:10.0.0.1", IpType::Private),
            ("::ffff:8.8.8.8", IpType::Public),
            ("64:ff9b::808:808", IpType::Public),
            ("64:ff9b::a00:1", IpType::Private),
            ("4000::1", IpType::Reserved),
        ];
        for (address, expected) in cases {
            assert_eq!(kind(address), expected, "{address}");
        }
    }
}
