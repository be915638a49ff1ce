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
    match with_entry(name, keyring::Entry::get_password)? {
        Ok(password) => Ok(Some(Secret::new(password))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(error) => Err(format!(
            "the OS keyring could not be read for entry {name} ({error}): store the secret in an environment variable instead"
        )),
    }
}

/// Stores `secret` as the entry `name`, replacing any earlier value.
pub fn write(name: &str, secret: &Secret) -> Result<(), String> {
    with_entry(name, |entry| entry.set_password(secret.expose()))?
        .map_err(|error| format!("the OS keyring could not store entry {name}: {error}"))
}

/// Deletes the entry `name`. Deleting a missing entry succeeds.
pub fn delete(name: &str) -> Result<(), String> {
    match with_entry(name, keyring::Entry::delete_credential)? {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(error) => Err(format!(
            "the OS keyring could not delete entry {name}: {error}"
        )),
    }
}

/// Runs `operation` on the entry `name`. The outer error is an invalid name.
///
/// On Linux the `keyring` crate (3.6) keeps keys in the session keyring and links each one into
/// the user's persistent keyring. Where the kernel refuses that link (it fails with ENOKEY in
/// some containers), the operation runs again on the session keyring alone.
// NOTE: processes that do not share a session keyring (such as programs started outside a login
// session) then do not see each other's entries.
fn with_entry<T>(
    name: &str,
    operation: impl Fn(&keyring::Entry) -> keyring::Result<T>,
) -> Result<keyring::Result<T>, String> {
    let outcome = operation(&entry(name)?);
    #[cfg(target_os = "linux")]
    if matches!(outcome, Err(keyring::Error::NoEntry))
        && let Ok(mut credential) =
            keyring::keyutils::KeyutilsCredential::new_with_target(None, SERVICE, name)
    {
        credential.persistent = None;
        let session_only = keyring::Entry::new_with_credential(Box::new(credential));
        return Ok(operation(&session_only));
    }
    Ok(outcome)
}

fn entry(name: &str) -> Result<keyring::Entry, String> {
    if name.trim().is_empty() {
        return Err(
            "a keyring entry name is empty: name the entry, as in { keyring = \"splunk-token\" }"
                .to_owned(),
        );
    }
    keyring::Entry::new(SERVICE, name)
        .map_err(|error| format!("the keyring entry name `{name}` is invalid: {error}"))
}
