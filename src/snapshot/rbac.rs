//! Role assignments, role definitions and deny assignments, as the Authorization API returns
//! them (api-version 2022-04-01).

use super::json;
use crate::azure::ids;
use crate::azure::roles::{Permission, RoleDefinition};
use serde_json::Value;
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct RoleAssignment {
    pub id: String,
    pub scope: String,
    /// The GUID at the end of `roleDefinitionId`, lower-cased.
    pub role_guid: String,
    pub principal_id: String,
    pub principal_type: Option<String>,
    /// An ABAC condition: the grant may not apply to this secret.
    pub condition: Option<String>,
    pub created_on: Option<OffsetDateTime>,
}

impl RoleAssignment {
    pub fn parse_list(body: &Value) -> Vec<RoleAssignment> {
        json::array(body, "/value")
            .iter()
            .filter_map(|a| {
                Some(RoleAssignment {
                    id: json::string(a, "/id").unwrap_or_default(),
                    scope: json::string(a, "/properties/scope")?,
                    role_guid: ids::last_segment(&json::string(a, "/properties/roleDefinitionId")?),
                    principal_id: json::string(a, "/properties/principalId")?.to_ascii_lowercase(),
                    principal_type: json::string(a, "/properties/principalType"),
                    condition: json::string(a, "/properties/condition"),
                    created_on: json::time(a, "/properties/createdOn"),
                })
            })
            .collect()
    }

    /// The first `createdOn` of a listing that is present but unusable, for a gap.
    pub fn unusable_time(body: &Value) -> Option<String> {
        (0..json::array(body, "/value").len())
            .find_map(|i| json::unusable(body, &format!("/value/{i}/properties/createdOn"), false))
    }
}

/// Parses a role definition GET body.
pub fn parse_role_definition(body: &Value) -> Option<RoleDefinition> {
    let props = body.get("properties")?;
    Some(RoleDefinition {
        guid: json::string(body, "/name")
            .map(|n| n.to_ascii_lowercase())
            .or_else(|| json::string(body, "/id").map(|id| ids::last_segment(&id)))?,
        name: json::string(props, "/roleName").unwrap_or_else(|| "(unnamed role)".into()),
        built_in: json::string(props, "/type")
            .is_some_and(|t| t.eq_ignore_ascii_case("BuiltInRole")),
        permissions: parse_permissions(props),
    })
}

fn parse_permissions(holder: &Value) -> Vec<Permission> {
    json::array(holder, "/permissions")
        .iter()
        .map(|p| Permission {
            actions: json::strings(p, "/actions"),
            not_actions: json::strings(p, "/notActions"),
            data_actions: json::strings(p, "/dataActions"),
            not_data_actions: json::strings(p, "/notDataActions"),
        })
        .collect()
}

/// The principal id meaning "everyone" in a deny assignment.
pub const EVERYONE: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Debug, Clone)]
pub struct DenyAssignment {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub permissions: Vec<Permission>,
    pub principals: Vec<String>,
    pub exclude_principals: Vec<String>,
    pub do_not_apply_to_child_scopes: bool,
}

impl DenyAssignment {
    pub fn parse_list(body: &Value) -> Vec<DenyAssignment> {
        json::array(body, "/value")
            .iter()
            .filter_map(|d| {
                let props = d.get("properties")?;
                let ids_of = |pointer: &str| {
                    json::array(props, pointer)
                        .iter()
                        .filter_map(|p| json::string(p, "/id"))
                        .map(|s| s.to_ascii_lowercase())
                        .collect()
                };
                Some(DenyAssignment {
                    id: json::string(d, "/id").unwrap_or_default(),
                    name: json::string(props, "/denyAssignmentName")
                        .unwrap_or_else(|| json::string(d, "/name").unwrap_or_default()),
                    scope: json::string(props, "/scope")?,
                    permissions: parse_permissions(props),
                    principals: ids_of("/principals"),
                    exclude_principals: ids_of("/excludePrincipals"),
                    do_not_apply_to_child_scopes: json::boolean(props, "/doNotApplyToChildScopes")
                        .unwrap_or(false),
                })
            })
            .collect()
    }
}
