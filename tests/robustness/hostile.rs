//! Hostile answers from a live Azure: the loopback mock (and a byte-level front before it)
//! answers well-formed but malicious or broken responses, and each test asserts the invariant
//! the request layer promises — no request outside the guard, no token off-host, no Key Vault
//! value ever requested, no panic, the deadline held within a small margin, memory bounded.
//!
//! Every kvdiag run here is the built binary with the fake `az`, pointed at 127.0.0.1 only, and
//! bounded twice: by its own `--timeout` and by a kill after [`HARD_LIMIT`].

use crate::common::fake_az::FakeAz;
use crate::common::hostile::{Hostile, HostileServer, gzip_bomb, run_measured};
use crate::common::mock_azure::{Fault, MockAzure};
use crate::common::{SCRUBBED, gaps, json, no_token, repo, status_of, strings, target_args};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

/// A run that is still going after this is killed (and the test fails on its exit status).
const HARD_LIMIT: Duration = Duration::from_secs(60);
/// How far past `--timeout` a run may end: process start, the verdict, and scheduling noise.
const DEADLINE_MARGIN: Duration = Duration::from_millis(2500);
/// Peak resident memory a run may reach under a hostile body (KiB). kvdiag's own baseline is
/// far below this; one response is capped at 32 MiB.
const MEMORY_BOUND_KIB: u64 = 160 * 1024;

const LAB: &str = "managed-identity-no-role";
const SUB: &str = "3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90";
const APP: &str = "/subscriptions/3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90/resourceGroups/rg-orders/providers/Microsoft.App/containerApps/ca-orders-web";
const VAULT: &str = "/subscriptions/3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90/resourceGroups/rg-orders/providers/Microsoft.KeyVault/vaults/kv-orders-shared";
const VERSIONS: &str = "/secrets/orders-db-password/versions";
const A_VERSION: &str = "7e3a91c4b05d4f2a8c6e19d3b7f40a25";

/// The mock for one scenario, the hostile front before it, a recorder for "another host", and
/// the fake `az`.
struct Rig {
    mock: MockAzure,
    front: HostileServer,
    foreign: HostileServer,
    az: FakeAz,
    bundle: PathBuf,
}

/// What one run did.
struct Run {
    out: Output,
    wall: Duration,
    peak_kib: u64,
}

impl Run {
    fn json(&self) -> Value {
        json(&self.out)
    }

    fn gaps(&self) -> String {
        gaps(&self.json())
    }

    fn status_of(&self, id: &str) -> String {
        status_of(&self.json(), id).to_string()
    }

    /// No panic, no token in any output.
    fn assert_sound(&self, what: &str) {
        let stderr = String::from_utf8_lossy(&self.out.stderr);
        assert_ne!(
            self.out.status.code(),
            Some(101),
            "{what}: panicked: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert!(self.out.status.code().is_some(), "{what}: killed: {stderr}");
        no_token(&self.out, what);
    }
}

impl Rig {
    async fn new(scenario: &str) -> Rig {
        let bundle = repo().join(format!("fixtures/scenarios/{scenario}.json"));
        let mock = MockAzure::serve(&bundle).await;
        let front = HostileServer::start(Some(mock.server.uri())).await;
        let foreign = HostileServer::start(None).await;
        Rig {
            mock,
            front,
            foreign,
            az: FakeAz::new(&format!("hostile-{scenario}")),
            bundle,
        }
    }

    fn command(&self, args: &[String]) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kvdiag"));
        command.args(args).env("HOME", std::env::temp_dir());
        for key in SCRUBBED {
            command.env_remove(key);
        }
        command.envs(self.front.env()).env("PATH", self.az.path());
        command
    }

    /// `kvdiag <verb> <target> --auth azure-cli <extra>` through the front.
    async fn run_verb(&self, verb: &str, extra: &[&str]) -> Run {
        let mut args = vec![verb.to_string()];
        let mut target = target_args(&self.bundle);
        if extra.contains(&"--as-of")
            && let Some(at) = target.iter().position(|a| a == "--as-of")
        {
            // The run decides as of another moment than the fixture's.
            target.drain(at..at + 2);
        }
        args.extend(target);
        args.extend(strings(&["--auth", "azure-cli"]));
        args.extend(strings(extra));
        let command = self.command(&args);
        let started = Instant::now();
        let (out, peak_kib) =
            tokio::task::spawn_blocking(move || run_measured(command, HARD_LIMIT))
                .await
                .unwrap();
        Run {
            out,
            wall: started.elapsed(),
            peak_kib,
        }
    }

    async fn check(&self, extra: &[&str]) -> Run {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(extra);
        self.run_verb("check", &all).await
    }

    /// The invariants every hostile run keeps.
    fn assert_contained(&self, what: &str) {
        assert_eq!(
            self.mock.violations(),
            Vec::<String>::new(),
            "{what}: a request that is not an allowed read"
        );
        assert!(
            self.foreign.arrived().is_empty(),
            "{what}: a request reached another host: {:?}",
            self.foreign.arrived()
        );
    }

    /// Authorized requests the mock saw whose path ends with `tail`.
    fn authorized(&self, tail: &str) -> usize {
        let tail = tail.to_ascii_lowercase();
        self.mock
            .seen()
            .iter()
            .filter(|s| s.authorized && s.path.to_ascii_lowercase().ends_with(&tail))
            .count()
    }
}

fn version_page(next_link: Value) -> Value {
    json!({
        "value": [{
            "id": format!("https://kv-orders-shared.vault.azure.net/secrets/orders-db-password/{A_VERSION}"),
            "attributes": {"enabled": true, "created": 1791970241, "updated": 1791970241}
        }],
        "nextLink": next_link
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_vault_next_links_never_leave_the_list_of_the_secret() {
    let value_url =
        format!("https://kv-orders-shared.vault.azure.net/secrets/orders-db-password/{A_VERSION}");
    // (what, the nextLink, the word the gap says). A plain-http link is stopped one step before
    // kvdiag's guard by the SDK's own bearer policy, and a link that is not a URL by the SDK's
    // pager; neither is sent.
    let cases = [
        (
            "another host",
            json!("https://evil.example/secrets/orders-db-password/versions?$skiptoken=1"),
            "refused",
        ),
        (
            "another vault",
            json!("https://kv-other.vault.azure.net/secrets/orders-db-password/versions"),
            "refused",
        ),
        ("a value, absolute", json!(value_url), "refused"),
        (
            "a value, relative",
            json!(format!("/secrets/orders-db-password/{A_VERSION}")),
            "refused",
        ),
        (
            "the secret itself, relative",
            json!("../orders-db-password"),
            "refused",
        ),
        (
            "a loopback port",
            json!("http://127.0.0.1:9/secrets/orders-db-password/versions"),
            "non-TLS",
        ),
        (
            "another secret's list",
            json!("https://kv-orders-shared.vault.azure.net/secrets/other/versions"),
            "refused",
        ),
        ("not a URL", json!("https://[::1"), "decode"),
    ];
    for (what, link, says) in cases {
        let rig = Rig::new(LAB).await;
        rig.mock
            .fault(VERSIONS, Fault::Answer(200, version_page(link.clone())));
        let run = rig.check(&[]).await;
        run.assert_sound(what);
        rig.assert_contained(what);
        assert_eq!(
            rig.authorized(VERSIONS),
            1,
            "{what}: only the first page was read with the token"
        );
        assert_eq!(
            rig.mock
                .seen()
                .iter()
                .filter(|s| s.service == "keyvault")
                .filter(|s| !s.path.eq_ignore_ascii_case(VERSIONS))
                .count(),
            0,
            "{what}: a Key Vault request other than the version list"
        );
        let gaps = run.gaps();
        assert!(gaps.contains(says), "{what}: {gaps}");
        assert!(
            gaps.contains("versions"),
            "{what}: the gap names the read: {gaps}"
        );
        // The evidence still decides the lab: the missing role needs no version list.
        assert_eq!(run.status_of("keyvault_access"), "confirmed", "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arm_next_links_are_followed_only_on_the_same_list() {
    let revisions = format!("{APP}/revisions");
    // (what, the link given the front's and the recorder's bases, followed?)
    type Link = Box<dyn Fn(&str, &str) -> Value>;
    let cases: Vec<(&str, Link, bool)> = vec![
        (
            "another host",
            Box::new(|_, foreign| json!(format!("{foreign}/arm{APP}/revisions?$skiptoken=1"))),
            false,
        ),
        (
            "another read on the same host",
            Box::new(|front, _| {
                json!(format!(
                    "{front}/arm{APP}/listSecrets?api-version=2025-07-01"
                ))
            }),
            false,
        ),
        (
            "the app itself",
            Box::new(|front, _| json!(format!("{front}/arm{APP}?api-version=2025-07-01"))),
            false,
        ),
        (
            "above the endpoint's prefix",
            Box::new(|front, _| json!(format!("{front}{APP}/revisions?$skiptoken=1"))),
            false,
        ),
        (
            "relative, outside the prefix",
            Box::new(|_, _| json!(format!("{APP}/revisions?$skiptoken=1"))),
            false,
        ),
        ("a number", Box::new(|_, _| json!(7)), false),
        (
            "the same list",
            Box::new(|front, _| {
                json!(format!(
                    "{front}/arm{APP}/revisions?api-version=2025-07-01&$skiptoken=2"
                ))
            }),
            true,
        ),
    ];
    for (what, link, followed) in cases {
        let rig = Rig::new(LAB).await;
        let next = link(&rig.front.base(), &rig.foreign.base());
        rig.mock.fault(
            "/revisions",
            Fault::Answer(200, json!({"value": [], "nextLink": next})),
        );
        let run = rig.check(&[]).await;
        run.assert_sound(what);
        rig.assert_contained(what);
        let reads = rig.authorized("/revisions");
        assert_eq!(rig.authorized("/listsecrets"), 0, "{what}");
        assert_eq!(rig.authorized("/containerapps/ca-orders-web"), 1, "{what}");
        if followed {
            // A list that never ends is read to the page limit and recorded as truncated.
            assert_eq!(reads, 20, "{what}: pages up to the limit");
        } else {
            assert_eq!(reads, 1, "{what}");
            let gaps = run.gaps();
            assert!(
                gaps.contains("refused") && gaps.contains(&revisions),
                "{what}: {gaps}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_answers_not_invitations() {
    let rig = Rig::new(LAB).await;
    let location = format!("{}/arm{VAULT}?api-version=2025-05-01", rig.foreign.base());
    rig.mock.fault_at(
        "/vaults/kv-orders-shared",
        Fault::Raw {
            status: 307,
            headers: vec![("location".into(), location)],
            body: String::new(),
        },
    );
    let run = rig.check(&[]).await;
    run.assert_sound("ARM redirect");
    rig.assert_contained("ARM redirect");
    assert!(run.gaps().contains("307"), "{}", run.gaps());

    let rig = Rig::new(LAB).await;
    let value = format!("/secrets/orders-db-password/{A_VERSION}");
    rig.mock.fault(
        VERSIONS,
        Fault::Raw {
            status: 302,
            headers: vec![(
                "location".into(),
                format!("https://kv-orders-shared.vault.azure.net{value}"),
            )],
            body: String::new(),
        },
    );
    let run = rig.check(&[]).await;
    run.assert_sound("Key Vault redirect");
    rig.assert_contained("Key Vault redirect");
    assert_eq!(rig.authorized(&value), 0);
    assert!(run.gaps().contains("302"), "{}", run.gaps());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_from_answers_become_paths_only_when_they_are_of_the_expected_type() {
    let rig = Rig::new(LAB).await;
    let mut app = rig.mock.recorded("/containerapps/ca-orders-web")["body"].clone();
    app["properties"]["environmentId"] = json!("/kv/kv-orders-shared/secrets/orders-db-password");
    app["properties"]["managedEnvironmentId"] =
        json!(format!("{VAULT}/secrets/orders-db-password"));
    app["identity"]["userAssignedIdentities"] = json!({
        format!("/subscriptions/{SUB}/resourceGroups/rg-orders/providers/Microsoft.App/containerApps/ca-orders-web/listSecrets"): {"principalId": "00000000-0000-0000-0000-000000000001", "clientId": "00000000-0000-0000-0000-000000000002"},
        "/kv/x/secrets/y": {"principalId": "00000000-0000-0000-0000-000000000003"}
    });
    rig.mock
        .fault_at("/containerapps/ca-orders-web", Fault::Answer(200, app));
    rig.mock.fault(
        "/resourcegraph/resources",
        Fault::Answer(200, json!({"totalRecords": 2, "count": 2, "resultTruncated": "false", "data": [
            {"id": format!("{APP}/revisions/x"), "name": "kv-orders-shared"},
            {"id": format!("/subscriptions/{SUB}/resourceGroups/rg-orders/providers/Microsoft.KeyVault/vaults/kv-elsewhere"), "name": "kv-orders-shared"},
        ]})),
    );
    let run = rig.check(&[]).await;
    run.assert_sound("wrong-type ids");
    rig.assert_contained("wrong-type ids");
    for seen in rig.mock.seen() {
        let path = seen.path.to_ascii_lowercase();
        assert!(
            !path.contains("/kv/"),
            "fetched an id of the wrong type: {}",
            seen.line()
        );
        assert!(
            !path.contains("kv-elsewhere"),
            "read a vault under another name: {}",
            seen.line()
        );
        assert!(!path.contains("/revisions/x"), "{}", seen.line());
        assert!(!path.contains("listsecrets"), "{}", seen.line());
    }
    assert_eq!(rig.authorized("/containerapps/ca-orders-web"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_role_ids_of_the_wrong_shape_are_not_read() {
    let rig = Rig::new(LAB).await;
    let assignment = |definition: &str| {
        json!({
            "id": format!("{VAULT}/providers/Microsoft.Authorization/roleAssignments/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"),
            "name": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {
                "roleDefinitionId": definition,
                "principalId": "9c4e2b71-5a3d-4f08-b6e1-3d7a2c8f5e94",
                "principalType": "ServicePrincipal",
                "scope": VAULT,
                "createdOn": "2026-11-01T10:00:00Z"
            }
        })
    };
    rig.mock.fault(
        "/vaults/kv-orders-shared/providers/microsoft.authorization/roleassignments",
        Fault::Answer(200, json!({"value": [
            assignment("/kv/x/providers/Microsoft.Authorization/roleDefinitions/11111111-2222-3333-4444-555555555555"),
            assignment(&format!("{APP}/providers/Microsoft.Authorization/roleDefinitions/11111111-2222-3333-4444-555555555556")),
            assignment(&format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/..%2F..%2Fx")),
        ]})),
    );
    let run = rig.check(&[]).await;
    run.assert_sound("role definition ids");
    rig.assert_contained("role definition ids");
    assert!(
        rig.mock
            .seen()
            .iter()
            .all(|s| !s.path.to_ascii_lowercase().contains("roledefinitions")),
        "a role definition of the wrong shape was read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dripping_and_stalled_bodies_end_at_the_deadline() {
    let timeout = Duration::from_secs(4);
    let drip = || Hostile::Drip {
        every: Duration::from_millis(200),
    };
    // (where, how, what, extra flags). With `--parallel 1` every other read queues behind the
    // stalled one: the queue must end at the deadline too, not one request budget later.
    let cases = [
        ("/revisions", drip(), "revisions drip", &[][..]),
        ("/revisions", Hostile::Stall, "revisions stall", &[][..]),
        (
            "/revisions",
            Hostile::Stall,
            "revisions stall, one request at a time",
            &["--parallel", "1"][..],
        ),
        (VERSIONS, drip(), "Key Vault drip", &[][..]),
        (VERSIONS, Hostile::Stall, "Key Vault stall", &[][..]),
        ("/la/", Hostile::Stall, "Log Analytics stall", &[][..]),
        (
            "resourcegraph/resources",
            Hostile::Drip {
                every: Duration::from_millis(500),
            },
            "Resource Graph drip",
            &[][..],
        ),
    ];
    let mut worst = Duration::ZERO;
    for (needle, hostile, what, extra) in cases {
        let rig = Rig::new(LAB).await;
        rig.front.rule(needle, hostile);
        let mut flags = vec!["--timeout", "4s"];
        flags.extend_from_slice(extra);
        let run = rig.check(&flags).await;
        run.assert_sound(what);
        rig.assert_contained(what);
        assert!(
            run.wall < timeout + DEADLINE_MARGIN,
            "{what}: took {:?} with --timeout 4s",
            run.wall
        );
        worst = worst.max(run.wall);
        let gaps = run.gaps();
        assert!(gaps.contains("timeout"), "{what}: {gaps}");
    }
    eprintln!("worst wall time with --timeout 4s under dripping/stalled bodies: {worst:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_credential_is_killed_at_the_deadline() {
    let rig = Rig::new(LAB).await;
    let pid_file = rig.az.dir.join("az.pid");
    std::fs::write(
        rig.az.dir.join("az"),
        format!("#!/bin/sh\necho $$ > '{}'\nsleep 600\n", pid_file.display()),
    )
    .unwrap();
    let run = rig.run_verb("check", &["--timeout", "3s"]).await;
    run.assert_sound("hung az");
    assert_eq!(run.out.status.code(), Some(2), "no credential is exit 2");
    let stderr = String::from_utf8_lossy(&run.out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("azure-cli"), "{stderr}");
    assert!(
        run.wall < Duration::from_secs(3) + DEADLINE_MARGIN,
        "took {:?}",
        run.wall
    );
    eprintln!("hung az with --timeout 3s: exit 2 after {:?}", run.wall);
    let pid = std::fs::read_to_string(&pid_file).expect("the fake az ran");
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim()));
    let alive = status.is_ok_and(|s| {
        !s.lines()
            .any(|l| l.starts_with("State:") && l.contains('Z'))
    });
    assert!(!alive, "az (pid {}) outlived the run", pid.trim());
    assert!(
        rig.mock.seen().is_empty(),
        "nothing is sent without a token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_and_oversized_answers_are_gaps_with_memory_bounded() {
    let bomb = gzip_bomb(1 << 30);
    assert!(
        bomb.len() < 2 << 20,
        "the bomb is small on the wire: {}",
        bomb.len()
    );
    let cases = [
        (
            "gzip bomb (1 GiB expanded)",
            Hostile::Raw {
                status: 200,
                headers: vec![("content-encoding".into(), "gzip".into())],
                body: bomb,
            },
            "compressed",
        ),
        (
            "300 MB body, chunked",
            Hostile::Huge {
                bytes: 300 << 20,
                declare_length: false,
            },
            "too large",
        ),
        (
            "300 MB body, declared",
            Hostile::Huge {
                bytes: 300 << 20,
                declare_length: true,
            },
            "too large",
        ),
    ];
    for (what, hostile, expected) in cases {
        for needle in ["/revisions", VERSIONS] {
            let rig = Rig::new(LAB).await;
            rig.front.rule(needle, hostile.clone());
            let run = rig.check(&[]).await;
            run.assert_sound(what);
            rig.assert_contained(what);
            let gaps = run.gaps();
            assert!(gaps.contains(expected), "{what} on {needle}: {gaps}");
            assert!(
                run.peak_kib < MEMORY_BOUND_KIB,
                "{what} on {needle}: peak RSS {} MiB",
                run.peak_kib / 1024
            );
            eprintln!("{what} on {needle}: peak RSS {} MiB", run.peak_kib / 1024);
            assert_eq!(run.status_of("keyvault_access"), "confirmed", "{what}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_vault_throttling_honours_retry_after() {
    let rig = Rig::new(LAB).await;
    rig.mock.fault(
        VERSIONS,
        Fault::Throttle {
            times: 1,
            retry_after: 2,
        },
    );
    let started = Instant::now();
    let run = rig.check(&[]).await;
    run.assert_sound("Key Vault 429");
    rig.assert_contained("Key Vault 429");
    assert_eq!(rig.authorized(VERSIONS), 2, "one 429, one retry");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After waited for"
    );
    assert!(!run.gaps().contains("versions"), "{}", run.gaps());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_where_a_version_list_belongs_is_a_decode_gap_that_never_quotes_it() {
    const CANARY: &str = "kvdiag-canary-value-5b1e";
    let rig = Rig::new(LAB).await;
    rig.mock.fault(
        VERSIONS,
        Fault::Answer(
            200,
            json!({"value": CANARY, "id": format!("https://kv-orders-shared.vault.azure.net/secrets/orders-db-password/{A_VERSION}"), "attributes": {"enabled": true}}),
        ),
    );
    let run = rig.check(&[]).await;
    run.assert_sound("value body");
    rig.assert_contained("value body");
    assert_eq!(
        rig.authorized(VERSIONS),
        1,
        "a decode failure is not retried"
    );
    let gaps = run.gaps();
    assert!(gaps.contains("decode"), "{gaps}");
    let file = std::env::temp_dir().join(format!("kvdiag-hostile-{}.json", std::process::id()));
    let collected = rig
        .run_verb("collect", &["-o", file.to_str().unwrap()])
        .await;
    collected.assert_sound("collect of a value body");
    let written = std::fs::read_to_string(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    for text in [
        String::from_utf8_lossy(&run.out.stdout).into_owned(),
        String::from_utf8_lossy(&run.out.stderr).into_owned(),
        written,
    ] {
        assert!(!text.contains(CANARY), "the value leaked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_at_the_end_of_the_calendar_in_live_answers_are_no_panic() {
    let rig = Rig::new(LAB).await;
    rig.mock.fault(
        VERSIONS,
        Fault::Answer(
            200,
            json!({"value": [{
                "id": format!("https://kv-orders-shared.vault.azure.net/secrets/orders-db-password/{A_VERSION}"),
                "attributes": {"enabled": true, "created": 253402300799_i64, "updated": 253402300799_i64, "exp": i64::MAX}
            }], "nextLink": null}),
        ),
    );
    rig.mock.fault(
        "/vaults/kv-orders-shared/providers/microsoft.authorization/roleassignments",
        Fault::Answer(200, json!({"value": [{
            "id": format!("{VAULT}/providers/Microsoft.Authorization/roleAssignments/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"),
            "name": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {
                "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"),
                "principalId": "9c4e2b71-5a3d-4f08-b6e1-2d7a9f0c3e15",
                "principalType": "ServicePrincipal",
                "scope": VAULT,
                "createdOn": "9999-12-31T23:59:59Z"
            }
        }]})),
    );
    for extra in [
        &[][..],
        &["--as-of", "9999-12-31T23:59:59Z", "--since", "12y"][..],
    ] {
        let run = rig.check(extra).await;
        run.assert_sound("extreme times");
        rig.assert_contained("extreme times");
        let verdict = run.json();
        assert_eq!(verdict["hypotheses"][0]["rank"], 1, "{extra:?}");
    }
}
