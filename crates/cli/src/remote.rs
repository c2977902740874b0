//! Commands that go through the running server holding a data directory: `serve` writes
//! its address to `DIR/serve.addr` while it runs, and a command that finds the directory
//! locked (`LOG_LOCKED`) asks that server instead of failing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::json;

use crate::http::graphql;

/// How often a remote rebuild is asked how it is going.
const POLL: Duration = Duration::from_millis(100);

/// The file holding the URL of the server that serves `data_dir`.
pub fn address_file(data_dir: &Path) -> PathBuf {
    data_dir.join("serve.addr")
}

/// Whether `error` says the data directory is held by another process.
pub fn is_locked(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<sparkfeed_eventlog::LogError>()
            .is_some_and(|e| e.code() == "LOG_LOCKED")
    })
}

/// What a rebuild through the server did.
pub struct RemoteRebuild {
    /// The projection.
    pub name: String,
    /// Events replayed.
    pub events: u64,
    /// Seconds taken.
    pub seconds: f64,
    /// The server it ran on.
    pub server: String,
}

/// The URL of the server holding `data_dir` and the token to use with it, or why there
/// is none; `role` and `what` word the error.
pub(crate) fn server_and_token<'t>(
    data_dir: &Path,
    token: Option<&'t str>,
    role: &str,
    what: &str,
) -> anyhow::Result<(String, &'t str)> {
    let file = address_file(data_dir);
    let server = std::fs::read_to_string(&file)
        .with_context(|| {
            format!(
                "{} is held by another process, and no server address is in {}",
                data_dir.display(),
                file.display()
            )
        })?
        .trim()
        .to_owned();
    let Some(token) = token else {
        bail!(
            "{} is held by the server at {server}: pass {role}'s token (--token or \
             SPARKFEED_TOKEN) to {what} through it",
            data_dir.display()
        );
    };
    Ok((server, token))
}

/// Verifies the log of `data_dir` on the server holding it (`verifyLog`, which reads the
/// open log and writes nothing), as an auditor whose token is `token`: whether it is
/// intact, and a line saying so.
pub async fn verify(data_dir: &Path, token: Option<&str>) -> anyhow::Result<(bool, String)> {
    let (server, token) = server_and_token(data_dir, token, "an auditor", "verify")?;
    let query = "{ verifyLog { intact records headHash firstBadPosition problem } }";
    let data = graphql(&server, token, query, json!({})).await?;
    let report = &data["verifyLog"];
    let intact = report["intact"]
        .as_bool()
        .context("the server sent no verdict")?;
    let said = if intact {
        format!(
            "ok: {} events verified by the server at {server}; head hash {}",
            report["records"],
            report["headHash"].as_str().unwrap_or("?")
        )
    } else {
        format!(
            "TAMPERED at position {}: {} (verified by the server at {server})",
            report["firstBadPosition"],
            report["problem"].as_str().unwrap_or("?")
        )
    };
    Ok((intact, said))
}

/// Rebuilds projection `name` (or `all`) on the server holding `data_dir`, as an admin
/// whose token is `token`, waiting for each rebuild to be swapped in.
pub async fn rebuild(
    data_dir: &Path,
    name: &str,
    token: Option<&str>,
) -> anyhow::Result<Vec<RemoteRebuild>> {
    let (server, token) = server_and_token(data_dir, token, "an admin", "rebuild")?;
    let names: Vec<String> = if name == "all" {
        let data = graphql(&server, token, "{ projections { name } }", json!({})).await?;
        data["projections"]
            .as_array()
            .context("the server listed no projections")?
            .iter()
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect()
    } else {
        vec![name.to_owned()]
    };
    let mut done = Vec::new();
    for name in names {
        let start = "mutation($n: String!) { rebuildProjection(name: $n) { name } }";
        graphql(&server, token, start, json!({ "n": name })).await?;
        let (events, seconds) = wait(&server, token, &name).await?;
        done.push(RemoteRebuild {
            name,
            events,
            seconds,
            server: server.clone(),
        });
    }
    Ok(done)
}

/// Waits until the server's rebuild of `name` ends; its events and seconds.
async fn wait(server: &str, token: &str, name: &str) -> anyhow::Result<(u64, f64)> {
    let query = "{ projections { name rebuild { phase events seconds code message } } }";
    loop {
        let data = graphql(server, token, query, json!({})).await?;
        let status = data["projections"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == name))
            .map(|p| p["rebuild"].clone())
            .context("the server lost track of the rebuild")?;
        match status["phase"].as_str() {
            Some("DONE") => {
                let events = status["events"].as_u64().unwrap_or(0);
                return Ok((events, status["seconds"].as_f64().unwrap_or(0.0)));
            }
            Some("FAILED") => bail!(
                "the rebuild of {name} failed on the server ({}): {}",
                status["code"].as_str().unwrap_or("?"),
                status["message"].as_str().unwrap_or("?")
            ),
            _ => tokio::time::sleep(POLL).await,
        }
    }
}
