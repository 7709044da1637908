//! Stamps the commit into `kvdiag --version`, so a bug report names the exact build.
//!
//! `KVDIAG_COMMIT` wins (release builds and packagers set it); else `git rev-parse` when building
//! from a checkout; else `unknown` (a crate tarball has no history). Reruns only when HEAD moves.

// A build script talks to cargo on stdout.
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=KVDIAG_COMMIT");
    let commit = std::env::var("KVDIAG_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| {
            let dir = git(&["rev-parse", "--git-dir"])?;
            // Rerun when HEAD or a branch moves, and only then: naming a path that does not
            // exist would rebuild the crate on every build.
            for watched in ["HEAD", "refs/heads", "packed-refs"] {
                let path = Path::new(&dir).join(watched);
                if path.exists() {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
            git(&["rev-parse", "--short=12", "HEAD"])
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=KVDIAG_COMMIT={commit}");
}
