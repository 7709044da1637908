//! The Container App or job: its secrets, identities and every place a secret is referenced.
//!
//! Secret *values* are never read into this model: `configuration.secrets[]` keeps `name`,
//! `keyVaultUrl` and `identity` only, and an env var's plain `value` is reduced to the one fact
//! kvdiag needs (does it look like a `secretref:` the CLI did not turn into a reference).

use super::json::{self, Stamp};
use crate::azure::ids;
use serde::Serialize;
use serde_json::Value;

const LAST_MODIFIED_AT: &str = "/systemData/lastModifiedAt";

/// App or job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkloadKind {
    App,
    Job,
    /// `check --environment`: the managed environment stands in for the workload. It has no
    /// secrets, templates or revisions of its own; its Key Vault consumers are its
    /// certificates (fetched with its identity).
    Environment,
}

/// A Container App (`Microsoft.App/containerApps`) or job (`Microsoft.App/jobs`).
#[derive(Debug, Clone)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub id: String,
    pub name: String,
    pub provisioning_state: Option<String>,
    pub environment_id: Option<String>,
    pub latest_revision: Option<String>,
    pub latest_ready_revision: Option<String>,
    /// `systemData.lastModifiedAt`: moves on *any* app-level write.
    pub last_modified_at: Stamp,
    pub outbound_ips: Vec<String>,
    /// `Single` (the default) or `Multiple`.
    pub active_revisions_mode: String,
    pub secrets: Vec<AppSecret>,
    pub identity: Identity,
    pub registries: Vec<Registry>,
    pub template: Template,
    /// Jobs: `configuration.eventTriggerConfig.scale.rules[]`.
    pub event_scale_rules: Vec<ScaleRule>,
    /// Apps: `configuration.dapr` (jobs have no Dapr sidecar).
    pub dapr: Dapr,
    /// Apps: `configuration.ingress.customDomains[]`.
    pub custom_domains: Vec<CustomDomain>,
}

/// One `configuration.ingress.customDomains[]` entry: a host name bound to a certificate of the
/// app's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomDomain {
    pub name: String,
    /// `Disabled`, `SniEnabled` or `Auto`.
    pub binding_type: Option<String>,
    /// `…/managedEnvironments/{env}/certificates/{c}` or `…/managedCertificates/{c}`.
    pub certificate_id: Option<String>,
}

/// `configuration.dapr`: whether the app runs a Dapr sidecar, and under which Dapr app id
/// (which components' `scopes` name it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dapr {
    pub enabled: bool,
    pub app_id: Option<String>,
}

impl Dapr {
    /// The app id when Dapr is enabled (an enabled app without one loads only unscoped
    /// components: the empty id matches no scope).
    pub fn active_app_id(&self) -> Option<&str> {
        self.enabled.then(|| self.app_id.as_deref().unwrap_or(""))
    }
}

/// One entry of `configuration.secrets[]`, without its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSecret {
    pub name: String,
    pub key_vault_url: Option<String>,
    /// `system` or a user-assigned identity resource id.
    pub identity: Option<String>,
}

impl AppSecret {
    /// The `Secret` list at `pointer` (an app's, a job's or a Dapr component's), without values;
    /// entries without a name are skipped.
    pub fn parse_list(value: &Value, pointer: &str) -> Vec<AppSecret> {
        json::array(value, pointer)
            .iter()
            .filter_map(|s| {
                Some(AppSecret {
                    name: json::string(s, "/name")?,
                    key_vault_url: json::string(s, "/keyVaultUrl"),
                    identity: json::string(s, "/identity"),
                })
            })
            .collect()
    }
}

/// The managed identities attached to the workload.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// `identity.type`, e.g. `SystemAssigned,UserAssigned`.
    pub kind: String,
    pub system_principal: Option<String>,
    pub tenant: Option<String>,
    pub user_assigned: Vec<UserAssigned>,
}

/// One entry of `identity.userAssignedIdentities`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAssigned {
    /// The resource id as the map key spells it.
    pub id: String,
    pub principal_id: Option<String>,
    pub client_id: Option<String>,
}

/// True when an `identity.type` value (`SystemAssigned`, `SystemAssigned,UserAssigned`, any
/// case) includes the system-assigned identity.
fn type_has_system(kind: &str) -> bool {
    kind.split(',')
        .any(|t| t.trim().eq_ignore_ascii_case("SystemAssigned"))
}

impl Identity {
    /// The `identity` block of a resource body (an app, a job or an environment); `None` as
    /// the type when there is none.
    pub fn parse(body: &Value) -> Identity {
        Identity {
            kind: json::string(body, "/identity/type").unwrap_or_else(|| "None".into()),
            system_principal: json::string(body, "/identity/principalId"),
            tenant: json::string(body, "/identity/tenantId"),
            user_assigned: body
                .pointer("/identity/userAssignedIdentities")
                .and_then(Value::as_object)
                .map(|map| {
                    map.iter()
                        .map(|(id, v)| UserAssigned {
                            id: id.clone(),
                            principal_id: json::string(v, "/principalId"),
                            client_id: json::string(v, "/clientId"),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// True when the identity type includes the system-assigned identity (whether or not its
    /// principal is known yet).
    pub fn system_enabled(&self) -> bool {
        type_has_system(&self.kind)
    }

    /// [`Identity::system_enabled`] on a raw resource body (`identity.type`), for code that
    /// works on the JSON before (or instead of) parsing it: lint rules, collection.
    pub fn system_enabled_in(resource: &Value) -> bool {
        resource
            .pointer("/identity/type")
            .and_then(Value::as_str)
            .is_some_and(type_has_system)
    }

    /// True when a secret's `identity` names the system-assigned identity (`system`, any case)
    /// rather than a user-assigned identity's resource id.
    pub fn names_system(identity: &str) -> bool {
        identity.eq_ignore_ascii_case("system")
    }

    /// The system-assigned principal, when the identity type includes it.
    pub fn system(&self) -> Option<&str> {
        if self.system_enabled() {
            self.system_principal.as_deref()
        } else {
            None
        }
    }

    /// The lower-cased principal id of the identity a secret names: `system` (any case) is the
    /// system-assigned identity when enabled, anything else an attached user-assigned identity's
    /// resource id. `None` when the secret names none, or the app has no such principal.
    pub fn principal_of(&self, identity: Option<&str>) -> Option<String> {
        match identity {
            Some(i) if Identity::names_system(i) => self.system().map(str::to_ascii_lowercase),
            Some(i) => self
                .user(i)
                .and_then(|u| u.principal_id.clone())
                .map(|p| p.to_ascii_lowercase()),
            None => None,
        }
    }

    /// The attached user-assigned identity with this resource id (ids compare without case:
    /// `az identity show` and Bicep disagree on `resourceGroups`).
    pub fn user(&self, id: &str) -> Option<&UserAssigned> {
        self.user_assigned.iter().find(|u| ids::same(&u.id, id))
    }

    /// Every principal id attached, with a label for people.
    pub fn principals(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(p) = self.system() {
            out.push((p.to_ascii_lowercase(), "system".to_string()));
        }
        for u in &self.user_assigned {
            if let Some(p) = &u.principal_id {
                out.push((p.to_ascii_lowercase(), ids::last_segment(&u.id)));
            }
        }
        out
    }
}

/// `configuration.registries[]`.
#[derive(Debug, Clone)]
pub struct Registry {
    pub server: String,
    pub password_secret_ref: Option<String>,
}

/// A template: the app's current one, a revision's snapshot, or a job's.
#[derive(Debug, Clone, Default)]
pub struct Template {
    pub containers: Vec<Container>,
    pub init_containers: Vec<Container>,
    pub volumes: Vec<Volume>,
    pub scale_rules: Vec<ScaleRule>,
}

#[derive(Debug, Clone)]
pub struct Container {
    pub name: String,
    pub env: Vec<EnvVar>,
}

#[derive(Debug, Clone)]
pub struct EnvVar {
    pub name: String,
    pub secret_ref: Option<String>,
    /// When the plain value starts with `secretref:` in any case, the name after it: the CLI
    /// only turns lower-case `secretref:` into a reference (Azure/azure-cli#23365), so this
    /// container got the literal text instead of the secret. The value itself is not kept.
    pub literal_secretref: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Volume {
    pub name: String,
    pub storage_type: Option<String>,
    /// `secrets[]` of a `Secret` volume; `None` (or empty) mounts every app secret.
    pub items: Vec<VolumeItem>,
}

#[derive(Debug, Clone)]
pub struct VolumeItem {
    pub secret_ref: String,
    pub path: Option<String>,
}

impl Volume {
    pub fn is_secret_volume(&self) -> bool {
        self.storage_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("Secret"))
    }
}

#[derive(Debug, Clone)]
pub struct ScaleRule {
    pub name: String,
    /// The app rule's variant key (`custom`, `azureQueue`, `http`, `tcp`) holding `auth[]`;
    /// `None` for job rules, whose `auth[]` sits on the rule itself.
    pub variant: Option<String>,
    pub auth: Vec<ScaleAuth>,
}

#[derive(Debug, Clone)]
pub struct ScaleAuth {
    pub secret_ref: String,
    pub trigger_parameter: Option<String>,
}

/// Where a secret is consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    Env,
    InitEnv,
    Volume,
    ScaleRule,
    Registry,
}

/// One `secretRef` (or `passwordSecretRef`) and where it sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRefSite {
    pub secret: String,
    pub kind: SiteKind,
    /// For people: `container 'web' env 'DB_PASSWORD'`.
    pub site: String,
    /// The JSON path in the resource (`properties.template.containers[0].env[1].secretRef`).
    pub json_path: String,
}

impl Workload {
    /// Every user-assigned identity the workload has attached or a secret names, once each
    /// (ids compare without case), in the spelling first seen: what live collection reads and
    /// the snapshot expects.
    pub fn user_identity_ids(&self) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        let mut all: Vec<String> = self
            .identity
            .user_assigned
            .iter()
            .map(|u| u.id.clone())
            .chain(
                self.secrets
                    .iter()
                    .filter_map(|x| x.identity.clone())
                    .filter(|i| !Identity::names_system(i)),
            )
            .collect();
        all.sort();
        all.retain(|id| seen.insert(ids::normalize(id)));
        all
    }

    /// The certificates the custom domains bind, by valid id, once each (ids compare without
    /// case): what live collection reads and the snapshot expects.
    pub fn certificate_ids(&self) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        self.custom_domains
            .iter()
            .filter_map(|d| d.certificate_id.as_deref())
            .filter_map(ids::environment_certificate)
            .filter(|id| seen.insert(ids::normalize(id)))
            .collect()
    }

    /// The managed environment as the subject of a verdict (`check --environment`).
    pub fn of_environment(environment: &super::Environment) -> Workload {
        Workload {
            kind: WorkloadKind::Environment,
            id: environment.id.clone(),
            name: environment.name.clone(),
            provisioning_state: None,
            environment_id: Some(environment.id.clone()),
            latest_revision: None,
            latest_ready_revision: None,
            last_modified_at: Stamp::Absent,
            outbound_ips: Vec::new(),
            active_revisions_mode: "Single".into(),
            secrets: Vec::new(),
            identity: environment.identity.clone(),
            registries: Vec::new(),
            template: Template::default(),
            event_scale_rules: Vec::new(),
            custom_domains: Vec::new(),
            dapr: Dapr::default(),
        }
    }

    /// Parses a GET body of `Microsoft.App/containerApps` or `Microsoft.App/jobs`.
    pub fn parse(kind: WorkloadKind, body: &Value) -> Option<Workload> {
        let name = json::string(body, "/name")?;
        let config = body
            .pointer("/properties/configuration")
            .cloned()
            .unwrap_or(Value::Null);
        let secrets = AppSecret::parse_list(&config, "/secrets");
        let identity = Identity::parse(body);
        let registries = json::array(&config, "/registries")
            .iter()
            .map(|r| Registry {
                server: json::string(r, "/server").unwrap_or_default(),
                password_secret_ref: json::string(r, "/passwordSecretRef"),
            })
            .collect();
        let template = body
            .pointer("/properties/template")
            .map(Template::parse)
            .unwrap_or_default();
        let custom_domains = json::array(&config, "/ingress/customDomains")
            .iter()
            .filter_map(|d| {
                Some(CustomDomain {
                    name: json::string(d, "/name")?,
                    binding_type: json::string(d, "/bindingType"),
                    certificate_id: json::string(d, "/certificateId"),
                })
            })
            .collect();
        let event_scale_rules = json::array(&config, "/eventTriggerConfig/scale/rules")
            .iter()
            .map(ScaleRule::parse_job)
            .collect();
        Some(Workload {
            kind,
            id: json::string(body, "/id").unwrap_or_default(),
            name,
            provisioning_state: json::string(body, "/properties/provisioningState"),
            environment_id: json::string(body, "/properties/environmentId")
                .or_else(|| json::string(body, "/properties/managedEnvironmentId")),
            latest_revision: json::string(body, "/properties/latestRevisionName"),
            latest_ready_revision: json::string(body, "/properties/latestReadyRevisionName"),
            last_modified_at: json::stamp(body, LAST_MODIFIED_AT),
            outbound_ips: json::strings(body, "/properties/outboundIpAddresses"),
            active_revisions_mode: json::string(&config, "/activeRevisionsMode")
                .unwrap_or_else(|| "Single".into()),
            secrets,
            identity,
            registries,
            template,
            event_scale_rules,
            dapr: Dapr {
                enabled: kind == WorkloadKind::App
                    && config.pointer("/dapr/enabled").and_then(Value::as_bool) == Some(true),
                app_id: json::string(&config, "/dapr/appId").filter(|a| !a.is_empty()),
            },
            custom_domains,
        })
    }

    /// `systemData.lastModifiedAt` when it is present but unusable, for a gap.
    pub fn unusable_time(body: &Value) -> Option<String> {
        json::unusable(body, LAST_MODIFIED_AT, false)
    }

    /// The secret with exactly this name.
    pub fn secret(&self, name: &str) -> Option<&AppSecret> {
        self.secrets.iter().find(|s| s.name == name)
    }

    /// True when only one revision can be active (`activeRevisionsMode: Single`).
    pub fn single_revision_mode(&self) -> bool {
        !self.active_revisions_mode.eq_ignore_ascii_case("Multiple")
    }

    /// Every secretRef in the workload's current configuration and template.
    pub fn secret_refs(&self) -> Vec<SecretRefSite> {
        let mut sites = self.template.secret_refs("properties.template");
        for (i, r) in self.registries.iter().enumerate() {
            if let Some(secret) = &r.password_secret_ref {
                sites.push(SecretRefSite {
                    secret: secret.clone(),
                    kind: SiteKind::Registry,
                    site: format!("registry '{}' passwordSecretRef", r.server),
                    json_path: format!(
                        "properties.configuration.registries[{i}].passwordSecretRef"
                    ),
                });
            }
        }
        for (i, rule) in self.event_scale_rules.iter().enumerate() {
            sites.extend(rule.sites(&format!(
                "properties.configuration.eventTriggerConfig.scale.rules[{i}]"
            )));
        }
        sites
    }
}

impl Template {
    /// Parses a `template` object (app, revision snapshot or job).
    pub fn parse(template: &Value) -> Template {
        let containers = |pointer: &str| {
            json::array(template, pointer)
                .iter()
                .map(|c| Container {
                    name: json::string(c, "/name").unwrap_or_default(),
                    env: json::array(c, "/env")
                        .iter()
                        .map(|e| EnvVar {
                            name: json::string(e, "/name").unwrap_or_default(),
                            secret_ref: json::string(e, "/secretRef"),
                            literal_secretref: json::string(e, "/value").and_then(|v| {
                                let (prefix, rest) = v.split_at_checked("secretref:".len())?;
                                prefix
                                    .eq_ignore_ascii_case("secretref:")
                                    .then(|| rest.trim().to_string())
                            }),
                        })
                        .collect(),
                })
                .collect::<Vec<_>>()
        };
        Template {
            containers: containers("/containers"),
            init_containers: containers("/initContainers"),
            volumes: json::array(template, "/volumes")
                .iter()
                .map(|v| Volume {
                    name: json::string(v, "/name").unwrap_or_default(),
                    storage_type: json::string(v, "/storageType"),
                    items: json::array(v, "/secrets")
                        .iter()
                        .filter_map(|item| {
                            Some(VolumeItem {
                                secret_ref: json::string(item, "/secretRef")?,
                                path: json::string(item, "/path"),
                            })
                        })
                        .collect(),
                })
                .collect(),
            scale_rules: json::array(template, "/scale/rules")
                .iter()
                .map(ScaleRule::parse_app)
                .collect(),
        }
    }

    /// Every secretRef in this template; `base` prefixes the JSON paths.
    pub fn secret_refs(&self, base: &str) -> Vec<SecretRefSite> {
        let mut sites = Vec::new();
        for (list, kind, key, label) in [
            (&self.containers, SiteKind::Env, "containers", "container"),
            (
                &self.init_containers,
                SiteKind::InitEnv,
                "initContainers",
                "init container",
            ),
        ] {
            for (ci, c) in list.iter().enumerate() {
                for (ei, e) in c.env.iter().enumerate() {
                    if let Some(secret) = &e.secret_ref {
                        sites.push(SecretRefSite {
                            secret: secret.clone(),
                            kind,
                            site: format!("{label} '{}' env '{}'", c.name, e.name),
                            json_path: format!("{base}.{key}[{ci}].env[{ei}].secretRef"),
                        });
                    }
                }
            }
        }
        for (vi, v) in self
            .volumes
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_secret_volume())
        {
            for (ii, item) in v.items.iter().enumerate() {
                sites.push(SecretRefSite {
                    secret: item.secret_ref.clone(),
                    kind: SiteKind::Volume,
                    site: format!(
                        "volume '{}' item '{}'",
                        v.name,
                        item.path.as_deref().unwrap_or(&item.secret_ref)
                    ),
                    json_path: format!("{base}.volumes[{vi}].secrets[{ii}].secretRef"),
                });
            }
        }
        for (ri, rule) in self.scale_rules.iter().enumerate() {
            sites.extend(rule.sites(&format!("{base}.scale.rules[{ri}]")));
        }
        sites
    }

    /// The secrets this template puts into running containers (env vars and secret volumes;
    /// a `Secret` volume without items mounts every secret in `all`), each with how.
    pub fn consumed_secrets(&self, all: &[AppSecret]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for c in self.containers.iter().chain(&self.init_containers) {
            for e in &c.env {
                if let Some(s) = &e.secret_ref {
                    out.push((s.clone(), format!("env '{}' of '{}'", e.name, c.name)));
                }
            }
        }
        for v in self.volumes.iter().filter(|v| v.is_secret_volume()) {
            if v.items.is_empty() {
                out.extend(
                    all.iter()
                        .map(|s| (s.name.clone(), format!("volume '{}' (all secrets)", v.name))),
                );
            } else {
                out.extend(
                    v.items
                        .iter()
                        .map(|i| (i.secret_ref.clone(), format!("volume '{}'", v.name))),
                );
            }
        }
        out
    }

    /// Env vars whose plain value looks like a `secretref:` the CLI did not convert.
    pub fn literal_secretrefs(&self) -> Vec<(String, String, String)> {
        self.containers
            .iter()
            .chain(&self.init_containers)
            .flat_map(|c| {
                c.env.iter().filter_map(|e| {
                    Some((c.name.clone(), e.name.clone(), e.literal_secretref.clone()?))
                })
            })
            .collect()
    }
}

impl ScaleRule {
    /// App scale rules: `{name, custom|azureQueue|http|tcp: {..., auth[]}}`.
    fn parse_app(rule: &Value) -> ScaleRule {
        let name = json::string(rule, "/name").unwrap_or_default();
        let variant = rule
            .as_object()
            .and_then(|map| map.iter().find(|(_, v)| v.get("auth").is_some()));
        match variant {
            Some((key, holder)) => ScaleRule {
                name,
                variant: Some(key.clone()),
                auth: ScaleAuth::list(holder),
            },
            None => ScaleRule {
                name,
                variant: None,
                auth: Vec::new(),
            },
        }
    }

    /// Job event-trigger rules: `{name, type, metadata, auth[]}`.
    fn parse_job(rule: &Value) -> ScaleRule {
        ScaleRule {
            name: json::string(rule, "/name").unwrap_or_default(),
            variant: None,
            auth: ScaleAuth::list(rule),
        }
    }

    fn sites(&self, base: &str) -> Vec<SecretRefSite> {
        let base = match &self.variant {
            Some(variant) => format!("{base}.{variant}"),
            None => base.to_string(),
        };
        self.auth
            .iter()
            .enumerate()
            .map(|(ai, a)| SecretRefSite {
                secret: a.secret_ref.clone(),
                kind: SiteKind::ScaleRule,
                site: format!(
                    "scale rule '{}' auth '{}'",
                    self.name,
                    a.trigger_parameter.as_deref().unwrap_or("?")
                ),
                json_path: format!("{base}.auth[{ai}].secretRef"),
            })
            .collect()
    }
}

impl ScaleAuth {
    fn list(holder: &Value) -> Vec<ScaleAuth> {
        json::array(holder, "/auth")
            .iter()
            .filter_map(|a| {
                Some(ScaleAuth {
                    secret_ref: json::string(a, "/secretRef")?,
                    trigger_parameter: json::string(a, "/triggerParameter"),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn identity(kind: &str) -> Identity {
        Identity {
            kind: kind.into(),
            system_principal: Some("SYS-P".into()),
            tenant: None,
            user_assigned: vec![UserAssigned {
                id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a".into(),
                principal_id: Some("USER-P".into()),
                client_id: None,
            }],
        }
    }

    #[test]
    fn answers_identity_questions_once() {
        let both = identity("systemassigned, UserAssigned");
        assert!(both.system_enabled());
        assert_eq!(both.principal_of(Some("System")).as_deref(), Some("sys-p"));
        assert_eq!(
            both.principal_of(Some("/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a")).as_deref(),
            Some("user-p")
        );
        assert_eq!(both.principal_of(Some("/subscriptions/s/other")), None);
        assert_eq!(both.principal_of(None), None);

        let user_only = identity("UserAssigned");
        assert!(!user_only.system_enabled());
        assert_eq!(user_only.principal_of(Some("system")), None);

        assert!(Identity::system_enabled_in(
            &json!({"identity": {"type": "SystemAssigned,UserAssigned"}})
        ));
        assert!(!Identity::system_enabled_in(
            &json!({"identity": {"type": "None"}})
        ));
        assert!(!Identity::system_enabled_in(&json!({})));
    }
}
