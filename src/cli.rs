//! Command-line parsing and dispatch; everything else is library code.
//!
//! The binary edge: the one module that writes messages to the terminal itself (renderers
//! return text, `write_stdout` prints it).
#![allow(clippy::print_stderr)]

use crate::collect::{AuthMode, Cloud, DEFAULT_PARALLELISM};
use crate::pipeline::{self, CredentialPool, LintRequest, LiveSettings, TargetSpec};
use crate::render::{self, Format, Style};
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
    /// Diagnose every Container App and job in subscriptions, a management group or the tenant (Azure Resource Graph).
    #[command(after_help = SCAN_HELP)]
    Scan(ScanArgs),
    /// Check Container Apps YAML or ARM templates before they deploy (CI gate; SARIF for code scanning).
    #[command(after_help = LINT_HELP)]
    Lint(LintArgs),
    /// Serve the check, lint and replay as tools for AI assistants (Model Context Protocol over stdio).
    #[command(after_help = MCP_HELP)]
    Mcp(McpArgs),
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

const SCAN_HELP: &str = "\
Examples:
  kvdiag scan                                        # every subscription the credential can read
  kvdiag scan --subscription 3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90 --rg rg-orders -o json
  kvdiag scan --management-group platform -o sarif > kvdiag-scan.sarif
  kvdiag scan --deep -o markdown --sarif kvdiag-scan.sarif >> \"$GITHUB_STEP_SUMMARY\"

Reads grow with Resource Graph pages, vaults, workspaces and subscriptions, not with apps
(docs/scan.md). Revisions are not in Resource Graph: without --deep, stale_revision says what it
could not see; --deep reads every workload the scan could not clear as `check` does.

Exit codes:
  0  nothing found in any workload, and every workload and page could be read
  1  a cause at or above --fail-on was found in at least one workload
  2  usage or credential error
  3  some workload's evidence (or a page of the scope) could not be read enough to decide";

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

const MCP_HELP: &str = "\
Started by an assistant (VS Code, Claude, GitHub Copilot), not by hand: it reads JSON-RPC on
stdin and writes it on stdout until stdin closes. Configuration snippets: README, \"kvdiag mcp\".

Tools: kvdiag_check (an app or job in Azure), kvdiag_lint (a file before it deploys),
kvdiag_replay (a recorded bundle). All read only. The flags below are the defaults of every
call; tokens are fetched once per audience and reused until 5 minutes before they expire.";

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
    /// (its certificates, DNS-suffix certificate and Dapr components' secretRefs) instead of one
    /// app.
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
    /// Do not keep the Azure CLI's or azd's access tokens between runs (also
    /// KVDIAG_TOKEN_CACHE=0); README, "Token cache".
    #[arg(long)]
    pub no_token_cache: bool,
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
pub struct ScanArgs {
    /// A subscription to scan (repeat for several) [default: every subscription the credential
    /// can read].
    #[arg(
        long,
        short = 's',
        value_name = "ID",
        conflicts_with = "management_group"
    )]
    pub subscription: Vec<String>,
    /// A management group to scan (its id, the name in its resource id).
    #[arg(long, value_name = "ID")]
    pub management_group: Option<String>,
    /// Only this resource group (by name, in every subscription scanned).
    #[arg(
        long = "rg",
        short = 'g',
        visible_alias = "resource-group",
        value_name = "RG"
    )]
    pub resource_group: Option<String>,
    /// Also read every workload the scan could not clear as `check` does (revisions included).
    #[arg(long)]
    pub deep: bool,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = crate::render::scan::ScanFormat::Table)]
    pub output: crate::render::scan::ScanFormat,
    /// Exit 1 when a hypothesis of any workload is at least this strong.
    #[arg(long, value_enum, default_value_t = FailOn::Likely)]
    pub fail_on: FailOn,
    /// Decide as of this moment (RFC 3339) instead of now; the log and activity windows end there.
    #[arg(long, value_name = "RFC3339")]
    pub as_of: Option<String>,
    /// Also write the SARIF log to FILE (one scan, two reports: e.g. markdown on stdout for a CI
    /// step summary and SARIF for code scanning).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
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
pub struct McpArgs {
    /// How every tool call reads Azure (`since` can be set per call).
    #[command(flatten)]
    pub live: LiveArgs,
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
pub(crate) fn since(text: &str) -> Result<std::time::Duration, String> {
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
        Command::Mcp(args) => {
            let env = |key: &str| std::env::var(key).ok();
            let live = live_settings(&args.live, &env);
            runtime()?.block_on(crate::mcp::serve(live))?;
            Ok(0)
        }
        Command::Scan(args) => scan(args),
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

/// The flags of a live read as the library takes them.
fn live_settings(live: &LiveArgs, env: pipeline::Env<'_>) -> LiveSettings {
    LiveSettings {
        since: live.since,
        timeout: live.timeout,
        auth: live.auth,
        cloud: live.cloud,
        parallel: live.parallel,
        verbose: live.verbose,
        progress: std::io::stderr().is_terminal(),
        token_cache: pipeline::token_cache_enabled(live.no_token_cache, env),
    }
}

fn target_spec(target: &TargetArgs) -> TargetSpec {
    TargetSpec {
        app: target.app.clone(),
        job: target.job.clone(),
        environment: target.environment.clone(),
        resource_group: target.resource_group.clone(),
        subscription: target.subscription.clone(),
    }
}

/// The runtime a live command runs on: two workers are plenty for a few dozen requests.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

fn check(args: CheckArgs) -> anyhow::Result<i32> {
    let fail_on = args.fail_on.into();
    let checked = match &args.from {
        Some(path) => pipeline::replay(path, args.as_of.as_deref(), fail_on)?,
        None => {
            let env = |key: &str| std::env::var(key).ok();
            let live = live_settings(&args.live, &env);
            let target = target_spec(&args.target);
            runtime()?.block_on(pipeline::check(
                &target,
                &live,
                args.as_of.as_deref(),
                fail_on,
                &CredentialPool::default(),
                &env,
            ))?
        }
    };
    let style = output_style();
    write_stdout(render::render(&checked.verdict, args.output, style).as_bytes())?;
    Ok(checked.exit_code)
}

fn scan(args: ScanArgs) -> anyhow::Result<i32> {
    let env = |key: &str| std::env::var(key).ok();
    let live = live_settings(&args.live, &env);
    let request = pipeline::ScanRequest {
        scope: crate::scan::Scope {
            subscriptions: args.subscription.clone(),
            management_group: args.management_group.clone(),
            resource_group: args.resource_group.clone(),
        },
        deep: args.deep,
        as_of: args.as_of.clone(),
    };
    let report = runtime()?.block_on(pipeline::scan(
        &request,
        &live,
        &CredentialPool::default(),
        &env,
    ))?;
    if args.live.verbose {
        eprintln!(
            "kvdiag: {} HTTP requests for {} workloads",
            report.summary.requests.total, report.summary.workloads
        );
    }
    if let Some(path) = &args.sarif {
        let sarif = crate::render::scan::render(
            &report,
            crate::render::scan::ScanFormat::Sarif,
            output_style(),
        );
        crate::bundle::write_file(path, sarif.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    if args.output == crate::render::scan::ScanFormat::Json {
        // Streamed: a large fleet's document is never held as one string.
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        if let Err(e) = report.write_json(&mut out).and_then(|()| out.flush())
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            return Err(e.into());
        }
    } else {
        let text = crate::render::scan::render(&report, args.output, output_style());
        write_stdout(text.as_bytes())?;
    }
    Ok(report.exit_code(args.fail_on.into()))
}

fn collect(args: CollectArgs) -> anyhow::Result<i32> {
    let as_of = pipeline::parse_as_of(args.as_of.as_deref())?;
    let env = |key: &str| std::env::var(key).ok();
    let live = live_settings(&args.live, &env);
    let bundle = runtime()?.block_on(pipeline::read_azure(
        &target_spec(&args.target),
        &live,
        as_of,
        &CredentialPool::default(),
        &env,
    ))?;
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
    let env = |key: &str| std::env::var(key).ok();
    let request = LintRequest {
        files: args.files.clone(),
        parameters: args.parameters.clone(),
        live: args.live.then(|| {
            (
                target_spec(&args.target),
                live_settings(&args.settings, &env),
            )
        }),
        accept: crate::lint::accept::Options {
            config: args.config.clone(),
            baseline: args.baseline.clone(),
            write_baseline: args.write_baseline.clone(),
        },
        fail_on: args.fail_on,
    };
    let linted = runtime()?.block_on(pipeline::lint(
        &request,
        &mut std::io::stdin(),
        &CredentialPool::default(),
        &env,
    ))?;
    for note in &linted.notes {
        eprintln!("kvdiag: {note}");
    }
    for f in linted.report.files.iter() {
        // Every format also carries file errors in its document; stderr makes sure a pipeline
        // log shows why a file was not linted, whatever went to stdout.
        if let Some(error) = &f.error {
            eprintln!("kvdiag: error: {}: {error}", f.file);
        }
    }
    let style = output_style();
    let list = args.settings.verbose;
    write_stdout(
        crate::lint::report::render_listing(&linted.report, args.output, style, list).as_bytes(),
    )?;
    Ok(linted.exit_code)
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
}
