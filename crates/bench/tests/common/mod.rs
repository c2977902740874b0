//! What the bench's tests share.

use std::path::Path;

use sparkfeed_bench::postgres::DEFAULT_BIN;

/// Fails the test, saying what to install, unless PostgreSQL 15's binaries are where
/// Debian's `postgresql-15` puts them (`.ci/run` installs it).
pub fn require_postgres() {
    assert!(
        Path::new(DEFAULT_BIN).join("initdb").is_file(),
        "PostgreSQL 15 is not installed ({DEFAULT_BIN}/initdb is missing): \
         apt-get install -y --no-install-recommends postgresql-15"
    );
}
