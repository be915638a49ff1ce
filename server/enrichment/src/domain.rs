//! Domain-name checks against the bundled public suffix list.

use std::sync::OnceLock;

use publicsuffix::{List, Psl};

/// The Public Suffix List compiled into the binary; see `data/README.md` for its version and
/// license.
const PUBLIC_SUFFIX_LIST: &str = include_str!("../data/public_suffix_list.dat");

fn list() -> &'static List {
    static LIST: OnceLock<List> = OnceLock::new();
    LIST.get_or_init(|| {
        PUBLIC_SUFFIX_LIST
            .parse()
            .expect("the bundled public suffix list parses")
    })
}

/// Returns true when `name` is a syntactically valid domain name whose suffix is a listed
/// public suffix (ICANN or private section). Names such as `host.local`, `Table.Column` or a
/// bare `com` return false.
pub fn is_public_domain(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.len() > 253 || !name.contains('.') {
        return false;
    }
    let labels_valid = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    });
    if !labels_valid {
        return false;
    }
    let lookup_name = unicode_for_suffix_lookup(&name);
    match list().suffix(lookup_name.as_bytes()) {
        Some(suffix) => suffix.is_known(),
        None => false,
    }
}

/// Converts punycode labels to Unicode, because the bundled list spells internationalized
/// suffixes such as `рф` in Unicode while indicators carry them as `xn--p1ai`. Names without
/// an `xn--` label, and names that fail to decode, are returned unchanged.
fn unicode_for_suffix_lookup(name: &str) -> String {
    if !name.split('.').any(|label| label.starts_with("xn--")) {
        return name.to_owned();
    }
    let (unicode, result) = idna::domain_to_unicode(name);
    match result {
        Ok(()) => unicode,
        Err(_) => name.to_owned(),
    }
}

/// Returns the registrable domain of `name` (`example.co.uk` for `www.example.co.uk`), or
/// `None` when the name has no known public suffix or is itself a suffix.
pub fn registrable_domain(name: &str) -> Option<String> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let lookup_name = unicode_for_suffix_lookup(&name);
    let domain = list().domain(lookup_name.as_bytes())?;
    if !domain.suffix().is_known() {
        return None;
    }
    // The registrable domain keeps as many trailing labels as the lookup matched, taken from
    // the original (possibly punycode) name.
    let label_count = domain.as_bytes().split(|byte| *byte == b'.').count();
    let labels: Vec<&str> = name.split('.').collect();
    let first = labels.len().checked_sub(label_count)?;
    Some(labels[first..].join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_domains_accepted() {
        assert!(is_public_domain("example.com"));
        assert!(is_public_domain("www.example.co.uk"));
        assert!(is_public_domain("EVIL.Example.ORG"));
        assert!(is_public_domain("user.github.io"));
    }

    #[test]
    fn non_public_names_rejected() {
        assert!(!is_public_domain("host.local"));
        assert!(!is_public_domain("SecurityEvent.TimeGenerated"));
        assert!(!is_public_domain("com"));
        assert!(!is_public_domain("bad-.example.com"));
        assert!(!is_public_domain("a..example.com"));
    }

    #[test]
    fn punycode_domains_accepted() {
        assert!(is_public_domain("xn--80ak6aa92e.com"));
        assert!(is_public_domain("xn--e1afmkfd.xn--p1ai"));
        assert!(!is_public_domain("example.xn--zzzzzz"));
        assert_eq!(
            registrable_domain("www.xn--e1afmkfd.xn--p1ai").as_deref(),
            Some("xn--e1afmkfd.xn--p1ai")
        );
    }

    #[test]
    fn registrable_domain_strips_subdomains() {
        assert_eq!(
            registrable_domain("www.example.co.uk").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(registrable_domain("host.corp"), None);
    }
}
