//! Revisions of a Container App (`.../containerApps/{app}/revisions`).
//!
//! A revision's `template` is the snapshot taken when it was created: it, not the app's current
//! template, says what a running revision references: a revision is an immutable snapshot of
//! the app's template (https://learn.microsoft.com/azure/container-apps/revisions).

use super::json;
use super::workload::Template;
use serde_json::Value;
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct Revision {
    pub name: String,
    pub created: Option<OffsetDateTime>,
    pub active: bool,
    pub replicas: Option<i64>,
    pub traffic_weight: i64,
    pub health_state: Option<String>,
    /// `Provisioning|Provisioned|Failed|Deprovisioning|Deprovisioned`.
    pub provisioning_state: Option<String>,
    /// Open string: the service returns values outside the spec enum (`ActivationFailed`).
    pub running_state: Option<String>,
    pub running_state_details: Option<String>,
    pub provisioning_error: Option<String>,
    pub template: Template,
}

impl Revision {
    pub fn parse(body: &Value) -> Option<Revision> {
        Some(Revision {
            name: json::string(body, "/name")?,
            created: json::time(body, "/properties/createdTime"),
            active: json::boolean(body, "/properties/active").unwrap_or(false),
            replicas: json::integer(body, "/properties/replicas"),
            traffic_weight: json::integer(body, "/properties/trafficWeight").unwrap_or(0),
            health_state: json::string(body, "/properties/healthState"),
            provisioning_state: json::string(body, "/properties/provisioningState"),
            running_state: json::string(body, "/properties/runningState"),
            running_state_details: json::string(body, "/properties/runningStateDetails"),
            provisioning_error: json::string(body, "/properties/provisioningError"),
            template: body
                .pointer("/properties/template")
                .map(Template::parse)
                .unwrap_or_default(),
        })
    }

    /// Parses a list response (`{value: [...]}`).
    pub fn parse_list(body: &Value) -> Vec<Revision> {
        json::array(body, "/value")
            .iter()
            .filter_map(Revision::parse)
            .collect()
    }

    /// The first `createdTime` of a list response that is present but unusable, for a gap.
    pub fn unusable_time(body: &Value) -> Option<String> {
        (0..json::array(body, "/value").len()).find_map(|i| {
            json::unusable(body, &format!("/value/{i}/properties/createdTime"), false)
        })
    }

    /// True when provisioning or running failed.
    pub fn failed(&self) -> bool {
        let is_failed = |s: &Option<String>| {
            s.as_deref().is_some_and(|s| {
                s.eq_ignore_ascii_case("Failed") || s.eq_ignore_ascii_case("ActivationFailed")
            })
        };
        is_failed(&self.provisioning_state) || is_failed(&self.running_state)
    }

    /// True when this revision can be serving: active, not failed, and with traffic (in
    /// `Single` mode the one active revision serves whatever the weights say).
    pub fn serving(&self, single_mode: bool) -> bool {
        self.active && !self.failed() && (self.traffic_weight > 0 || single_mode)
    }

    /// The platform's own words about why the revision is unhealthy, if any.
    pub fn failure_text(&self) -> Option<&str> {
        self.provisioning_error
            .as_deref()
            .or(self.running_state_details.as_deref())
    }
}
