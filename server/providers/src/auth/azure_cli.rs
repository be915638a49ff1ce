//! Tokens from the Azure CLI's signed-in account (`az account get-access-token`).

use std::ffi::OsString;
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use chrono::{Local, NaiveDateTime, TimeZone};
use futures::future::BoxFuture;
use serde::Deserialize;

use super::{AccessToken, AuthError, TokenSource};
use crate::secret::Secret;

/// Runs `az account get-access-token --scope S --output json` for each scope.
#[derive(Clone, Debug)]
pub struct AzureCliCredential {
    program: OsString,
    tenant: Option<String>,
}

impl AzureCliCredential {
    /// Uses `az` from `PATH` (`az.cmd` on Windows, where the CLI is a batch file).
    pub fn new(tenant: Option<String>) -> AzureCliCredential {
        let program = if cfg!(windows) { "az.cmd" } else { "az" };
        AzureCliCredential {
            program: OsString::from(program),
            tenant,
        }
    }

    /// Uses another program, such as `az.cmd` on Windows or a wrapper script.
    pub fn with_program(mut self, program: impl Into<OsString>) -> AzureCliCredential {
        self.program = program.into();
        self
    }

    fn login_command(&self) -> String {
        match &self.tenant {
            Some(tenant) => format!("az login --tenant {tenant}"),
            None => "az login".to_string(),
        }
    }

    async fn fetch(&self, scope: &str) -> Result<AccessToken, AuthError> {
        let mut command = tokio::process::Command::new(&self.program);
        command.args([
            "account",
            "get-access-token",
            "--scope",
            scope,
            "--output",
            "json",
        ]);
        if let Some(tenant) = &self.tenant {
            command.args(["--tenant", tenant]);
        }
        command.stdin(Stdio::null()).kill_on_drop(true);

        let program = self.program.to_string_lossy().into_owned();
        let output = command.output().await.map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                AuthError::new(format!(
                    "the Azure CLI (`{program}`) was not found on PATH: install it and run `{}`, or choose another auth method for the connection",
                    self.login_command()
                ))
            } else {
                AuthError::new(format!("could not start the Azure CLI (`{program}`): {error}"))
            }
        })?;

        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let reason = stderr
                .lines()
                .map(|line| line.trim().trim_start_matches("ERROR:").trim())
                .find(|line| !line.is_empty())
                .unwrap_or("it exited without a message");
            return Err(AuthError::new(format!(
                "the Azure CLI could not get a token for {scope}: {reason}. Run `{}` and try again",
                self.login_command()
            )));
        }

        let reply: CliToken = serde_json::from_slice(&output.stdout).map_err(|error| {
            AuthError::new(format!(
                "the Azure CLI printed output that is not a token ({error}); check that `{program} account get-access-token` works in a terminal"
            ))
        })?;
        let expires_at = reply.expiry();
        Ok(AccessToken {
            token: Secret::new(reply.access_token),
            expires_at,
        })
    }
}

/// The fields of `az account get-access-token` output that the client reads.
#[derive(Deserialize)]
struct CliToken {
    #[serde(rename = "accessToken")]
    access_token: String,
    /// Seconds since the Unix epoch; Azure CLI 2.54 and later print it.
    expires_on: Option<i64>,
    /// Local time without an offset, printed by every version.
    #[serde(rename = "expiresOn")]
    expires_on_local: Option<String>,
}

impl CliToken {
    fn expiry(&self) -> Option<SystemTime> {
        if let Some(seconds) = self.expires_on {
            return Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds.max(0) as u64));
        }
        let text = self.expires_on_local.as_deref()?;
        let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok()?;
        let local = Local.from_local_datetime(&naive).earliest()?;
        Some(SystemTime::from(local))
    }
}

impl TokenSource for AzureCliCredential {
    fn token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<AccessToken, AuthError>> {
        Box::pin(self.fetch(scope))
    }

    fn unauthorized_action(&self) -> String {
        format!(
            "Run `{}` with an account that can read this resource, then run the query again",
            self.login_command()
        )
    }
}
