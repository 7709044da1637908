//! Time-stamped evidence: Container Apps system log rows and activity-log events.

use super::json;
use crate::logs::{self, LogEvent};
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
}

/// One activity-log event on the app (`eventtypes/management/values`).
#[derive(Debug, Clone)]
pub struct ActivityEvent {
    pub time: OffsetDateTime,
    /// `operationName.value`, e.g. `Microsoft.App/containerApps/write`.
    pub operation: String,
    /// `status.value`: `Started|Accepted|Succeeded|Failed`.
    pub status: String,
    pub caller: Option<String>,
    /// The ARM error of a failed write, from `properties.statusMessage` (a JSON string).
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

impl ActivityEvent {
    pub fn parse_list(body: &Value) -> Vec<ActivityEvent> {
        let mut events: Vec<ActivityEvent> = json::array(body, "/value")
            .iter()
            .filter_map(|e| {
                let status_message: Option<Value> = json::string(e, "/properties/statusMessage")
                    .and_then(|m| serde_json::from_str(&m).ok());
                Some(ActivityEvent {
                    time: json::time(e, "/eventTimestamp")?,
                    operation: json::string(e, "/operationName/value")?,
                    status: json::string(e, "/status/value").unwrap_or_default(),
                    caller: json::string(e, "/caller"),
                    error_code: status_message
                        .as_ref()
                        .and_then(|m| json::string(m, "/error/code")),
                    error_message: status_message
                        .as_ref()
                        .and_then(|m| json::string(m, "/error/message")),
                })
            })
            .collect();
        events.sort_by_key(|e| std::cmp::Reverse(e.time));
        events
    }

    /// A completed, successful write to the app itself (not a revision action).
    pub fn is_successful_app_write(&self) -> bool {
        self.status.eq_ignore_ascii_case("Succeeded")
            && (self
                .operation
                .eq_ignore_ascii_case("Microsoft.App/containerApps/write")
                || self
                    .operation
                    .eq_ignore_ascii_case("Microsoft.App/jobs/write"))
    }

    /// A successful revision restart or activation (recreates replicas).
    pub fn is_successful_restart(&self) -> bool {
        let op = self.operation.to_ascii_lowercase();
        self.status.eq_ignore_ascii_case("Succeeded")
            && (op.ends_with("/revisions/restart/action")
                || op.ends_with("/revisions/activate/action"))
    }
}
