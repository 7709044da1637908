//! `dapr-secret-store-undeclared` (warning): a Dapr component's `secretStoreComponent` names no
//! component the same template declares.
//!
//! **Azure rule.** `secretStoreComponent` names another Dapr component of the same environment
//! that serves the component's `secretRef`s (docs/azure.md#dapr-components). When it does not
//! exist, every `secretRef` of the component fails to resolve.
//!
//! **Why a warning.** The store may already exist in the environment, deployed by another
//! template: only `kvdiag check` on a running app sees the environment. So the rule reads ARM
//! templates only (a CLI YAML file holds one component), and only a literal name.

use super::{Ctx, Rule};
use crate::lint::finding::{Finding, Severity};
use crate::lint::{Form, ResourceKind};
use crate::verdict::Remediation;

pub const RULE: Rule = Rule {
    id: "dapr-secret-store-undeclared",
    severity: Severity::Warning,
    summary: "a Dapr component's secretStoreComponent names no component of the same template: unless it exists in the environment, its secretRefs fail",
    help: include_str!("../../../docs/rules/dapr-secret-store-undeclared.md"),
    check: Some(check),
};

fn check(ctx: &Ctx) -> Vec<Finding> {
    if ctx.resource.form != Form::ArmTemplate {
        return Vec::new();
    }
    let Some(component) = ctx.dapr_component() else {
        return Vec::new();
    };
    let pointer = "/properties/secretStoreComponent";
    let Some(store) = component.secret_store.as_deref() else {
        return Vec::new();
    };
    if ctx.unresolved(pointer) {
        return Vec::new();
    }
    let (environment, _) = ctx.resource.environment_and_name();
    let declared = ctx
        .siblings
        .iter()
        .filter(|r| r.kind == ResourceKind::DaprComponent)
        .map(|r| r.environment_and_name())
        .any(|(env, name)| {
            name.eq_ignore_ascii_case(store)
                && (env.is_none()
                    || environment.is_none()
                    || env.is_some_and(|e| {
                        environment.is_some_and(|mine| e.eq_ignore_ascii_case(mine))
                    }))
        });
    if declared {
        return Vec::new();
    }
    let env = environment.unwrap_or("the environment");
    vec![
        ctx.finding(
            &RULE,
            pointer,
            format!(
                "Dapr component '{}' takes its secrets from secret store '{store}', which this template does not declare; unless '{store}' already exists in {env}, its secretRefs do not resolve",
                component.name
            ),
        )
        .fix(Remediation::run(
            format!("check that '{store}' exists in the environment, or declare it in this template"),
            format!(
                "az containerapp env dapr-component show --name {} --dapr-component-name {} --resource-group <rg>",
                crate::checks::commands::q(environment.unwrap_or("<environment>")),
                crate::checks::commands::q(store)
            ),
        )),
    ]
}
