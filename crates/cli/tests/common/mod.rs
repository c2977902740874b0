//! What the binary's tests share.
// Each test binary uses a part of this.
#![allow(dead_code)]

use std::process::Command;

pub mod served;

/// Runs `sparkfeed` with `args`: its exit code, stdout and stderr.
pub fn sparkfeed(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sparkfeed"))
        .args(args)
        .output()
        .expect("sparkfeed runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
