//! # Fallback models
//!
//! A model may refuse a turn (`stop_reason: "refusal"`), and the API may be
//! too overloaded to answer one (status 529). With fallback models, such a
//! turn is sent again, with the same history, to the next model of a list,
//! and the conversation stays on the model that took it. This is what the
//! official SDKs' refusal-fallback middleware does on the client side, with
//! an overload as a second trigger.
//!
//! ```no_run
//! # async fn run() -> Result<(), toolrunner::Error> {
//! use toolrunner::{toolset, Client, MessageParams};
//!
//! let client = Client::from_env()?;
//! let params = MessageParams::new("claude-opus-4-5", 4096).user("Audit this firewall rule set.");
//! let answer = client
//!     .tool_runner(params, toolset![])
//!     .fallback_models(["claude-sonnet-4-5", "claude-haiku-4-5"])
//!     .until_done()
//!     .await?;
//! println!("{} answered: {}", answer.model, answer.text());
//! # Ok(())
//! # }
//! ```
//!
//! ## What triggers a fallback
//!
//! - A reply with `stop_reason: "refusal"`.
//! - An overload once the client's own retries are used up: status 529, or
//!   an `overloaded_error` event in a stream. A rate limit (429) is not a
//!   trigger: it is the account's, and waiting (which the client's retries
//!   do, honouring `retry-after`) is the cure.
//!
//! When no model is left, the refusal is the turn's answer and the overload
//! is the caller's error, as without fallbacks.
//!
//! ## On the wire
//!
//! Every request of a run with fallback models carries the beta
//! `fallback-credit-2026-07-01`, under which a refusal's `stop_details` holds
//! a `fallback_credit_token`. The request that follows the refusal, on the
//! next model, redeems it:
//!
//! ```json
//! {"model": "claude-sonnet-4-5", "max_tokens": 4096, "messages": [...],
//!  "fallback_credit_token": {"token": "...", "mode": "best_effort"}}
//! ```
//!
//! `best_effort` keeps the turn going when the token cannot be redeemed. A
//! `thinking` of type `between_tools`, which not every model takes, becomes
//! `disabled` on the next model.
//!
//! ## The turn and the history
//!
//! The refused reply never enters the history: the next model gets the turn
//! exactly as the refusing one did. A plain runner does not yield the refused
//! reply; a [`StreamingToolRunner`](crate::StreamingToolRunner) has streamed
//! it already, so it is one turn, and the next turn is the next model's.
//! A [`MessageThread`](crate::MessageThread)'s [`ThreadStream`](crate::ThreadStream)
//! goes on in the same stream, with the next model's events after the refused
//! ones.
//!
//! The official SDKs' streaming middleware may resend the refused model's
//! partial output as a prefill when the refusal allows it
//! (`fallback_has_prefill_claim`); here the turn always goes to the next
//! model with the same body, the form a credit token always accepts, so
//! that the history never holds words the next model did not choose.
//!
//! With message threads on, the turn after a refusal starts a new thread
//! with the whole history, since the server may hold the refused turn; the
//! conversation continues that thread on the next model.
//!
//! The model that took the turn stays in the parameters
//! ([`ToolRunner::params`](crate::ToolRunner::params)), and the list (with
//! a credit token not yet redeemed) is kept in the
//! [`RunState`](crate::RunState), so a run saved and resumed goes on down
//! the list from there without being given it again; `fallback_models` on
//! the resumed runner replaces the list (a model not in the new list is
//! followed by its first).
//!
//! ## In `tracing`
//!
//! Each move is a `warn` event with `from`, `to`, `trigger` (`refusal` or
//! `overloaded`) and the refusal's `category`; the refused request's `chat`
//! span records its `finish_reasons` (`["refusal"]`) or its `error.type`.
