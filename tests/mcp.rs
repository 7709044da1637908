//! `kvdiag mcp` driven through rmcp's own client over stdio (the built binary as a child
//! process) against the loopback mock of Azure and the fake `az`: the handshake in both protocol
//! generations, the tool list with schemas and annotations, checks whose structured content is
//! the CLI's JSON for the same target, token reuse across calls (no `az` on the second check),
//! replay, lint, tool-level errors, JSON-RPC errors, and a server that survives all of them and
//! exits cleanly when stdin closes. Every wait is bounded.

mod common;

use common::fake_az::{FakeAz, TOKEN};
use common::mock_azure::MockAzure;
use common::mock_fleet::{MockFleet, from_scenario};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientConfig, ErrorCode, JsonObject, ProtocolVersion,
    Tool,
};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt, RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);
const LAB: &str = "managed-identity-no-role";

async fn within<T>(what: &str, work: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, work)
        .await
        .unwrap_or_else(|_| panic!("{what} within {} s", WAIT.as_secs()))
}

/// The mock serving the lab scenario, a fake `az`, and a private HOME for the children.
struct World {
    mock: MockAzure,
    az: FakeAz,
    home: tempfile::TempDir,
    bundle: PathBuf,
}

impl World {
    async fn new() -> World {
        let bundle = common::repo().join(format!("fixtures/scenarios/{LAB}.json"));
        World {
            mock: MockAzure::serve(&bundle).await,
            az: FakeAz::new("mcp"),
            home: tempfile::tempdir().unwrap(),
            bundle,
        }
    }

    /// `kvdiag ARGS` with the whole environment set on the command: the mock's endpoints, the
    /// fake `az` first on PATH, a private HOME and cache, and no token cache on disk (these
    /// tests show the server's own reuse; tests/token_cache.rs covers the disk).
    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvdiag"));
        command.args(args).kill_on_drop(true);
        for key in common::SCRUBBED {
            command.env_remove(key);
        }
        command
            .env("HOME", self.home.path())
            .env("XDG_CACHE_HOME", self.home.path().join("cache"))
            .env("PATH", self.az.path())
            .env("KVDIAG_TOKEN_CACHE", "0")
            .envs(self.mock.env());
        command
    }

    /// `kvdiag check` of the lab app as the CLI prints it with `-o json`.
    async fn cli_check(&self) -> Value {
        let mut args = vec!["check".to_string()];
        args.extend(common::target_args(&self.bundle));
        args.extend(common::strings(&["--auth", "azure-cli", "-o", "json"]));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = within("kvdiag check", self.command(&args).output())
            .await
            .unwrap();
        common::no_token(&out, "check");
        common::json(&out)
    }

    /// `kvdiag mcp --auth azure-cli` as rmcp's child-process transport.
    fn server(&self) -> TokioChildProcess {
        let (transport, _stderr) =
            TokioChildProcess::builder(self.command(&["mcp", "--auth", "azure-cli"]))
                .stderr(Stdio::null())
                .spawn()
                .expect("kvdiag mcp starts");
        transport
    }

    /// The lab target as `kvdiag_check` arguments (the CLI's `target_args`).
    fn lab_arguments(&self) -> JsonObject {
        let b: Value =
            serde_json::from_str(&std::fs::read_to_string(&self.bundle).unwrap()).unwrap();
        let t = &b["target"];
        object(json!({
            "app": t["app"],
            "resource_group": t["resource_group"],
            "subscription": t["subscription"],
            "as_of": b["collected_at"],
        }))
    }
}

fn object(value: Value) -> JsonObject {
    value.as_object().cloned().expect("an object")
}

/// A client that asks for one protocol version in the `initialize` handshake.
#[derive(Clone)]
struct Client(ProtocolVersion);

impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        let mut config = ClientConfig::default();
        config.protocol_version = self.0.clone();
        config
    }
}

type Connection = RunningService<RoleClient, Client>;

async fn call(client: &Connection, tool: &str, arguments: JsonObject) -> CallToolResult {
    within(
        tool,
        client.call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments)),
    )
    .await
    .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

/// The one text block of a result.
fn text(result: &CallToolResult) -> String {
    assert_eq!(result.content.len(), 1, "{result:?}");
    result.content[0]
        .as_text()
        .map(|t| t.text.clone())
        .unwrap_or_else(|| panic!("not text: {result:?}"))
}

fn validator(schema: &JsonObject) -> jsonschema::Validator {
    jsonschema::validator_for(&Value::Object(schema.clone())).expect("the output schema compiles")
}

fn tool<'a>(tools: &'a [Tool], name: &str) -> &'a Tool {
    tools
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no tool {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assistant_checks_twice_and_the_second_check_starts_no_az() {
    let world = World::new().await;
    let expected = world.cli_check().await;
    world.az.clear();
    world.mock.reset();

    let client = within(
        "initialize",
        Client(ProtocolVersion::V_2025_11_25).serve(world.server()),
    )
    .await
    .expect("the handshake succeeds");
    let info = client.peer_info().expect("the server introduced itself");
    assert_eq!(info.protocol_version, ProtocolVersion::V_2025_11_25);
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("kvdiag")
    );
    assert!(info.capabilities.tools.is_some());

    // tools/list: four read-only tools with schemas an assistant can act on.
    let tools = within("tools/list", client.list_all_tools()).await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "kvdiag_check",
            "kvdiag_lint",
            "kvdiag_replay",
            "kvdiag_scan"
        ]
    );
    let verdict_schema: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo().join("docs/schema/verdict-v1.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let lint_schema: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo().join("docs/schema/lint-v1.schema.json")).unwrap(),
    )
    .unwrap();
    let scan_schema: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo().join("docs/schema/scan-v1.schema.json")).unwrap(),
    )
    .unwrap();
    for t in &tools {
        let a = t.annotations.as_ref().expect("annotations");
        assert_eq!(a.read_only_hint, Some(true), "{}", t.name);
        assert_eq!(a.destructive_hint, Some(false), "{}", t.name);
        assert_eq!(a.idempotent_hint, Some(true), "{}", t.name);
        assert!(a.open_world_hint.is_some(), "{}", t.name);
        assert!(t.description.as_ref().is_some_and(|d| d.len() > 80));
        let properties = t.input_schema["properties"].as_object().unwrap();
        for (name, p) in properties {
            assert!(
                p["description"].as_str().is_some_and(|d| d.len() > 10),
                "{}.{name} has no description",
                t.name
            );
        }
        let output = Value::Object(t.output_schema.as_deref().cloned().expect("outputSchema"));
        let want = match t.name.as_ref() {
            "kvdiag_lint" => &lint_schema,
            "kvdiag_scan" => &scan_schema,
            _ => &verdict_schema,
        };
        assert_eq!(
            &output, want,
            "{}: outputSchema is the shipped schema",
            t.name
        );
    }
    let check = tool(&tools, "kvdiag_check");
    assert_eq!(check.input_schema["required"], json!(["resource_group"]));
    let mut inputs: Vec<&String> = check.input_schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    inputs.sort();
    assert_eq!(
        inputs,
        [
            "app",
            "as_of",
            "environment",
            "job",
            "resource_group",
            "since",
            "subscription"
        ]
    );
    assert_eq!(
        check.annotations.as_ref().unwrap().open_world_hint,
        Some(true)
    );

    // The first check reads Azure: one `az` per audience.
    let first = call(&client, "kvdiag_check", world.lab_arguments()).await;
    assert_eq!(first.is_error, Some(false), "{first:?}");
    assert_eq!(first.structured_content.as_ref(), Some(&expected));
    assert!(
        validator(check.output_schema.as_ref().unwrap())
            .is_valid(first.structured_content.as_ref().unwrap())
    );
    let summary = text(&first);
    assert!(
        summary.contains("TOP CAUSE: keyvault_access (confirmed)"),
        "{summary}"
    );
    assert!(summary.contains("az role assignment create"), "{summary}");
    assert!(!summary.contains(TOKEN));
    let after_first = world.az.runs();
    assert_eq!(after_first, 3, "{:?}", world.az.calls());
    let requests_first = world.mock.seen().len();
    assert!(requests_first > 5);

    // The second check reuses every token: no `az` at all, the same verdict.
    let second = call(&client, "kvdiag_check", world.lab_arguments()).await;
    assert_eq!(second.structured_content.as_ref(), Some(&expected));
    assert_eq!(
        world.az.runs(),
        after_first,
        "the second check started az: {:?}",
        world.az.calls()
    );
    assert_eq!(world.mock.seen().len(), 2 * requests_first);
    assert_eq!(world.mock.violations(), Vec::<String>::new());

    // Replay: the CLI's JSON for `check --from`.
    let replayed = call(
        &client,
        "kvdiag_replay",
        object(json!({"bundle_path": world.bundle})),
    )
    .await;
    let cli = within(
        "check --from",
        world
            .command(&[
                "check",
                "--from",
                world.bundle.to_str().unwrap(),
                "-o",
                "json",
            ])
            .output(),
    )
    .await
    .unwrap();
    assert_eq!(replayed.structured_content, Some(common::json(&cli)));
    assert!(text(&replayed).contains("TOP CAUSE: keyvault_access"));

    // Lint: the CLI's JSON for `lint FILE -o json`.
    let file = common::repo().join("fixtures/lint/identity-undeclared.yaml");
    let linted = call(&client, "kvdiag_lint", object(json!({"path": file}))).await;
    let cli = within(
        "lint",
        world
            .command(&["lint", file.to_str().unwrap(), "-o", "json"])
            .output(),
    )
    .await
    .unwrap();
    assert_eq!(linted.is_error, Some(false), "{linted:?}");
    assert_eq!(linted.structured_content, Some(common::json(&cli)));
    assert!(
        validator(tool(&tools, "kvdiag_lint").output_schema.as_ref().unwrap())
            .is_valid(linted.structured_content.as_ref().unwrap())
    );
    assert!(text(&linted).contains("FIX:"), "{}", text(&linted));

    // Usage errors are tool results with the CLI's one-line message.
    for (arguments, says) in [
        (
            json!({"app": "Orders_Web", "resource_group": "rg-orders", "subscription": "3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90"}),
            "is not a valid Container Apps name",
        ),
        (
            json!({"resource_group": "rg-orders"}),
            "give exactly one of app, job or environment",
        ),
        (
            json!({"app": "ca-orders-web", "resource_group": "rg-orders", "since": "20000y"}),
            "since '20000y'",
        ),
        (
            json!({"app": "ca-orders-web", "resource_group": "rg-orders", "as_of": "soon"}),
            "is not an RFC 3339 time",
        ),
        (
            json!({"environment": "cae/orders", "resource_group": "rg-orders", "subscription": "3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90"}),
            "is not a valid environment name",
        ),
    ] {
        let failed = call(&client, "kvdiag_check", object(arguments.clone())).await;
        assert_eq!(failed.is_error, Some(true), "{arguments}: {failed:?}");
        let message = text(&failed);
        assert_eq!(message.lines().count(), 1, "{message}");
        assert!(message.starts_with("kvdiag: error: "), "{message}");
        assert!(message.contains(says), "{arguments}: {message}");
        assert_eq!(failed.structured_content, None);
    }
    let missing = call(
        &client,
        "kvdiag_replay",
        object(json!({"bundle_path": "/nonexistent/bundle.json"})),
    )
    .await;
    assert_eq!(missing.is_error, Some(true));
    assert!(text(&missing).contains("cannot read bundle"), "{missing:?}");
    // Arguments of the wrong shape are the caller's to fix too: a tool result it can read.
    let wrong = call(
        &client,
        "kvdiag_check",
        object(json!({"app": 7, "resource_group": ["rg"]})),
    )
    .await;
    assert_eq!(wrong.is_error, Some(true), "{wrong:?}");

    // A call the protocol cannot route is a JSON-RPC error...
    let unknown = within(
        "unknown tool",
        client.call_tool(CallToolRequestParams::new("kvdiag_nope")),
    )
    .await
    .expect_err("an unknown tool is a protocol error");
    let rmcp::ServiceError::McpError(error) = unknown else {
        panic!("expected a JSON-RPC error, got {unknown:?}");
    };
    assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
    // ...and the server still answers afterwards.
    let again = within("tools/list again", client.list_all_tools())
        .await
        .unwrap();
    assert_eq!(again.len(), 4);
    assert_eq!(world.az.runs(), after_first, "errors started no az either");

    within("close", client.cancel()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stateless_protocol_generation_is_served_too() {
    let world = World::new().await;
    let client = within(
        "server/discover",
        Client(ProtocolVersion::V_2026_07_28).serve_with_lifecycle(
            world.server(),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        ),
    )
    .await
    .expect("discovery succeeds");
    let info = client.peer_info().expect("discovered server info");
    assert_eq!(info.protocol_version, ProtocolVersion::V_2026_07_28);
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("kvdiag")
    );
    let tools = within("tools/list", client.list_all_tools()).await.unwrap();
    assert_eq!(tools.len(), 4);
    let replayed = call(
        &client,
        "kvdiag_replay",
        object(json!({"bundle_path": world.bundle})),
    )
    .await;
    assert_eq!(replayed.is_error, Some(false), "{replayed:?}");
    assert_eq!(
        replayed.structured_content.as_ref().unwrap()["schema"],
        "kvdiag/verdict/v1"
    );
    within("close", client.cancel()).await.unwrap();
}

/// Raw stdio, no client library: every line on stdout is a JSON-RPC message, and the server
/// exits 0 as soon as stdin closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_carries_protocol_messages_only_and_closing_stdin_ends_the_server() {
    use tokio::io::AsyncWriteExt;
    let world = World::new().await;
    let mut child = world
        .command(&["mcp", "--auth", "azure-cli", "-v"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let arguments = Value::Object(world.lab_arguments());
    let lines = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "kvdiag_check", "arguments": arguments}}),
    ];
    for line in lines {
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }
    // A line that is not JSON-RPC at all does not end the server either.
    stdin.write_all(b"this is not json\n").await.unwrap();
    // The answer to the check must arrive before stdin closes; give it the time a check takes.
    let mut out = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let wanted = within("the check's answer", async {
        use tokio::io::AsyncBufReadExt;
        let mut reader = tokio::io::BufReader::new(&mut out).lines();
        while let Some(line) = reader.next_line().await.unwrap() {
            let message: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
            assert_eq!(message["jsonrpc"], "2.0", "{line}");
            let done = message["id"] == 2;
            seen.push(message);
            if done {
                return true;
            }
        }
        false
    })
    .await;
    assert!(wanted, "no answer to the check: {seen:?}");
    drop(stdin);
    let status = within("exit after stdin closed", child.wait())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut out, &mut rest)
        .await
        .unwrap();
    assert!(
        rest.lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "{rest}"
    );
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr)
        .await
        .unwrap();
    assert!(
        stderr.contains("kvdiag: GET "),
        "-v request lines go to stderr: {stderr}"
    );
    assert!(!stderr.contains(TOKEN));
    let answer = seen.iter().find(|m| m["id"] == 2).unwrap();
    assert_eq!(answer["result"]["isError"], false, "{answer}");
}

/// Drops every `as_of` (the moment each run decided at) so two scans of the same fleet compare.
fn without_as_of(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("as_of");
            map.values_mut().for_each(without_as_of);
        }
        Value::Array(items) => items.iter_mut().for_each(without_as_of),
        _ => {}
    }
}

/// `kvdiag_scan` over a loopback fleet holding the lab app: its structured content is the
/// CLI's `scan -o json` for the same scope, and it validates against the scan schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_scan_is_the_clis_scan() {
    let path = common::repo().join(format!("fixtures/scenarios/{LAB}.json"));
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let subscription = bundle["target"]["subscription"]
        .as_str()
        .unwrap()
        .to_string();
    let mock = MockFleet::serve(from_scenario(&bundle)).await;
    let az = FakeAz::new("mcp-scan");
    let home = tempfile::tempdir().unwrap();
    let command = |args: &[&str]| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvdiag"));
        command.args(args).kill_on_drop(true);
        for key in common::SCRUBBED {
            command.env_remove(key);
        }
        command
            .env("HOME", home.path())
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("PATH", az.path())
            .env("KVDIAG_TOKEN_CACHE", "0")
            .envs(mock.env());
        command
    };
    let out = within(
        "kvdiag scan",
        command(&[
            "scan",
            "--subscription",
            &subscription,
            "--auth",
            "azure-cli",
            "-o",
            "json",
        ])
        .output(),
    )
    .await
    .unwrap();
    common::no_token(&out, "scan");
    let mut expected = common::json(&out);

    let (transport, _stderr) = TokioChildProcess::builder(command(&["mcp", "--auth", "azure-cli"]))
        .stderr(Stdio::null())
        .spawn()
        .expect("kvdiag mcp starts");
    let client = within(
        "initialize",
        Client(ProtocolVersion::V_2025_11_25).serve(transport),
    )
    .await
    .expect("the handshake succeeds");
    let tools = within("tools/list", client.list_all_tools()).await.unwrap();
    let scanned = call(
        &client,
        "kvdiag_scan",
        object(json!({"subscriptions": [subscription]})),
    )
    .await;
    assert_eq!(scanned.is_error, Some(false), "{scanned:?}");
    let mut structured = scanned
        .structured_content
        .clone()
        .expect("structured content");
    assert!(
        validator(tool(&tools, "kvdiag_scan").output_schema.as_ref().unwrap())
            .is_valid(&structured),
        "{structured}"
    );
    without_as_of(&mut structured);
    without_as_of(&mut expected);
    assert_eq!(structured, expected, "kvdiag_scan is the CLI's scan");
    let summary = text(&scanned);
    assert!(
        summary.starts_with("1 workload(s): 1 confirmed"),
        "{summary}"
    );
    assert!(
        summary.contains("FIX: # grant identity 'system'"),
        "{summary}"
    );
    let refused = call(
        &client,
        "kvdiag_scan",
        object(json!({"subscriptions": ["not-a-guid"]})),
    )
    .await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text(&refused).contains("is not a subscription id"));
    within("close", client.cancel()).await.unwrap();
}
