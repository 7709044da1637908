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
}
