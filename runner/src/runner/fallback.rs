//! Fallback models: a turn the model refused, or one the API was too
//! overloaded to answer, is sent again to the next model of a list.
//!
//! This is the client-side fallback of the official SDKs' refusal-fallback
//! middleware, carried by the loop's core rather than by a middleware: the
//! turn is sent again with the same history and the next model, carrying
//! the refusal's `fallback_credit_token` (`{"token": ..., "mode":
//! "best_effort"}`, so that a token the server cannot redeem does not fail
//! the turn) under the beta `fallback-credit-2026-07-01`, which every
//! request of a run with fallbacks carries so that refusals mint one. The
//! refused reply never enters the history. The model that took the turn
//! stays for the rest of the conversation, as the SDK's `BetaFallbackState`
//! pins it: the models before it in the list refused already.
//!
//! The SDK falls back on refusals only and passes capacity errors through;
//! an overload is here a trigger too (status 529, or an
//! `overloaded_error` in a stream), once the client's own retries are used
//! up, since another model may have capacity when this one has none. A
//! rate limit (429) is not: it is the account's, and waiting is the cure.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::Error;
use crate::types::{Message, MessageParams, StopReason, Thinking};

/// The beta under which refusals carry a `fallback_credit_token`.
pub(crate) const FALLBACK_CREDIT_BETA: &str = "fallback-credit-2026-07-01";

/// The fallback models of a conversation, and the credit token a refusal
/// left for the next request. A run state keeps both: the list is the
/// run's, and a run stopped between a refusal and its resend still owes
/// the next model the token. Which model the run is on is the request's
/// `model`, kept with the parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Fallbacks {
    models: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credit: Option<String>,
}

/// Why a turn moved to the next model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// The model refused (`stop_reason: "refusal"`), in this policy
    /// category if the API named one.
    Refusal { category: Option<String> },
    /// The API was overloaded.
    Overloaded,
}

impl Trigger {
    fn as_str(&self) -> &'static str {
        match self {
            Trigger::Refusal { .. } => "refusal",
            Trigger::Overloaded => "overloaded",
        }
    }
}

/// One move to the next model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hop {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) trigger: Trigger,
}

impl Fallbacks {
    /// Falls back to `models`, in order; an empty list turns fallbacks off.
    pub(crate) fn new(models: Vec<String>) -> Self {
        Fallbacks {
            models,
            credit: None,
        }
    }

    /// Falls back to `models` from now on, in place of the list before; a
    /// credit token not yet redeemed is kept for the next request (it is
    /// the refused turn's, whatever the list), unless the list is empty
    /// (the beta it needs is then not sent).
    pub(crate) fn set_models(&mut self, models: Vec<String>) {
        self.models = models;
        if !self.is_on() {
            self.credit = None;
        }
    }

    /// Whether there is any fallback model at all.
    pub(crate) fn is_on(&self) -> bool {
        !self.models.is_empty()
    }

    /// Whether there is no fallback model (a run state then leaves the
    /// list out).
    pub(crate) fn is_off(&self) -> bool {
        !self.is_on()
    }

    /// The beta every request carries while fallbacks are on.
    pub(crate) fn beta(&self) -> Option<&'static str> {
        self.is_on().then_some(FALLBACK_CREDIT_BETA)
    }

    /// Takes in a reply: on a refusal with a model left to try, `params`
    /// move to that model and the hop is returned; the reply is then not
    /// the turn's, and the request is to be sent again.
    pub(crate) fn on_reply(&mut self, params: &mut MessageParams, reply: &Message) -> Option<Hop> {
        // A token is for the request right after its refusal only.
        self.credit = None;
        if reply.stop_reason != Some(StopReason::Refusal) {
            return None;
        }
        let details = reply
            .extra
            .get("stop_details")
            .filter(|d| d.get("type").and_then(Value::as_str) == Some("refusal"));
        let field = |name: &str| {
            details
                .and_then(|d| d.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let trigger = Trigger::Refusal {
            category: field("category"),
        };
        let hop = self.hop(params, trigger)?;
        self.credit = field("fallback_credit_token");
        Some(hop)
    }

    /// Takes in the error of the request in flight: on an overload with a
    /// model left to try, `params` move to that model and the hop is
    /// returned; the request is then to be sent again.
    pub(crate) fn on_error(&mut self, params: &mut MessageParams, error: &Error) -> Option<Hop> {
        let overloaded = error.status().is_some_and(|s| s.as_u16() == 529)
            || error.api_error_type() == Some("overloaded_error");
        if !overloaded {
            return None;
        }
        // A token that was not redeemed is good for the next model
        // (as the SDK carries it over a failed hop).
        self.hop(params, Trigger::Overloaded)
    }

    /// The `fallback_credit_token` field of the next request: set after a
    /// refusal that minted one, until the next reply or error, so that a
    /// retried request carries it too.
    pub(crate) fn credit(&self) -> Option<Value> {
        self.credit
            .as_ref()
            .map(|token| json!({"token": token, "mode": "best_effort"}))
    }

    /// The model after `current`: the first of the list when `current` is
    /// not in it (the caller's own model), none after the last. Read from
    /// the model itself, so that a resumed run goes on down the list from
    /// where it stood.
    fn next_after(&self, current: &str) -> Option<&str> {
        let next = match self.models.iter().position(|m| m == current) {
            Some(i) => self.models.get(i + 1),
            None => self.models.first(),
        };
        next.map(String::as_str)
    }

    fn hop(&mut self, params: &mut MessageParams, trigger: Trigger) -> Option<Hop> {
        let Some(to) = self.next_after(&params.model).map(str::to_owned) else {
            if self.is_on() {
                tracing::warn!(
                    model = %params.model,
                    trigger = trigger.as_str(),
                    "no fallback model left"
                );
            }
            return None;
        };
        let from = std::mem::replace(&mut params.model, to.clone());
        // As the SDK does: a model may not take `between_tools`, which
        // only some models offer.
        if params.thinking == Some(Thinking::BetweenTools) {
            params.thinking = Some(Thinking::Disabled);
        }
        let category = match &trigger {
            Trigger::Refusal { category } => category.as_deref(),
            Trigger::Overloaded => None,
        };
        tracing::warn!(
            from = %from,
            to = %to,
            trigger = trigger.as_str(),
            category,
            "falling back to the next model"
        );
        Some(Hop { from, to, trigger })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(stop_reason: &str, details: Value) -> Message {
        serde_json::from_value(json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [], "stop_reason": stop_reason, "stop_sequence": null,
            "stop_details": details,
            "usage": {"input_tokens": 1, "output_tokens": 1}
        }))
        .unwrap()
    }

    fn api_error(status: u16, kind: &str) -> Error {
        let body = json!({"type": "error", "error": {"type": kind, "message": "x"}});
        Error::api(
            reqwest::StatusCode::from_u16(status).unwrap(),
            &reqwest::header::HeaderMap::new(),
            bytes::Bytes::from(body.to_string()),
            1,
            true,
        )
    }

    #[test]
    fn a_refusal_moves_down_the_list_with_its_credit_token() {
        let mut fallbacks = Fallbacks::new(vec!["b".into(), "c".into()]);
        let mut params = MessageParams::new("a", 1).thinking(Thinking::BetweenTools);
        let refusal = reply(
            "refusal",
            json!({"type": "refusal", "category": "cyber", "fallback_credit_token": "tok"}),
        );
        let hop = fallbacks.on_reply(&mut params, &refusal).unwrap();
        assert_eq!(
            hop,
            Hop {
                from: "a".into(),
                to: "b".into(),
                trigger: Trigger::Refusal {
                    category: Some("cyber".into())
                }
            }
        );
        assert_eq!(params.model, "b");
        assert_eq!(params.thinking, Some(Thinking::Disabled));
        assert_eq!(
            fallbacks.credit(),
            Some(json!({"token": "tok", "mode": "best_effort"}))
        );
        // The next refusal goes on to `c`, then nothing is left.
        let bare = reply("refusal", Value::Null);
        assert_eq!(fallbacks.on_reply(&mut params, &bare).unwrap().to, "c");
        assert_eq!(fallbacks.credit(), None);
        assert_eq!(fallbacks.on_reply(&mut params, &bare), None);
        assert_eq!(params.model, "c");
    }

    #[test]
    fn only_an_overload_among_errors_falls_back() {
        let mut fallbacks = Fallbacks::new(vec!["b".into()]);
        let mut params = MessageParams::new("a", 1);
        for (status, kind) in [(429, "rate_limit_error"), (500, "api_error")] {
            assert_eq!(
                fallbacks.on_error(&mut params, &api_error(status, kind)),
                None
            );
        }
        let stream = Error::stream_error("overloaded_error", "busy");
        assert_eq!(
            fallbacks.on_error(&mut params, &stream).unwrap().trigger,
            Trigger::Overloaded
        );
        assert_eq!(params.model, "b");
        assert_eq!(
            fallbacks.on_error(&mut params, &api_error(529, "overloaded_error")),
            None
        );
    }

    #[test]
    fn other_replies_and_no_list_change_nothing() {
        let mut params = MessageParams::new("a", 1);
        let mut off = Fallbacks::default();
        assert_eq!(
            off.on_reply(&mut params, &reply("refusal", Value::Null)),
            None
        );
        assert_eq!(off.beta(), None);
        let mut on = Fallbacks::new(vec!["b".into()]);
        assert_eq!(
            on.on_reply(&mut params, &reply("end_turn", Value::Null)),
            None
        );
        assert_eq!(params.model, "a");
        assert_eq!(on.beta(), Some(FALLBACK_CREDIT_BETA));
    }
}
