//! A fake `az` for `--auth azure-cli`: a script in an absolute temporary directory that the test
//! puts first on the child's PATH (never the test process's). It logs every call and prints a
//! token that is not a secret, so tests can check tokens never reach the output. Its calls are
//! the `az` processes a run started. [`FakeAz::login`] writes the Azure CLI profile a logged-in
//! user has, which the token cache keys its entries by.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// The token the fake `az` hands out; it must never appear in kvdiag's output.
pub const TOKEN: &str = "kvdiag-test-token-9f3e1c";

pub struct FakeAz {
    pub dir: PathBuf,
}

impl FakeAz {
    pub fn new(label: &str) -> FakeAz {
        FakeAz::with_token(label, TOKEN, 4_070_908_800)
    }

    /// A fake `az` that hands out `token`, expiring at `expires_on` (unix seconds).
    pub fn with_token(label: &str, token: &str, expires_on: i64) -> FakeAz {
        FakeAz::build(label, token, expires_on, 0)
    }

    /// A fake `az` that takes `start_ms` before it answers, like the real CLI's start-up
    /// (benchmarks).
    pub fn slow(label: &str, start_ms: u64) -> FakeAz {
        FakeAz::build(label, TOKEN, 4_070_908_800, start_ms)
    }

    fn build(label: &str, token: &str, expires_on: i64, start_ms: u64) -> FakeAz {
        let dir = std::env::temp_dir().join(format!(
            "kvdiag-fake-az-{label}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let script = format!(
            "#!/bin/sh\n\
             echo \"$*\" >> '{log}'\n\
             {pause}\n\
             case \"$*\" in\n\
               *'account get-access-token'*) printf '%s\\n' '{{\"accessToken\":\"{token}\",\"expires_on\":{expires_on},\"tokenType\":\"Bearer\"}}' ;;\n\
               *) echo 'fake az: unexpected call' >&2; exit 2 ;;\n\
             esac\n",
            log = dir.join("calls.log").display(),
            pause = if start_ms > 0 {
                format!("sleep {}.{:03}", start_ms / 1000, start_ms % 1000)
            } else {
                String::new()
            }
        );
        let az = dir.join("az");
        std::fs::write(&az, script).unwrap();
        std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
        FakeAz { dir }
    }

    /// PATH for the child: this directory first.
    pub fn path(&self) -> String {
        format!(
            "{}:{}",
            self.dir.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// The argument lines of every call so far.
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// How many times `az` ran.
    pub fn runs(&self) -> usize {
        self.calls().len()
    }

    /// Writes `<config_dir>/azureProfile.json` as `az login` leaves it (with its UTF-8 BOM):
    /// `subscription` as the default, in a test tenant, for a test user.
    pub fn login(config_dir: &std::path::Path, subscription: &str) {
        std::fs::create_dir_all(config_dir).unwrap();
        let profile = serde_json::json!({"installationId": "00000000-0000-0000-0000-0000000000f0",
            "subscriptions": [{"id": subscription, "name": "orders", "state": "Enabled",
                "user": {"name": "oncall@contoso.example", "type": "user"}, "isDefault": true,
                "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "environmentName": "AzureCloud"}]});
        std::fs::write(
            config_dir.join("azureProfile.json"),
            format!("\u{feff}{profile}"),
        )
        .unwrap();
    }

    pub fn clear(&self) {
        let _ = std::fs::remove_file(self.dir.join("calls.log"));
    }
}

impl Drop for FakeAz {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
