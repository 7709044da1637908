//! Time-stamped evidence: Container Apps system log rows and activity-log events.

use super::json;
use crate::azure::ids;
use crate::logs::{self, LogEvent};
use crate::refusals::{self, Refusal};
use serde_json::Value;
use time::OffsetDateTime;

/// Which system-log table a row came from (the environment may have switched over time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTable {
    /// `ContainerAppSystemLogs_CL` (classic custom-log columns with `_s` suffixes).
    Classic,
    /// `ContainerAppSystemLogs` (resource-specific table).
    ResourceSpecific,
}

#[derive(Debug, Clone)]
pub struct SystemLogEntry {
    pub time: OffsetDateTime,
    pub revision: Option<String>,
    pub reason: Option<String>,
    pub log: String,
    pub table: LogTable,
    /// What the row means, classified once when the snapshot is built.
    pub event: LogEvent,
}

impl SystemLogEntry {
    /// Parses a Log Analytics query response: `tables[0]` with positional rows. Columns are
    /// looked up by name from either family, so the query's projection may change freely.
    pub fn parse_query(body: &Value) -> Vec<SystemLogEntry> {
        let Some(table) = json::array(body, "/tables").first() else {
            return Vec::new();
        };
        let columns: Vec<String> = json::array(table, "/columns")
            .iter()
            .map(|c| json::string(c, "/name").unwrap_or_default())
            .collect();
        let position = |name: &str| columns.iter().position(|c| c.eq_ignore_ascii_case(name));
        let cell = |row: &Value, names: &[&str]| -> Option<(String, usize)> {
            names.iter().enumerate().find_map(|(family, name)| {
                let value = row.get(position(name)?)?.as_str()?.trim();
                (!value.is_empty()).then(|| (value.to_string(), family))
            })
        };
        let mut entries: Vec<SystemLogEntry> = json::array(table, "/rows")
            .iter()
            .filter_map(|row| {
                let time = crate::azure::time::parse(&cell(row, &["TimeGenerated"])?.0)?;
                let (log, family) = cell(row, &["Log_s", "Log"]).unwrap_or_default();
                let reason = cell(row, &["Reason_s", "Reason"]).map(|(r, _)| r);
                let event = logs::classify(reason.as_deref(), &log);
                Some(SystemLogEntry {
                    time,
                    revision: cell(row, &["RevisionName_s", "RevisionName"]).map(|(r, _)| r),
                    reason,
                    log,
                    table: if family == 0 {
                        LogTable::Classic
                    } else {
                        LogTable::ResourceSpecific
                    },
                    event,
                })
            })
            .collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.time));
        entries
    }

    /// The first `TimeGenerated` cell that is present but unusable, for a gap.
    pub fn unusable_time(body: &Value) -> Option<String> {
        let table = json::array(body, "/tables").first()?;
        let column = json::array(table, "/columns").iter().position(|c| {
            json::string(c, "/name").is_some_and(|n| n.eq_ignore_ascii_case("TimeGenerated"))
        })?;
        (0..json::array(table, "/rows").len()).find_map(|i| {
            json::unusable(table, &format!("/rows/{i}/{column}"), false)
                .map(|cell| format!("tables[0].{cell} (TimeGenerated)"))
        })
    }
}

/// One activity-log event (`eventtypes/management/values`): a write on the app, or a role
/// assignment / Key Vault write in a vault's resource group.
#[derive(Debug, Clone)]
pub struct ActivityEvent {
    pub time: OffsetDateTime,
    /// `operationName.value`, e.g. `Microsoft.App/containerApps/write`.
    pub operation: String,
    /// `status.value`: `Started|Accepted|Succeeded|Failed`.
    pub status: String,
    pub caller: Option<String>,
    /// `eventDataId`: unique per event (the same event is listed by the app's and the resource
    /// group's query when the vault shares the app's group).
    pub event_data_id: Option<String>,
    /// Shared by the Begin and End events of one request.
    pub correlation_id: Option<String>,
    pub resource_id: Option<String>,
    /// The ARM error of a failed write, from `properties.statusMessage` (a JSON string).
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// For `Microsoft.Authorization/roleAssignments/write|delete`: what changed.
    pub role_change: Option<RoleChange>,
}

/// A role assignment created or deleted, as the activity log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    pub deleted: bool,
    /// The assignment's GUID (last segment of the event's resource id).
    pub assignment: String,
    /// The scope it was made at (the resource id before `/providers/Microsoft.Authorization`).
    pub scope: String,
    /// From `properties.requestbody` (create, PascalCase) or `properties.responseBody` (delete,
    /// the deleted assignment); `None` when the event carries neither.
    pub principal: Option<String>,
    pub role_guid: Option<String>,
}

const ROLE_ASSIGNMENT_OPS: &str = "microsoft.authorization/roleassignments/";

impl ActivityEvent {
    /// Parses a list page, newest first. Begin and End events of one request share what only
    /// one of them carries (the create body is on the Begin event).
    pub fn parse_list(body: &Value) -> Vec<ActivityEvent> {
        let mut events: Vec<ActivityEvent> = json::array(body, "/value")
            .iter()
            .filter_map(ActivityEvent::parse)
            .collect();
        let known: Vec<(String, RoleChange)> = events
            .iter()
            .filter_map(|e| Some((e.correlation_id.clone()?, e.role_change.clone()?)))
            .filter(|(_, c)| c.principal.is_some())
            .collect();
        for e in &mut events {
            if let (Some(change), Some(correlation)) = (&mut e.role_change, &e.correlation_id)
                && change.principal.is_none()
                && let Some((_, other)) = known.iter().find(|(c, _)| c == correlation)
            {
                change.principal = other.principal.clone();
                change.role_guid = change.role_guid.take().or(other.role_guid.clone());
            }
        }
        events.sort_by_key(|e| std::cmp::Reverse(e.time));
        events
    }

    /// The first `eventTimestamp` of a page that is present but unusable, for a gap.
    pub fn unusable_time(body: &Value) -> Option<String> {
        (0..json::array(body, "/value").len())
            .find_map(|i| json::unusable(body, &format!("/value/{i}/eventTimestamp"), false))
    }

    fn parse(e: &Value) -> Option<ActivityEvent> {
        let status_message: Option<Value> = json::string(e, "/properties/statusMessage")
            .and_then(|m| serde_json::from_str(&m).ok());
        let operation = json::string(e, "/operationName/value")?;
        let resource_id = json::string(e, "/resourceId");
        let role_change = resource_id
            .as_deref()
            .filter(|_| {
                operation
                    .to_ascii_lowercase()
                    .starts_with(ROLE_ASSIGNMENT_OPS)
            })
            .and_then(|id| role_change(e, id, &operation));
        Some(ActivityEvent {
            time: json::time(e, "/eventTimestamp")?,
            status: json::string(e, "/status/value").unwrap_or_default(),
            caller: json::string(e, "/caller"),
            event_data_id: json::string(e, "/eventDataId"),
            correlation_id: json::string(e, "/correlationId"),
            resource_id,
            error_code: status_message
                .as_ref()
                .and_then(|m| json::string(m, "/error/code")),
            error_message: status_message
                .as_ref()
                .and_then(|m| json::string(m, "/error/message")),
            role_change,
            operation,
        })
    }

    /// A completed, successful write to the app itself (not a revision action).
    pub fn is_successful_app_write(&self) -> bool {
        self.succeeded() && self.is_app_write()
    }

    /// A write (create or update) of the app or job, whatever its outcome.
    pub fn is_app_write(&self) -> bool {
        self.operation
            .eq_ignore_ascii_case("Microsoft.App/containerApps/write")
            || self
                .operation
                .eq_ignore_ascii_case("Microsoft.App/jobs/write")
    }

    /// A successful revision restart or activation (recreates replicas).
    pub fn is_successful_restart(&self) -> bool {
        let op = self.operation.to_ascii_lowercase();
        self.succeeded()
            && (op.ends_with("/revisions/restart/action")
                || op.ends_with("/revisions/activate/action"))
    }

    /// ` by <caller>` when the event names one.
    pub fn by_caller(&self) -> String {
        self.caller
            .as_deref()
            .map(|c| format!(" by {c}"))
            .unwrap_or_default()
    }

    pub fn succeeded(&self) -> bool {
        self.status.eq_ignore_ascii_case("Succeeded")
    }

    pub fn failed(&self) -> bool {
        self.status.eq_ignore_ascii_case("Failed")
    }

    /// What Azure refused, for a failed event.
    pub fn refusal(&self) -> Option<Refusal> {
        self.failed().then(|| {
            refusals::classify(
                self.error_code.as_deref(),
                self.error_message.as_deref().unwrap_or_default(),
            )
        })
    }

    /// True for the Begin/Started half of a request whose outcome another event records.
    pub fn is_start(&self) -> bool {
        self.status.eq_ignore_ascii_case("Started") || self.status.eq_ignore_ascii_case("Accepted")
    }
}

fn role_change(e: &Value, resource_id: &str, operation: &str) -> Option<RoleChange> {
    let lower = resource_id.to_ascii_lowercase();
    let at = lower.find("/providers/microsoft.authorization/roleassignments/")?;
    let scope = resource_id[..at].to_string();
    let assignment = ids::last_segment(resource_id);
    // The create body is PascalCase (`Properties.PrincipalId`); the delete response is the
    // deleted assignment in ARM's camelCase. Keys are compared without case.
    let body = ["/properties/requestbody", "/properties/responseBody"]
        .iter()
        .filter_map(|p| json::string(e, p))
        .filter_map(|text| serde_json::from_str::<Value>(&text).ok())
        .find(|b| field(b, "principalId").is_some());
    let role_guid = body
        .as_ref()
        .and_then(|b| field(b, "roleDefinitionId"))
        .map(|id| ids::last_segment(&id).to_ascii_lowercase());
    Some(RoleChange {
        deleted: operation.to_ascii_lowercase().ends_with("/delete"),
        assignment: assignment.to_ascii_lowercase(),
        scope: if scope.is_empty() { "/".into() } else { scope },
        principal: body
            .as_ref()
            .and_then(|b| field(b, "principalId"))
            .map(|p| p.to_ascii_lowercase()),
        role_guid,
    })
}

/// `properties.<key>` of an assignment body, with keys compared without case.
fn field(body: &Value, key: &str) -> Option<String> {
    let get = |v: &Value, k: &str| -> Option<Value> {
        v.as_object()?
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    let properties = get(body, "properties")?;
    get(&properties, key)?.as_str().map(str::to_string)
}
