//! The target of a live run: subscription (flag, `AZURE_SUBSCRIPTION_ID`, then the Azure CLI's
//! default read from its profile file, no `az` process) and names checked before they go into a
//! URL path.

use crate::bundle::Target;
use std::path::PathBuf;

/// Picks the subscription: the flag, then `AZURE_SUBSCRIPTION_ID`, then the CLI default.
pub fn subscription(
    flag: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let chosen = flag
        .map(str::to_string)
        .or_else(|| env("AZURE_SUBSCRIPTION_ID").filter(|v| !v.trim().is_empty()))
        .or_else(|| cli_default(env));
    let Some(id) = chosen else {
        return Err("no subscription: pass --subscription, set AZURE_SUBSCRIPTION_ID, or choose a default with `az account set --subscription <id>`".into());
    };
    let id = id.trim().to_string();
    if !is_guid(&id) {
        return Err(format!(
            "subscription '{id}' is not a subscription id (a GUID); `az account list -o table` shows yours"
        ));
    }
    Ok(id.to_ascii_lowercase())
}

/// The Azure CLI's default subscription from `$AZURE_CONFIG_DIR/azureProfile.json`
/// (`~/.azure` by default). The file starts with a UTF-8 BOM (Azure/azure-cli#13980).
fn cli_default(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let dir = env("AZURE_CONFIG_DIR")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".azure")))?;
    let text = std::fs::read_to_string(dir.join("azureProfile.json")).ok()?;
    let profile: serde_json::Value =
        serde_json::from_str(text.trim_start_matches('\u{feff}')).ok()?;
    profile
        .get("subscriptions")?
        .as_array()?
        .iter()
        .find(|s| s.get("isDefault").and_then(serde_json::Value::as_bool) == Some(true))?
        .get("id")?
        .as_str()
        .map(str::to_string)
}

/// Checks the names the user typed before they become a URL path.
pub fn validate(target: &Target) -> Result<(), String> {
    let rg = &target.resource_group;
    // Resource group names: 1-90 of letters, digits, `_`, `-`, `.`, `(`, `)`; not ending in `.`.
    let rg_ok = (1..=90).contains(&rg.chars().count())
        && rg
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'))
        && !rg.ends_with('.');
    if !rg_ok {
        return Err(format!(
            "resource group '{rg}' is not a valid name (1-90 letters, digits, _ - . ( ), not ending in .)"
        ));
    }
    let (flag, name) = (format!("--{}", target.kind_word()), target.name());
    if target.is_environment() {
        // Managed environments: 2-60 letters, digits and hyphens, starting with a letter
        // (Azure/azure-rest-api-specs ManagedEnvironments.json); only URL-safe characters.
        let ok = (2..=60).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            return Err(format!(
                "{flag} '{name}' is not a valid environment name (2-60 letters, digits and hyphens, starting with a letter)"
            ));
        }
        return Ok(());
    }
    // Container Apps and jobs: 2-32 lower-case letters, digits and hyphens, starting with a
    // letter, ending with a letter or digit (and no `--`).
    let name_ok = (2..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.contains("--");
    if !name_ok {
        return Err(format!(
            "{flag} '{name}' is not a valid Container Apps name (2-32 lower-case letters, digits and hyphens, starting with a letter)"
        ));
    }
    Ok(())
}

pub use crate::azure::ids::is_guid;

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90";

    #[test]
    fn flag_then_environment_then_cli_profile() {
        let dir = std::env::temp_dir().join(format!("kvdiag-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("azureProfile.json"),
            format!("\u{feff}{{\"subscriptions\":[{{\"id\":\"a7e4c2d9-1f3b-4c8e-9d2a-6b5f0e3c1a74\",\"isDefault\":false}},{{\"id\":\"{SUB}\",\"isDefault\":true}}]}}"),
        )
        .unwrap();
        let config = dir.display().to_string();
        let env = |k: &str| (k == "AZURE_CONFIG_DIR").then(|| config.clone());
        assert_eq!(subscription(None, &env).unwrap(), SUB);
        let env_var = |k: &str| match k {
            "AZURE_SUBSCRIPTION_ID" => Some("A7E4C2D9-1F3B-4C8E-9D2A-6B5F0E3C1A74".to_string()),
            _ => env(k),
        };
        assert_eq!(
            subscription(None, &env_var).unwrap(),
            "a7e4c2d9-1f3b-4c8e-9d2a-6b5f0e3c1a74"
        );
        assert_eq!(subscription(Some(SUB), &env_var).unwrap(), SUB);
        std::fs::remove_dir_all(&dir).unwrap();
        let none = |_: &str| None;
        assert!(
            subscription(None, &none)
                .unwrap_err()
                .contains("az account set")
        );
        assert!(
            subscription(Some("../x"), &none)
                .unwrap_err()
                .contains("GUID")
        );
    }

    #[test]
    fn environment_names_are_checked_before_they_become_paths() {
        let t = |env: &str| Target {
            subscription: SUB.into(),
            resource_group: "rg".into(),
            app: None,
            job: None,
            environment: Some(env.into()),
        };
        assert!(validate(&t("cae-orders")).is_ok());
        assert!(validate(&t("Cae-Orders-2")).is_ok());
        for bad in [
            "",
            "c",
            "../x",
            "cae/orders",
            "cae%2forders",
            "-cae",
            "cae orders",
        ] {
            assert!(validate(&t(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_that_would_break_a_url_are_refused() {
        let t = |rg: &str, app: &str| Target {
            subscription: SUB.into(),
            resource_group: rg.into(),
            app: Some(app.into()),
            job: None,
            environment: None,
        };
        assert!(validate(&t("rg-orders", "ca-orders-web")).is_ok());
        assert!(validate(&t("rg_(x).1", "a1")).is_ok());
        for (rg, app) in [
            ("rg/../x", "ca"),
            ("rg?x", "ca"),
            ("rg.", "ca"),
            ("rg", "Ca-Orders"),
            ("rg", "ca/x"),
            ("rg", "ca%2f"),
            ("rg", "-ca"),
            ("rg", "ca-"),
        ] {
            assert!(validate(&t(rg, app)).is_err(), "{rg} {app}");
        }
    }
}
