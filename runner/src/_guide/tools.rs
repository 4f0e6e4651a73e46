//! Tools: `#[tool]` functions, their options, parameters, results and
//! validation.
//!
//! A [`#[tool]`](macro@crate::tool) function stays a plain function you can
//! call and unit-test. The macro adds what a [`Toolset`](crate::Toolset) needs
//! next to it: the tool's JSON schema (from the parameter types, through
//! schemars), its description (from the doc comments) and typed dispatch.
//! [`toolset!`](crate::toolset) collects tools; two tools with one name do not
//! compile.
//!
//! ```
//! use serde::Deserialize;
//! use toolrunner::{State, ToolCall, tool, toolset};
//!
//! #[derive(Deserialize, schemars::JsonSchema)]
//! struct Order {
//!     /// How many, at least one.
//!     #[schemars(range(min = 1))]
//!     quantity: u32,
//!     /// The item's name.
//!     item: String,
//! }
//!
//! /// Prices in cents, shared by every call.
//! struct Prices(Vec<(&'static str, u64)>);
//!
//! /// Price an order, in cents.
//! #[tool(name = "price_order", strict = true)]
//! async fn price(
//!     prices: State<Prices>,
//!     call: ToolCall,
//!     /// The order to price.
//!     order: Order,
//!     /// A discount in percent.
//!     #[tool(default = 0)]
//!     discount: u8,
//! ) -> Result<u64, String> {
//!     let _ = call.id(); // the call's id, its caller, a cancellation token
//!     let (_, cents) = prices.0.iter().find(|(name, _)| *name == order.item)
//!         .ok_or_else(|| format!("no price for `{}`", order.item))?;
//!     Ok(cents * u64::from(order.quantity) * u64::from(100 - discount) / 100)
//! }
//!
//! let tools = toolset![price].with_state(Prices(vec![("apple", 50)]));
//! let definition = tools.get("price_order").unwrap().definition();
//! assert_eq!(definition.description, "Price an order, in cents.");
//! assert_eq!(definition.input_schema["required"], serde_json::json!(["order"]));
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let input = serde_json::json!({"order": {"quantity": 3, "item": "apple"}, "discount": 10});
//! let out = tools.call("price_order", input, ToolCall::new("toolu_1")).await;
//! assert_eq!(out.text_content(), "135");
//! // Invalid input never reaches the function.
//! let input = serde_json::json!({"order": {"quantity": 0, "item": "apple"}});
//! let out = tools.call("price_order", input, ToolCall::new("toolu_2")).await;
//! assert!(out.is_error);
//! assert!(out.text_content().contains("order.quantity"), "{}", out.text_content());
//! # });
//! ```
//!
//! # Options
//!
//! | option | meaning |
//! |---|---|
//! | `name = "..."` | the tool's name (default: the function's); `^[a-zA-Z0-9_-]{1,64}$` |
//! | `description = "..."` | what the tool does (default: the doc comment; one of the two is required) |
//! | `allowed_callers = ["direct", "code"]` | who may call it (default `["direct"]`); exact versions such as `"code_execution_20260120"` work too; `[]` declares a tool nobody may call (see [programmatic tool calling](super::programmatic)) |
//! | `strict = true`, `defer_loading = true` | passed to the API; a strict tool's schema is adapted to what strict mode supports ([below](#strict-schemas)); deferred tools are found through [tool search](super::tool_search) |
//! | `input_examples = [{"city": "Paris"}]`, `eager_input_streaming` | example inputs and eager input streaming, sent as the API documents them; each example is JSON checked at compile time |
//! | `inline = true` | run a synchronous function on the async runtime instead of the blocking pool (only for fast functions that never block) |
//!
//! # Parameters
//!
//! - Each parameter is a property of the input schema; its `///` doc is the
//!   property's description. Parameter types need `serde::Deserialize` and
//!   `schemars::JsonSchema` (schemars 1.x); your `#[serde(rename...)]`
//!   attributes are honoured.
//! - `Option<T>` parameters are optional (absent or `null`); `#[tool(default)]`
//!   and `#[tool(default = expr)]` give a default; `#[tool(rename = "...")]`
//!   changes the property name.
//! - [`State<T>`](crate::State) (shared state given with
//!   [`Toolset::with_state`](crate::Toolset::with_state)) and
//!   [`ToolCall`](crate::ToolCall) (the call's id, its caller and a
//!   cancellation token) come from the call's context and are not in the
//!   schema.
//!
//! # Results
//!
//! Anything `Serialize` (a `String` goes to the model as plain text,
//! everything else as JSON text), `()`, [`ToolOutput`](crate::ToolOutput) for
//! images and documents, or `Result<T, E>` with `E: Display`: an `Err` becomes
//! an `is_error` result with the error's message and source chain.
//!
//! # Validation
//!
//! Invalid input never reaches the function: it is checked against the tool's
//! own schema, and the model gets one error result listing every bad field with
//! its path, at any depth (`order.quantity: 0 is less than the minimum of 1`).
//! Unknown fields are rejected, in nested structs too: their schemas are closed.
//! What a schema cannot say is still caught when the arguments are parsed. A
//! panic and an unknown tool are error results too; the loop goes on. A missing
//! state fails the runner before its first request (see
//! [`Toolset::check_state`](crate::Toolset::check_state)).
//!
//! # Strict schemas
//!
//! Strict mode supports only part of JSON Schema, so the schema of a `strict`
//! tool is adapted on the wire: every object is closed (maps too), `oneOf` is
//! sent as `anyOf`, and keywords strict mode lacks (numeric bounds, string
//! lengths, `maxItems`, `minItems` above 1, unsupported `format`s, ...) are
//! removed and written into the description, so the model still reads them.
//! The tool's own schema keeps them, and they are still checked when the input
//! is read: a call that breaks one gets an error result and the tool does not
//! run.
