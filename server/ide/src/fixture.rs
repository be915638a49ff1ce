//! Test fixtures with a `$0` cursor marker.

/// Removes the single `$0` marker from `fixture` and returns the text and the marker's offset.
pub fn cursor(fixture: &str) -> (String, usize) {
    let offset = fixture
        .find("$0")
        .expect("fixture has no `$0` cursor marker");
    let text = format!("{}{}", &fixture[..offset], &fixture[offset + 2..]);
    assert!(
        !text.contains("$0"),
        "fixture has more than one `$0` marker"
    );
    (text, offset)
}
