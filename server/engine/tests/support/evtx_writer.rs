//! A minimal writer of Windows event log (`.evtx`) files for tests, because no sample log
//! with a licence that allows redistribution is available.
//!
//! The layout follows libyal's "Windows XML Event Log (EVTX)" format description:
//! - a 4096-byte file header: `ElfFile\0`, chunk numbers, the next record id, sizes, the
//!   version 3.1, and the CRC32 of its first 120 bytes at offset 124;
//! - 65536-byte chunks, each starting with a 512-byte header: `ElfChnk\0`, record numbers
//!   and ids, the last record's offset and the free space offset. The CRC32 of the records is
//!   at offset 52, and the CRC32 of header bytes 0..120 and 128..512 at offset 124. The string
//!   and template tables inside the header stay empty, and the records follow it;
//! - records: the signature `2a 2a 00 00`, the size, the record id, a FILETIME, the BinXML
//!   event, and the size again.
//!
//! The BinXML uses no templates: each element and attribute name is written in place after
//! its chunk offset, and every value is a UTF-16 string (value type 0x01).

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the writer"
)]

const FILE_HEADER_SIZE: usize = 4096;
const CHUNK_SIZE: usize = 65536;
const CHUNK_HEADER_SIZE: usize = 512;
const EVENT_NAMESPACE: &str = "http://schemas.microsoft.com/win/2004/08/events/event";
/// 100-nanosecond intervals between 1601-01-01 (the FILETIME epoch) and 1970-01-01.
const FILETIME_UNIX_EPOCH: u64 = 116_444_736_000_000_000;

/// An XML element of an event.
#[derive(Debug, Clone)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Node>,
}

/// The content of an element: another element or text.
#[derive(Debug, Clone)]
pub enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    pub fn new(name: &str) -> Element {
        Element {
            name: name.to_owned(),
            attributes: Vec::new(),
            children: Vec::new(),
        }
    }

    pub fn attribute(mut self, name: &str, value: &str) -> Element {
        self.attributes.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn child(mut self, child: Element) -> Element {
        self.children.push(Node::Element(child));
        self
    }

    pub fn text(mut self, text: &str) -> Element {
        self.children.push(Node::Text(text.to_owned()));
        self
    }
}

/// One event record to write.
#[derive(Debug, Clone)]
pub struct Record {
    pub record_id: u64,
    /// Nanoseconds since the Unix epoch; the record header stores it as a FILETIME.
    pub written_unix_nanos: i64,
    pub event: Element,
}

/// The `System` section of an event.
#[derive(Debug, Clone)]
pub struct System {
    pub provider: String,
    pub event_id: u32,
    pub level: u8,
    pub task: u32,
    pub channel: String,
    pub computer: String,
    /// `TimeCreated/@SystemTime` in the form Windows writes, such as
    /// `2024-03-10T09:00:00.0000000Z`.
    pub system_time: String,
    pub process_id: u32,
    pub thread_id: u32,
}

/// Builds an `Event` element with a `System` section and `EventData` fields written as
/// `<Data Name="...">value</Data>`.
pub fn event(system: &System, record_id: u64, data: &[(&str, &str)]) -> Element {
    let system_element = Element::new("System")
        .child(Element::new("Provider").attribute("Name", &system.provider))
        .child(Element::new("EventID").text(&system.event_id.to_string()))
        .child(Element::new("Version").text("2"))
        .child(Element::new("Level").text(&system.level.to_string()))
        .child(Element::new("Task").text(&system.task.to_string()))
        .child(Element::new("Opcode").text("0"))
        .child(Element::new("Keywords").text("0x8020000000000000"))
        .child(Element::new("TimeCreated").attribute("SystemTime", &system.system_time))
        .child(Element::new("EventRecordID").text(&record_id.to_string()))
        .child(
            Element::new("Execution")
                .attribute("ProcessID", &system.process_id.to_string())
                .attribute("ThreadID", &system.thread_id.to_string()),
        )
        .child(Element::new("Channel").text(&system.channel))
        .child(Element::new("Computer").text(&system.computer));
    let mut event_data = Element::new("EventData");
    for (name, value) in data {
        let mut field = Element::new("Data").attribute("Name", name);
        if !value.is_empty() {
            field = field.text(value);
        }
        event_data = event_data.child(field);
    }
    Element::new("Event")
        .attribute("xmlns", EVENT_NAMESPACE)
        .child(system_element)
        .child(event_data)
}

/// Writes a complete `.evtx` file: the file header and as many chunks as the records need.
///
/// # Panics
///
/// Panics if one record does not fit in an empty chunk.
pub fn write_evtx(records: &[Record]) -> Vec<u8> {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    let mut pending: Vec<Vec<u8>> = Vec::new();
    let mut pending_ids: Vec<u64> = Vec::new();
    let mut offset = CHUNK_HEADER_SIZE;
    for record in records {
        let mut encoded = encode_record(record, offset);
        if offset + encoded.len() > CHUNK_SIZE {
            chunks.push(finish_chunk(&pending, &pending_ids));
            pending.clear();
            pending_ids.clear();
            offset = CHUNK_HEADER_SIZE;
            // Name offsets are relative to the chunk, so the record is encoded again.
            encoded = encode_record(record, offset);
            assert!(
                offset + encoded.len() <= CHUNK_SIZE,
                "a record is larger than a chunk"
            );
        }
        offset += encoded.len();
        pending.push(encoded);
        pending_ids.push(record.record_id);
    }
    if !pending.is_empty() || chunks.is_empty() {
        chunks.push(finish_chunk(&pending, &pending_ids));
    }

    let next_record_id = records.iter().map(|r| r.record_id).max().unwrap_or(0) + 1;
    let mut file = vec![0u8; FILE_HEADER_SIZE];
    file[0..8].copy_from_slice(b"ElfFile\0");
    put_u64(&mut file, 8, 0);
    put_u64(&mut file, 16, chunks.len() as u64 - 1);
    put_u64(&mut file, 24, next_record_id);
    put_u32(&mut file, 32, 128);
    put_u16(&mut file, 36, 1);
    put_u16(&mut file, 38, 3);
    put_u16(&mut file, 40, FILE_HEADER_SIZE as u16);
    put_u16(&mut file, 42, chunks.len() as u16);
    let checksum = crc32(&file[..120]);
    put_u32(&mut file, 124, checksum);
    for chunk in chunks {
        file.extend_from_slice(&chunk);
    }
    file
}

fn finish_chunk(records: &[Vec<u8>], ids: &[u64]) -> Vec<u8> {
    let mut chunk = vec![0u8; CHUNK_SIZE];
    chunk[0..8].copy_from_slice(b"ElfChnk\0");
    let first_id = ids.first().copied().unwrap_or(0);
    let last_id = ids.last().copied().unwrap_or(0);
    let mut offset = CHUNK_HEADER_SIZE;
    let mut last_offset = CHUNK_HEADER_SIZE;
    for record in records {
        last_offset = offset;
        chunk[offset..offset + record.len()].copy_from_slice(record);
        offset += record.len();
    }
    put_u64(&mut chunk, 8, first_id);
    put_u64(&mut chunk, 16, last_id);
    put_u64(&mut chunk, 24, first_id);
    put_u64(&mut chunk, 32, last_id);
    put_u32(&mut chunk, 40, 128);
    put_u32(&mut chunk, 44, last_offset as u32);
    put_u32(&mut chunk, 48, offset as u32);
    let records_checksum = crc32(&chunk[CHUNK_HEADER_SIZE..offset]);
    put_u32(&mut chunk, 52, records_checksum);
    let mut header = chunk[..120].to_vec();
    header.extend_from_slice(&chunk[128..CHUNK_HEADER_SIZE]);
    let header_checksum = crc32(&header);
    put_u32(&mut chunk, 124, header_checksum);
    chunk
}

/// Encodes one record that starts at `chunk_offset` within its chunk.
fn encode_record(record: &Record, chunk_offset: usize) -> Vec<u8> {
    const RECORD_HEADER_SIZE: usize = 24;
    let mut binxml = vec![0x0f, 0x01, 0x01, 0x00];
    encode_element(
        &record.event,
        chunk_offset + RECORD_HEADER_SIZE,
        &mut binxml,
    );
    binxml.push(0x00);
    // Records start on 8-byte boundaries; the padding follows the end-of-stream token.
    while !(RECORD_HEADER_SIZE + binxml.len() + 4).is_multiple_of(8) {
        binxml.push(0x00);
    }

    let size = (RECORD_HEADER_SIZE + binxml.len() + 4) as u32;
    let mut out = Vec::with_capacity(size as usize);
    out.extend_from_slice(&[0x2a, 0x2a, 0x00, 0x00]);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&record.record_id.to_le_bytes());
    out.extend_from_slice(&filetime(record.written_unix_nanos).to_le_bytes());
    out.extend_from_slice(&binxml);
    out.extend_from_slice(&size.to_le_bytes());
    out
}

/// Appends an element to `out`, whose first byte sits at `base` within the chunk.
fn encode_element(element: &Element, base: usize, out: &mut Vec<u8>) {
    let has_attributes = !element.attributes.is_empty();
    out.push(if has_attributes { 0x41 } else { 0x01 });
    let size_at = out.len();
    out.extend_from_slice(&[0; 4]);
    encode_name(&element.name, base, out);

    if has_attributes {
        let list_size_at = out.len();
        out.extend_from_slice(&[0; 4]);
        let list_start = out.len();
        for (index, (name, value)) in element.attributes.iter().enumerate() {
            let more = index + 1 < element.attributes.len();
            out.push(if more { 0x46 } else { 0x06 });
            encode_name(name, base, out);
            encode_text(value, out);
        }
        let list_size = (out.len() - list_start) as u32;
        out[list_size_at..list_size_at + 4].copy_from_slice(&list_size.to_le_bytes());
    }

    if element.children.is_empty() {
        out.push(0x03);
    } else {
        out.push(0x02);
        for child in &element.children {
            match child {
                Node::Element(child) => encode_element(child, base, out),
                Node::Text(text) => encode_text(text, out),
            }
        }
        out.push(0x04);
    }
    let data_size = (out.len() - size_at - 4) as u32;
    out[size_at..size_at + 4].copy_from_slice(&data_size.to_le_bytes());
}

/// Appends a name reference that points at the name written right after it: the chunk
/// offset, then the next-string offset (0), the hash, the UTF-16 length, the characters and a
/// NUL.
fn encode_name(name: &str, base: usize, out: &mut Vec<u8>) {
    let units: Vec<u16> = name.encode_utf16().collect();
    let name_offset = (base + out.len() + 4) as u32;
    out.extend_from_slice(&name_offset.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&name_hash(&units).to_le_bytes());
    out.extend_from_slice(&(units.len() as u16).to_le_bytes());
    for unit in &units {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out.extend_from_slice(&0u16.to_le_bytes());
}

/// Appends a value text token with a UTF-16 string value.
fn encode_text(text: &str, out: &mut Vec<u8>) {
    let units: Vec<u16> = text.encode_utf16().collect();
    out.push(0x05);
    out.push(0x01);
    out.extend_from_slice(&(units.len() as u16).to_le_bytes());
    for unit in &units {
        out.extend_from_slice(&unit.to_le_bytes());
    }
}

/// Computes the low 16 bits of the name hash: for each UTF-16 unit, `hash * 65599 + unit`.
fn name_hash(units: &[u16]) -> u16 {
    let hash = units.iter().fold(0u32, |hash, unit| {
        hash.wrapping_mul(65599).wrapping_add(u32::from(*unit))
    });
    (hash & 0xffff) as u16
}

fn filetime(unix_nanos: i64) -> u64 {
    FILETIME_UNIX_EPOCH + (unix_nanos / 100) as u64
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as EVTX headers use.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

fn put_u16(buffer: &mut [u8], at: usize, value: u16) {
    buffer[at..at + 2].copy_from_slice(&value.to_le_bytes());
}

fn put_u32(buffer: &mut [u8], at: usize, value: u32) {
    buffer[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn put_u64(buffer: &mut [u8], at: usize, value: u64) {
    buffer[at..at + 8].copy_from_slice(&value.to_le_bytes());
}
