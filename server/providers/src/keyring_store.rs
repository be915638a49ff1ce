//! Secrets in the OS keyring: the kernel keyring on Linux, the Keychain on macOS and the
//! Credential Manager on Windows, through the `keyring` crate.
//!
//! Entries live under the service name [`SERVICE`] with the entry name as the account, so
//! `{ keyring = "splunk-token" }` reads the password of service `quarry`, account
//! `splunk-token`.

use crate::secret::Secret;

/// The service name of Quarry's keyring entries.
pub const SERVICE: &str = "quarry";

/// Reads the entry `name`. Returns `Ok(None)` when there is no such entry, and an error naming
/// the entry and the keyring's failure when the keyring cannot be read.
pub fn read(name: &str) -> Result<Option<Secret>, String> {
    let entry = entry(name)?;
    match entry.get_password() {
        Ok(password) => Ok(Some(Secret::new(password))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(error) => Err(format!(
            "the OS keyring could not be read for entry {name} ({error}): store the secret in an environment variable instead"
        )),
    }
}

/// Stores `secret` as the entry `name`, replacing any earlier value.
pub fn write(name: &str, secret: &Secret) -> Result<(), String> {
    entry(name)?
        .set_password(secret.expose())
        .map_err(|error| format!("the OS keyring could not store entry {name}: {error}"))
}

/// Deletes the entry `name`. Deleting a missing entry succeeds.
pub fn delete(name: &str) -> Result<(), String> {
    match entry(name)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(error) => Err(format!(
            "the OS keyring could not delete entry {name}: {error}"
        )),
    }
}

fn entry(name: &str) -> Result<keyring::Entry, String> {
    if name.trim().is_empty() {
        return Err("a keyring entry name is empty: name the entry, as in { keyring = \"splunk-token\" }".to_owned());
    }
    keyring::Entry::new(SERVICE, name)
        .map_err(|error| format!("the keyring entry name `{name}` is invalid: {error}"))
}
