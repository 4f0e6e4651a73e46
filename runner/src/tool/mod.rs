//! Tools: the [`Tool`] trait every tool implements, and what a tool sees of
//! its call.
//!
//! `#[tool]` functions implement [`Tool`] through generated code; implement it
//! by hand for tools known only at run time (MCP tools, generated tools).

mod args;
mod auth;
pub(crate) mod bounds;
mod call;
mod code_version;
mod definition;
mod output;
mod redefined;
pub(crate) mod schema;
mod slots;
mod state;
mod strict;
mod validate;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

pub use args::ArgsReader;
pub use auth::AuthInfo;
pub(crate) use call::CallGate;
pub use call::{Caller, ToolCall};
pub use code_version::same_code_caller;
pub(crate) use definition::WireDefinition;
pub use definition::{
    AllowedCaller, DEFAULT_CODE_EXECUTION, ToolDefinition, is_code_execution_version,
    is_valid_tool_name,
};
pub use output::{IntoToolOutput, ToolOutput};
pub(crate) use redefined::with_defer_loading;
pub use schema::SchemaBuilder;
pub(crate) use slots::Slots;
pub(crate) use state::StateMap;
pub use state::{State, StateType};

/// A boxed future returned by [`Tool::call`].
pub type ToolFuture<'a> = Pin<Box<dyn Future<Output = ToolOutput> + Send + 'a>>;

/// A tool the model can call.
///
/// `#[tool]` implements this for you. Implement it by hand for tools whose
/// shape is known only at run time, then add them with
/// [`Toolset::add`](crate::Toolset::add):
///
/// ```
/// use serde_json::{json, Value};
/// use toolrunner::{Tool, ToolContext, ToolDefinition, ToolFuture, ToolOutput, Toolset};
///
/// struct Echo(ToolDefinition);
///
/// impl Tool for Echo {
///     fn definition(&self) -> &ToolDefinition {
///         &self.0
///     }
///     fn call<'a>(&'a self, input: Value, _cx: ToolContext) -> ToolFuture<'a> {
///         Box::pin(async move { ToolOutput::text(input.to_string()) })
///     }
/// }
///
/// let schema = json!({"type": "object", "properties": {}, "additionalProperties": true});
/// let mut tools = Toolset::new();
/// tools.add(Echo(ToolDefinition::new("echo", "Echo the input.", schema.clone()))).unwrap();
///
/// // The same, taking and returning the toolset; a second `echo` is refused.
/// let tools = Toolset::new()
///     .with_tool(Echo(ToolDefinition::new("echo", "Echo the input.", schema.clone())))
///     .unwrap();
/// let again = tools.with_tool(Echo(ToolDefinition::new("echo", "Echo it again.", schema)));
/// assert_eq!(again.unwrap_err().to_string(), "the toolset already has a tool named `echo`");
/// ```
pub trait Tool: Send + Sync + 'static {
    /// The tool's definition; the same value on every call.
    fn definition(&self) -> &ToolDefinition;

    /// Runs the tool on `input`, the JSON object the model wrote.
    ///
    /// Failures are results, not panics: return [`ToolOutput::error`] with a
    /// message the model can act on. A panic is caught by the toolset and
    /// becomes an error result too.
    fn call<'a>(&'a self, input: Value, cx: ToolContext) -> ToolFuture<'a>;
}

impl<T: Tool + ?Sized> Tool for Arc<T> {
    fn definition(&self) -> &ToolDefinition {
        (**self).definition()
    }
    fn call<'a>(&'a self, input: Value, cx: ToolContext) -> ToolFuture<'a> {
        (**self).call(input, cx)
    }
}

impl<T: Tool + ?Sized> Tool for Box<T> {
    fn definition(&self) -> &ToolDefinition {
        (**self).definition()
    }
    fn call<'a>(&'a self, input: Value, cx: ToolContext) -> ToolFuture<'a> {
        (**self).call(input, cx)
    }
}

/// What a tool gets besides its input: the call, and the toolset's state.
#[derive(Clone, Debug)]
pub struct ToolContext {
    call: ToolCall,
    tool: Arc<str>,
    states: Arc<StateMap>,
}

impl ToolContext {
    pub(crate) fn new(call: ToolCall, tool: Arc<str>, states: Arc<StateMap>) -> Self {
        ToolContext { call, tool, states }
    }

    /// The call being served.
    pub fn call(&self) -> &ToolCall {
        &self.call
    }

    /// The name of the tool being called.
    pub fn tool_name(&self) -> &str {
        &self.tool
    }

    /// All of the toolset's state.
    #[cfg(feature = "code-mode")]
    pub(crate) fn state_map(&self) -> &Arc<StateMap> {
        &self.states
    }

    /// The toolset's state of type `T`, if it has one.
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<State<T>> {
        self.states.get::<T>()
    }
}

/// A tool-function parameter filled from the call's context rather than from
/// the model's input: [`State<T>`] and [`ToolCall`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be taken from a tool call's context",
    note = "context parameters are `State<T>` and `ToolCall`"
)]
pub trait FromToolContext: Sized {
    /// Extracts the value, or an error result for the model.
    ///
    /// # Errors
    ///
    /// An error result when the context lacks the value (a state the toolset
    /// was never given).
    fn from_tool_context(cx: &ToolContext) -> Result<Self, ToolOutput>;

    /// The toolset state this parameter needs, if any: `#[tool]` lists it
    /// in the tool's [`ToolDefinition::required_states`], so that a runner
    /// or MCP server can report a missing state before the first call.
    fn required_state() -> Option<StateType> {
        None
    }
}

impl FromToolContext for ToolCall {
    fn from_tool_context(cx: &ToolContext) -> Result<Self, ToolOutput> {
        Ok(cx.call.clone())
    }
}

impl<T: Send + Sync + 'static> FromToolContext for State<T> {
    fn required_state() -> Option<StateType> {
        Some(StateType::of::<T>())
    }

    fn from_tool_context(cx: &ToolContext) -> Result<Self, ToolOutput> {
        cx.states.get::<T>().ok_or_else(|| {
            tracing::error!(
                tool = %cx.tool,
                state = std::any::type_name::<T>(),
                "tool needs a state the toolset was not given"
            );
            let missing = crate::toolset::ToolsetError::MissingState {
                tool: cx.tool.to_string(),
                state: std::any::type_name::<T>(),
                given: cx.states.wrapping(std::any::type_name::<T>()),
            };
            ToolOutput::error(format!("could not run: {missing}"))
        })
    }
}
