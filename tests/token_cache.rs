//! The token cache across CLI runs, seen from outside: `kvdiag check` against the loopback mock
//! with the fake `az` logged in (its profile in a private AZURE_CONFIG_DIR) and a private
//! XDG_CACHE_HOME. A second run within the token's lifetime starts no `az`; the cache is a
//! 0700 directory of 0600 files; a token near its expiry, a cache others can read, the flag and
//! the variable all mean `az` runs again; a token Azure answers 401 to is replaced once.

mod common;

use common::fake_az::{FakeAz, TOKEN};
use common::mock_azure::MockAzure;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

const LAB: &str = "managed-identity-no-role";

struct World {
    mock: MockAzure,
    home: tempfile::TempDir,
    bundle: PathBuf,
}

impl World {
    async fn new() -> World {
        let bundle = common::repo().join(format!("fixtures/scenarios/{LAB}.json"));
        let world = World {
            mock: MockAzure::serve(&bundle).await,
            home: tempfile::tempdir().unwrap(),
            bundle,
        };
        let b: Value =
            serde_json::from_str(&std::fs::read_to_string(&world.bundle).unwrap()).unwrap();
        FakeAz::login(
            &world.home.path().join("azure"),
            b["target"]["subscription"].as_str().unwrap(),
        );
        world
    }

    fn tokens_dir(&self) -> PathBuf {
        self.home.path().join("cache/kvdiag/tokens")
    }

    /// `kvdiag check <lab> --auth azure-cli -o json EXTRA` with `az` and the environment given.
    async fn check(&self, az: &FakeAz, extra: &[&str], vars: &[(&str, &str)]) -> Output {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kvdiag"));
        command
            .arg("check")
            .args(common::target_args(&self.bundle))
            .args(["--auth", "azure-cli", "-o", "json"])
            .args(extra)
            .kill_on_drop(true);
        for key in common::SCRUBBED {
            command.env_remove(key);
        }
        command
            .env_remove("KVDIAG_TOKEN_CACHE")
            .env("HOME", self.home.path())
            .env("XDG_CACHE_HOME", self.home.path().join("cache"))
            .env("AZURE_CONFIG_DIR", self.home.path().join("azure"))
            .env("PATH", az.path())
            .envs(self.mock.env())
            .envs(vars.iter().copied());
        let out = tokio::time::timeout(Duration::from_secs(60), command.output())
            .await
            .expect("kvdiag finished within 60 s")
            .expect("kvdiag ran");
        common::no_token(&out, "check");
        out
    }

    fn token_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.tokens_dir())
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default()
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

/// The cached entry for an audience (`management`, `vault`, `loganalytics`).
fn entry(files: &[PathBuf], audience: &str) -> Value {
    files
        .iter()
        .map(|f| serde_json::from_str::<Value>(&std::fs::read_to_string(f).unwrap()).unwrap())
        .find(|e| e["audience"].as_str().unwrap().contains(audience))
        .unwrap_or_else(|| panic!("no cached token for {audience}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_starts_no_az_and_the_cache_is_private() {
    let world = World::new().await;
    let az = FakeAz::new("cache-second-run");
    let first = world.check(&az, &[], &[]).await;
    assert_eq!(az.runs(), 3, "one az per audience: {:?}", az.calls());
    let second = world.check(&az, &[], &[]).await;
    assert_eq!(az.runs(), 3, "the second run started az: {:?}", az.calls());
    assert_eq!(second.status.code(), first.status.code());
    assert_eq!(common::json(&second), common::json(&first));

    let dir = world.tokens_dir();
    assert_eq!(mode(&dir), 0o700);
    let files = world.token_files();
    assert_eq!(files.len(), 3, "{files:?}");
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    let arm = entry(&files, "management");
    assert_eq!(arm["token"], TOKEN);
    assert_eq!(arm["credential"], "azure-cli");
    assert_eq!(arm["account"], "user:oncall@contoso.example");
    assert_eq!(arm["tenant"], "72f988bf-86f1-41af-91ab-2d7cd011db47");
    assert_eq!(arm["cloud"], "public");
    assert_eq!(arm["expires_on"], 4_070_908_800_i64);
    assert!(arm.get("refresh_token").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flag_and_the_variable_turn_the_cache_off() {
    let world = World::new().await;
    let az = FakeAz::new("cache-off");
    world.check(&az, &["--no-token-cache"], &[]).await;
    world.check(&az, &["--no-token-cache"], &[]).await;
    assert_eq!(az.runs(), 6, "three az per run: {:?}", az.calls());
    world.check(&az, &[], &[("KVDIAG_TOKEN_CACHE", "0")]).await;
    world.check(&az, &[], &[("KVDIAG_TOKEN_CACHE", "0")]).await;
    assert_eq!(az.runs(), 12);
    assert!(world.token_files().is_empty(), "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_near_its_expiry_is_not_reused() {
    let world = World::new().await;
    let soon = time::OffsetDateTime::now_utc().unix_timestamp() + 4 * 60;
    let az = FakeAz::with_token("cache-expiring", TOKEN, soon);
    world.check(&az, &[], &[]).await;
    world.check(&az, &[], &[]).await;
    assert_eq!(az.runs(), 6, "{:?}", az.calls());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_others_can_read_is_not_used_or_repaired() {
    let world = World::new().await;
    let dir = world.tokens_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let az = FakeAz::new("cache-loose");
    world.check(&az, &[], &[]).await;
    world.check(&az, &[], &[]).await;
    assert_eq!(az.runs(), 6);
    assert!(world.token_files().is_empty());
    assert_eq!(mode(&dir), 0o755);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_azure_refuses_is_dropped_and_fetched_again_once() {
    let world = World::new().await;
    let stale = FakeAz::with_token("cache-stale", "stale-token-a", 4_070_908_800);
    let first = world.check(&stale, &[], &[]).await;
    assert_eq!(stale.runs(), 3);
    // Resource Manager and Log Analytics no longer take the cached token; `az` now has another.
    world.mock.reject_token("stale-token-a");
    world.mock.reset();
    let fresh = FakeAz::with_token("cache-fresh", "fresh-token-b", 4_070_908_800);
    let second = world.check(&fresh, &[], &[]).await;
    assert_eq!(
        common::json(&second),
        common::json(&first),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let scopes = fresh.calls();
    assert!(
        scopes.iter().any(|c| c.contains("management.azure.com")),
        "{scopes:?}"
    );
    assert!(
        !scopes.iter().any(|c| c.contains("vault.azure.net")),
        "Key Vault still takes the cached token: {scopes:?}"
    );
    assert!(
        scopes.len() <= 2,
        "one new token per refused audience: {scopes:?}"
    );
    let files = world.token_files();
    assert_eq!(entry(&files, "management")["token"], "fresh-token-b");
    assert_eq!(entry(&files, "vault")["token"], "stale-token-a");
    // Each refused request was sent twice at most: once with the stale token, once with the
    // fresh one.
    let app = common::target_args(&world.bundle)[1].clone();
    let app_reads = world
        .mock
        .seen()
        .iter()
        .filter(|s| s.path.ends_with(&format!("/containerApps/{app}")))
        .count();
    assert_eq!(app_reads, 2);
}
