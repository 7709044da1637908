//! Command-line parsing and dispatch; everything else is library code.
//!
//! The binary edge: the one module that writes messages to the terminal itself (renderers
//! return text, `write_stdout` prints it).
#![allow(clippy::print_stderr)]

use crate::bundle::{Bundle, Target};
use crate::collect::{
    self, AuthMode, Cloud, Collector, Credentials, DEFAULT_PARALLELISM, Endpoints, Progress,
    Session, Window,
};
use crate::render::{self, Format, Style};
use crate::snapshot::Snapshot;
use crate::verdict::Status;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// `kvdiag --version`: the release and the commit it was built from (build.rs).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("KVDIAG_COMMIT"), ")");

/// Why can't this Azure Container App get its secrets?
#[derive(Debug, Parser)]
#[command(name = "kvdiag", version = VERSION, about, after_help = CHECK_HELP, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose a Container App (or job): missing secretRefs, Key Vault access, stale revisions.
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Read the evidence from Azure into a redacted bundle that `check --from` replays.
    #[command(after_help = COLLECT_HELP)]
    Collect(CollectArgs),
    /// Check Container Apps YAML or ARM templates before they deploy (CI gate; SARIF for code scanning).
    #[command(after_help = LINT_HELP)]
    Lint(LintArgs),
    /// Print a shell completion script (e.g. `kvdiag completions bash > ~/.local/share/bash-completion/completions/kvdiag`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

const CHECK_HELP: &str = "\
Examples:
  kvdiag check --app ca-orders-web --rg rg-orders
  kvdiag check --job nightly-export -g rg-batch --subscription 3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90 -o json
  kvdiag check --environment cae-prod --rg rg-platform      # its certificates from Key Vault
  kvdiag check --from bundle.json --as-of 2026-11-20T10:30:00Z

Exit codes:
  0  nothing found: every hypothesis is below --fail-on and the evidence was sufficient
  1  a cause at or above --fail-on was found
  2  usage, input or credential error (bad flags, malformed bundle, unknown app, resource group
     or subscription, no working credential)
  3  evidence too incomplete to decide (the app could not be read, or the top entry is inconclusive)";

const COLLECT_HELP: &str = "\
Examples:
  kvdiag collect --app ca-orders-web --rg rg-orders -o bundle.json
  kvdiag check --from bundle.json

The bundle holds the Azure responses as received, with every header but request ids and
throttling state dropped; it never holds a token or a secret value.

Exit codes:
  0  the bundle was written (reads that failed are recorded in it as gaps)
  2  usage, input or credential error (unknown app, resource group or subscription, no credential)";

const LINT_HELP: &str = "\
Examples:
  kvdiag lint containerapp.yaml
  kvdiag lint azuredeploy.json --parameters azuredeploy.parameters.json -o sarif > kvdiag.sarif
  kvdiag lint main.json --live --rg rg-orders --fail-on warning
  kvdiag lint infra/                          # every *.yaml, *.yml, *.json under infra/
  az containerapp show -n ca-orders-web -g rg-orders | kvdiag lint -

Formats: the YAML of `az containerapp create|update --yaml` (full or short form), ARM JSON
templates and compiled Bicep (`az bicep build`), a single resource JSON. Rule ids and why they
matter: README, \"Lint rules\".

Accepting findings (README, \"Accepting findings\"): `# kvdiag: ignore[rule-id] reason` (YAML)
or `// kvdiag: ignore[rule-id] reason` (JSON) on the line or the line above, kvdiag.toml, and
--baseline; suppressed findings are counted (-v lists them) and never fail the run.

Exit codes:
  0  no finding at or above --fail-on
  1  a finding at or above --fail-on (default: error)
  2  usage or input error (unreadable or malformed file, not a Container App, no credential)
  3  --live could not read enough evidence to decide a Key Vault reference";

/// Which app or job to read from Azure.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The Container App's name.
    #[arg(long, short = 'n', value_name = "NAME", conflicts_with_all = ["job", "environment"])]
    pub app: Option<String>,
    /// A Container Apps job's name (instead of --app).
    #[arg(long, value_name = "NAME", conflicts_with = "environment")]
    pub job: Option<String>,
    /// A managed environment's name: judge every Key Vault consumer of the environment itself
    /// (its certificates and DNS-suffix certificate) instead of one app.
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
    /// The resource group.
    #[arg(
        long = "rg",
        short = 'g',
        visible_alias = "resource-group",
        value_name = "RG"
    )]
    pub resource_group: Option<String>,
    /// Subscription id [default: AZURE_SUBSCRIPTION_ID, then the Azure CLI's default]
    #[arg(long, short = 's', value_name = "ID")]
    pub subscription: Option<String>,
}

/// How to read Azure.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// How far back to read system logs and the activity log (24h, 90m, 7d; at most 12y).
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = since)]
    pub since: std::time::Duration,
    /// Overall deadline for reading Azure; reads still pending then become gaps (at most 1h).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = timeout)]
    pub timeout: std::time::Duration,
    /// Credential to use.
    #[arg(long, value_enum, env = "KVDIAG_AUTH", default_value_t = AuthMode::Auto)]
    pub auth: AuthMode,
    /// Azure cloud.
    #[arg(long, value_enum, default_value_t = Cloud::Public)]
    pub cloud: Cloud,
    /// Requests in flight at once (1 reads one request at a time).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PARALLELISM, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// Print every request (method, URL, status, milliseconds) on stderr; never a token.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Replay a recorded evidence bundle instead of reading Azure.
    #[arg(long, value_name = "BUNDLE.json", conflicts_with_all = ["app", "job", "environment"])]
    pub from: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Exit 1 when a hypothesis is at least this strong.
    #[arg(long, value_enum, default_value_t = FailOn::Likely)]
    pub fail_on: FailOn,
    /// Decide as of this moment (RFC 3339) instead of now (or the bundle's collection time);
    /// live reads end their log and activity windows there.
    #[arg(long, value_name = "RFC3339")]
    pub as_of: Option<String>,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Where to write the bundle (`-` for stdout).
    #[arg(short = 'o', long, value_name = "BUNDLE.json", default_value = "-")]
    pub output: PathBuf,
    /// Record this moment (RFC 3339) as the collection time and end the log and activity
    /// windows there (replaying an incident).
    #[arg(long, value_name = "RFC3339")]
    pub as_of: Option<String>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Container Apps YAML, ARM JSON templates or compiled Bicep; a directory (searched for
    /// *.yaml, *.yml and *.json); `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// An ARM deployment parameters file for the templates (`.bicepparam`: compile it first).
    #[arg(long, value_name = "FILE")]
    pub parameters: Option<PathBuf>,
    /// Also read Azure: do the vaults and secrets exist, and can the identity the deploy will
    /// use read them (same collectors and checkers as `check`).
    #[arg(long)]
    pub live: bool,
    /// With --live: the app or job name, resource group and subscription when the file does not
    /// say (for a single-resource file).
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub settings: LiveArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = crate::lint::report::LintFormat::Table)]
    pub output: crate::lint::report::LintFormat,
    /// Exit 1 when a finding is at least this severe.
    #[arg(long, value_enum, default_value_t = crate::lint::Severity::Error)]
    pub fail_on: crate::lint::Severity,
    /// Rule severities and ignores from this kvdiag.toml [default: the nearest kvdiag.toml
    /// from each file's directory up to the repository root].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Accept the findings recorded in this file (from --write-baseline); fail only on new ones.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,
    /// Record today's findings (after inline and config suppressions) in FILE and accept them.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
}

/// The longest `--since`: 12 years (humantime's `12y`, 4383 days).
///
/// No evidence kvdiag reads is kept longer: the activity log keeps 90 days and a Log Analytics
/// workspace at most 12 years, so a longer window reads nothing more. The bound also keeps the
/// window's start (`--as-of` minus `--since`) inside the calendar for every `--as-of` that
/// [`parse_as_of`] accepts (year 0 minus 12 years is far above `time`'s year -9999), so the
/// collector's window start cannot overflow.
pub const MAX_SINCE: std::time::Duration = std::time::Duration::from_secs(4383 * 86_400);

/// The longest `--timeout`: one hour.
///
/// A run reads one app or job: a few dozen requests, 16 at a time by default, each try at most
/// 30 s and retried at most 3 times after at most 60 s, so even a throttled run ends within
/// minutes. An hour is a ceiling for typos, not a limit anyone meets, and it keeps the
/// session's deadline far from the clock's limits.
pub const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

fn duration(text: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(text).map_err(|e| format!("{e} (e.g. 90s, 30m, 24h, 7d)"))?;
    if d.is_zero() {
        return Err("must be more than zero".into());
    }
    Ok(d)
}

/// `--since`: a duration up to [`MAX_SINCE`].
fn since(text: &str) -> Result<std::time::Duration, String> {
    let d = duration(text)?;
    if d > MAX_SINCE {
        return Err("at most 12y (4383 days): the activity log keeps 90 days and Log Analytics at most 12 years".into());
    }
    Ok(d)
}

/// `--timeout`: a duration up to [`MAX_TIMEOUT`].
fn timeout(text: &str) -> Result<std::time::Duration, String> {
    let d = duration(text)?;
    if d > MAX_TIMEOUT {
        return Err("at most 1h: a run that has not finished by then will not finish".into());
    }
    Ok(d)
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
        // A flag's value out of range (`--since 20000y`) is one line, like every input error
        // (README, exit code 2); clap's own rendering adds a blank line and a pointer to --help.
        Err(e) if e.kind() == clap::error::ErrorKind::ValueValidation => {
            let text = e.render().to_string();
            eprintln!("kvdiag: {}", text.lines().next().unwrap_or_default());
            return e.exit_code();
        }
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    init_tracing(std::env::var("RUST_LOG").ok().as_deref());
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kvdiag: error: {e:#}");
            2
        }
    }
}

/// `RUST_LOG` turns on diagnostics on stderr for kvdiag and the Azure SDK underneath, as
/// `target=level` pairs (`kvdiag=debug`, `azure_core=trace`, or a bare `debug` for everything).
/// kvdiag's own events: `kvdiag::http` at debug, one per request (method, URL, outcome, ms), the
/// same lines `-v` prints. Never a token or a secret value: tokens travel in headers, which
/// kvdiag does not log and the SDK logs redacted. Off when unset; a spec that does not parse is
/// said once and ignored.
fn init_tracing(spec: Option<&str>) {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let Some(spec) = spec.map(str::trim).filter(|s| !s.is_empty()) else {
        return;
    };
    let filter: Targets = match spec.parse() {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("kvdiag: warning: RUST_LOG '{spec}' ignored: {e}");
            return;
        }
    };
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Collect(args) => collect(args),
        Command::Lint(args) => lint(args),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "kvdiag",
                &mut script,
            );
            write_stdout(&script)?;
            Ok(0)
        }
    }
}

fn check(args: CheckArgs) -> anyhow::Result<i32> {
    let as_of = parse_as_of(args.as_of.as_deref())?;
    let bundle = match &args.from {
        Some(path) => Bundle::load(path)?,
        None => read_azure(&args.target, &args.live, as_of)?,
    };
    let verdict = crate::checks::diagnose(&Snapshot::build(&bundle, as_of));
    let style = output_style();
    write_stdout(render::render(&verdict, args.output, style).as_bytes())?;
    Ok(verdict.exit_code(args.fail_on.into()))
}

fn collect(args: CollectArgs) -> anyhow::Result<i32> {
    let as_of = parse_as_of(args.as_of.as_deref())?;
    let bundle = read_azure(&args.target, &args.live, as_of)?;
    let text = bundle.to_text()?;
    let failed = bundle.responses.iter().filter(|r| !r.ok()).count();
    if args.output.as_os_str() == "-" {
        write_stdout(text.as_bytes())?;
    } else {
        // Atomic (the old bundle survives an interrupted run) and mode 0600: src/bundle/write.rs.
        crate::bundle::write_file(&args.output, text.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", args.output.display()))?;
        eprintln!(
            "kvdiag: wrote {} ({} responses, {failed} not successful); replay it with `kvdiag check --from {}`",
            args.output.display(),
            bundle.responses.len(),
            args.output.display()
        );
    }
    Ok(0)
}

fn lint(args: LintArgs) -> anyhow::Result<i32> {
    let mut accept = crate::lint::accept::Acceptance::load(&crate::lint::accept::Options {
        config: args.config.clone(),
        baseline: args.baseline.clone(),
        write_baseline: args.write_baseline.clone(),
    })
    .map_err(anyhow::Error::msg)?;
    let params = match &args.parameters {
        Some(path) => Some(crate::lint::load_parameters(path).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let inputs = crate::lint::inputs::expand(&args.files, &mut std::io::stdin().lock());
    let (mut report, texts) = crate::lint::inputs::lint(&args.files, &inputs, params.as_ref());
    if args.live {
        lint_live(&args, params.as_ref(), &mut report.files, &texts)?;
    }
    // Inline suppressions read the text that was linted (stdin included), by file name.
    let names: Vec<String> = report.files.iter().map(|f| f.file.clone()).collect();
    let text_of = |file: &str| {
        names
            .iter()
            .position(|f| f == file)
            .and_then(|i| texts.get(i).cloned().flatten())
    };
    let accepted = accept
        .apply(&mut report.files, &text_of)
        .map_err(anyhow::Error::msg)?;
    for note in &accepted.notes {
        eprintln!("kvdiag: {note}");
    }
    report.suppressions = accepted.suppressions;
    for f in report.files.iter() {
        // Every format also carries file errors in its document; stderr makes sure a pipeline
        // log shows why a file was not linted, whatever went to stdout.
        if let Some(error) = &f.error {
            eprintln!("kvdiag: error: {}: {error}", f.file);
        }
    }
    let style = output_style();
    let list = args.settings.verbose;
    write_stdout(
        crate::lint::report::render_listing(&report, args.output, style, list).as_bytes(),
    )?;
    Ok(report.exit_code(args.fail_on))
}

/// `--live`: the Key Vault checks for every app and job that linted, against Azure.
fn lint_live(
    args: &LintArgs,
    params: Option<&crate::lint::Parameters>,
    files: &mut [crate::lint::FileReport],
    texts: &[Option<String>],
) -> anyhow::Result<()> {
    let env = |key: &str| std::env::var(key).ok();
    let subscription = collect::subscription(args.target.subscription.as_deref(), &env)
        .map_err(anyhow::Error::msg)?;
    let collector = collector(&args.settings, &subscription, &env)?;
    let window = window(time::OffsetDateTime::now_utc(), args.settings.since)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let name = args.target.app.as_deref().or(args.target.job.as_deref());
    for (report, text) in files.iter_mut().zip(texts) {
        let (None, Some(text)) = (&report.error, text) else {
            continue;
        };
        let Ok(resources) = crate::lint::load(&report.file, text, params) else {
            continue;
        };
        // `--live` reads the apps and jobs; an environment's own resources are linted statically.
        for resource in resources.iter().filter(|r| r.kind.workload().is_some()) {
            let target = crate::lint::live::target(
                resource,
                &subscription,
                name,
                args.target.resource_group.as_deref(),
            )
            .map_err(anyhow::Error::msg)?;
            let found = runtime.block_on(crate::lint::live::lint_live(
                &collector,
                &report.file,
                resource,
                &target,
                &window,
            ))?;
            report.findings.extend(found);
        }
        crate::lint::sort(&mut report.findings);
    }
    Ok(())
}

/// `--as-of`: any RFC 3339 moment whose UTC form lies in years 0000 to 9999, the ends of the
/// calendar included.
///
/// It is a moment to judge the evidence at, and an engineer replaying a bundle a year later (to
/// see an expiry) or far back expects it taken as written, so no narrower range is imposed:
/// rules only compare the time elapsed between two moments, which is defined for any pair, and
/// the log window's start is at most [`MAX_SINCE`] earlier, still inside the calendar. Only a
/// moment that has no UTC form in the calendar (`9999-12-31T23:59:59-05:00` is in year 10000)
/// is refused, with the range in the message.
fn parse_as_of(text: Option<&str>) -> anyhow::Result<Option<time::OffsetDateTime>> {
    use time::format_description::well_known::Rfc3339;
    text.map(|text| {
        crate::azure::time::parse(text).ok_or_else(|| {
            if time::OffsetDateTime::parse(text.trim(), &Rfc3339).is_ok() {
                anyhow::anyhow!("--as-of '{text}' is outside the calendar in UTC (0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z)")
            } else {
                anyhow::anyhow!("--as-of '{text}' is not an RFC 3339 time (e.g. 2026-11-20T10:30:00Z)")
            }
        })
    })
    .transpose()
}

/// The read window ending at `now`. [`MAX_SINCE`] and [`parse_as_of`] already keep its start
/// inside the calendar; checking here too means no flag combination reaches the collector with
/// a window whose start it cannot compute.
fn window(now: time::OffsetDateTime, since: std::time::Duration) -> anyhow::Result<Window> {
    let start = time::Duration::try_from(since)
        .ok()
        .and_then(|back| now.checked_sub(back));
    if start.is_none() {
        anyhow::bail!(
            "--since {} reaches back before the calendar's start from {}; use a shorter --since or a later --as-of",
            humantime::format_duration(since),
            crate::azure::time::display(now)
        );
    }
    Ok(Window { now, since })
}

/// The run's clients from the live flags: endpoints of the cloud, a credential for the
/// subscription, and one session bounding the whole run (`--timeout`, `--parallel`).
fn collector(
    live: &LiveArgs,
    subscription: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Collector> {
    let endpoints = Endpoints::resolve(live.cloud, env).map_err(anyhow::Error::msg)?;
    let credentials = Credentials::new(live.auth, live.cloud, Some(subscription), env)
        .map_err(anyhow::Error::msg)?;
    let progress = Progress::new(std::io::stderr().is_terminal() && !live.verbose);
    let session = Session::new(
        live.timeout,
        usize::from(live.parallel),
        live.verbose,
        progress,
    );
    Ok(Collector::new(credentials, endpoints, session))
}

/// Reads the target's evidence from Azure into a redacted bundle.
fn read_azure(
    target: &TargetArgs,
    live: &LiveArgs,
    as_of: Option<time::OffsetDateTime>,
) -> anyhow::Result<Bundle> {
    let env = |key: &str| std::env::var(key).ok();
    if target.app.is_none() && target.job.is_none() && target.environment.is_none() {
        anyhow::bail!(
            "say what to check: --app NAME (or --job NAME, --environment NAME) with --rg RG, or --from BUNDLE.json"
        );
    }
    let Some(resource_group) = target.resource_group.clone() else {
        anyhow::bail!("--rg RG is required with --app, --job or --environment");
    };
    let subscription =
        collect::subscription(target.subscription.as_deref(), &env).map_err(anyhow::Error::msg)?;
    let target = Target {
        subscription: subscription.clone(),
        resource_group,
        app: target.app.clone(),
        job: target.job.clone(),
        environment: target.environment.clone(),
    };
    collect::validate(&target).map_err(anyhow::Error::msg)?;
    let collector = collector(live, &subscription, &env)?;
    let window = window(
        as_of.unwrap_or_else(time::OffsetDateTime::now_utc),
        live.since,
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut bundle = runtime.block_on(collector.collect(&target, &window))?;
    crate::bundle::redact(&mut bundle);
    if live.verbose {
        eprintln!(
            "kvdiag: {} HTTP requests, {} recorded responses",
            collector.requests_sent(),
            bundle.responses.len()
        );
    }
    Ok(bundle)
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    // A closed pipe (`| head`) is not an error worth a message.
    if let Err(e) = lock.write_all(bytes).and_then(|_| lock.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    Ok(())
}

/// How the human formats are drawn on this stdout: colour and folded prose on a terminal, at
/// [`output_width`].
fn output_style() -> Style {
    let terminal = std::io::stdout().is_terminal();
    // Asked of stdout itself (TIOCGWINSZ on fd 1), not of /dev/tty: the width is where the
    // output goes.
    let size = || {
        console::Term::stdout()
            .size_checked()
            .map(|(_rows, cols)| cols)
    };
    Style {
        color: terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        width: output_width(
            std::env::var("COLUMNS").ok().as_deref(),
            terminal.then(size).flatten(),
        ),
        wrap: terminal,
    }
}

/// `COLUMNS` when it is a usable width (an override), else the terminal's own width when stdout
/// is one (at least 40), else 120: pipes and files keep one stable layout.
fn output_width(columns: Option<&str>, terminal: Option<u16>) -> u16 {
    columns
        .and_then(|c| c.trim().parse().ok())
        .filter(|w: &u16| *w >= 40)
        .or(terminal.map(|w| w.max(40)))
        .unwrap_or(120)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_is_columns_then_the_terminal_then_120() {
        assert_eq!(output_width(Some("100"), Some(80)), 100);
        assert_eq!(output_width(None, Some(80)), 80);
        assert_eq!(output_width(Some("x"), Some(80)), 80);
        assert_eq!(output_width(Some("12"), Some(80)), 80);
        assert_eq!(output_width(None, Some(20)), 40);
        assert_eq!(output_width(None, None), 120);
        assert_eq!(output_width(Some("90"), None), 90);
    }

    #[test]
    fn flags_stay_inside_their_bounds() {
        assert_eq!(since("12y"), Ok(MAX_SINCE));
        assert!(since("20000y").is_err());
        assert!(since("18446744073709551615s").is_err());
        assert_eq!(timeout("1h"), Ok(MAX_TIMEOUT));
        assert!(timeout("18446744073709551615s").is_err());
        assert!(timeout("0s").is_err());
    }

    #[test]
    fn every_accepted_as_of_has_a_window_of_the_longest_since() {
        for text in [
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "2026-11-20T10:30:00Z",
        ] {
            let as_of = parse_as_of(Some(text)).unwrap().unwrap();
            let w = window(as_of, MAX_SINCE).unwrap();
            assert!(w.now.checked_sub(MAX_SINCE.try_into().unwrap()).is_some());
        }
        let err = parse_as_of(Some("9999-12-31T23:59:59-05:00")).unwrap_err();
        assert!(err.to_string().contains("outside the calendar"), "{err}");
        assert!(parse_as_of(Some("soon")).is_err());
    }
}
