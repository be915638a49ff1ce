//! A writer for MaxMind DB files (format version 2.0, as specified at
//! https://maxmind.github.io/MaxMind-DB/). `quarry setup geoip` uses it to turn the ASN ranges
//! it downloads as CSV into a database, and tests use it to build small databases.
//!
//! The writer always builds an IPv6 tree with 32-bit records. IPv4 networks go into the
//! `::/96` subtree, where readers look IPv4 addresses up. Identical data records are stored once.

use std::collections::HashMap;
use std::net::IpAddr;

/// A value in the data section.
#[derive(Debug, Clone, PartialEq)]
pub enum MmdbValue {
    String(String),
    Double(f64),
    Bytes(Vec<u8>),
    Uint16(u16),
    Uint32(u32),
    Map(Vec<(String, MmdbValue)>),
    Int32(i32),
    Uint64(u64),
    Uint128(u128),
    Array(Vec<MmdbValue>),
    Boolean(bool),
    Float(f32),
}

impl MmdbValue {
    /// Builds a map from `(key, value)` pairs.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, MmdbValue)>) -> MmdbValue {
        MmdbValue::Map(
            entries
                .into_iter()
                .map(|(key, value)| (key.into(), value))
                .collect(),
        )
    }

    pub fn string(text: impl Into<String>) -> MmdbValue {
        MmdbValue::String(text.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Child {
    Empty,
    Node(u32),
    Data(u32),
}

/// Errors from [`MmdbWriter`].
#[derive(Debug, thiserror::Error)]
pub enum MmdbWriteError {
    #[error("invalid prefix length {prefix} for {address}")]
    InvalidPrefix { address: IpAddr, prefix: u8 },
    #[error("the database has more than 2^32 nodes or data bytes, the limit of 32-bit records")]
    TooLarge,
}

/// Builds a MaxMind DB in memory; [`MmdbWriter::to_bytes`] serializes it.
pub struct MmdbWriter {
    database_type: String,
    description: String,
    build_epoch: u64,
    nodes: Vec<[Child; 2]>,
    data: Vec<Vec<u8>>,
    data_index: HashMap<Vec<u8>, u32>,
}

impl MmdbWriter {
    /// Starts an empty database. `database_type` goes into the metadata (for example
    /// `GeoLite2-ASN`); readers and Quarry use it only for display.
    pub fn new(database_type: &str, description: &str, build_epoch: u64) -> MmdbWriter {
        MmdbWriter {
            database_type: database_type.to_owned(),
            description: description.to_owned(),
            build_epoch,
            nodes: vec![[Child::Empty, Child::Empty]],
            data: Vec::new(),
            data_index: HashMap::new(),
        }
    }

    /// Stores `value` for every address in `address/prefix`. A later insert replaces the data
    /// of the addresses it covers, so insert broad networks before the more specific ones.
    pub fn insert(
        &mut self,
        address: IpAddr,
        prefix: u8,
        value: &MmdbValue,
    ) -> Result<(), MmdbWriteError> {
        let (bits, depth) = match address {
            IpAddr::V4(v4) if prefix <= 32 => (u128::from(u32::from(v4)), 96 + prefix as u32),
            IpAddr::V6(v6) if prefix <= 128 => (u128::from(v6), prefix as u32),
            _ => return Err(MmdbWriteError::InvalidPrefix { address, prefix }),
        };
        let data = self.intern(value);

        let mut node = 0usize;
        for level in 0..depth {
            let bit = ((bits >> (127 - level)) & 1) as usize;
            if level + 1 == depth {
                self.nodes[node][bit] = Child::Data(data);
                break;
            }
            node = match self.nodes[node][bit] {
                Child::Node(next) => next as usize,
                existing => {
                    // An empty slot or a broader network's data: split it into a node whose two
                    // halves keep the broader data.
                    let next = self.nodes.len();
                    let next_id = u32::try_from(next).map_err(|_| MmdbWriteError::TooLarge)?;
                    self.nodes.push([existing, existing]);
                    self.nodes[node][bit] = Child::Node(next_id);
                    next
                }
            };
        }
        Ok(())
    }

    /// Stores `value` for the inclusive range `first..=last` of addresses of the same family,
    /// split into the smallest set of CIDR networks.
    pub fn insert_range(
        &mut self,
        first: IpAddr,
        last: IpAddr,
        value: &MmdbValue,
    ) -> Result<(), MmdbWriteError> {
        let (start, end, width) = match (first, last) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                (u128::from(u32::from(a)), u128::from(u32::from(b)), 32)
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
            _ => {
                return Err(MmdbWriteError::InvalidPrefix {
                    address: last,
                    prefix: 0,
                });
            }
        };
        for (network, prefix) in range_to_networks(start, end, width) {
            let address = if width == 32 {
                IpAddr::V4((network as u32).into())
            } else {
                IpAddr::V6(network.into())
            };
            self.insert(address, prefix, value)?;
        }
        Ok(())
    }

    fn intern(&mut self, value: &MmdbValue) -> u32 {
        let mut bytes = Vec::new();
        encode(value, &mut bytes);
        if let Some(&index) = self.data_index.get(&bytes) {
            return index;
        }
        let index = self.data.len() as u32;
        self.data.push(bytes.clone());
        self.data_index.insert(bytes, index);
        index
    }

    /// Serializes the database: search tree, 16-byte separator, data section, metadata.
    pub fn to_bytes(&self) -> Result<Vec<u8>, MmdbWriteError> {
        let node_count = u32::try_from(self.nodes.len()).map_err(|_| MmdbWriteError::TooLarge)?;

        let mut data_section = Vec::new();
        let mut offsets = Vec::with_capacity(self.data.len());
        for bytes in &self.data {
            offsets.push(data_section.len() as u64);
            data_section.extend_from_slice(bytes);
        }

        let mut out = Vec::with_capacity(self.nodes.len() * 8 + data_section.len() + 256);
        for node in &self.nodes {
            for child in node {
                let record: u64 = match *child {
                    Child::Empty => u64::from(node_count),
                    Child::Node(index) => u64::from(index),
                    Child::Data(index) => offsets[index as usize] + u64::from(node_count) + 16,
                };
                let record = u32::try_from(record).map_err(|_| MmdbWriteError::TooLarge)?;
                out.extend_from_slice(&record.to_be_bytes());
            }
        }
        out.extend_from_slice(&[0u8; 16]);
        out.extend_from_slice(&data_section);

        out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
        let metadata = MmdbValue::map([
            ("node_count", MmdbValue::Uint32(node_count)),
            ("record_size", MmdbValue::Uint16(32)),
            ("ip_version", MmdbValue::Uint16(6)),
            ("database_type", MmdbValue::string(&self.database_type)),
            ("languages", MmdbValue::Array(vec![MmdbValue::string("en")])),
            ("binary_format_major_version", MmdbValue::Uint16(2)),
            ("binary_format_minor_version", MmdbValue::Uint16(0)),
            ("build_epoch", MmdbValue::Uint64(self.build_epoch)),
            (
                "description",
                MmdbValue::map([("en", MmdbValue::string(&self.description))]),
            ),
        ]);
        encode(&metadata, &mut out);
        Ok(out)
    }
}

/// Splits the inclusive range `start..=end` of `width`-bit addresses into CIDR networks.
fn range_to_networks(start: u128, end: u128, width: u32) -> Vec<(u128, u8)> {
    let mut networks = Vec::new();
    let mut current = start;
    loop {
        // The largest block aligned at `current` that stays inside the range.
        let mut host_bits = if current == 0 {
            width
        } else {
            current.trailing_zeros().min(width)
        };
        while host_bits > 0 && block_last(current, host_bits) > end {
            host_bits -= 1;
        }
        networks.push((current, (width - host_bits) as u8));
        let last = block_last(current, host_bits);
        if last >= end {
            return networks;
        }
        current = last + 1;
    }
}

/// Returns the last address of the block of `2^host_bits` addresses that starts at `first`.
fn block_last(first: u128, host_bits: u32) -> u128 {
    if host_bits == 128 {
        u128::MAX
    } else {
        first + ((1u128 << host_bits) - 1)
    }
}

/// Appends the control byte(s) for a field of `type_number` and payload `size`.
fn encode_control(type_number: u8, size: usize, out: &mut Vec<u8>) {
    let (size_bits, extra): (u8, Vec<u8>) = if size < 29 {
        (size as u8, Vec::new())
    } else if size < 29 + 256 {
        (29, vec![(size - 29) as u8])
    } else if size < 285 + 65_536 {
        let rest = (size - 285) as u16;
        (30, rest.to_be_bytes().to_vec())
    } else {
        let rest = (size - 65_821) as u32;
        (31, rest.to_be_bytes()[1..].to_vec())
    };
    if type_number <= 7 {
        out.push((type_number << 5) | size_bits);
    } else {
        out.push(size_bits);
        out.push(type_number - 7);
    }
    out.extend_from_slice(&extra);
}

/// Returns the big-endian bytes of `value` without leading zero bytes.
fn minimal_be(bytes: &[u8]) -> &[u8] {
    let first = bytes
        .iter()
        .position(|&byte| byte != 0)
        .unwrap_or(bytes.len());
    &bytes[first..]
}

fn encode(value: &MmdbValue, out: &mut Vec<u8>) {
    match value {
        MmdbValue::String(text) => {
            encode_control(2, text.len(), out);
            out.extend_from_slice(text.as_bytes());
        }
        MmdbValue::Double(number) => {
            encode_control(3, 8, out);
            out.extend_from_slice(&number.to_be_bytes());
        }
        MmdbValue::Bytes(bytes) => {
            encode_control(4, bytes.len(), out);
            out.extend_from_slice(bytes);
        }
        MmdbValue::Uint16(number) => encode_unsigned(5, &number.to_be_bytes(), out),
        MmdbValue::Uint32(number) => encode_unsigned(6, &number.to_be_bytes(), out),
        MmdbValue::Map(entries) => {
            encode_control(7, entries.len(), out);
            for (key, entry) in entries {
                encode(&MmdbValue::String(key.clone()), out);
                encode(entry, out);
            }
        }
        MmdbValue::Int32(number) => {
            encode_control(8, 4, out);
            out.extend_from_slice(&number.to_be_bytes());
        }
        MmdbValue::Uint64(number) => encode_unsigned(9, &number.to_be_bytes(), out),
        MmdbValue::Uint128(number) => encode_unsigned(10, &number.to_be_bytes(), out),
        MmdbValue::Array(items) => {
            encode_control(11, items.len(), out);
            for item in items {
                encode(item, out);
            }
        }
        MmdbValue::Boolean(flag) => encode_control(14, usize::from(*flag), out),
        MmdbValue::Float(number) => {
            encode_control(15, 4, out);
            out.extend_from_slice(&number.to_be_bytes());
        }
    }
}

fn encode_unsigned(type_number: u8, be_bytes: &[u8], out: &mut Vec<u8>) {
    let payload = minimal_be(be_bytes);
    encode_control(type_number, payload.len(), out);
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_splits_into_cidrs() {
        // 10.0.0.1 - 10.0.0.6 is /32 + /31 + /31 + /32.
        let start = u128::from(u32::from(std::net::Ipv4Addr::new(10, 0, 0, 1)));
        let end = start + 5;
        let networks = range_to_networks(start, end, 32);
        let prefixes: Vec<u8> = networks.iter().map(|(_, prefix)| *prefix).collect();
        assert_eq!(prefixes, [32, 31, 31, 32]);
    }

    #[test]
    fn whole_space_is_one_network() {
        assert_eq!(range_to_networks(0, u32::MAX as u128, 32), [(0, 0)]);
        assert_eq!(range_to_networks(0, u128::MAX, 128), [(0, 0)]);
    }

    #[test]
    fn control_bytes_for_long_strings() {
        let mut out = Vec::new();
        encode_control(2, 300, &mut out);
        assert_eq!(out, [0b0101_1110, 0x00, 0x0f]);
    }
}
