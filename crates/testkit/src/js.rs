//! Third-party JavaScript clients and a real browser for the end-to-end tests: the Node
//! packages of `tests/js` (installed from their lock file) and Debian's `chromium`.
//!
//! Invariant: a test that needs them fails and says what is missing; it is never skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `tests/js`, with its packages installed (`npm ci` from the committed lock file when
/// any is missing); panics saying what is missing when Node or npm is not there.
pub fn js_packages() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/js");
    for tool in ["node", "npm"] {
        let found = Command::new(tool).arg("--version").output();
        assert!(
            found.as_ref().is_ok_and(|o| o.status.success()),
            "{tool} is not installed: the end-to-end tests run JavaScript clients with Node \
             (.ci/run installs nodejs and npm)"
        );
    }
    let installed = ["graphql", "graphql-http", "puppeteer-core"]
        .iter()
        .all(|package| {
            dir.join(format!("node_modules/{package}/package.json"))
                .is_file()
        });
    if !installed {
        let run = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .expect("npm runs");
        assert!(
            run.status.success(),
            "npm ci in tests/js failed: {}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    dir
}

/// The browser binary: `$CHROMIUM`, else `chromium` on the PATH, as an absolute path.
/// Panics saying how to install it when there is none.
pub fn chromium() -> PathBuf {
    let named = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let found = Command::new(&named).arg("--version").output();
    assert!(
        found.as_ref().is_ok_and(|o| o.status.success()),
        "{named} is not installed: the browser tests need the Debian chromium package \
         (`apt-get install -y chromium`; .ci/run installs it), or CHROMIUM=/path/to/it"
    );
    let path = Path::new(&named);
    if path.components().count() > 1 {
        return path.to_path_buf();
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(&named))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{named} answers --version but is not on the PATH"))
}

/// Runs `node SCRIPT ARGS…` in `dir` (with `env` added), killed if it runs past `limit`,
/// and answers what it printed on stdout (printed here too). Panics with its stdout and
/// stderr if it exits with a failure, and says so if it ran out of time.
pub async fn run_node(
    dir: &Path,
    script: &str,
    args: &[&std::ffi::OsStr],
    env: &[(&str, &std::ffi::OsStr)],
    limit: std::time::Duration,
) -> String {
    let mut node = tokio::process::Command::new("node");
    node.arg(script)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .kill_on_drop(true);
    let output = tokio::time::timeout(limit, node.output())
        .await
        .unwrap_or_else(|_| panic!("node {script} did not finish within {limit:?}"))
        .expect("node runs");
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    println!("{printed}");
    assert!(
        output.status.success(),
        "node {script} failed:\n{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    printed
}
