//! Extracts indicators from arbitrary text and checks their ranges, order and values.

#![no_main]

use libfuzzer_sys::fuzz_target;
use quarry_enrichment::{classify, extract};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let indicators = extract(&text);

    let mut previous_start = 0;
    for indicator in &indicators {
        assert!(
            indicator.start < indicator.end && indicator.end <= text.len(),
            "indicator range outside the text: {indicator:?}"
        );
        assert!(
            text.is_char_boundary(indicator.start) && text.is_char_boundary(indicator.end),
            "indicator range splits a character: {indicator:?}"
        );
        assert!(
            indicator.start >= previous_start,
            "indicators out of order at {indicator:?}"
        );
        previous_start = indicator.start;
        assert!(
            !indicator.value.is_empty(),
            "empty indicator value: {indicator:?}"
        );
        if !indicator.defanged {
            assert_eq!(
                &text[indicator.start..indicator.end],
                indicator.value,
                "a plain indicator's value differs from its text: {indicator:?}"
            );
        }

        // An extracted value read on its own is an indicator, though not always of the same
        // type: MSTICPy's priorities decide between types.
        let _ = classify(&indicator.value);
    }
    let _ = classify(&text);
});
