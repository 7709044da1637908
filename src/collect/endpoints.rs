//! Where each service lives: the cloud's public endpoints, or the overrides tests and private
//! clouds set (`KVDIAG_ARM_ENDPOINT`, `KVDIAG_LOG_ANALYTICS_ENDPOINT`, `KVDIAG_KEYVAULT_ENDPOINT`).
//!
//! Plain `http` is accepted only for loopback hosts: a bearer token must never cross a network in
//! clear text. Cloud endpoints: `az cloud show --name AzureCloud|AzureUSGovernment|AzureChinaCloud`
//! (https://learn.microsoft.com/cli/azure/manage-clouds-azure-cli).

use clap::ValueEnum;
use std::net::IpAddr;
use url::Url;

/// The sovereign clouds kvdiag knows (`az cloud list` names in the docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Cloud {
    /// AzureCloud.
    Public,
    /// AzureUSGovernment.
    Usgov,
    /// AzureChinaCloud.
    China,
}

impl Cloud {
    fn arm(self) -> &'static str {
        match self {
            Cloud::Public => "https://management.azure.com",
            Cloud::Usgov => "https://management.usgovcloudapi.net",
            Cloud::China => "https://management.chinacloudapi.cn",
        }
    }

    fn log_analytics(self) -> &'static str {
        match self {
            Cloud::Public => "https://api.loganalytics.io",
            Cloud::Usgov => "https://api.loganalytics.us",
            Cloud::China => "https://api.loganalytics.azure.cn",
        }
    }

    /// The Key Vault DNS suffix, for the token audience (the host itself comes from `keyVaultUrl`).
    fn keyvault_audience(self) -> &'static str {
        match self {
            Cloud::Public => "https://vault.azure.net",
            Cloud::Usgov => "https://vault.usgovcloudapi.net",
            Cloud::China => "https://vault.azure.cn",
        }
    }

    /// The azure_core cloud configuration (Entra authority for the credentials that call it).
    pub fn configuration(self) -> azure_core::cloud::CloudConfiguration {
        use azure_core::cloud::CloudConfiguration;
        match self {
            Cloud::Public => CloudConfiguration::AzurePublic,
            Cloud::Usgov => CloudConfiguration::AzureGovernment,
            Cloud::China => CloudConfiguration::AzureChina,
        }
    }
}

/// The three services' base URLs and token scopes for one run.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub arm: Url,
    pub log_analytics: Url,
    /// `http://127.0.0.1:8080/kv/{vault}`: replaces `https://{vault}.<suffix>` when set.
    pub keyvault_template: Option<String>,
    pub arm_scope: String,
    pub log_analytics_scope: String,
    pub keyvault_scope: String,
}

/// Environment variables that override the cloud's endpoints.
pub const ARM_ENV: &str = "KVDIAG_ARM_ENDPOINT";
pub const LOG_ANALYTICS_ENV: &str = "KVDIAG_LOG_ANALYTICS_ENDPOINT";
pub const KEYVAULT_ENV: &str = "KVDIAG_KEYVAULT_ENDPOINT";

impl Endpoints {
    /// The cloud's endpoints with the overrides applied; `lookup` reads the environment.
    pub fn resolve(cloud: Cloud, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let arm = match get(ARM_ENV) {
            Some(v) => checked_base(ARM_ENV, &v)?,
            None => Url::parse(cloud.arm()).expect("static URL"),
        };
        let log_analytics = match get(LOG_ANALYTICS_ENV) {
            Some(v) => checked_base(LOG_ANALYTICS_ENV, &v)?,
            None => Url::parse(cloud.log_analytics()).expect("static URL"),
        };
        let keyvault_template = match get(KEYVAULT_ENV) {
            Some(v) => {
                if !v.contains("{vault}") {
                    return Err(format!(
                        "{KEYVAULT_ENV}='{v}' has no {{vault}} placeholder (e.g. http://127.0.0.1:8080/kv/{{vault}})"
                    ));
                }
                checked_base(KEYVAULT_ENV, &v.replace("{vault}", "vault"))?;
                Some(v.trim_end_matches('/').to_string())
            }
            None => None,
        };
        Ok(Endpoints {
            arm,
            log_analytics,
            keyvault_template,
            arm_scope: format!("{}/.default", cloud.arm()),
            log_analytics_scope: format!("{}/.default", cloud.log_analytics()),
            keyvault_scope: format!("{}/.default", cloud.keyvault_audience()),
        })
    }

    /// Where a vault's data-plane requests go: the override with `{vault}` filled in, else `None`
    /// (the vault's own https host).
    pub fn keyvault_base(&self, vault: &str) -> Option<Url> {
        let template = self.keyvault_template.as_ref()?;
        Url::parse(&template.replace("{vault}", vault)).ok()
    }
}

/// A URL joined with a path that starts with `/`, keeping any path prefix of the base.
pub fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}{path}"));
    url
}

fn checked_base(key: &str, value: &str) -> Result<Url, String> {
    let url =
        Url::parse(value.trim()).map_err(|e| format!("{key}='{value}' is not a URL ({e})"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{key}='{value}' must not have a query or fragment"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "{key}='{value}': plain http is allowed only for loopback hosts (127.0.0.1, ::1, localhost); use https"
        )),
        other => Err(format!("{key}='{value}': scheme '{other}' is not http(s)")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::collect::test_env as env;

    #[test]
    fn clouds_have_their_own_hosts_and_scopes() {
        let gov = Endpoints::resolve(Cloud::Usgov, env(&[])).unwrap();
        assert_eq!(gov.arm.as_str(), "https://management.usgovcloudapi.net/");
        assert_eq!(
            gov.log_analytics_scope,
            "https://api.loganalytics.us/.default"
        );
        assert_eq!(
            gov.keyvault_scope,
            "https://vault.usgovcloudapi.net/.default"
        );
        let cn = Endpoints::resolve(Cloud::China, env(&[])).unwrap();
        assert_eq!(cn.arm_scope, "https://management.chinacloudapi.cn/.default");
    }

    #[test]
    fn loopback_http_is_accepted_and_anything_else_refused() {
        let ok = Endpoints::resolve(
            Cloud::Public,
            env(&[
                (ARM_ENV, "http://127.0.0.1:8080/arm"),
                (LOG_ANALYTICS_ENV, "http://localhost:9/la/"),
                (KEYVAULT_ENV, "http://[::1]:8080/kv/{vault}"),
            ]),
        )
        .unwrap();
        assert_eq!(
            join(&ok.arm, "/subscriptions/s").as_str(),
            "http://127.0.0.1:8080/arm/subscriptions/s"
        );
        assert_eq!(
            join(&ok.log_analytics, "/v1/workspaces/w/query").as_str(),
            "http://localhost:9/la/v1/workspaces/w/query"
        );
        assert_eq!(
            ok.keyvault_base("kv1").unwrap().as_str(),
            "http://[::1]:8080/kv/kv1"
        );
        // The scope stays the cloud's: overrides move requests, not audiences.
        assert_eq!(ok.arm_scope, "https://management.azure.com/.default");
        for bad in [
            "http://10.0.0.4:8080",
            "http://example.com",
            "ftp://127.0.0.1",
            "https://x?y=1",
        ] {
            let err = Endpoints::resolve(Cloud::Public, env(&[(ARM_ENV, bad)])).unwrap_err();
            assert!(err.contains(ARM_ENV), "{err}");
        }
        let err = Endpoints::resolve(Cloud::Public, env(&[(KEYVAULT_ENV, "http://127.0.0.1/kv")]))
            .unwrap_err();
        assert!(err.contains("{vault}"), "{err}");
    }
}
