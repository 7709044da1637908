//! Who fetches a Key Vault reference, and for what.
//!
//! A workload's Key Vault references are not only its own `configuration.secrets[]`: the
//! environment fetches certificates (bound to the app's custom domains, and its own DNS-suffix
//! certificate) with **its** identity, and Dapr components read Key Vault from each scoped app's
//! sidecar with **the app's** identity (docs/azure.md#other-key-vault-consumers). Every consumer
//! is judged by the same checkers; this type only says which one a reference belongs to, whose
//! identity fetches it, and how to name it to people.

use crate::azure::ids;

/// The consumer of one Key Vault reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumer {
    /// An entry of the app's or job's own `configuration.secrets[]`.
    Workload,
    /// An environment certificate (`managedEnvironments/{env}/certificates/{name}`) with
    /// `certificateKeyVaultProperties`; `hosts` are the custom domains of the app bound to it.
    Certificate {
        /// The environment's resource id.
        environment: String,
        certificate: String,
        hosts: Vec<String>,
    },
    /// The environment's DNS-suffix certificate (`customDomainConfiguration`).
    DnsSuffixCertificate {
        /// The environment's resource id.
        environment: String,
        dns_suffix: Option<String>,
    },
    /// An entry of a Dapr component's `secrets[]` with a `keyVaultUrl`.
    DaprSecret { component: String },
    /// A `secretstores.azure.keyvault` Dapr component: the sidecar reads the vault with the
    /// app's identity that `azureClientId` chooses.
    DaprSecretStore { component: String },
}

/// Whose identity fetches a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetcher {
    /// The app or job (its own secrets, its Dapr sidecar).
    Workload,
    /// The managed environment (certificates).
    Environment,
}

impl Consumer {
    pub fn fetcher(&self) -> Fetcher {
        match self {
            Consumer::Certificate { .. } | Consumer::DnsSuffixCertificate { .. } => {
                Fetcher::Environment
            }
            Consumer::Workload | Consumer::DaprSecret { .. } | Consumer::DaprSecretStore { .. } => {
                Fetcher::Workload
            }
        }
    }

    /// True for the workload's own `configuration.secrets[]`: the only references the
    /// platform's secret sync (and its system-log lines) and revisions are about.
    pub fn is_workload_secret(&self) -> bool {
        *self == Consumer::Workload
    }

    /// True for environment certificates (bound or DNS suffix).
    pub fn is_certificate(&self) -> bool {
        self.fetcher() == Fetcher::Environment
    }

    /// The environment's resource id, for a reference the environment fetches.
    pub fn environment_id(&self) -> Option<&str> {
        match self {
            Consumer::Certificate { environment, .. }
            | Consumer::DnsSuffixCertificate { environment, .. } => Some(environment),
            _ => None,
        }
    }

    /// The reference named for people: `secret 'db'`, `certificate 'api-cert' of environment
    /// 'cae-prod' bound to api.contoso.com`, `secret 'db' of Dapr component 'statestore'`.
    pub fn subject(&self, name: &str) -> String {
        match self {
            Consumer::Workload => format!("secret '{name}'"),
            Consumer::Certificate {
                environment, hosts, ..
            } => {
                let bound = if hosts.is_empty() {
                    String::new()
                } else {
                    format!(" bound to {}", hosts.join(", "))
                };
                format!(
                    "certificate '{name}' of {}{bound}",
                    environment_label(environment)
                )
            }
            Consumer::DnsSuffixCertificate {
                environment,
                dns_suffix,
            } => match dns_suffix {
                Some(suffix) => format!(
                    "the DNS-suffix certificate of {} ({suffix})",
                    environment_label(environment)
                ),
                None => format!(
                    "the DNS-suffix certificate of {}",
                    environment_label(environment)
                ),
            },
            Consumer::DaprSecret { component } => {
                format!("secret '{name}' of Dapr component '{component}'")
            }
            Consumer::DaprSecretStore { component } => {
                format!("Dapr component '{component}' (Key Vault secret store)")
            }
        }
    }

    /// The entry in a hypothesis's `concerns`: the app secret's bare name (as in wave 1), or a
    /// prefixed name for the other consumers (`certificate:api-cert`,
    /// `dns-suffix-certificate:cae-prod`, `dapr:statestore/db`, `dapr:statestore`).
    pub fn concern(&self, name: &str) -> String {
        match self {
            Consumer::Workload => name.to_string(),
            Consumer::Certificate { certificate, .. } => format!("certificate:{certificate}"),
            Consumer::DnsSuffixCertificate { environment, .. } => {
                format!("dns-suffix-certificate:{}", ids::last_segment(environment))
            }
            Consumer::DaprSecret { component } => format!("dapr:{component}/{name}"),
            Consumer::DaprSecretStore { component } => format!("dapr:{component}"),
        }
    }
}

/// `environment 'cae-prod'` from an environment id, for people.
pub fn environment_label(id: &str) -> String {
    format!("environment '{}'", ids::last_segment(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_consumer_as_design_says() {
        let cert = Consumer::Certificate {
            environment: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/cae-prod".into(),
            certificate: "api-cert".into(),
            hosts: vec!["api.contoso.com".into()],
        };
        assert_eq!(
            cert.subject("api-cert"),
            "certificate 'api-cert' of environment 'cae-prod' bound to api.contoso.com"
        );
        assert_eq!(cert.concern("api-cert"), "certificate:api-cert");
        assert_eq!(cert.fetcher(), Fetcher::Environment);
        assert_eq!(Consumer::Workload.subject("db"), "secret 'db'");
        assert_eq!(Consumer::Workload.concern("db"), "db");
        let store = Consumer::DaprSecretStore {
            component: "statestore".into(),
        };
        assert_eq!(store.fetcher(), Fetcher::Workload);
        assert!(store.subject("x").contains("Dapr component 'statestore'"));
    }
}
