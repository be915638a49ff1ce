//! "Did you mean" suggestions by edit distance.

/// Returns the candidate closest to `name`, if it is close enough to be a likely typo: at most
/// one edit for short names and a third of the length for longer ones. Case differences count
/// as half an edit, since KQL names are case-sensitive but people often miss the case.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1) * 2;
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .map(|candidate| (distance(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, candidate)| (*distance, candidate.len()))
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance in half edits: 1 for a change of case only, 2 for any other edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).map(|j| j * 2).collect();
    let mut current = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i * 2;
        for j in 1..=b.len() {
            let substitution = if a[i - 1] == b[j - 1] {
                0
            } else if a[i - 1].eq_ignore_ascii_case(&b[j - 1]) {
                1
            } else {
                2
            };
            current[j] = (previous[j - 1] + substitution)
                .min(previous[j] + 2)
                .min(current[j - 1] + 2);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos() {
        let names = ["Account", "Computer", "EventID", "TimeGenerated"];
        assert_eq!(closest("Acount", names), Some("Account"));
        assert_eq!(closest("eventid", names), Some("EventID"));
        assert_eq!(closest("TimeGenrated", names), Some("TimeGenerated"));
        assert_eq!(closest("Process", names), None);
    }
}
