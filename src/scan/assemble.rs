//! One workload's evidence bundle, assembled from the fleet's shared reads.
//!
//! Resource Graph rows are the ARM GET payloads of the resources, so each read `check` makes is
//! answered here with what the fleet already holds: the workload's own row for `GET {app}`, the
//! environment's and the vaults' rows for theirs, the assignments of `authorizationresources`
//! that are at or above a scope for `atScope() and assignedTo(p)` (replaced by ARM's own answer
//! whenever the scan asked ARM, which expands groups), a vault's ARM secret list for the secret
//! metadata, the workspace's query for the system logs, the subscription's activity log for the
//! app's. A shared read that failed answers every workload it would have served with that
//! failure, so each gets the gap; nothing is made up where nothing was read. The bundle then
//! goes through the one snapshot builder and the one `diagnose`.

use super::fleet::{Fleet, Row};
use crate::azure::ids;
use crate::bundle::{BUNDLE_VERSION, Bundle, Response, Route, Target};
use crate::plan::Request;
use crate::snapshot::{Environment, KvReference, Read, Snapshot, Workload, WorkloadKind};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// What `stale_revision` is told when the scan did not read revisions.
pub const REVISIONS_UNSEEN: &str = "revisions are not in Azure Resource Graph and a scan reads none (`kvdiag scan --deep` or `kvdiag check` reads them)";

/// An answer the fleet already holds, recorded as the read `check` would have made.
fn answered(request: &Request, body: Value) -> Response {
    Response {
        status: Some(200),
        body: Some(body),
        ..request.recorded()
    }
}

/// The read `check` would have made, failed the way the shared read that covers it failed.
fn failed_like(request: &Request, failure: &Response, shared: &str) -> Response {
    let what = failure
        .error
        .clone()
        .or_else(|| {
            failure.status.map(|s| {
                let code = failure
                    .error_code()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default();
                format!("{s}{code}")
            })
        })
        .unwrap_or_else(|| "no answer".into());
    Response {
        status: failure.status,
        error: Some(format!("{shared} failed ({what})")),
        headers: failure.headers.clone(),
        ..request.recorded()
    }
}

/// The target of a workload row.
pub fn target_of(row: &Row) -> Target {
    // Fleet rows are apps and jobs only (fleet.rs).
    let (app, job) = match row.kind {
        WorkloadKind::Job => (None, Some(row.name.clone())),
        WorkloadKind::App | WorkloadKind::Environment => (Some(row.name.clone()), None),
    };
    Target {
        subscription: row.subscription.clone(),
        resource_group: row.resource_group.clone(),
        app,
        job,
        environment: None,
    }
}

/// True for a workload with Key Vault consumers a scan does not assemble from the fleet's
/// shared reads: certificates its custom domains bind (in Resource Graph, but fetched with the
/// environment's identity from vaults only the certificate names; not assembled yet) and Dapr
/// components (not in Resource Graph at all). Such a workload is read as `check` reads it, so
/// its verdict is `check`'s, at `check`'s cost.
pub fn beyond_shared_reads(w: &Workload) -> bool {
    !w.certificate_ids().is_empty() || w.dapr.enabled
}

/// The bundle `check` would have collected for this workload, from the fleet's reads.
pub fn bundle_for(row: &Row, fleet: &Fleet) -> Bundle {
    let target = target_of(row);
    let is_job = row.kind == WorkloadKind::Job;
    let mut out = vec![answered(
        &Request::workload(target.resource_id(), is_job),
        row.body.clone(),
    )];
    if let Some(w) = &row.workload {
        environment(w, row, fleet, &mut out);
        identities(w, fleet, &mut out);
        let refs = KvReference::all_of(w);
        vaults(w, &refs, fleet, &mut out);
        activity(&target, fleet, &mut out);
    }
    Bundle {
        kvdiag_bundle: BUNDLE_VERSION,
        description: None,
        target,
        collected_at: crate::azure::time::display(fleet.now),
        responses: out,
    }
}

/// The snapshot of one workload: built like every other, then told which reads a scan does not
/// make (revisions; version lists of versionless references), so those say "not read" instead
/// of "missing from the bundle".
pub fn snapshot_for(row: &Row, fleet: &Fleet) -> Snapshot {
    let mut bundle = bundle_for(row, fleet);
    // As `check` does: whatever a row held that is a value (Resource Graph should hold none)
    // never reaches the snapshot.
    crate::bundle::redact(&mut bundle);
    let mut snapshot = Snapshot::build(&bundle, Some(fleet.now));
    let not_collected = |gap: &crate::snapshot::Gap| {
        gap.status.is_none() && gap.why.starts_with("not in the evidence bundle")
    };
    if row.kind == WorkloadKind::App && snapshot.workload.ok().is_some() {
        let revisions = Request::revisions(&snapshot.target.resource_id()).describe();
        if matches!(&snapshot.revisions, Read::Unavailable(g) if g.request == revisions && not_collected(g))
        {
            snapshot.revisions = Read::NotRead(REVISIONS_UNSEEN.into());
            snapshot.gaps.retain(|g| g.request != revisions);
        }
    }
    let mut dropped = Vec::new();
    for read in snapshot.secret_versions.values_mut() {
        if let Read::Unavailable(g) = read
            && not_collected(g)
        {
            dropped.push(g.request.clone());
            *read = Read::NotRead(
                "a scan reads each vault's secret list (ARM), not per-secret version lists".into(),
            );
        }
    }
    snapshot
        .gaps
        .retain(|g| !(not_collected(g) && dropped.contains(&g.request)));
    snapshot
}

fn environment(w: &Workload, row: &Row, fleet: &Fleet, out: &mut Vec<Response>) {
    let Some(env_id) = w
        .environment_id
        .as_deref()
        .and_then(crate::collect::environment_id)
    else {
        return;
    };
    let request = Request::environment(env_id.as_str());
    let key = ids::normalize(&env_id);
    let env_body = match fleet.environments.get(&key) {
        Some(Ok(body)) => {
            out.push(answered(&request, body.clone()));
            Some(body.clone())
        }
        Some(Err(failure)) => {
            out.push(failed_like(
                &request,
                failure,
                "the Resource Graph page of environments",
            ));
            None
        }
        None => {
            let direct = fleet.direct(&Route::Environment { id: key.clone() });
            let body = direct.filter(|r| r.ok()).and_then(|r| r.body.clone());
            out.extend(direct.cloned());
            body
        }
    };
    let Some(workspace) = env_body
        .as_ref()
        .and_then(Environment::parse)
        .and_then(|e| e.workspace)
        .filter(|w| ids::is_guid(w))
    else {
        return;
    };
    let Some(logs) = fleet.logs.get(&workspace.to_ascii_lowercase()) else {
        return;
    };
    let (start, now) = fleet.span();
    let request = Request::system_logs(
        &workspace,
        row.kind == WorkloadKind::Job,
        &row.name,
        Some((&start, &now)),
    );
    if !logs.ok() {
        out.push(failed_like(
            &request,
            logs,
            "the workspace's system-log query",
        ));
        return;
    }
    out.push(Response {
        body: logs.body.as_ref().map(|b| logs_of(b, row)),
        ..answered(&request, Value::Null)
    });
}

/// The workspace's answer cut down to one workload's rows (at most 500, newest first, as
/// `check`'s own query takes), keeping a partial-result error if the query had one.
fn logs_of(body: &Value, row: &Row) -> Value {
    let subject = match row.kind {
        WorkloadKind::Job => ["JobName_s", "JobName"],
        WorkloadKind::App | WorkloadKind::Environment => ["ContainerAppName_s", "ContainerAppName"],
    };
    let Some(table) = body.pointer("/tables/0") else {
        return body.clone();
    };
    let columns = table.get("columns").cloned().unwrap_or(Value::Null);
    let names: Vec<&str> = columns
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c.get("name").and_then(Value::as_str).unwrap_or(""))
        .collect();
    let at: Vec<usize> = subject
        .iter()
        .filter_map(|s| names.iter().position(|c| c.eq_ignore_ascii_case(s)))
        .collect();
    // Only this workload's rows are copied: a workspace's answer serves many workloads.
    let rows: Vec<Value> = table
        .get("rows")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| {
            at.iter().any(|i| {
                r.get(*i)
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(&row.name))
            })
        })
        .take(500)
        .cloned()
        .collect();
    let mut out = json!({"tables": [{"name": table.get("name").cloned().unwrap_or(Value::Null), "columns": columns, "rows": rows}]});
    // A partial result's error stays with every workload it may have cut short.
    if let Some(error) = body.get("error") {
        out["error"] = error.clone();
    }
    out
}

fn identities(w: &Workload, fleet: &Fleet, out: &mut Vec<Response>) {
    for id in w.user_identity_ids() {
        let Some(valid) =
            ids::resource_of_type(&id, "Microsoft.ManagedIdentity", "userAssignedIdentities")
        else {
            continue;
        };
        let key = ids::normalize(&valid);
        let request = Request::identity(id.as_str());
        match fleet.identities.get(&key) {
            Some(Ok(body)) => out.push(answered(&request, body.clone())),
            Some(Err(failure)) => out.push(failed_like(
                &request,
                failure,
                "the Resource Graph page of user-assigned identities",
            )),
            None => out.extend(
                fleet
                    .direct(&Route::UserAssignedIdentity { id: key })
                    .cloned(),
            ),
        }
    }
}

/// Vault lookup, vaults, secret metadata, pinned version lists, role and deny assignments,
/// custom roles and each vault group's activity log.
fn vaults(w: &Workload, refs: &[KvReference], fleet: &Fleet, out: &mut Vec<Response>) {
    let names = KvReference::vault_names(refs);
    if names.is_empty() {
        return;
    }
    let list: Vec<String> = names.iter().cloned().collect();
    let lookup = Request::vault_lookup(&list);
    let failure = names.iter().find_map(|n| fleet.vault_lookup_failed.get(n));
    let found: Vec<&Value> = names.iter().filter_map(|n| fleet.vaults.get(n)).collect();
    match failure {
        Some(failure) => out.push(failed_like(
            &lookup,
            failure,
            "the Resource Graph page of vaults",
        )),
        None => {
            let rows: Vec<Value> = found
                .iter()
                .map(|v| json!({"id": v.get("id"), "name": v.get("name")}))
                .collect();
            out.push(answered(&lookup, json!({"totalRecords": rows.len(), "count": rows.len(), "data": rows, "resultTruncated": "false"})));
        }
    }
    let principals = w.identity.principals();
    let mut groups = BTreeSet::new();
    for vault in found {
        let Some(id) = vault.get("id").and_then(Value::as_str) else {
            continue;
        };
        let vault_key = ids::normalize(id);
        out.push(answered(&Request::vault(id), vault.clone()));
        if let Some(group) = crate::snapshot::resource_group_of(id) {
            groups.insert(group);
        }
        let name = ids::last_segment(id);
        let secrets = fleet.direct(&Route::VaultSecretList {
            vault_id: vault_key.clone(),
        });
        let mine: Vec<&KvReference> = refs
            .iter()
            .filter(|r| r.parsed.as_ref().is_ok_and(|p| p.vault == name))
            .collect();
        for r in &mine {
            let Ok(p) = &r.parsed else { continue };
            out.push(secret_metadata(id, &p.secret, secrets));
            out.extend(
                fleet
                    .direct(&Route::SecretVersions {
                        host: p.host.clone(),
                        secret: p.secret.to_ascii_lowercase(),
                    })
                    .cloned(),
            );
        }
        for (principal, _) in &principals {
            out.push(role_listing(id, principal, fleet));
        }
        for r in &mine {
            if let (Ok(p), Some(principal)) = (&r.parsed, &r.principal) {
                out.push(role_listing(
                    &format!("{id}/secrets/{}", p.secret),
                    principal,
                    fleet,
                ));
            }
        }
        out.extend(
            fleet
                .direct(&Route::DenyAssignments {
                    scope: vault_key.clone(),
                })
                .cloned(),
        );
    }
    out.extend(fleet.role_definitions.iter().cloned());
    for group in groups {
        out.extend(
            fleet
                .direct(&Route::ActivityLog {
                    resource_group: Some(group),
                })
                .cloned(),
        );
    }
}

/// A secret's ARM metadata from its vault's secret list: the item, a 404 when a complete list
/// does not hold it, the list's failure otherwise.
fn secret_metadata(vault_id: &str, secret: &str, list: Option<&Response>) -> Response {
    let request = Request::vault_secret(vault_id, secret);
    let Some(list) = list else {
        return request.recorded();
    };
    if !list.ok() {
        return failed_like(&request, list, "the vault's secret list");
    }
    let body = list.body.as_ref();
    let items = body.and_then(|b| b.get("value")).and_then(Value::as_array);
    let Some(items) = items else {
        return Response {
            error: Some("decode: the vault's secret list is not a list".into()),
            ..request.recorded()
        };
    };
    if let Some(item) = items.iter().find(|i| {
        i.get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case(secret))
    }) {
        return answered(&request, item.clone());
    }
    if body
        .and_then(|b| b.get("nextLink"))
        .is_some_and(|l| !l.is_null())
    {
        return Response {
            error: Some(format!(
                "the vault's secret list is longer than a scan reads ({} secrets read); `kvdiag check` reads this secret directly",
                items.len()
            )),
            ..request.recorded()
        };
    }
    Response {
        status: Some(404),
        body: Some(json!({"error": {"message": format!(
            "the vault's secret list ({} secrets, read with ARM) has no secret named '{secret}'",
            items.len()
        )}})),
        ..request.recorded()
    }
}

/// `atScope() and assignedTo(principal)` at `scope`: ARM's own answer when the scan asked it,
/// else the Resource Graph assignments of that principal at or above the scope.
fn role_listing(scope: &str, principal: &str, fleet: &Fleet) -> Response {
    let request = Request::role_assignments(scope, principal);
    let key = ids::normalize(scope);
    if let Some(direct) = fleet.direct(&Route::RoleAssignments {
        scope: key.clone(),
        principal: Some(principal.to_ascii_lowercase()),
    }) {
        return direct.clone();
    }
    // The vault of a vault or secret scope: its first eight segments.
    let segments: Vec<&str> = key.trim_start_matches('/').split('/').collect();
    let vault = match segments.get(..8) {
        Some(head) => format!("/{}", head.join("/")),
        None => key.clone(),
    };
    // A secret's listing from ARM's answer at its vault (everything above the secret) and
    // Resource Graph's rows at the secret itself (asked of ARM directly when a group is
    // assigned there).
    if vault != key
        && let Some(above) = fleet.direct(&Route::RoleAssignments {
            scope: vault.clone(),
            principal: Some(principal.to_ascii_lowercase()),
        })
    {
        if !above.ok() {
            return failed_like(&request, above, "ARM's role assignments at the vault");
        }
        let mut value: Vec<Value> = above
            .body
            .as_ref()
            .and_then(|b| b.get("value"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        value.extend(
            fleet
                .assignments_of(principal, &key)
                .filter(|a| {
                    a.pointer("/properties/scope")
                        .and_then(Value::as_str)
                        .is_some_and(|s| ids::normalize(s) == key)
                })
                .cloned(),
        );
        return answered(&request, json!({"value": value}));
    }
    if let Some(failure) = fleet.assignments_failed.get(&vault) {
        return failed_like(
            &request,
            failure,
            "the Resource Graph page of role assignments",
        );
    }
    let value: Vec<Value> = fleet.assignments_of(principal, &key).cloned().collect();
    answered(&request, json!({"value": value}))
}

/// The app's activity log: the events of the subscription's Microsoft.App read on this
/// workload (its id, or a resource below it).
fn activity(target: &Target, fleet: &Fleet, out: &mut Vec<Response>) {
    let id = target.resource_id();
    let (start, now) = fleet.span();
    let request = Request::app_activity(&target.subscription, &id, Some((&start, &now)));
    let Some(read) = fleet
        .activity
        .get(&target.subscription.to_ascii_lowercase())
    else {
        return;
    };
    if !read.ok() {
        out.push(failed_like(
            &request,
            read,
            "the subscription's activity log",
        ));
        return;
    }
    let events: Vec<Value> = read
        .body
        .as_ref()
        .and_then(|b| b.get("value"))
        .and_then(Value::as_array)
        .map(|all| {
            all.iter()
                .filter(|e| {
                    e.get("resourceId")
                        .and_then(Value::as_str)
                        .is_some_and(|r| ids::covers(&id, r))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    out.push(answered(&request, json!({"value": events})));
}
