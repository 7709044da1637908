//! What `kvdiag check`, `check --from`, `collect` and `lint` do, as library calls that return
//! the verdict (or lint report) and the exit code and never print: `cli.rs` renders and prints
//! them, `mcp.rs` hands them to an assistant. Keeping one pipeline is what makes a tool call's
//! structured content the CLI's JSON for the same target.

use crate::bundle::{Bundle, BundleError, Target};
use crate::collect::{
    self, AuthMode, Cloud, CollectError, Collector, Credentials, Endpoints, Progress, Session,
    TokenCache, Window,
};
use crate::lint::accept::{Acceptance, Options as AcceptOptions};
use crate::lint::report::LintFormat;
use crate::lint::{Report, Severity};
use crate::snapshot::Snapshot;
use crate::verdict::{Status, Verdict};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why a run ended before a verdict or report: the caller has something to fix (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A usage, input or credential problem, said in one line.
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Collect(#[from] CollectError),
}

impl RunError {
    fn input(message: impl Into<String>) -> RunError {
        RunError::Input(message.into())
    }
}

/// How the pipeline reads the environment (`std::env::var`, or a test's own lookup).
pub type Env<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);

/// Which workload to read from Azure (the flags `--app`, `--job`, `--rg`, `--subscription`).
#[derive(Debug, Clone, Default)]
pub struct TargetSpec {
    pub app: Option<String>,
    pub job: Option<String>,
    /// A managed environment: every Key Vault consumer of the environment itself
    /// (`check --environment`).
    pub environment: Option<String>,
    pub resource_group: Option<String>,
    pub subscription: Option<String>,
}

/// How to read Azure (the live flags).
#[derive(Debug, Clone)]
pub struct LiveSettings {
    pub since: Duration,
    pub timeout: Duration,
    pub auth: AuthMode,
    pub cloud: Cloud,
    pub parallel: u16,
    /// `-v`: one line per request on stderr.
    pub verbose: bool,
    /// The progress line on stderr (a CLI run on a terminal).
    pub progress: bool,
    /// Keep the developer CLIs' tokens on disk between runs (README, "Token cache").
    pub token_cache: bool,
}

/// `KVDIAG_TOKEN_CACHE=0` (or `false`, `off`, `no`) turns the token cache off.
pub fn token_cache_enabled(flag_off: bool, env: &dyn Fn(&str) -> Option<String>) -> bool {
    let off = env("KVDIAG_TOKEN_CACHE").is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "0" | "false" | "off" | "no"
        )
    });
    !flag_off && !off
}

/// The credentials of a process, one per subscription (the Azure CLI asks for a token in the
/// subscription's tenant), each kept for the pool's life: a CLI run builds a pool and uses it
/// once; `kvdiag mcp` keeps one for every tool call, so tokens are fetched once per audience.
#[derive(Debug, Default)]
pub struct CredentialPool {
    by_subscription: Mutex<HashMap<String, Arc<Credentials>>>,
}

impl CredentialPool {
    /// The credential for `subscription`, built on first use.
    /// `None` for a run without a subscription (a tenant-wide scan): the credential's own
    /// default tenant.
    pub fn get(
        &self,
        live: &LiveSettings,
        subscription: Option<&str>,
        env: Env<'_>,
    ) -> Result<Arc<Credentials>, RunError> {
        let key = subscription.unwrap_or_default();
        let mut pool = self.by_subscription.lock().expect("credential pool lock");
        if let Some(credentials) = pool.get(key) {
            return Ok(credentials.clone());
        }
        let disk = live
            .token_cache
            .then(TokenCache::default_dir)
            .flatten()
            .map(|dir| TokenCache::at(&dir));
        let credentials =
            Credentials::with_token_cache(live.auth, live.cloud, subscription, env, disk)
                .map_err(RunError::Input)?;
        pool.insert(key.to_string(), credentials.clone());
        Ok(credentials)
    }
}

/// A verdict and the exit code it means.
#[derive(Debug)]
pub struct Checked {
    pub verdict: Verdict,
    pub exit_code: i32,
}

/// `check --from BUNDLE`: the recorded evidence, diagnosed as of `as_of` (RFC 3339) or its
/// collection time.
pub fn replay(
    bundle: &std::path::Path,
    as_of: Option<&str>,
    fail_on: Status,
) -> Result<Checked, RunError> {
    let as_of = parse_as_of(as_of)?;
    let bundle = Bundle::load(bundle)?;
    Ok(diagnose(&bundle, as_of, fail_on))
}

/// `check --app|--job|--environment`: the evidence read from Azure now, diagnosed.
pub async fn check(
    target: &TargetSpec,
    live: &LiveSettings,
    as_of: Option<&str>,
    fail_on: Status,
    pool: &CredentialPool,
    env: Env<'_>,
) -> Result<Checked, RunError> {
    let as_of = parse_as_of(as_of)?;
    let bundle = read_azure(target, live, as_of, pool, env).await?;
    Ok(diagnose(&bundle, as_of, fail_on))
}

fn diagnose(bundle: &Bundle, as_of: Option<time::OffsetDateTime>, fail_on: Status) -> Checked {
    let verdict = crate::checks::diagnose(&Snapshot::build(bundle, as_of));
    let exit_code = verdict.exit_code(fail_on);
    Checked { verdict, exit_code }
}

/// Reads the target's evidence from Azure into a redacted bundle (`collect`, and `check`
/// before it diagnoses). With `-v`, says how many requests it took on stderr.
pub async fn read_azure(
    target: &TargetSpec,
    live: &LiveSettings,
    as_of: Option<time::OffsetDateTime>,
    pool: &CredentialPool,
    env: Env<'_>,
) -> Result<Bundle, RunError> {
    if target.app.is_none() && target.job.is_none() && target.environment.is_none() {
        return Err(RunError::input(
            "say what to check: --app NAME (or --job NAME, --environment NAME) with --rg RG, or --from BUNDLE.json",
        ));
    }
    let Some(resource_group) = target.resource_group.clone() else {
        return Err(RunError::input(
            "--rg RG is required with --app, --job or --environment",
        ));
    };
    let subscription =
        collect::subscription(target.subscription.as_deref(), env).map_err(RunError::Input)?;
    let target = Target {
        subscription: subscription.clone(),
        resource_group,
        app: target.app.clone(),
        job: target.job.clone(),
        environment: target.environment.clone(),
    };
    collect::validate(&target).map_err(RunError::Input)?;
    let collector = collector(live, Some(&subscription), pool, env)?;
    let window = window(
        as_of.unwrap_or_else(time::OffsetDateTime::now_utc),
        live.since,
    )?;
    let mut bundle = collector.collect(&target, &window).await?;
    crate::bundle::redact(&mut bundle);
    if live.verbose {
        collector.session().progress().println(&format!(
            "kvdiag: {} HTTP requests, {} recorded responses",
            collector.requests_sent(),
            bundle.responses.len()
        ));
    }
    Ok(bundle)
}

/// `--as-of`: any RFC 3339 moment whose UTC form lies in years 0000 to 9999, the ends of the
/// calendar included.
///
/// It is a moment to judge the evidence at, and an engineer replaying a bundle a year later (to
/// see an expiry) or far back expects it taken as written, so no narrower range is imposed:
/// rules only compare the time elapsed between two moments, which is defined for any pair, and
/// the log window's start is at most [`crate::cli::MAX_SINCE`] earlier, still inside the
/// calendar. Only a moment that has no UTC form in the calendar (`9999-12-31T23:59:59-05:00` is
/// in year 10000) is refused, with the range in the message.
pub fn parse_as_of(text: Option<&str>) -> Result<Option<time::OffsetDateTime>, RunError> {
    use time::format_description::well_known::Rfc3339;
    text.map(|text| {
        crate::azure::time::parse(text).ok_or_else(|| {
            if time::OffsetDateTime::parse(text.trim(), &Rfc3339).is_ok() {
                RunError::input(format!("--as-of '{text}' is outside the calendar in UTC (0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z)"))
            } else {
                RunError::input(format!("--as-of '{text}' is not an RFC 3339 time (e.g. 2026-11-20T10:30:00Z)"))
            }
        })
    })
    .transpose()
}

/// The read window ending at `now`. [`crate::cli::MAX_SINCE`] and [`parse_as_of`] already keep
/// its start inside the calendar; checking here too means no flag combination reaches the
/// collector with a window whose start it cannot compute.
pub fn window(now: time::OffsetDateTime, since: Duration) -> Result<Window, RunError> {
    let start = time::Duration::try_from(since)
        .ok()
        .and_then(|back| now.checked_sub(back));
    if start.is_none() {
        return Err(RunError::input(format!(
            "--since {} reaches back before the calendar's start from {}; use a shorter --since or a later --as-of",
            humantime::format_duration(since),
            crate::azure::time::display(now)
        )));
    }
    Ok(Window { now, since })
}

/// The run's clients from the live settings: endpoints of the cloud, the pool's credential for
/// the subscription, and one session bounding the whole run (`--timeout`, `--parallel`).
fn collector(
    live: &LiveSettings,
    subscription: Option<&str>,
    pool: &CredentialPool,
    env: Env<'_>,
) -> Result<Collector, RunError> {
    let endpoints = Endpoints::resolve(live.cloud, env).map_err(RunError::Input)?;
    let credentials = pool.get(live, subscription, env)?;
    let progress = Progress::new(live.progress && !live.verbose);
    let session = Session::new(
        live.timeout,
        usize::from(live.parallel),
        live.verbose,
        progress,
    );
    Ok(Collector::new(&credentials, endpoints, session))
}

/// What to scan (the `scan` flags but the output format).
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub scope: crate::scan::Scope,
    pub deep: bool,
    pub as_of: Option<String>,
}

/// `scan`: every app and job in scope, each diagnosed by the same checkers as `check`.
pub async fn scan(
    request: &ScanRequest,
    live: &LiveSettings,
    pool: &CredentialPool,
    env: Env<'_>,
) -> Result<crate::scan::Report, RunError> {
    let as_of = parse_as_of(request.as_of.as_deref())?;
    let scope = &request.scope;
    for id in &scope.subscriptions {
        if !collect::is_guid(id) {
            return Err(RunError::Input(format!(
                "--subscription '{id}' is not a subscription id (a GUID)"
            )));
        }
    }
    if let Some(group) = &scope.management_group
        && !crate::azure::ids::is_safe_path(&format!("/{group}"))
    {
        return Err(RunError::Input(format!(
            "--management-group '{group}' is not a management group id"
        )));
    }
    let collector = collector(
        live,
        scope.subscriptions.first().map(String::as_str),
        pool,
        env,
    )?;
    let options = crate::scan::Options {
        scope: scope.clone(),
        window: window(
            as_of.unwrap_or_else(time::OffsetDateTime::now_utc),
            live.since,
        )?,
        deep: request.deep,
    };
    Ok(crate::scan::scan(&collector, &options).await)
}

/// What to lint and how (the `lint` flags but the output format).
#[derive(Debug)]
pub struct LintRequest {
    /// Files, directories, or `-` for the text in `stdin`.
    pub files: Vec<PathBuf>,
    pub parameters: Option<PathBuf>,
    /// `--live`: with the target the files do not name, and how to read Azure.
    pub live: Option<(TargetSpec, LiveSettings)>,
    pub accept: AcceptOptions,
    pub fail_on: Severity,
}

/// A lint report, the exit code it means, and the notes acceptance has for the terminal
/// (a baseline written, entries no longer matched).
#[derive(Debug)]
pub struct Linted {
    pub report: Report,
    pub exit_code: i32,
    pub notes: Vec<String>,
}

/// `kvdiag lint`: every file linted, with `--live` the Key Vault checks against Azure, then
/// inline comments, `kvdiag.toml` and the baseline applied.
pub async fn lint(
    request: &LintRequest,
    stdin: &mut (dyn std::io::Read + Send),
    pool: &CredentialPool,
    env: Env<'_>,
) -> Result<Linted, RunError> {
    let mut accept = Acceptance::load(&request.accept).map_err(RunError::Input)?;
    let params = match &request.parameters {
        Some(path) => Some(crate::lint::load_parameters(path).map_err(RunError::Input)?),
        None => None,
    };
    let inputs = crate::lint::inputs::expand(&request.files, stdin);
    let (mut report, texts) = crate::lint::inputs::lint(&request.files, &inputs, params.as_ref());
    if let Some((target, live)) = &request.live {
        lint_live(
            target,
            live,
            params.as_ref(),
            &mut report.files,
            &texts,
            pool,
            env,
        )
        .await?;
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
        .map_err(RunError::Input)?;
    report.suppressions = accepted.suppressions;
    let exit_code = report.exit_code(request.fail_on);
    Ok(Linted {
        report,
        exit_code,
        notes: accepted.notes,
    })
}

/// `--live`: the Key Vault checks for every app and job that linted, against Azure.
async fn lint_live(
    target: &TargetSpec,
    live: &LiveSettings,
    params: Option<&crate::lint::Parameters>,
    files: &mut [crate::lint::FileReport],
    texts: &[Option<String>],
    pool: &CredentialPool,
    env: Env<'_>,
) -> Result<(), RunError> {
    let subscription =
        collect::subscription(target.subscription.as_deref(), env).map_err(RunError::Input)?;
    let collector = collector(live, Some(&subscription), pool, env)?;
    let window = window(time::OffsetDateTime::now_utc(), live.since)?;
    let name = target.app.as_deref().or(target.job.as_deref());
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
                target.resource_group.as_deref(),
            )
            .map_err(RunError::Input)?;
            let found =
                crate::lint::live::lint_live(&collector, &report.file, resource, &target, &window)
                    .await?;
            report.findings.extend(found);
        }
        crate::lint::sort(&mut report.findings);
    }
    Ok(())
}

/// The JSON documents `-o json` prints, as values: what a tool call returns as structured
/// content is exactly this text parsed.
pub fn verdict_json(verdict: &Verdict) -> serde_json::Value {
    let text = crate::render::render(verdict, crate::render::Format::Json, plain());
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// See [`verdict_json`].
pub fn lint_json(report: &Report) -> serde_json::Value {
    let text = crate::lint::report::render(report, LintFormat::Json, plain());
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// The style of output that is not a terminal (JSON ignores it).
fn plain() -> crate::render::Style {
    crate::render::Style {
        color: false,
        width: 120,
        wrap: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accepted_as_of_has_a_window_of_the_longest_since() {
        for text in [
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "2026-11-20T10:30:00Z",
        ] {
            let as_of = parse_as_of(Some(text)).unwrap().unwrap();
            let w = window(as_of, crate::cli::MAX_SINCE).unwrap();
            assert!(
                w.now
                    .checked_sub(crate::cli::MAX_SINCE.try_into().unwrap())
                    .is_some()
            );
        }
        let err = parse_as_of(Some("9999-12-31T23:59:59-05:00")).unwrap_err();
        assert!(err.to_string().contains("outside the calendar"), "{err}");
        assert!(parse_as_of(Some("soon")).is_err());
    }

    #[test]
    fn the_token_cache_is_off_by_flag_or_variable() {
        let none = |_: &str| None;
        assert!(token_cache_enabled(false, &none));
        assert!(!token_cache_enabled(true, &none));
        for off in ["0", "false", "OFF", " no "] {
            let env = |k: &str| (k == "KVDIAG_TOKEN_CACHE").then(|| off.to_string());
            assert!(!token_cache_enabled(false, &env), "{off}");
        }
        let on = |k: &str| (k == "KVDIAG_TOKEN_CACHE").then(|| "1".to_string());
        assert!(token_cache_enabled(false, &on));
    }
}
