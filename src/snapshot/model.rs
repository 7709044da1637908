//! The snapshot as checkers read it: typed evidence, each read an explicit [`Read`], and the
//! queries checkers share (which listings cover a resource, which role changes touched it).
//! Built by [`super::builder`]; nothing here looks at a raw response.

use super::consumer::{Consumer, Fetcher};
use super::{
    ActivityEvent, Certificate, DaprComponent, DenyAssignment, Environment, Gap, Identity,
    JobExecution, Read, Revision, RoleAssignment, SecretVersion, SystemLogEntry, Vault,
    VaultSecret, Workload,
};
use crate::azure::ids;
use crate::azure::keyvault_url::KeyVaultRef;
use crate::azure::roles::{self, RoleDefinition};
use crate::bundle::{Bundle, Target};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// A Key Vault reference of the workload or of a consumer around it (a certificate of its
/// environment, a Dapr component), resolved as far as the evidence allows.
#[derive(Debug, Clone)]
pub struct KvReference {
    /// Who fetches it, and for what.
    pub consumer: Consumer,
    /// The consumer's own name for it: the app secret's name, the certificate's name, the Dapr
    /// component secret's name (the component's name for a secret store).
    pub secret: String,
    pub url: String,
    /// The parsed URL, or why it is malformed.
    pub parsed: Result<KeyVaultRef, String>,
    /// `system` or a user-assigned identity id, as the consumer names it.
    pub identity: Option<String>,
    /// The principal that identity resolves to on the resource that fetches (the workload or
    /// its environment, [`Consumer::fetcher`]), if attached there.
    pub principal: Option<String>,
}

impl KvReference {
    /// Every Key Vault reference of a workload, with the principal its identity resolves to.
    /// Live collection plans its reads from the same list the snapshot judges.
    pub fn all_of(w: &Workload) -> Vec<KvReference> {
        w.secrets
            .iter()
            .filter_map(|secret| {
                let url = secret.key_vault_url.clone()?;
                let principal = w.identity.principal_of(secret.identity.as_deref());
                Some(KvReference {
                    consumer: Consumer::Workload,
                    secret: secret.name.clone(),
                    parsed: KeyVaultRef::parse(&url),
                    url,
                    identity: secret.identity.clone(),
                    principal,
                })
            })
            .collect()
    }

    /// The Key Vault references of the Dapr components an app loads
    /// (docs/azure.md#dapr-components): each component secret with a `keyVaultUrl`
    /// ([`Consumer::DaprSecret`], assumed fetched with the app's identity it names: which
    /// identity really does is not documented), and each `secretstores.azure.keyvault` store
    /// ([`Consumer::DaprSecretStore`]): a vault-wide read (`secret` is [`VAULT_WIDE`]) with the
    /// app identity `azureClientId` chooses — a matching user-assigned identity's id, `system`
    /// without one, or the client id itself when it matches none (then no principal).
    pub fn dapr_of(w: &Workload, components: &[&DaprComponent]) -> Vec<KvReference> {
        let mut out = Vec::new();
        for c in components {
            for secret in &c.secrets {
                let Some(url) = secret.key_vault_url.clone() else {
                    continue;
                };
                out.push(KvReference {
                    consumer: Consumer::DaprSecret {
                        component: c.name.clone(),
                    },
                    secret: secret.name.clone(),
                    parsed: KeyVaultRef::parse(&url),
                    url,
                    identity: secret.identity.clone(),
                    principal: w.identity.principal_of(secret.identity.as_deref()),
                });
            }
            if !c.is_keyvault_store() {
                continue;
            }
            let identity = match c.setting("azureClientId").map(str::trim) {
                None | Some("") => "system".to_string(),
                Some(client) => w
                    .identity
                    .user_assigned
                    .iter()
                    .find(|u| {
                        u.client_id
                            .as_deref()
                            .is_some_and(|id| id.eq_ignore_ascii_case(client))
                    })
                    .map_or_else(|| client.to_string(), |u| u.id.clone()),
            };
            let suffix = vault_suffix(c.setting("azureEnvironment"));
            let (url, parsed) = match c.setting("vaultName").map(str::trim) {
                Some(vault) if !vault.is_empty() => {
                    let url = format!("https://{vault}.{suffix}/");
                    let parsed = KeyVaultRef::parse(&format!("{url}secrets/{VAULT_WIDE_PROBE}"))
                        .map(|mut p| {
                            p.secret = VAULT_WIDE.to_string();
                            p
                        })
                        .map_err(|e| format!("metadata vaultName '{vault}': {e}"));
                    (url, parsed)
                }
                _ => (
                    String::new(),
                    Err("the Key Vault secret store has no vaultName metadata".to_string()),
                ),
            };
            out.push(KvReference {
                consumer: Consumer::DaprSecretStore {
                    component: c.name.clone(),
                },
                secret: c.name.clone(),
                principal: w.identity.principal_of(Some(&identity)),
                identity: Some(identity),
                parsed,
                url,
            });
        }
        out
    }

    /// True for a Key Vault secret store: it reads any secret of the vault, so it is judged at
    /// the vault's scope and has no secret of its own to read.
    pub fn is_vault_wide(&self) -> bool {
        matches!(self.consumer, Consumer::DaprSecretStore { .. })
    }

    /// The Key Vault reference of an environment certificate, fetched with the environment's
    /// identity; `hosts` are the custom domains bound to it. `None` for certificates that do
    /// not come from Key Vault.
    pub fn of_certificate(
        certificate: &Certificate,
        environment_id: &str,
        environment: Option<&Environment>,
        hosts: Vec<String>,
    ) -> Option<KvReference> {
        let source = certificate.key_vault.as_ref()?;
        Some(KvReference {
            consumer: Consumer::Certificate {
                environment: environment_id.to_string(),
                certificate: certificate.name.clone(),
                hosts,
            },
            secret: certificate.name.clone(),
            parsed: KeyVaultRef::parse_certificate(&source.url),
            url: source.url.clone(),
            identity: source.identity.clone(),
            principal: environment
                .and_then(|e| e.identity.principal_of(source.identity.as_deref())),
        })
    }

    /// The environment's DNS-suffix certificate from Key Vault, when it has one.
    pub fn of_dns_suffix(environment: &Environment) -> Option<KvReference> {
        let source = environment.dns_suffix_certificate.as_ref()?;
        Some(KvReference {
            consumer: Consumer::DnsSuffixCertificate {
                environment: environment.id.clone(),
                dns_suffix: environment.dns_suffix.clone(),
            },
            secret: "dns-suffix".into(),
            parsed: KeyVaultRef::parse_certificate(&source.url),
            url: source.url.clone(),
            identity: source.identity.clone(),
            principal: environment
                .identity
                .principal_of(source.identity.as_deref()),
        })
    }

    /// Every Key Vault reference that can break the workload: its own secrets, the
    /// certificates its custom domains bind (of those read) and its environment's DNS-suffix
    /// certificate. Live collection plans its reads from the same list the snapshot judges.
    pub fn around(
        w: &Workload,
        environment: Option<&Environment>,
        certificates: &[Certificate],
    ) -> Vec<KvReference> {
        let mut refs = KvReference::all_of(w);
        for certificate in certificates {
            let hosts: Vec<String> = w
                .custom_domains
                .iter()
                .filter(|d| {
                    d.certificate_id
                        .as_deref()
                        .is_some_and(|c| ids::same(c, &certificate.id))
                })
                .map(|d| d.name.clone())
                .collect();
            let Some(environment_id) = ids::certificate_environment(&certificate.id) else {
                continue;
            };
            refs.extend(KvReference::of_certificate(
                certificate,
                &environment_id,
                environment,
                hosts,
            ));
        }
        refs.extend(environment.and_then(KvReference::of_dns_suffix));
        refs
    }

    /// The reference named for people (`secret 'db'`, `certificate 'api-cert' of environment
    /// 'cae-prod' bound to api.contoso.com`).
    pub fn subject(&self) -> String {
        self.consumer.subject(&self.secret)
    }

    /// Its entry in a hypothesis's `concerns`.
    pub fn concern(&self) -> String {
        self.consumer.concern(&self.secret)
    }

    /// `identity 'system'`, or `environment identity 'system'` for a reference the
    /// environment fetches.
    pub fn identity_noun(&self) -> String {
        let owner = match self.consumer.fetcher() {
            Fetcher::Workload => "",
            Fetcher::Environment => "environment ",
        };
        format!("{owner}identity '{}'", self.identity_label())
    }

    /// `identity 'system' (principal)`, or `environment identity 'system' (principal)` for a
    /// reference the environment fetches.
    pub fn who(&self, principal: &str) -> String {
        format!("{} ({principal})", self.identity_noun())
    }

    /// The vault names of the references whose URL parses, once each.
    pub fn vault_names(refs: &[KvReference]) -> BTreeSet<String> {
        refs.iter()
            .filter_map(|r| r.parsed.as_ref().ok())
            .map(|p| p.vault.clone())
            .collect()
    }

    pub fn is_system(&self) -> bool {
        self.identity.as_deref().is_some_and(Identity::names_system)
    }

    /// `system` or the identity's resource name, for people.
    pub fn identity_label(&self) -> String {
        match &self.identity {
            None => "(none)".into(),
            Some(_) if self.is_system() => "system".into(),
            Some(id) => ids::last_segment(id),
        }
    }
}

/// The `secret` of a vault-wide reference: no Key Vault secret has this name (names are
/// letters, digits and `-`), so a grant on one secret never covers it and only grants at the
/// vault or above do.
pub const VAULT_WIDE: &str = "*";

/// A valid secret name to let the URL parser check a store's vault host.
const VAULT_WIDE_PROBE: &str = "probe";

/// The vault DNS suffix of a Dapr `azureEnvironment` (dapr/components-contrib names; the
/// public cloud when absent or unknown).
fn vault_suffix(environment: Option<&str>) -> &'static str {
    match environment.map(str::to_ascii_uppercase).as_deref() {
        Some("AZURECHINACLOUD") => "vault.azure.cn",
        Some("AZUREUSGOVERNMENTCLOUD") => "vault.usgovcloudapi.net",
        _ => "vault.azure.net",
    }
}

/// One role-assignment listing (`atScope() and assignedTo(principal)` at `scope`).
#[derive(Debug, Clone)]
pub struct RoleListing {
    pub scope: String,
    pub principal: String,
    pub assignments: Read<Vec<RoleAssignment>>,
}

/// One deny-assignment listing (`atScope()` at `scope`).
#[derive(Debug, Clone)]
pub struct DenyListing {
    pub scope: String,
    pub assignments: Read<Vec<DenyAssignment>>,
}

/// Everything the checkers may look at.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub target: Target,
    /// "Now" for every time-based rule: `collected_at`, or `--as-of`.
    pub now: OffsetDateTime,
    pub workload: Read<Workload>,
    /// Revisions (apps only; jobs have none).
    pub revisions: Read<Vec<Revision>>,
    /// Job executions, newest first (jobs only; empty for apps and environments).
    pub executions: Read<Vec<JobExecution>>,
    pub environment: Read<Environment>,
    /// The environment's Dapr components, read only for an app with Dapr enabled (`None`
    /// otherwise: nothing to read, nothing missing).
    pub dapr_components: Option<Read<Vec<DaprComponent>>>,
    /// User-assigned identities by normalized id: does each still exist.
    pub identities: BTreeMap<String, Read<Value>>,
    /// Certificates the custom domains bind, by normalized id.
    pub certificates: BTreeMap<String, Read<Certificate>>,
    pub kv_refs: Vec<KvReference>,
    /// Vaults by lower-cased name.
    pub vaults: BTreeMap<String, Read<Vault>>,
    /// ARM secret metadata by (vault, secret), both lower-cased.
    pub vault_secrets: BTreeMap<(String, String), Read<VaultSecret>>,
    /// Data-plane version lists by (vault, secret), both lower-cased.
    pub secret_versions: BTreeMap<(String, String), Read<Vec<SecretVersion>>>,
    pub role_listings: Vec<RoleListing>,
    /// Role definitions by GUID: built-ins, or read from the bundle.
    pub role_definitions: BTreeMap<String, Read<RoleDefinition>>,
    pub deny_listings: Vec<DenyListing>,
    pub system_logs: Read<Vec<SystemLogEntry>>,
    /// Activity-log events on the app (`resourceUri eq` the app), newest first.
    pub activity: Read<Vec<ActivityEvent>>,
    /// Activity-log events in each referenced vault's resource group (role assignments and Key
    /// Vault writes), by normalized `/subscriptions/s/resourcegroups/rg`.
    pub vault_activity: BTreeMap<String, Read<Vec<ActivityEvent>>>,
    /// Every read that failed or is missing, once each, in plan order.
    pub gaps: Vec<Gap>,
}

impl Snapshot {
    /// Builds the snapshot of a bundle; `as_of` replaces `collected_at` as "now".
    pub fn build(bundle: &Bundle, as_of: Option<OffsetDateTime>) -> Snapshot {
        super::builder::build(bundle, as_of)
    }

    /// The vault read for a vault name (absent when no reference names it).
    pub fn vault(&self, name: &str) -> Option<&Read<Vault>> {
        self.vaults.get(&name.to_ascii_lowercase())
    }

    /// Role listings for a principal whose scope covers `resource`.
    pub fn listings_for<'a>(
        &'a self,
        principal: &'a str,
        resource: &'a str,
    ) -> impl Iterator<Item = &'a RoleListing> + 'a {
        self.role_listings.iter().filter(move |l| {
            l.principal.eq_ignore_ascii_case(principal) && ids::covers(&l.scope, resource)
        })
    }

    /// The role definition for a GUID (built-in or read), if known.
    pub fn role(&self, guid: &str) -> Option<&RoleDefinition> {
        self.role_definitions
            .get(&guid.to_ascii_lowercase())
            .and_then(Read::ok)
    }

    /// `'Key Vault Secrets User'`, or `role <guid>` when the definition is neither read nor
    /// built in (a deleted assignment's role need not be in any listing).
    pub fn role_name(&self, guid: &str) -> String {
        self.role(guid)
            .map(|d| format!("'{}'", d.name))
            .or_else(|| roles::builtin(guid).map(|d| format!("'{}'", d.name)))
            .unwrap_or_else(|| format!("role {guid}"))
    }

    /// Role assignments of `principal` created or deleted (activity log, succeeded) at a scope
    /// covering `resource`, newest first.
    pub fn role_changes<'a>(
        &'a self,
        principal: &'a str,
        resource: &'a str,
    ) -> Vec<&'a ActivityEvent> {
        self.activity_events()
            .into_iter()
            .filter(|e| e.succeeded())
            .filter(|e| {
                e.role_change.as_ref().is_some_and(|c| {
                    c.principal
                        .as_deref()
                        .is_some_and(|p| p.eq_ignore_ascii_case(principal))
                        && ids::covers(&c.scope, resource)
                })
            })
            .collect()
    }

    /// The Dapr components the app loads: those scoped to its Dapr app id, and the unscoped
    /// ones (empty when Dapr is off or the list could not be read).
    pub fn dapr_components_of(&self, w: &Workload) -> Vec<&DaprComponent> {
        if w.kind == super::WorkloadKind::Environment {
            // `check --environment`: every component of the environment.
            return self
                .dapr_components
                .as_ref()
                .and_then(Read::ok)
                .map(|all| all.iter().collect())
                .unwrap_or_default();
        }
        let Some(app_id) = w.dapr.active_app_id() else {
            return Vec::new();
        };
        self.dapr_components
            .as_ref()
            .and_then(Read::ok)
            .map(|all| all.iter().filter(|c| c.serves(app_id)).collect())
            .unwrap_or_default()
    }

    /// The revisions read (empty when they could not be read, and for jobs).
    pub fn revision_list(&self) -> &[Revision] {
        self.revisions.ok().map(Vec::as_slice).unwrap_or_default()
    }

    /// System-log entries, newest first (empty when logs could not be read).
    pub fn logs(&self) -> &[SystemLogEntry] {
        self.system_logs.ok().map(Vec::as_slice).unwrap_or_default()
    }

    /// Every activity-log event read (the app's and the vaults' resource groups), each once,
    /// newest first, none after "now" (`--as-of` replays see the past only).
    pub fn activity_events(&self) -> Vec<&ActivityEvent> {
        let mut seen = BTreeSet::new();
        let mut events: Vec<&ActivityEvent> = self
            .activity
            .ok()
            .into_iter()
            .chain(self.vault_activity.values().filter_map(Read::ok))
            .flatten()
            .filter(|e| e.time <= self.now)
            .filter(|e| {
                e.event_data_id
                    .as_ref()
                    .is_none_or(|id| seen.insert(id.to_ascii_lowercase()))
            })
            .collect();
        events.sort_by_key(|e| std::cmp::Reverse(e.time));
        events
    }

    /// Writes to the app itself (its resource id, any case), newest first.
    pub fn app_writes(&self) -> Vec<&ActivityEvent> {
        let app = self.target.resource_id();
        self.activity_events()
            .into_iter()
            .filter(|e| e.is_app_write())
            .filter(|e| {
                e.resource_id
                    .as_deref()
                    .is_none_or(|id| ids::same(id, &app))
            })
            .collect()
    }
}

/// The resource groups of the vaults read, normalized (`/subscriptions/s/resourcegroups/rg`):
/// their activity log holds the role assignments and Key Vault writes that touch the vaults.
pub fn vault_groups(s: &Snapshot) -> BTreeSet<String> {
    s.vaults
        .values()
        .filter_map(Read::ok)
        .filter_map(|v| resource_group_of(&v.id))
        .collect()
}

/// `/subscriptions/s/resourcegroups/rg` of a resource id, normalized.
pub fn resource_group_of(id: &str) -> Option<String> {
    let subscription = ids::segment_after(id, "subscriptions")?;
    let group = ids::segment_after(id, "resourceGroups")?;
    Some(ids::normalize(&format!(
        "/subscriptions/{subscription}/resourceGroups/{group}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app() -> Workload {
        Workload::parse(super::super::WorkloadKind::App, &json!({
            "name": "ca-orders-web",
            "identity": {"type": "SystemAssigned,UserAssigned", "principalId": "p-sys",
                "userAssignedIdentities": {"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web":
                    {"principalId": "p-web", "clientId": "C-WEB"}}},
            "properties": {"configuration": {"dapr": {"enabled": true, "appId": "ca-orders-web"}}}
        })).unwrap()
    }

    fn store(metadata: serde_json::Value) -> DaprComponent {
        DaprComponent::parse(&json!({"name": "secretstore", "properties": {
            "componentType": "secretstores.azure.keyvault", "metadata": metadata}}))
        .unwrap()
    }

    #[test]
    fn a_store_reads_with_the_identity_azure_client_id_picks() {
        let w = app();
        let by_client = store(
            json!([{"name": "vaultName", "value": "kv-orders"}, {"name": "azureClientId", "value": "c-web"}]),
        );
        let r = &KvReference::dapr_of(&w, &[&by_client])[0];
        assert!(r.is_vault_wide());
        assert_eq!(r.principal.as_deref(), Some("p-web"));
        assert_eq!(r.parsed.as_ref().unwrap().secret, VAULT_WIDE);
        assert_eq!(r.url, "https://kv-orders.vault.azure.net/");
        let system = store(
            json!([{"name": "vaultName", "value": "kv-orders"}, {"name": "azureEnvironment", "value": "AzureChinaCloud"}]),
        );
        let r = &KvReference::dapr_of(&w, &[&system])[0];
        assert_eq!(
            (r.identity.as_deref(), r.principal.as_deref()),
            (Some("system"), Some("p-sys"))
        );
        assert_eq!(r.parsed.as_ref().unwrap().host, "kv-orders.vault.azure.cn");
        let unmatched = store(
            json!([{"name": "vaultName", "value": "kv-orders"}, {"name": "azureClientId", "value": "c-other"}]),
        );
        let r = &KvReference::dapr_of(&w, &[&unmatched])[0];
        assert_eq!(
            (r.identity.as_deref(), r.principal.as_deref()),
            (Some("c-other"), None)
        );
        let no_vault = store(json!([]));
        assert!(KvReference::dapr_of(&w, &[&no_vault])[0].parsed.is_err());
    }

    #[test]
    fn component_secrets_are_dapr_references_with_the_identity_they_name() {
        let c = DaprComponent::parse(&json!({"name": "statestore", "properties": {
            "componentType": "state.azure.cosmosdb",
            "secrets": [{"name": "masterkey", "keyVaultUrl": "https://kv-orders.vault.azure.net/secrets/cosmos", "identity": "system"},
                        {"name": "plain"}]}})).unwrap();
        let refs = KvReference::dapr_of(&app(), &[&c]);
        assert_eq!(refs.len(), 1);
        assert_eq!(
            refs[0].subject(),
            "secret 'masterkey' of Dapr component 'statestore'"
        );
        assert_eq!(refs[0].principal.as_deref(), Some("p-sys"));
        assert!(!refs[0].is_vault_wide());
    }
}
