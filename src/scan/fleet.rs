//! The fleet's shared evidence: what every workload's bundle is assembled from.

use crate::azure::ids;
use crate::bundle::{Response, Route, route};
use crate::snapshot::{Workload, WorkloadKind};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use time::OffsetDateTime;

/// One app or job from a Resource Graph row whose id is a Container App or job id.
#[derive(Debug, Clone)]
pub struct Row {
    /// As Resource Graph spelled it (validated).
    pub id: String,
    pub kind: WorkloadKind,
    pub name: String,
    pub resource_group: String,
    pub subscription: String,
    /// The row: the resource's ARM GET payload.
    pub body: Value,
    /// The row parsed; `None` when it is not a workload kvdiag can read.
    pub workload: Option<Workload>,
}

impl Row {
    /// A row whose id names a Container App or job in a subscription's resource group, with the
    /// same name as the row says; anything else is refused with the reason.
    pub fn parse(row: &Value) -> Result<Row, String> {
        let id = row
            .get("id")
            .and_then(Value::as_str)
            .ok_or("a row without an id")?;
        let shown: String = id.chars().filter(|c| !c.is_control()).take(200).collect();
        let (kind, valid) = ids::resource_of_type(id, "Microsoft.App", "containerApps")
            .map(|v| (WorkloadKind::App, v))
            .or_else(|| {
                ids::resource_of_type(id, "Microsoft.App", "jobs").map(|v| (WorkloadKind::Job, v))
            })
            .ok_or_else(|| format!("row id '{shown}' is not a Container App or job id"))?;
        let subscription = ids::segment_after(&valid, "subscriptions")
            .filter(|s| ids::is_guid(s))
            .ok_or_else(|| format!("row id '{shown}' has no subscription id"))?;
        let resource_group = ids::segment_after(&valid, "resourceGroups")
            .ok_or_else(|| format!("row id '{shown}' has no resource group"))?;
        let name = valid.rsplit('/').next().unwrap_or_default().to_string();
        let said = row.get("name").and_then(Value::as_str).unwrap_or_default();
        if !said.eq_ignore_ascii_case(&name) {
            return Err(format!(
                "row id '{shown}' and its name '{}' disagree",
                said.chars()
                    .filter(|c| !c.is_control())
                    .take(100)
                    .collect::<String>()
            ));
        }
        let workload = Workload::parse(kind, row);
        Ok(Row {
            id: valid,
            kind,
            name,
            resource_group,
            subscription,
            body: row.clone(),
            workload,
        })
    }
}

/// Reads shared by many workloads, by what they answer.
#[derive(Debug)]
pub struct Fleet {
    pub now: OffsetDateTime,
    pub since: std::time::Duration,
    /// Environment rows by normalized id (or the failure of the page that would hold them).
    pub environments: BTreeMap<String, Result<Value, Box<Response>>>,
    pub identities: BTreeMap<String, Result<Value, Box<Response>>>,
    /// Vault rows by lower-cased name.
    pub vaults: BTreeMap<String, Value>,
    /// Vault names whose lookup page failed.
    pub vault_lookup_failed: BTreeMap<String, Response>,
    /// Role assignment rows at or above the referenced vaults, by lower-cased principal id.
    pub assignments: HashMap<String, Vec<Value>>,
    /// Normalized scopes where Resource Graph shows a role assigned to a group.
    pub group_scopes: HashSet<String>,
    /// Normalized vault ids whose assignment page failed.
    pub assignments_failed: BTreeMap<String, Response>,
    /// Custom role definitions read with ARM.
    pub role_definitions: Vec<Response>,
    /// System-log query answers by lower-cased workspace id.
    pub logs: BTreeMap<String, Response>,
    /// Activity-log answers by lower-cased subscription id.
    pub activity: BTreeMap<String, Response>,
    /// Every other read, made as `check` makes it, by route.
    direct: HashMap<String, Response>,
}

fn key(route: &Route) -> String {
    format!("{route:?}")
}

impl Fleet {
    pub fn new(now: OffsetDateTime, since: std::time::Duration) -> Fleet {
        Fleet {
            now,
            since,
            environments: BTreeMap::new(),
            identities: BTreeMap::new(),
            vaults: BTreeMap::new(),
            vault_lookup_failed: BTreeMap::new(),
            assignments: HashMap::new(),
            group_scopes: HashSet::new(),
            assignments_failed: BTreeMap::new(),
            role_definitions: Vec::new(),
            logs: BTreeMap::new(),
            activity: BTreeMap::new(),
            direct: HashMap::new(),
        }
    }

    /// Keeps a read made as `check` makes it (deny assignments, a vault's secret list, ARM's
    /// role assignments of a principal, an identity or environment GET, a group's activity).
    pub fn keep(&mut self, response: Response) {
        self.direct.insert(key(&route(&response)), response);
    }

    /// Files Resource Graph role-assignment rows under their principal.
    pub fn add_assignments(&mut self, rows: Vec<Value>) {
        for row in rows {
            let group = row
                .pointer("/properties/principalType")
                .and_then(Value::as_str)
                .is_some_and(|t| {
                    t.eq_ignore_ascii_case("Group") || t.eq_ignore_ascii_case("ForeignGroup")
                });
            if group && let Some(scope) = row.pointer("/properties/scope").and_then(Value::as_str) {
                self.group_scopes.insert(ids::normalize(scope));
            }
            let principal = row
                .pointer("/properties/principalId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase();
            self.assignments.entry(principal).or_default().push(row);
        }
    }

    /// The Resource Graph assignments of a principal whose scope covers `scope`.
    pub fn assignments_of<'a>(
        &'a self,
        principal: &str,
        scope: &'a str,
    ) -> impl Iterator<Item = &'a Value> + 'a {
        self.assignments
            .get(&principal.to_ascii_lowercase())
            .into_iter()
            .flatten()
            .filter(move |a| {
                a.pointer("/properties/scope")
                    .and_then(Value::as_str)
                    .is_some_and(|s| ids::covers(s, scope))
            })
    }

    pub fn direct(&self, route: &Route) -> Option<&Response> {
        self.direct.get(&key(route))
    }

    /// The read window as RFC 3339 `(start, now)`.
    pub fn span(&self) -> (String, String) {
        let start = time::Duration::try_from(self.since)
            .ok()
            .and_then(|d| self.now.checked_sub(d))
            .unwrap_or(time::PrimitiveDateTime::MIN.assume_utc());
        (
            crate::azure::time::display(start),
            crate::azure::time::display(self.now),
        )
    }
}
