//! Keyring secrets through the real OS keyring. On Linux that is the kernel keyring, which
//! needs no D-Bus or Secret Service, so it works on headless machines and in CI.

use quarry_providers::config::{ProcessEnvironment, SecretRef};
use quarry_providers::{Secret, keyring_store};

/// Stores an entry for the test, or returns why the OS keyring cannot be written here.
fn store(name: &str, value: &str) -> Result<(), String> {
    keyring_store::write(name, &Secret::new(value))
}

#[test]
fn keyring_reference_resolves_and_deletes() {
    let name = format!("quarry-test-{}", std::process::id());
    let reference = SecretRef::Keyring(name.clone());
    if let Err(reason) = store(&name, "s3cr3t-from-keyring") {
        // NOTE: only machines whose OS keyring rejects writes take this branch; the check
        // below still asserts that the failure names the entry.
        eprintln!("the OS keyring is not writable here: {reason}");
        let error = reference.resolve(&ProcessEnvironment).unwrap_err();
        assert!(error.contains(&name), "{error}");
        return;
    }

    let secret = reference.resolve(&ProcessEnvironment).unwrap();
    assert_eq!(secret.expose(), "s3cr3t-from-keyring");

    keyring_store::delete(&name).unwrap();
    let error = reference.resolve(&ProcessEnvironment).unwrap_err();
    assert!(error.contains("was not found"), "{error}");
    assert!(error.contains(&name), "{error}");
}

#[test]
fn keyring_empty_name_rejected() {
    let error = keyring_store::read("  ").unwrap_err();
    assert!(error.contains("empty"), "{error}");
}
