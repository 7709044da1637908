//! `kvdiag mcp`: the verdict as tools for AI assistants, over the Model Context Protocol on
//! stdio (the `rmcp` crate).
//!
//! Each tool runs the same library pipeline as the CLI ([`crate::pipeline`]) and returns the
//! CLI's JSON document for the same call as `structuredContent` (declared as the tool's
//! `outputSchema`, the repository's own `docs/schema/*.schema.json`), plus one text block: the
//! top cause and the command that fixes it. A usage, input or credential problem is a tool
//! result with `isError: true` and the CLI's one-line message; a call the protocol cannot route
//! (an unknown tool, a request that is not a `tools/call`) is a JSON-RPC error. Neither ends the
//! server; it ends when stdin closes.
//!
//! stdout carries protocol messages only: nothing in the library prints (`print_stdout` is a
//! lint), `-v` request lines and `RUST_LOG` diagnostics go to stderr.
//!
//! One [`CredentialPool`] serves every call, so each audience's token is fetched once and
//! reused until shortly before it expires (README, "kvdiag mcp"): the second `kvdiag_check`
//! starts no `az` process. A tool is one `#[tool]` method of [`Server`].

use crate::pipeline::{
    self, Checked, CredentialPool, LintRequest, LiveSettings, RunError, TargetSpec,
};
use crate::verdict::Status;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, JsonObject, ServerCapabilities, ServerConfig,
};
use rmcp::{ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

/// `kvdiag check -o json`'s document, the `outputSchema` of `kvdiag_check` and `kvdiag_replay`.
const VERDICT_SCHEMA: &str = include_str!("../docs/schema/verdict-v1.schema.json");
/// `kvdiag scan -o json`'s document, the `outputSchema` of `kvdiag_scan`.
const SCAN_SCHEMA: &str = include_str!("../docs/schema/scan-v1.schema.json");
/// `kvdiag lint -o json`'s document, the `outputSchema` of `kvdiag_lint`.
const LINT_SCHEMA: &str = include_str!("../docs/schema/lint-v1.schema.json");

fn schema(text: &str) -> Arc<JsonObject> {
    Arc::new(serde_json::from_str(text).expect("the shipped JSON schemas parse"))
}

/// `kvdiag_check`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckParams {
    /// The Container App's name (2-32 lower-case letters, digits and hyphens). Give exactly one
    /// of app, job or environment.
    pub app: Option<String>,
    /// A Container Apps job's name, instead of app.
    pub job: Option<String>,
    /// A managed environment's name: judge every Key Vault consumer of the environment itself (its
    /// certificates from Key Vault, its DNS-suffix certificate, Dapr components) instead of one app.
    pub environment: Option<String>,
    /// The resource group the app, job or environment is in.
    pub resource_group: String,
    /// The subscription id (a GUID). Default: AZURE_SUBSCRIPTION_ID, then the Azure CLI's
    /// default subscription.
    pub subscription: Option<String>,
    /// Decide as of this moment (RFC 3339, e.g. 2026-11-20T10:30:00Z) instead of now: logs and
    /// the activity log are read up to it. Use it to look at an incident after the fact.
    pub as_of: Option<String>,
    /// How far back to read system logs and the activity log: 90m, 24h (default), 7d.
    pub since: Option<String>,
}

/// `kvdiag_replay`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayParams {
    /// Path of an evidence bundle written by `kvdiag collect -o BUNDLE.json` (absolute, or
    /// relative to the directory the server was started in).
    pub bundle_path: String,
}

/// `kvdiag_scan`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanParams {
    /// Subscription ids (GUIDs) to scan. Give these or management_group; with neither, every
    /// subscription the login can read is scanned.
    pub subscriptions: Option<Vec<String>>,
    /// A management group id to scan instead of subscriptions.
    pub management_group: Option<String>,
    /// Only workloads in resource groups of this name.
    pub resource_group: Option<String>,
    /// Also read every workload that is not cleared as kvdiag_check does (revisions included),
    /// so its verdict equals kvdiag_check's; slower, one set of reads per such workload.
    /// Default false.
    pub deep: Option<bool>,
}

/// `kvdiag_lint`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LintParams {
    /// A Container Apps YAML (`az containerapp create --yaml`), an ARM template or compiled
    /// Bicep (`az bicep build`), or a directory searched for *.yaml, *.yml and *.json. Absolute,
    /// or relative to the directory the server was started in.
    pub path: String,
    /// An ARM deployment parameters file for the template.
    pub parameters: Option<String>,
    /// Also read Azure: do the referenced vaults and secrets exist, and can the identity the
    /// deploy will use read them. Needs the file to name the resource's resource group (or
    /// resource id) and a subscription default. Default false.
    pub live: Option<bool>,
}

/// The MCP server: the process's settings and credentials, and its tools.
#[derive(Clone)]
pub struct Server {
    live: LiveSettings,
    pool: Arc<CredentialPool>,
    tool_router: ToolRouter<Self>,
}

/// Runs the server on stdin and stdout until stdin closes.
pub async fn serve(live: LiveSettings) -> anyhow::Result<()> {
    let running = Server::new(live).serve(rmcp::transport::stdio()).await?;
    running.waiting().await?;
    Ok(())
}

/// Every tool is read-only, non-destructive and idempotent; `open_world_hint` says whether it
/// reads Azure.
#[tool_router]
impl Server {
    pub fn new(live: LiveSettings) -> Server {
        Server {
            // The server's stderr is the assistant's log: no spinner.
            live: LiveSettings {
                progress: false,
                ..live
            },
            pool: Arc::new(CredentialPool::default()),
            tool_router: Self::tool_router(),
        }
    }

    #[tool(
        name = "kvdiag_check",
        description = "Diagnose why an Azure Container App (or job) cannot get its secrets. Reads the app, its revisions, identities, Key Vault references, role assignments, vault network rules, system logs and activity log (read only), tests three hypotheses (a secretRef that names no secret, a Key Vault reference its managed identity may not read, a revision running on values from before a secret changed) and returns the ranked verdict with evidence and the az command that fixes the top cause. Needs a Reader-level Azure login (az login) on the machine running the server.",
        output_schema = schema(VERDICT_SCHEMA),
        annotations(title = "Diagnose a Container App's secrets", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = true)
    )]
    async fn kvdiag_check(&self, Parameters(p): Parameters<CheckParams>) -> CallToolResult {
        let env = |key: &str| std::env::var(key).ok();
        let named = [&p.app, &p.job, &p.environment]
            .iter()
            .filter(|v| v.is_some())
            .count();
        if named != 1 {
            return failure("give exactly one of app, job or environment (with resource_group)");
        }
        let mut live = self.live.clone();
        if let Some(since) = &p.since {
            match crate::cli::since(since) {
                Ok(since) => live.since = since,
                Err(e) => return failure(&format!("since '{since}': {e}")),
            }
        }
        let target = TargetSpec {
            app: p.app,
            job: p.job,
            environment: p.environment,
            resource_group: Some(p.resource_group),
            subscription: p.subscription,
        };
        let checked = pipeline::check(
            &target,
            &live,
            p.as_of.as_deref(),
            Status::Likely,
            &self.pool,
            &env,
        )
        .await;
        verdict_result(checked)
    }

    #[tool(
        name = "kvdiag_scan",
        description = "Scan every Container App and job in subscriptions, a management group or the whole tenant (through Azure Resource Graph, read only) for the same secret faults kvdiag_check finds, and return one verdict per workload, strongest cause first, with counts. Use it to find which apps are broken or will break on the next deploy or rotation; then kvdiag_check one of them for its full evidence. Without deep=true an app's revisions are not read, so stale revisions are not decided.",
        output_schema = schema(SCAN_SCHEMA),
        annotations(title = "Scan a fleet of Container Apps", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = true)
    )]
    async fn kvdiag_scan(&self, Parameters(p): Parameters<ScanParams>) -> CallToolResult {
        let env = |key: &str| std::env::var(key).ok();
        if p.management_group.is_some() && p.subscriptions.as_ref().is_some_and(|s| !s.is_empty()) {
            return failure("give subscriptions or management_group, not both");
        }
        let request = pipeline::ScanRequest {
            scope: crate::scan::Scope {
                subscriptions: p.subscriptions.unwrap_or_default(),
                management_group: p.management_group,
                resource_group: p.resource_group,
            },
            deep: p.deep.unwrap_or(false),
            as_of: None,
        };
        match pipeline::scan(&request, &self.live, &self.pool, &env).await {
            Ok(report) => {
                let mut json = Vec::new();
                if let Err(e) = report.write_json(&mut json) {
                    return failure(&e.to_string());
                }
                let mut result =
                    CallToolResult::success(vec![ContentBlock::text(scan_summary(&report))]);
                result.structured_content = serde_json::from_slice(&json).ok();
                result
            }
            Err(e) => failure(&e.to_string()),
        }
    }

    #[tool(
        name = "kvdiag_replay",
        description = "Diagnose a recorded evidence bundle (from `kvdiag collect`) as of its collection time: the same verdict kvdiag_check gave when it was recorded, without Azure access. Use it for a bundle attached to a ticket.",
        output_schema = schema(VERDICT_SCHEMA),
        annotations(title = "Replay an evidence bundle", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn kvdiag_replay(&self, Parameters(p): Parameters<ReplayParams>) -> CallToolResult {
        verdict_result(pipeline::replay(
            &PathBuf::from(p.bundle_path),
            None,
            Status::Likely,
        ))
    }

    #[tool(
        name = "kvdiag_lint",
        description = "Check a Container Apps YAML or ARM template (or compiled Bicep) for secret mistakes before it deploys: secretRefs that name no secret, malformed Key Vault URLs, identities not attached, secrets in plain env values. With live=true also checks against Azure that the referenced vaults and secrets exist and the identity may read them. Returns every finding with its rule, position and fix.",
        output_schema = schema(LINT_SCHEMA),
        annotations(title = "Lint a Container Apps template", read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn kvdiag_lint(&self, Parameters(p): Parameters<LintParams>) -> CallToolResult {
        if p.path.trim() == "-" {
            return failure("path '-' (standard input) is not available to a tool: give a file");
        }
        let env = |key: &str| std::env::var(key).ok();
        let request = LintRequest {
            files: vec![PathBuf::from(p.path)],
            parameters: p.parameters.map(PathBuf::from),
            live: p
                .live
                .unwrap_or(false)
                .then(|| (TargetSpec::default(), self.live.clone())),
            accept: crate::lint::accept::Options {
                config: None,
                baseline: None,
                write_baseline: None,
            },
            fail_on: crate::lint::Severity::Error,
        };
        match pipeline::lint(&request, &mut std::io::empty(), &self.pool, &env).await {
            Ok(linted) => {
                let mut result =
                    CallToolResult::success(vec![ContentBlock::text(lint_summary(&linted.report))]);
                result.structured_content = Some(pipeline::lint_json(&linted.report));
                result
            }
            Err(e) => failure(&e.to_string()),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("kvdiag", crate::cli::VERSION)
                    .with_title("kvdiag: why can't this Container App get its secrets?"),
            )
            .with_instructions(
                "Call kvdiag_check when someone asks why an Azure Container App or job fails to start, cannot read a secret, or runs on an old secret value: it proves the cause from Azure's own evidence (read only) and gives the az command that fixes it. Report its top cause and fix; do not guess. kvdiag_scan finds the broken apps and jobs across subscriptions; kvdiag_lint checks a template before deploy; kvdiag_replay reads a bundle from `kvdiag collect`.",
            )
    }
}

/// A verdict as a tool result: the CLI's JSON as structured content, the top cause and its fix
/// as text; an error as `isError` with the CLI's message.
fn verdict_result(checked: Result<Checked, RunError>) -> CallToolResult {
    match checked {
        Ok(checked) => {
            let style = crate::render::Style {
                color: false,
                width: 120,
                wrap: false,
            };
            let text = crate::render::summary(&checked.verdict, style);
            let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
            result.structured_content = Some(pipeline::verdict_json(&checked.verdict));
            result
        }
        Err(e) => failure(&e.to_string()),
    }
}

/// The counts by top status, then the strongest workload's top cause and its fix.
fn scan_summary(report: &crate::scan::Report) -> String {
    let counts: Vec<String> = report
        .summary
        .by_top_status
        .iter()
        .map(|(status, n)| format!("{n} {status}"))
        .collect();
    let mut text = format!(
        "{} workload(s): {}",
        report.summary.workloads,
        if counts.is_empty() {
            "none in scope".to_string()
        } else {
            counts.join(", ")
        }
    );
    if !report.gaps.is_empty() {
        text.push_str(&format!(
            "
{} part(s) of the scope could not be read",
            report.gaps.len()
        ));
    }
    if let Some((entry, top)) = report
        .workloads
        .first()
        .and_then(|e| Some((e, e.verdict.top()?)))
        .filter(|(_, h)| h.status <= Status::Possible)
    {
        text.push_str(&format!(
            "
WORST: {} {} '{}': {} ({}): {}",
            entry.kind, entry.resource_group, entry.name, top.id, top.status, top.summary
        ));
        if let Some(fix) = top.remediation.first() {
            text.push_str(&format!(
                "
FIX: # {}",
                fix.description
            ));
            if let Some(command) = &fix.command {
                text.push_str(&format!(
                    "
  {command}"
                ));
            }
        }
    }
    text
}

/// A tool-level error: what the CLI prints after `kvdiag: error:`.
fn failure(message: &str) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(format!(
        "kvdiag: error: {message}"
    ))])
}

/// The lint counts, then the worst finding and its fix (or why a file could not be linted).
fn lint_summary(report: &crate::lint::Report) -> String {
    use crate::lint::Severity;
    let count = |s: Severity| report.findings().filter(|f| f.severity == s).count();
    let mut text = format!(
        "{} error(s), {} warning(s), {} note(s) in {} file(s)",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Note),
        report.files.len()
    );
    if let Some(f) = report.files.iter().find(|f| f.error.is_some()) {
        text.push_str(&format!(
            "\n{}: not linted: {}",
            f.file,
            f.error.as_deref().unwrap_or_default()
        ));
    }
    if let Some(worst) = report.findings().min_by_key(|f| f.severity) {
        text.push_str(&format!(
            "\nWORST: {} {} at {}:{}: {}",
            worst.severity.as_str(),
            worst.rule,
            worst.file,
            worst.line,
            worst.message
        ));
        for fix in &worst.remediation {
            text.push_str(&format!("\nFIX: # {}", fix.description));
            if let Some(command) = &fix.command {
                text.push_str(&format!("\n  {command}"));
            }
        }
    }
    text
}
