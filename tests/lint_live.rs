//! `kvdiag lint --live` against the loopback mock of Azure serving fixture scenarios, with the
//! fake `az` as the only credential (as tests/live.rs): an identity that can read (no finding),
//! one that cannot (error), and the system identity of an app that does not exist yet.

mod common;

use common::fake_az::{FakeAz, TOKEN};
use common::mock_azure::MockAzure;
use serde_json::Value;
use std::process::Output;
use std::time::Duration;

const SUBSCRIPTION: &str = "3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90";

struct Live {
    mock: MockAzure,
    az: FakeAz,
}

impl Live {
    async fn new(scenario: &str) -> Live {
        let bundle = common::repo().join(format!("fixtures/scenarios/{scenario}.json"));
        Live {
            mock: MockAzure::serve(&bundle).await,
            az: FakeAz::new(&format!("lint-{scenario}")),
        }
    }

    async fn lint(&self, file: &str, extra: &[&str]) -> (Output, Value) {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvdiag"));
        command
            .args([
                "lint",
                file,
                "--live",
                "--subscription",
                SUBSCRIPTION,
                "--auth",
                "azure-cli",
                "-o",
                "json",
            ])
            .args(extra)
            .current_dir(common::repo())
            .env("HOME", std::env::temp_dir())
            .kill_on_drop(true);
        for key in common::SCRUBBED {
            command.env_remove(key);
        }
        for (k, v) in self.mock.env() {
            command.env(k, v);
        }
        command.env("PATH", self.az.path());
        let out = tokio::time::timeout(Duration::from_secs(60), command.output())
            .await
            .expect("kvdiag finished within 60 s")
            .expect("kvdiag ran");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(TOKEN), "the token leaked: {all}");
        assert!(
            self.mock.violations().is_empty(),
            "{:?}",
            self.mock.violations()
        );
        let report: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {all}"));
        (out, report)
    }
}

fn findings(report: &Value) -> Vec<&Value> {
    report["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .collect()
}

#[tokio::test]
async fn an_identity_that_can_read_gives_no_finding() {
    let live = Live::new("healthy").await;
    let (out, report) = live.lint("fixtures/lint/containerapp-full.yaml", &[]).await;
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert!(findings(&report).is_empty(), "{report:#}");
    assert!(
        live.mock.unplanned().is_empty(),
        "lint reads only what the scenario holds: {:?}",
        live.mock.unplanned()
    );
}

#[tokio::test]
async fn an_identity_that_cannot_read_is_an_error_at_its_secret() {
    let live = Live::new("managed-identity-no-role").await;
    let (out, report) = live.lint("fixtures/lint/system-identity.yaml", &[]).await;
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    let access: Vec<&Value> = findings(&report)
        .into_iter()
        .filter(|f| f["rule"] == "keyvault-access")
        .collect();
    assert_eq!(access.len(), 1, "{report:#}");
    let f = access[0];
    assert_eq!(f["severity"], "error");
    assert_eq!(f["path"], "properties.configuration.secrets[0].keyVaultUrl");
    assert_eq!(f["line"], 14, "the keyVaultUrl line of orders-db-password");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("secret 'orders-db-password'"),
        "{f:#}"
    );
    let fix = f["remediation"].to_string();
    assert!(
        fix.contains(
            "az role assignment create --assignee-object-id 9c4e2b71-5a3d-4f08-b6e1-2d7a9f0c3e15"
        ),
        "{fix}"
    );
}

#[tokio::test]
async fn a_new_apps_system_identity_is_reported_with_the_role_to_add_after_deploy() {
    let live = Live::new("healthy").await;
    let (out, report) = live
        .lint(
            "fixtures/lint/containerapp-full.yaml",
            &["--app", "ca-orders-new"],
        )
        .await;
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    let all = findings(&report);
    let system: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|f| f["rule"] == "system-identity-not-created")
        .collect();
    assert_eq!(system.len(), 1, "{report:#}");
    let f = system[0];
    assert_eq!(f["path"], "properties.configuration.secrets[1].keyVaultUrl");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("'ca-orders-new' does not exist yet"),
        "{message}"
    );
    assert!(message.contains("user-assigned identity"), "{message}");
    let fix = f["remediation"].to_string();
    assert!(fix.contains("az role assignment create --assignee-object-id $(az containerapp show -n ca-orders-new -g rg-orders"), "{fix}");
    assert!(fix.contains("--role \\\"Key Vault Secrets User\\\" --scope /subscriptions/3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90/resourceGroups/rg-orders/providers/Microsoft.KeyVault/vaults/kv-orders-shared"), "{fix}");
    // The user-assigned identity already holds its role: no access finding for its secret.
    assert!(
        !all.iter()
            .any(|f| f["rule"] == "keyvault-access" && f["severity"] == "error"),
        "{report:#}"
    );
}

/// An app that enables Dapr: the components already in its environment that it will load are
/// read, and a Key Vault secret store whose azureClientId matches none of the file's identities
/// is an error naming the component.
#[tokio::test]
async fn a_dapr_secret_store_without_the_apps_identity_is_an_error() {
    let live = Live::new("dapr-client-id-unmatched").await;
    let yaml = std::fs::read_to_string(common::repo().join("fixtures/lint/containerapp-full.yaml"))
        .unwrap()
        .replacen(
            "    activeRevisionsMode: Single\n",
            "    activeRevisionsMode: Single\n    dapr:\n      enabled: true\n      appId: ca-orders-web\n",
            1,
        );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dapr-app.yaml");
    std::fs::write(&file, yaml).unwrap();
    let (out, report) = live.lint(file.to_str().unwrap(), &[]).await;
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    let dapr: Vec<&Value> = findings(&report)
        .into_iter()
        .filter(|f| f["rule"] == "keyvault-access")
        .filter(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .contains("Dapr component 'secretstore'")
        })
        .collect();
    assert_eq!(dapr.len(), 1, "{report:#}");
    assert_eq!(dapr[0]["severity"], "error");
    assert!(
        live.mock.unplanned().is_empty(),
        "{:?}",
        live.mock.unplanned()
    );
}
