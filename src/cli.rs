//! Command-line parsing and dispatch; everything else is library code.

use crate::bundle::Bundle;
use crate::render::{self, Format, Style};
use crate::snapshot::Snapshot;
use crate::verdict::Status;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit codes:
  0  nothing found: every hypothesis is below --fail-on and the evidence was sufficient
  1  a cause at or above --fail-on was found
  2  usage or input error (bad flags, missing or malformed bundle)
  3  evidence too incomplete to decide (the app could not be read, or the top entry is inconclusive)";

/// Why can't this Azure Container App get its secrets?
#[derive(Debug, Parser)]
#[command(name = "kvdiag", version, about, after_help = EXIT_CODES, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose a Container App (or job): missing secretRefs, Key Vault access, stale revisions.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Replay a recorded evidence bundle instead of reading Azure.
    #[arg(long, value_name = "BUNDLE.json")]
    pub from: PathBuf,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Exit 1 when a hypothesis is at least this strong.
    #[arg(long, value_enum, default_value_t = FailOn::Likely)]
    pub fail_on: FailOn,
    /// Decide as of this moment (RFC 3339) instead of the bundle's collection time.
    #[arg(long, value_name = "RFC3339")]
    pub as_of: Option<String>,
}

/// Thresholds for `--fail-on` (lint maps error to likely, warning to possible).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Confirmed,
    Likely,
    Possible,
}

impl From<FailOn> for Status {
    fn from(f: FailOn) -> Status {
        match f {
            FailOn::Confirmed => Status::Confirmed,
            FailOn::Likely => Status::Likely,
            FailOn::Possible => Status::Possible,
        }
    }
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kvdiag: error: {e:#}");
            2
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Check(args) => check(args),
    }
}

fn check(args: CheckArgs) -> anyhow::Result<i32> {
    let as_of = match &args.as_of {
        Some(text) => Some(crate::azure::time::parse(text).ok_or_else(|| {
            anyhow::anyhow!("--as-of '{text}' is not an RFC 3339 time (e.g. 2026-11-20T10:30:00Z)")
        })?),
        None => None,
    };
    let bundle = Bundle::load(&args.from)?;
    let verdict = crate::checks::diagnose(&Snapshot::build(&bundle, as_of));
    let stdout = std::io::stdout();
    let style = Style {
        color: stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        width: terminal_width(),
    };
    let text = render::render(&verdict, args.output, style);
    let mut lock = stdout.lock();
    // A closed pipe (`| head`) is not an error worth a message.
    if let Err(e) = lock.write_all(text.as_bytes()).and_then(|_| lock.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    Ok(verdict.exit_code(args.fail_on.into()))
}

/// `COLUMNS` when set (terminals export it), else 120.
fn terminal_width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(120)
}
