//! The agent as a Restate workflow: its handlers, and how Restate discovers
//! them.
//!
//! Written against the SDK's service traits rather than its `#[workflow]`
//! macro, because the macro fixes the workflow's name at compile time and
//! an agent's name is chosen at run time.

use std::collections::HashMap;
use std::sync::Arc;

use restate_sdk::discovery::{
    Handler, HandlerName, HandlerType, InputPayload, OutputPayload, Service, ServiceName,
    ServiceType,
};
use restate_sdk::endpoint::ContextInternal;
use restate_sdk::errors::{HandlerError, TerminalError};
use restate_sdk::service::macro_support::{ServiceBoxFuture, service_definition};
use restate_sdk::service::{IntoServiceDefinition, ServiceDefinition};
use serde_json::Value;

use super::payload::Payload;
use super::run::{self, PENDING_STATE, approval_promise};
use super::{Agent, AgentConfig, ApprovalRequest, PendingApproval};
use crate::error::Error;
use crate::types::Message;

/// The workflow handler that runs the agent, once per run id.
const RUN: &str = "run";
/// The shared handler that answers a deferred call.
const DECIDE: &str = "decide";
/// The shared handler that lists the calls awaiting approval.
const PENDING: &str = "pending";

/// `name` as a Restate service name.
pub(super) fn service_name(name: &str) -> Result<ServiceName, Error> {
    ServiceName::try_from(name)
        .map_err(|e| Error::config(format!("`{name}` cannot name a Restate service: {e}")))
}

impl IntoServiceDefinition for Agent {
    fn into_service_definition(self) -> ServiceDefinition {
        let discovery = discovery(self.inner.service_name.clone());
        service_definition(Workflow(self.inner), discovery)
    }
}

/// Dispatches an invocation to its handler.
struct Workflow(Arc<AgentConfig>);

impl restate_sdk::service::Service for Workflow {
    type Future = ServiceBoxFuture;

    fn handle(&self, ctx: ContextInternal) -> Self::Future {
        let agent = Arc::clone(&self.0);
        Box::pin(async move {
            match ctx.handler_name() {
                RUN => {
                    let (Payload(input), meta) = ctx.input::<Payload<Value>>().await;
                    let result = run::run(&agent, &ctx, input, &meta.key).await.map(Payload);
                    finish(&ctx, result);
                }
                DECIDE => {
                    let (Payload(request), _) = ctx.input::<Payload<ApprovalRequest>>().await;
                    let result = decide(&ctx, request).await;
                    finish(&ctx, result);
                }
                PENDING => {
                    let ((), _) = ctx.input::<()>().await;
                    let result = pending(&ctx).await.map(Payload);
                    finish(&ctx, result);
                }
                _ => {
                    return Err(restate_sdk::endpoint::Error::unknown_handler(
                        ctx.service_name(),
                        ctx.handler_name(),
                    ));
                }
            }
            Ok(())
        })
    }
}

/// Writes the handler's result and ends the invocation.
fn finish<T: restate_sdk::serde::Serialize>(
    ctx: &ContextInternal,
    result: Result<T, HandlerError>,
) {
    ctx.handle_handler_result(result);
    ctx.end();
}

/// Resolves the promise a deferred call waits on.
async fn decide(ctx: &ContextInternal, request: ApprovalRequest) -> Result<(), HandlerError> {
    let waiting = pending(ctx).await?;
    if !waiting.iter().any(|p| p.call_id == request.call_id) {
        return Err(TerminalError::new_with_code(
            404,
            format!("no call `{}` is waiting for approval", request.call_id),
        )
        .into());
    }
    ctx.resolve_promise(
        &approval_promise(&request.call_id),
        Payload(request.approval),
    );
    Ok(())
}

/// The calls awaiting approval.
async fn pending(ctx: &ContextInternal) -> Result<Vec<PendingApproval>, HandlerError> {
    let state = ctx
        .get::<Payload<Vec<PendingApproval>>>(PENDING_STATE)
        .await?;
    Ok(state.map(|Payload(list)| list).unwrap_or_default())
}

/// What Restate learns of the workflow when the endpoint is registered.
fn discovery(name: ServiceName) -> Service {
    let handlers = vec![
        handler(
            RUN,
            HandlerType::Workflow,
            Some(InputPayload::from_metadata::<Payload<Value>>()),
            OutputPayload::from_metadata::<Payload<Message>>(),
            "Runs the agent: the body is the run's input; the answer, the model's last message.",
        ),
        handler(
            DECIDE,
            HandlerType::Shared,
            Some(InputPayload::from_metadata::<Payload<ApprovalRequest>>()),
            OutputPayload::empty(),
            "Approves or denies a deferred tool call: {\"call_id\", \"decision\": \"approve\" | \"deny\", \"message\"}.",
        ),
        handler(
            PENDING,
            HandlerType::Shared,
            Some(InputPayload::empty()),
            OutputPayload::from_metadata::<Payload<Vec<PendingApproval>>>(),
            "Lists the tool calls waiting for approval.",
        ),
    ];
    Service {
        ty: ServiceType::Workflow,
        name,
        handlers,
        documentation: Some("An agent run by toolrunner: one workflow per run.".to_owned()),
        metadata: HashMap::default(),
        abort_timeout: None,
        inactivity_timeout: None,
        journal_retention: None,
        idempotency_retention: None,
        enable_lazy_state: None,
        ingress_private: None,
        retry_policy_initial_interval: None,
        retry_policy_max_interval: None,
        retry_policy_max_attempts: None,
        retry_policy_exponentiation_factor: None,
        retry_policy_on_max_attempts: None,
    }
}

fn handler(
    name: &str,
    ty: HandlerType,
    input: Option<InputPayload>,
    output: OutputPayload,
    documentation: &str,
) -> Handler {
    Handler {
        name: HandlerName::try_from(name).expect("the handler names are valid"),
        input,
        output: Some(output),
        ty: Some(ty),
        documentation: Some(documentation.to_owned()),
        metadata: HashMap::default(),
        abort_timeout: None,
        inactivity_timeout: None,
        journal_retention: None,
        idempotency_retention: None,
        workflow_completion_retention: None,
        enable_lazy_state: None,
        ingress_private: None,
        retry_policy_initial_interval: None,
        retry_policy_max_interval: None,
        retry_policy_max_attempts: None,
        retry_policy_exponentiation_factor: None,
        retry_policy_on_max_attempts: None,
    }
}
