//! Job executions (`GET {job}/executions`): what the latest runs of a Container Apps job did.
//!
//! A job has no revisions; its executions are the runs that succeeded or failed on the secret
//! values of their time. `status` is one of `Running|Processing|Stopped|Degraded|Failed|Unknown|
//! Succeeded`; an execution may stay `Running` until the replica timeout, and a scaler that
//! fails creates no execution at all (docs/azure.md#job-executions).

use super::json;
use serde_json::Value;
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct JobExecution {
    pub name: String,
    pub status: Option<String>,
    pub start: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
}

impl JobExecution {
    /// Every execution of a list page (`value[]`), newest start first.
    pub fn parse_list(body: &Value) -> Vec<JobExecution> {
        let mut all: Vec<JobExecution> = json::array(body, "/value")
            .iter()
            .filter_map(|e| {
                Some(JobExecution {
                    name: json::string(e, "/name")?,
                    status: json::string(e, "/properties/status"),
                    start: json::time(e, "/properties/startTime"),
                    end: json::time(e, "/properties/endTime"),
                })
            })
            .collect();
        all.sort_by_key(|e| std::cmp::Reverse(e.start));
        all
    }

    /// The first start or end time of a page that is present but unusable, for a gap.
    pub fn unusable_time(body: &Value) -> Option<String> {
        (0..json::array(body, "/value").len()).find_map(|i| {
            ["startTime", "endTime"]
                .iter()
                .find_map(|f| json::unusable(body, &format!("/value/{i}/properties/{f}"), false))
        })
    }

    pub fn failed(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("Failed") || s.eq_ignore_ascii_case("Degraded"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_rest_spec_example() {
        // Job_Executions_Get.json (Microsoft.App 2025-07-01), trimmed to what is read.
        let body = serde_json::json!({"value": [
            {"name": "testcontainerAppJob-27944454", "properties": {"status": "Running",
             "startTime": "2023-02-13T20:37:30+00:00", "endTime": "2023-02-13T20:47:30+00:00"}},
            {"name": "older", "properties": {"status": "Failed", "startTime": "2023-02-12T20:37:30+00:00"}}
        ], "nextLink": null});
        let all = JobExecution::parse_list(&body);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].name, "testcontainerAppJob-27944454");
        assert!(!all[0].failed() && all[1].failed());
        assert!(all[1].end.is_none());
    }
}
