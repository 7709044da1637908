//! KQL string literals: every name placed in a query is escaped here, never spliced raw.

/// A single-quoted KQL string literal with `\` and `'` escaped (KQL string-literal rules).
pub fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The system-log query live collection sends: both table families (`_CL` classic columns with
/// `_s` suffixes, and the resource-specific table), newest first, at most 500 rows.
pub fn system_logs(is_job: bool, name: &str) -> String {
    let (subject, var) = if is_job {
        ("JobName", "job")
    } else {
        ("ContainerAppName", "app")
    };
    let name = string_literal(name);
    format!(
        "let {var} = {name};\n\
         union isfuzzy=true\n \
         (ContainerAppSystemLogs_CL | where {subject}_s =~ {var}\n   \
         | project TimeGenerated, {subject}_s, RevisionName_s, ReplicaName_s, Reason_s, Type_s, Log_s),\n \
         (ContainerAppSystemLogs | where {subject} =~ {var}\n   \
         | project TimeGenerated, {subject}, RevisionName, ReplicaName, Reason, Type, Log)\n\
         | order by TimeGenerated desc\n\
         | take 500"
    )
}

/// The Resource Graph query that finds vaults by name in every subscription the caller can read.
pub fn vault_lookup(names: &[String]) -> String {
    let names: Vec<String> = names.iter().map(|n| string_literal(n)).collect();
    format!(
        "resources\n\
         | where type =~ 'microsoft.keyvault/vaults' and name in~ ({})\n\
         | project id, name, type, location, resourceGroup, subscriptionId, tenantId,\n          \
         vaultUri = tostring(properties.vaultUri),\n          \
         enableRbacAuthorization = tobool(properties.enableRbacAuthorization),\n          \
         publicNetworkAccess = tostring(properties.publicNetworkAccess),\n          \
         networkDefaultAction = tostring(properties.networkAcls.defaultAction)\n\
         | order by id asc",
        names.join(", ")
    )
}

/// A KQL list of string literals: `'a', 'b'`.
fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| string_literal(i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `kvdiag scan`: every Container App and job in scope, as ARM returns them (Resource Graph rows
/// are the resources' GET payloads), optionally in one resource group. Ordered by `id` so that
/// `$skipToken` paging is stable.
pub fn fleet_workloads(resource_group: Option<&str>) -> String {
    let group = resource_group
        .map(|rg| format!("| where resourceGroup =~ {}\n", string_literal(rg)))
        .unwrap_or_default();
    format!(
        "resources\n\
         | where type in~ ('microsoft.app/containerapps', 'microsoft.app/jobs')\n\
         {group}\
         | project id, name, type, location, resourceGroup, subscriptionId, identity, properties\n\
         | order by id asc"
    )
}

/// `kvdiag scan`: resources of one type by id (a batch of at most ~100 ids).
pub fn resources_by_id(kind: &str, ids: &[String]) -> String {
    format!(
        "resources\n\
         | where type =~ {} and id in~ ({})\n\
         | project id, name, type, location, resourceGroup, subscriptionId, properties\n\
         | order by id asc",
        string_literal(kind),
        list(ids)
    )
}

/// `kvdiag scan`: vaults by name, whole (network rules, access policies, RBAC mode).
pub fn vaults_by_name(names: &[String]) -> String {
    format!(
        "resources\n\
         | where type =~ 'microsoft.keyvault/vaults' and name in~ ({})\n\
         | project id, name, type, location, resourceGroup, subscriptionId, properties\n\
         | order by id asc",
        list(names)
    )
}

/// `kvdiag scan`: role assignments at the vaults, their secrets, resource groups, subscriptions
/// and the root scope (`scopes` holds all but the secrets; `vaults` the vault ids). Assignments
/// at management groups are not asked for here: whether a group is above a vault is not
/// visible in an id, so a principal without a grant is confirmed with ARM instead.
pub fn role_assignments_at(scopes: &[String], vaults: &[String]) -> String {
    format!(
        "authorizationresources\n\
         | where type =~ 'microsoft.authorization/roleassignments'\n\
         | extend scope = tolower(tostring(properties.scope))\n\
         | where scope in~ ({}) or tostring(split(scope, '/secrets/')[0]) in~ ({})\n\
         | project id, name, type, properties\n\
         | order by id asc",
        list(scopes),
        list(vaults)
    )
}

/// `kvdiag scan`: the system logs of every named app and job of one workspace, both table
/// families, each distinct line once with its latest time (a sync that fails every 30 minutes
/// is one row), newest first.
pub fn fleet_system_logs(apps: &[String], jobs: &[String]) -> String {
    let none = vec!["".to_string()];
    let apps = if apps.is_empty() { &none } else { apps };
    let jobs = if jobs.is_empty() { &none } else { jobs };
    format!(
        "let apps = dynamic([{}]);\n\
         let jobs = dynamic([{}]);\n\
         union isfuzzy=true\n \
         (ContainerAppSystemLogs_CL | where ContainerAppName_s in~ (apps) or JobName_s in~ (jobs)\n   \
         | summarize TimeGenerated = max(TimeGenerated) by ContainerAppName_s, JobName_s, RevisionName_s, ReplicaName_s, Reason_s, Type_s, Log_s),\n \
         (ContainerAppSystemLogs | where ContainerAppName in~ (apps) or JobName in~ (jobs)\n   \
         | summarize TimeGenerated = max(TimeGenerated) by ContainerAppName, JobName, RevisionName, ReplicaName, Reason, Type, Log)\n\
         | order by TimeGenerated desc",
        list(apps),
        list(jobs)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_quotes_and_backslashes() {
        assert_eq!(string_literal("ca-orders-web"), "'ca-orders-web'");
        assert_eq!(string_literal("a' | take 1 //"), r"'a\' | take 1 //'");
        assert_eq!(string_literal(r"a\'b"), r"'a\\\'b'");
    }

    #[test]
    fn queries_match_the_recorded_fixtures() {
        // The generator (fixtures/make_scenarios.py) writes the same text; a drift here means
        // recorded bundles no longer show what live collection sends.
        let bundle: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string("fixtures/scenarios/managed-identity-no-role.json").unwrap(),
        )
        .unwrap();
        let sent = |service: &str| {
            bundle["responses"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["service"] == service && r["method"] == "POST")
                .map(|r| r["request_body"]["query"].as_str().unwrap().to_string())
                .unwrap()
        };
        assert_eq!(system_logs(false, "ca-orders-web"), sent("log_analytics"));
        assert_eq!(vault_lookup(&["kv-orders-shared".into()]), sent("arm"));
        assert!(system_logs(true, "x' | take 1").contains(r"let job = 'x\' | take 1';"));
    }

    #[test]
    fn fleet_queries_quote_every_name() {
        let hostile = "rg' | project secret //".to_string();
        assert!(fleet_workloads(Some(&hostile)).contains(r"=~ 'rg\' | project secret //'"));
        assert!(
            vaults_by_name(std::slice::from_ref(&hostile))
                .contains(r"in~ ('rg\' | project secret //')")
        );
        assert!(
            fleet_system_logs(&[hostile], &[]).contains(r"dynamic(['rg\' | project secret //'])")
        );
        assert!(fleet_workloads(None).ends_with("| order by id asc"));
    }
}
