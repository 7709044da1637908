//! Gaps: evidence kvdiag needed and could not read, with the permission that would fix it.

use crate::bundle::{Response, Route};
use serde::Serialize;

/// A read that failed or is missing. `status` is absent when no HTTP answer came or the
/// request is not in the bundle at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub request: String,
    pub status: Option<u16>,
    pub why: String,
    pub needs: String,
}

impl Gap {
    /// A gap for a recorded response that is not a success.
    pub fn from_response(response: &Response, route: &Route) -> Gap {
        let why = match (response.status, &response.error) {
            (_, Some(error)) => format!("no response ({error})"),
            (Some(status), None) => {
                let code = response
                    .error_code()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default();
                let message = response
                    .error_message()
                    .map(|m| format!(": {}", shorten(m)))
                    .unwrap_or_default();
                format!("{status}{code}{message}")
            }
            (None, None) => "no status".to_string(),
        };
        Gap {
            request: response.request_line(),
            status: response.status,
            why,
            needs: needs(route, response.status),
        }
    }

    /// The request without the subscription/resource-group prefix, for one-line evidence:
    /// `GET …/vaults/kv/providers/Microsoft.Authorization/roleAssignments?$filter=…`.
    pub fn short_request(&self) -> String {
        let lower = self.request.to_ascii_lowercase();
        match lower
            .find("/providers/microsoft.keyvault/")
            .or_else(|| lower.find("/providers/microsoft.app/"))
        {
            Some(at) => {
                let method_end = self.request.find(' ').map_or(0, |i| i + 1);
                let tail = &self.request[at + "/providers/".len()..];
                let tail = tail.split_once('/').map_or(tail, |(_, rest)| rest);
                format!("{}…/{tail}", &self.request[..method_end])
            }
            None => self.request.clone(),
        }
    }

    /// A gap for a read that the bundle does not hold.
    pub fn missing(request: String, route: &Route) -> Gap {
        Gap {
            request,
            status: None,
            why: "not in the evidence bundle (not collected)".into(),
            needs: needs(route, None),
        }
    }

    /// A gap for a 2xx response holding a time kvdiag needs that is present but unusable:
    /// garbled, or outside the calendar (past year 9999 in UTC, unix seconds beyond any date).
    /// `field` names it with its value; `whole` says the response was not used at all (the
    /// evidence rests on its times), else only the time was taken as unknown.
    pub fn out_of_range(response: &Response, field: &str, whole: bool) -> Gap {
        let consequence = if whole {
            "nothing in this response is used"
        } else {
            "it is taken as unknown"
        };
        Gap {
            request: response.request_line(),
            status: response.status,
            why: format!(
                "timestamp out of range: {field} is not a time kvdiag can read; {consequence}"
            ),
            needs: "no permission: Azure recorded a time kvdiag cannot use; read it again, or look at the field with az".into(),
        }
    }

    /// A gap for a 2xx response whose body could not be understood.
    pub fn malformed(response: &Response, route: &Route, what: &str) -> Gap {
        Gap {
            request: response.request_line(),
            status: response.status,
            why: format!("the response body is not a {what}"),
            needs: needs(route, response.status),
        }
    }
}

/// What would make a read succeed: the permission for 401/403, patience for throttling and
/// server errors, the permission otherwise (a missing read is collected with that permission).
fn needs(route: &Route, status: Option<u16>) -> String {
    match status {
        Some(429) => return "retry later (throttled); Azure answered 429".into(),
        Some(500..=599) => return "retry later (Azure answered with a server error)".into(),
        Some(401) => {
            return "a token for the right tenant and cloud (az login --tenant <tenant>)".into();
        }
        _ => {}
    }
    route
        .kind()
        .map_or("read access to this resource", |k| k.spec().needs)
        .to_string()
}

/// Keeps gap text to one readable line.
fn shorten(message: &str) -> String {
    crate::logs::one_line(message, 300)
}
