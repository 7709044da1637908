//! ARM resource ids and scopes.
//!
//! ARM compares ids case-insensitively, and real payloads disagree on case
//! (`resourcegroups` in identity maps and activity logs, `resourceGroups` elsewhere,
//! `containerapps` in an app's own id). Everything here compares without case.

/// True when an id from Azure or a user can go into a URL path as it is: an absolute ARM path
/// of letters, digits and `-_.()`, with no empty, `.` or `..` segment and nothing a URL would read
/// as a query, fragment or escape.
pub fn is_safe_path(id: &str) -> bool {
    let Some(rest) = id.strip_prefix('/') else {
        return false;
    };
    !rest.is_empty()
        && rest.len() <= 1024
        && rest.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))
        })
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The id, trimmed, when it is exactly a resource of one type:
/// `/subscriptions/{guid}/resourceGroups/{rg}/providers/{namespace}/{kind}/{name}` with plain
/// names. Ids taken from Azure answers (an app's environment, its identities, a vault found by
/// Resource Graph) pass through here before they become request paths, so an answer cannot
/// point a read at another kind of resource.
pub fn resource_of_type(id: &str, namespace: &str, kind: &str) -> Option<String> {
    let id = id.trim().trim_end_matches('/');
    if !is_safe_path(id) {
        return None;
    }
    let s: Vec<&str> = id.trim_start_matches('/').split('/').collect();
    let fixed = |i: usize, word: &str| s[i].eq_ignore_ascii_case(word);
    (s.len() == 8
        && fixed(0, "subscriptions")
        && is_guid(s[1])
        && fixed(2, "resourceGroups")
        && fixed(4, "providers")
        && fixed(5, namespace)
        && fixed(6, kind))
    .then(|| id.to_string())
}

/// The id, when it is a certificate or managed certificate of a managed environment
/// (`…/managedEnvironments/{env}/certificates/{c}`, `…/managedCertificates/{c}`): what a custom
/// domain's `certificateId` must be before kvdiag reads it.
pub fn environment_certificate(id: &str) -> Option<String> {
    let id = id.trim().trim_end_matches('/');
    let s: Vec<&str> = id.trim_start_matches('/').split('/').collect();
    (s.len() == 10
        && (s[8].eq_ignore_ascii_case("certificates")
            || s[8].eq_ignore_ascii_case("managedCertificates"))
        && is_safe_path(id))
    .then(|| {
        resource_of_type(
            &format!("/{}", s[..8].join("/")),
            "Microsoft.App",
            "managedEnvironments",
        )
    })
    .flatten()
    .map(|_| id.to_string())
}

/// The environment id above a certificate id (`None` when it is not one).
pub fn certificate_environment(id: &str) -> Option<String> {
    let id = environment_certificate(id)?;
    let s: Vec<&str> = id.trim_start_matches('/').split('/').collect();
    Some(format!("/{}", s[..8].join("/")))
}

/// The scope, when it is a vault or one of its secrets: the scopes kvdiag lists role and deny
/// assignments at.
pub fn vault_scope(scope: &str) -> Option<String> {
    let scope = scope.trim().trim_end_matches('/');
    let s: Vec<&str> = scope.trim_start_matches('/').split('/').collect();
    match s.len() {
        8 => resource_of_type(scope, "Microsoft.KeyVault", "vaults"),
        10 if s[8].eq_ignore_ascii_case("secrets") && is_safe_path(scope) => resource_of_type(
            &format!("/{}", s[..8].join("/")),
            "Microsoft.KeyVault",
            "vaults",
        )
        .map(|_| scope.to_string()),
        _ => None,
    }
}

/// The id, when it is a role definition: at a subscription, a management group or the tenant
/// root, ending in `/providers/Microsoft.Authorization/roleDefinitions/{guid}`.
pub fn role_definition(id: &str) -> Option<String> {
    let id = id.trim().trim_end_matches('/');
    if !is_safe_path(id) {
        return None;
    }
    let s: Vec<&str> = id.trim_start_matches('/').split('/').collect();
    let tail = s.len().checked_sub(4)?;
    let definition = s[tail].eq_ignore_ascii_case("providers")
        && s[tail + 1].eq_ignore_ascii_case("Microsoft.Authorization")
        && s[tail + 2].eq_ignore_ascii_case("roleDefinitions")
        && is_guid(s[tail + 3]);
    let scope_ok = match &s[..tail] {
        [] => true,
        ["subscriptions", sub] => is_guid(sub),
        [p, ns, mg, _] => {
            p.eq_ignore_ascii_case("providers")
                && ns.eq_ignore_ascii_case("Microsoft.Management")
                && mg.eq_ignore_ascii_case("managementGroups")
        }
        _ => false,
    };
    (definition && scope_ok).then(|| id.to_string())
}

/// Lower-cases an id and drops trailing slashes: the form used as a map key.
pub fn normalize(id: &str) -> String {
    let trimmed = id.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_ascii_lowercase()
    }
}

/// True when `a` and `b` name the same resource.
pub fn same(a: &str, b: &str) -> bool {
    normalize(a) == normalize(b)
}

/// True when a grant at `scope` applies to `resource`: the same id, or a parent on a
/// segment boundary (`/subscriptions/s/resourceGroups/rg` covers `.../rg/providers/...`).
/// Management-group scopes and the root `/` are not visible in a resource id; callers that got
/// an assignment from an `atScope()` listing already know it applies (see [`is_above_resources`]).
pub fn covers(scope: &str, resource: &str) -> bool {
    let scope = normalize(scope);
    let resource = normalize(resource);
    scope == "/" || resource == scope || resource.starts_with(&format!("{scope}/"))
}

/// Scopes that sit above every subscription: the root and management groups.
pub fn is_above_resources(scope: &str) -> bool {
    let scope = normalize(scope);
    scope == "/" || scope.starts_with("/providers/microsoft.management/managementgroups/")
}

/// The last segment of an id (`.../roleDefinitions/<guid>` -> `<guid>`), lower-cased.
pub fn last_segment(id: &str) -> String {
    normalize(id)
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The value following `key` (case-insensitive) in an id's segments.
pub fn segment_after(id: &str, key: &str) -> Option<String> {
    let mut parts = id.trim_matches('/').split('/');
    while let Some(part) = parts.next() {
        if part.eq_ignore_ascii_case(key) {
            return parts.next().map(str::to_string);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_ids_must_sit_under_an_environment() {
        let env = "/subscriptions/3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/cae";
        let cert = format!("{env}/certificates/api-cert");
        assert_eq!(
            environment_certificate(&cert).as_deref(),
            Some(cert.as_str())
        );
        assert_eq!(
            certificate_environment(&format!("{env}/managedCertificates/m")).as_deref(),
            Some(env)
        );
        for bad in [
            format!("{env}/certificates/../x"),
            format!("{env}/daprComponents/x"),
            format!("{env}/certificates/a/b"),
            "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/cae/certificates/c".to_string(),
        ] {
            assert_eq!(environment_certificate(&bad), None, "{bad}");
        }
    }

    #[test]
    fn only_plain_arm_paths_are_safe() {
        assert!(is_safe_path(
            "/subscriptions/3f2c/resourceGroups/rg_(x).1/providers/Microsoft.KeyVault/vaults/kv-1"
        ));
        for bad in [
            "subscriptions/x",
            "/",
            "/subscriptions//x",
            "/subscriptions/../x",
            "/subscriptions/x?y",
            "/subscriptions/x#y",
            "/subscriptions/x%2f",
            "/subscriptions/a b",
            "/subscriptions/x\\y",
        ] {
            assert!(!is_safe_path(bad), "{bad}");
        }
    }

    const VAULT: &str = "/subscriptions/S/resourceGroups/rg-orders/providers/Microsoft.KeyVault/vaults/kv-orders-shared";

    #[test]
    fn scopes_cover_children_on_segment_boundaries_only() {
        assert!(covers("/subscriptions/s/resourcegroups/RG-ORDERS", VAULT));
        assert!(covers(VAULT, &format!("{VAULT}/secrets/db")));
        assert!(covers(&format!("{VAULT}/"), VAULT));
        assert!(covers("/", VAULT));
        assert!(!covers("/subscriptions/S/resourceGroups/rg-order", VAULT));
        assert!(!covers(&format!("{VAULT}/secrets/db"), VAULT));
    }

    #[test]
    fn management_groups_sit_above_resources() {
        assert!(is_above_resources(
            "/providers/Microsoft.Management/managementGroups/contoso"
        ));
        assert!(is_above_resources("/"));
        assert!(!is_above_resources(VAULT));
    }

    #[test]
    fn reads_segments_without_case() {
        assert_eq!(
            segment_after(VAULT, "resourcegroups").as_deref(),
            Some("rg-orders")
        );
        assert_eq!(
            last_segment("/providers/Microsoft.Authorization/roleDefinitions/4633458B-17de"),
            "4633458b-17de"
        );
    }

    #[test]
    fn ids_from_answers_must_be_of_the_expected_type() {
        let g = "3f2c8a51-6d0e-4b7a-9c1d-2e8f4a6b7c90";
        let env = format!(
            "/subscriptions/{g}/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/cae"
        );
        assert_eq!(
            resource_of_type(&format!("{env}/"), "microsoft.app", "managedenvironments"),
            Some(env.clone())
        );
        for bad in [
            "/kv/x".to_string(),
            format!("/subscriptions/{g}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"),
            format!("{env}/certificates/c"),
            "/subscriptions/x/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/cae"
                .to_string(),
            format!(
                "/subscriptions/{g}/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/c%2Fe"
            ),
        ] {
            assert_eq!(
                resource_of_type(&bad, "Microsoft.App", "managedEnvironments"),
                None,
                "{bad}"
            );
        }
        let vault =
            format!("/subscriptions/{g}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv");
        assert!(vault_scope(&vault).is_some());
        assert!(vault_scope(&format!("{vault}/secrets/db")).is_some());
        assert!(vault_scope(&format!("{vault}/keys/db")).is_none());
        assert!(vault_scope(&format!("/subscriptions/{g}/resourceGroups/rg")).is_none());
        for ok in [
            format!("/subscriptions/{g}/providers/Microsoft.Authorization/roleDefinitions/{g}"),
            format!("/providers/Microsoft.Authorization/roleDefinitions/{g}"),
            format!(
                "/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/roleDefinitions/{g}"
            ),
        ] {
            assert!(role_definition(&ok).is_some(), "{ok}");
        }
        for bad in [
            format!("/kv/x/providers/Microsoft.Authorization/roleDefinitions/{g}"),
            format!(
                "/subscriptions/{g}/providers/Microsoft.Authorization/roleDefinitions/not-a-guid"
            ),
            format!("{vault}/providers/Microsoft.Authorization/roleDefinitions/{g}"),
        ] {
            assert!(role_definition(&bad).is_none(), "{bad}");
        }
    }
}
