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
}
