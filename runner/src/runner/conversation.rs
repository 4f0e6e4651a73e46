//! What the runner's core and a standalone [`MessageThread`](super::MessageThread)
//! share about one conversation's requests: each is planned on the message
//! thread and carries what the fallback models need; each reply or error is
//! taken in by both.

use crate::client::Request;
use crate::error::Error;
use crate::toolset::Toolset;
use crate::types::{Message, MessageParams};

use super::caching::{CachePlan, PromptCaching};
use super::fallback::Fallbacks;
use super::request::{Messages, RequestBuilder, Wire};
use super::thread::{MESSAGE_THREADS_BETA, ThreadState, without_cache_control};

/// The request field that redeems a refusal's credit on the next model.
const FALLBACK_CREDIT_TOKEN: &str = "fallback_credit_token";

/// The request for `params` as the conversation stands: on a thread, only
/// what the server lacks; without one, marked for prompt caching as
/// `caching` says; after a refusal, with its credit token. `touched` says
/// the caller may have changed what the server holds since the last reply.
#[allow(
    clippy::too_many_arguments,
    reason = "the parts of one conversation, borrowed apart"
)]
pub(crate) fn request(
    params: &mut MessageParams,
    thread: &mut ThreadState,
    fallbacks: &Fallbacks,
    caching: &PromptCaching,
    requests: &mut RequestBuilder,
    declared: &Toolset,
    touched: bool,
) -> Result<Request, Error> {
    if thread.is_threading() && params.extra.contains_key("thread") {
        return Err(Error::invalid_request(
            "`thread` is set in the parameters' extra fields, but it is set for each request from the conversation; to send without a message thread, use `message_threads(false)`",
        ));
    }
    let plan = thread.plan(params, touched);
    // A thread caches by itself; a request without one is marked.
    let cache = match plan.thread {
        None => caching.plan(params, declared),
        Some(_) => CachePlan::default(),
    };
    // Set for this request only: a refusal's token is no part of the
    // conversation.
    let credit = fallbacks.credit();
    if let Some(credit) = &credit {
        params
            .extra
            .insert(FALLBACK_CREDIT_TOKEN.to_owned(), credit.clone());
    }
    let stripped;
    let messages = if plan.strip_cache_control_before > 0 {
        stripped = without_cache_control(&params.messages, plan.strip_cache_control_before)?;
        Messages::Values(&stripped)
    } else if let (Some(last), Some((_, held))) =
        (&cache.last_message, params.messages.split_last())
    {
        Messages::LastChanged(held, last)
    } else {
        Messages::Params(&params.messages[plan.from..])
    };
    let wire = Wire {
        messages,
        system_and_tools: plan.system_and_tools,
        thread: plan.thread.as_ref(),
        beta: plan.beta.then_some(MESSAGE_THREADS_BETA),
        cache_control: cache.cache_control.as_ref(),
        diagnostics: cache.diagnostics.as_ref(),
    };
    let mut request = requests.build(params, declared, wire);
    if credit.is_some() {
        params.extra.shift_remove(FALLBACK_CREDIT_TOKEN);
    }
    if let (Ok(request), Some(beta)) = (&mut request, fallbacks.beta())
        && !request.betas.iter().any(|b| b == beta)
    {
        request.betas.push(beta.to_owned());
    }
    request
}

/// Takes in a reply to the request in flight: `true` when the model
/// refused and the turn goes to a fallback model, so that the reply is not
/// the conversation's and the turn is to be sent again.
pub(crate) fn falls_back_on_reply(
    params: &mut MessageParams,
    thread: &mut ThreadState,
    fallbacks: &mut Fallbacks,
    reply: &Message,
) -> bool {
    // A refusal starts a new thread whatever comes next (the server may
    // hold the refused turn): the fallback model's request creates it.
    thread.on_reply(params, reply);
    fallbacks.on_reply(params, reply).is_some()
}

/// Takes in the error of the request in flight: `true` when it is a thread
/// rejection the thread adjusted for, or an overload that moved the turn to
/// a fallback model, so that the turn is to be sent again rather than the
/// error yielded.
pub(crate) fn recovers_from(
    params: &mut MessageParams,
    thread: &mut ThreadState,
    fallbacks: &mut Fallbacks,
    error: &Error,
) -> bool {
    thread.recovers_from(error) || fallbacks.on_error(params, error).is_some()
}
