//! Decodes arbitrary bytes as an RDAP (RFC 9083) response, as the whois lookup does with a
//! registry's reply, and serializes every record it accepts to JSON.

#![no_main]

use libfuzzer_sys::fuzz_target;
use quarry_enrichment::rdap::parse_record;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for query in ["185.220.101.4", "malware.example.com"] {
        match parse_record(query, "https://rdap.example/ip/185.220.101.4", &json) {
            Ok(record) => {
                assert_eq!(record.query, query);
                assert_eq!(
                    Some(record.object_class.as_str()),
                    json.get("objectClassName").and_then(|value| value.as_str()),
                    "the object class differs from the response's"
                );
                serde_json::to_string(&record).expect("a record serializes");
            }
            Err(message) => assert!(!message.is_empty(), "an error without a message"),
        }
    }
});
