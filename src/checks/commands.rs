//! The `az` commands kvdiag prints, built in one place.
//!
//! Every name in a command comes from the user or from Azure and is untrusted: each argument is
//! shell-quoted, so pasting a command can never run something else. No command here prints a
//! secret value (`az keyvault secret show` would; version listings do not).

use crate::bundle::Target;
use crate::snapshot::{Consumer, KvReference};

/// Quotes one shell word (POSIX sh); names with NUL bytes are replaced, never passed through.
pub fn q(word: &str) -> String {
    shlex::try_quote(word)
        .map(|w| w.into_owned())
        .unwrap_or_else(|_| "'<invalid name>'".into())
}

fn app_group(target: &Target) -> &'static str {
    if target.is_job() {
        "containerapp job"
    } else {
        "containerapp"
    }
}

fn target_args(target: &Target) -> String {
    format!(
        "--name {} --resource-group {} --subscription {}",
        q(target.name()),
        q(&target.resource_group),
        q(&target.subscription)
    )
}

pub fn show_app(target: &Target, query: &str) -> String {
    format!(
        "az {} show {} --query {} -o json",
        app_group(target),
        target_args(target),
        q(query)
    )
}

pub fn revision_list(target: &Target) -> String {
    format!(
        "az containerapp revision list {} -o table",
        target_args(target)
    )
}

pub fn show_revision(target: &Target, revision: &str, query: &str) -> String {
    format!(
        "az containerapp revision show {} --revision {} --query {} -o json",
        target_args(target),
        q(revision),
        q(query)
    )
}

pub fn revision_restart(target: &Target, revision: &str) -> String {
    format!(
        "az containerapp revision restart {} --revision {}",
        target_args(target),
        q(revision)
    )
}

pub fn secret_set_plain(target: &Target, secret: &str) -> String {
    format!(
        "az {} secret set {} --secrets {}",
        app_group(target),
        target_args(target),
        q(&format!("{secret}=<value>"))
    )
}

/// Writes a Key Vault reference on the app again: fixes it, and forces an immediate sync.
pub fn secret_set_keyvault(target: &Target, secret: &str, url: &str, identity: &str) -> String {
    format!(
        "az {} secret set {} --secrets {}",
        app_group(target),
        target_args(target),
        q(&format!(
            "{secret}=keyvaultref:{url},identityref:{identity}"
        ))
    )
}

/// Makes an env var a reference to `secret` (applies to every container that has the var).
pub fn set_env_secretref(target: &Target, env: &str, secret: &str) -> String {
    format!(
        "az {} update {} --set-env-vars {}",
        app_group(target),
        target_args(target),
        q(&format!("{env}=secretref:{secret}"))
    )
}

pub fn identity_assign_user(target: &Target, identity_id: &str) -> String {
    format!(
        "az {} identity assign {} --user-assigned {}",
        app_group(target),
        target_args(target),
        q(identity_id)
    )
}

pub fn identity_assign_system(target: &Target) -> String {
    format!(
        "az {} identity assign {} --system-assigned",
        app_group(target),
        target_args(target)
    )
}

pub fn role_assignment_create(principal: &str, role: &str, scope: &str) -> String {
    format!(
        "az role assignment create --assignee-object-id {} --assignee-principal-type ServicePrincipal --role {} --scope {}",
        q(principal),
        q(role),
        q(scope)
    )
}

pub fn role_assignment_list(principal: &str, scope: &str) -> String {
    format!(
        "az role assignment list --assignee {} --scope {} --include-inherited -o table",
        q(principal),
        q(scope)
    )
}

pub fn keyvault_show(vault: &str, query: &str) -> String {
    format!(
        "az keyvault show --name {} --query {} -o json",
        q(vault),
        q(query)
    )
}

pub fn keyvault_set_policy(vault: &str, principal: &str, permissions: &[String]) -> String {
    let mut perms: Vec<String> = permissions.iter().map(|p| p.to_ascii_lowercase()).collect();
    if !perms.iter().any(|p| p == "get" || p == "all") {
        perms.insert(0, "get".into());
    }
    let perms: Vec<String> = perms.iter().map(|p| q(p)).collect();
    format!(
        "az keyvault set-policy --name {} --object-id {} --secret-permissions {}",
        q(vault),
        q(principal),
        perms.join(" ")
    )
}

pub fn secret_versions(vault: &str, secret: &str) -> String {
    format!(
        "az keyvault secret list-versions --vault-name {} --name {} --query {} -o table",
        q(vault),
        q(secret),
        q(
            "[].{version:id, enabled:attributes.enabled, created:attributes.created, expires:attributes.expires}"
        )
    )
}

pub fn secret_enable(vault: &str, secret: &str, version: Option<&str>) -> String {
    let version = version
        .map(|v| format!(" --version {}", q(v)))
        .unwrap_or_default();
    format!(
        "az keyvault secret set-attributes --vault-name {} --name {}{version} --enabled true",
        q(vault),
        q(secret)
    )
}

pub fn secret_list_deleted(vault: &str, secret: &str) -> String {
    format!(
        "az keyvault secret list-deleted --vault-name {} --query {} -o table",
        q(vault),
        q(&format!("[?name=='{}']", secret.replace('\'', "")))
    )
}

pub fn keyvault_public_access(vault: &str) -> String {
    format!(
        "az keyvault update --name {} --public-network-access Enabled",
        q(vault)
    )
}

pub fn keyvault_network_rule(vault: &str, subnet: &str) -> String {
    format!(
        "az keyvault network-rule add --name {} --subnet {}",
        q(vault),
        q(subnet)
    )
}

/// The KQL an engineer can paste into Log Analytics to see the secret syncs of this app.
pub fn sync_logs_kql(target: &Target) -> String {
    let (classic, resource_specific) = if target.is_job() {
        ("JobName_s", "JobName")
    } else {
        ("ContainerAppName_s", "ContainerAppName")
    };
    let name = crate::kql::string_literal(target.name());
    format!(
        "union isfuzzy=true (ContainerAppSystemLogs_CL | where {classic} =~ {name} | project TimeGenerated, Reason=Reason_s, Log=Log_s), (ContainerAppSystemLogs | where {resource_specific} =~ {name} | project TimeGenerated, Reason, Log) | where Reason startswith 'SyncingSecret' or Reason == 'RevisionRestartWithNewSecrets' | order by TimeGenerated desc"
    )
}

/// The app's failed writes, with the error Azure returned (`properties.statusMessage`).
pub fn activity_failures(target: &Target) -> String {
    format!(
        "az monitor activity-log list --resource-id {} --status Failed --offset 1d --query {} -o json",
        q(&target.resource_id()),
        q(
            "[].{time:eventTimestamp, caller:caller, operation:operationName.value, error:properties.statusMessage}"
        )
    )
}

/// Role assignments created or deleted in a resource group.
pub fn activity_role_changes(resource_group: &str) -> String {
    format!(
        "az monitor activity-log list --resource-group {} --offset 1d --query {} -o table",
        q(resource_group),
        q(
            "[?starts_with(operationName.value, 'Microsoft.Authorization/roleAssignments')].{time:eventTimestamp, op:operationName.value, status:status.value, caller:caller, id:resourceId}"
        )
    )
}

/// A new revision of the current template (a new suffix is a revision-scope change), so a
/// revision that failed on a since-fixed secret is provisioned again.
pub fn new_revision(target: &Target) -> String {
    format!(
        "az containerapp update {} --revision-suffix fix-$(date +%H%M%S)",
        target_args(target)
    )
}

/// The job's latest executions with their status.
pub fn job_executions(target: &Target) -> String {
    format!(
        "az containerapp job execution list {} --query \"[].{{name:name, status:properties.status, start:properties.startTime, end:properties.endTime}}\" -o table",
        target_args(target)
    )
}

/// Environment commands take the environment's resource id (`--ids`): the environment may live
/// in another resource group than the app.
pub fn env_identity_assign_system(environment_id: &str) -> String {
    format!(
        "az containerapp env identity assign --ids {} --system-assigned",
        q(environment_id)
    )
}

pub fn env_identity_assign_user(environment_id: &str, identity_id: &str) -> String {
    format!(
        "az containerapp env identity assign --ids {} --user-assigned {}",
        q(environment_id),
        q(identity_id)
    )
}

/// Adds (or replaces) an environment certificate from Key Vault: the environment fetches it
/// again at once.
pub fn env_certificate_from_keyvault(
    environment_id: &str,
    certificate: &str,
    url: &str,
    identity: &str,
) -> String {
    format!(
        "az containerapp env certificate upload --ids {} --certificate-name {} --akv-url {} --identity {}",
        q(environment_id),
        q(certificate),
        q(url),
        q(identity)
    )
}

/// Sets the environment's DNS-suffix certificate from Key Vault again.
pub fn env_dns_suffix_certificate(environment_id: &str, url: &str, identity: &str) -> String {
    format!(
        "az containerapp env update --ids {} --custom-domain-certificate-akv-url {} --custom-domain-certificate-identity {}",
        q(environment_id),
        q(url),
        q(identity)
    )
}

/// Shows part of the environment (`--query`).
pub fn env_show(environment_id: &str, query: &str) -> String {
    format!(
        "az containerapp env show --ids {} --query {} -o json",
        q(environment_id),
        q(query)
    )
}

/// The environment's certificates with their state.
pub fn env_certificate_list(environment_id: &str) -> String {
    format!(
        "az containerapp env certificate list --ids {} --query \"[].{{name:name, state:properties.provisioningState, valid:properties.valid, expires:properties.expirationDate, error:properties.deploymentErrors}}\" -o table",
        q(environment_id)
    )
}

/// The command that writes the reference again with `url` and `identity`, so its consumer
/// fetches it at once: `secret set` for the app's own secrets, the certificate commands for
/// what the environment fetches; `None` for Dapr components (their sidecar reads at start).
pub fn write_again(target: &Target, r: &KvReference, url: &str, identity: &str) -> Option<String> {
    match &r.consumer {
        Consumer::Workload => Some(secret_set_keyvault(target, &r.secret, url, identity)),
        Consumer::Certificate {
            environment,
            certificate,
            ..
        } => Some(env_certificate_from_keyvault(
            environment,
            certificate,
            url,
            identity,
        )),
        Consumer::DnsSuffixCertificate { environment, .. } => {
            Some(env_dns_suffix_certificate(environment, url, identity))
        }
        Consumer::DaprSecret { .. } | Consumer::DaprSecretStore { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_untrusted_names() {
        assert_eq!(q("rg-orders"), "rg-orders");
        for nasty in [
            "a b",
            "x;rm -rf /",
            "it's",
            "$(id)",
            "`id`",
            "a\"b",
            "--scope",
            "new\nline",
            "*",
        ] {
            let quoted = q(nasty);
            assert_eq!(
                shlex::split(&quoted),
                Some(vec![nasty.to_string()]),
                "{nasty} -> {quoted}"
            );
        }
        let cmd = role_assignment_create("p", "Key Vault Secrets User", "/subscriptions/s");
        assert!(cmd.contains("--role 'Key Vault Secrets User'"), "{cmd}");
    }

    #[test]
    fn keeps_existing_policy_permissions() {
        assert_eq!(
            keyvault_set_policy("kv", "p", &["list".into()]),
            "az keyvault set-policy --name kv --object-id p --secret-permissions get list"
        );
    }
}
