//! [`Toolset`]: tools by name, their shared state, and dispatch.

use std::collections::HashMap;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use serde_json::Value;

use crate::tool::{
    StateMap, Tool, ToolCall, ToolContext, ToolDefinition, ToolOutput, is_valid_tool_name,
};

/// A set of tools the model may call, with the state they share.
///
/// Build one with [`toolset!`](crate::toolset) from `#[tool]` functions, add
/// tools known only at run time with [`add`](Self::add), and give shared
/// state with [`with_state`](Self::with_state). Cloning is cheap.
///
/// Every change comes in two forms: `with_*` takes the toolset and returns
/// it, to build one in a single expression ([`with_tool`](Self::with_tool),
/// [`with_state`](Self::with_state)); the other changes one in place
/// through `&mut` ([`add`](Self::add), [`insert_state`](Self::insert_state)).
/// They do the same, and fail the same way.
///
/// ```
/// use toolrunner::{tool, toolset, State, Toolset};
///
/// struct Unit(&'static str);
///
/// /// Convert meters to the configured unit.
/// #[tool]
/// fn convert(unit: State<Unit>, meters: f64) -> String {
///     format!("{meters} m in {}", unit.0)
/// }
///
/// /// Add two integers.
/// #[tool]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// // In one expression...
/// let built = toolset![convert].with_state(Unit("feet"));
/// # let _ = built;
///
/// // ...or step by step, as when what to add is known only at run time.
/// let mut tools: Toolset = toolset![convert];
/// tools.insert_state(Unit("feet"));
/// if tools.len() < 2 {
///     tools = tools.merge(toolset![add]).expect("no name is taken twice");
/// }
/// assert_eq!(tools.len(), 2);
/// ```
///
/// ```
/// use serde_json::json;
/// use toolrunner::{tool, toolset, ToolCall};
///
/// /// Add two integers.
/// #[tool]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// # tokio_test(async {
/// let tools = toolset![add];
/// let out = tools.call("add", json!({"a": 2, "b": 3}), ToolCall::new("toolu_1")).await;
/// assert_eq!(out.text_content(), "5");
///
/// let bad = tools.call("add", json!({"a": 2, "b": "x"}), ToolCall::new("toolu_2")).await;
/// assert!(bad.is_error);
/// assert!(bad.text_content().contains(r#"b: "x" is not of type "integer""#));
/// # });
/// # fn tokio_test(f: impl std::future::Future) { tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f); }
/// ```
#[derive(Clone, Default)]
pub struct Toolset {
    /// Shared, and copied only when a clone is changed: runners clone the
    /// toolset for every turn and every call.
    registry: Arc<Registry>,
    states: Arc<StateMap>,
}

#[derive(Clone, Default)]
struct Registry {
    tools: Vec<Arc<Entry>>,
    index: HashMap<Arc<str>, usize>,
}

/// Up to this many tools, a name is found by comparing names, which is
/// faster than hashing it.
const SCAN_LIMIT: usize = 16;

impl Registry {
    fn find(&self, name: &str) -> Option<&Arc<Entry>> {
        if self.tools.len() <= SCAN_LIMIT {
            self.tools.iter().find(|e| &*e.name == name)
        } else {
            self.index.get(name).map(|&i| &self.tools[i])
        }
    }
}

/// A tool with its name, shared so that a call holds it with one reference count.
struct Entry {
    name: Arc<str>,
    tool: Arc<dyn Tool>,
}

impl Toolset {
    /// An empty toolset.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tool.
    ///
    /// # Errors
    ///
    /// When the toolset already has a tool of that name, or the name is not
    /// a valid tool name; the toolset is left unchanged.
    pub fn add(&mut self, tool: impl Tool) -> Result<&mut Self, ToolsetError> {
        self.add_arc(Arc::new(tool))
    }

    /// Adds a tool, taking the toolset and returning it: [`add`](Self::add)
    /// for a chain of calls.
    ///
    /// # Errors
    ///
    /// As [`add`](Self::add); the toolset is dropped with the error.
    pub fn with_tool(mut self, tool: impl Tool) -> Result<Self, ToolsetError> {
        self.add(tool)?;
        Ok(self)
    }

    /// Adds a shared tool.
    ///
    /// # Errors
    ///
    /// As [`add`](Self::add).
    pub fn add_arc(&mut self, tool: Arc<dyn Tool>) -> Result<&mut Self, ToolsetError> {
        let name = tool.definition().name.as_str();
        if !is_valid_tool_name(name) {
            return Err(ToolsetError::InvalidName(name.to_owned()));
        }
        if self.registry.index.contains_key(name) {
            return Err(ToolsetError::Duplicate(name.to_owned()));
        }
        let name: Arc<str> = Arc::from(name);
        let registry = Arc::make_mut(&mut self.registry);
        registry
            .index
            .insert(Arc::clone(&name), registry.tools.len());
        registry.tools.push(Arc::new(Entry { name, tool }));
        Ok(self)
    }

    /// Sets `defer_loading` on every tool: deferred tools are not put in
    /// front of the model, which finds them through tool search (the runner
    /// declares a search tool when none is; see
    /// [`ToolRunner::tool_search`](crate::ToolRunner::tool_search)). For
    /// large toolsets, such as an MCP server's.
    ///
    /// ```
    /// use toolrunner::{tool, toolset};
    ///
    /// /// Add two integers.
    /// #[tool]
    /// fn add(a: i64, b: i64) -> i64 { a + b }
    ///
    /// let tools = toolset![add].defer_loading(true);
    /// assert!(tools.definitions().all(|d| d.defer_loading));
    /// ```
    #[must_use]
    pub fn defer_loading(mut self, defer: bool) -> Self {
        let registry = Arc::make_mut(&mut self.registry);
        for entry in &mut registry.tools {
            let tool = crate::tool::with_defer_loading(Arc::clone(&entry.tool), defer);
            *entry = Arc::new(Entry {
                name: Arc::clone(&entry.name),
                tool,
            });
        }
        self
    }

    /// Removes the tool `name`, returning it; `None` when there is none.
    pub(crate) fn remove(&mut self, name: &str) -> Option<Arc<dyn Tool>> {
        let at = *self.registry.index.get(name)?;
        let registry = Arc::make_mut(&mut self.registry);
        let entry = registry.tools.remove(at);
        registry.index = registry
            .tools
            .iter()
            .enumerate()
            .map(|(i, e)| (Arc::clone(&e.name), i))
            .collect();
        Some(Arc::clone(&entry.tool))
    }

    /// Gives the tools a shared value of type `T`, read by `State<T>`
    /// parameters. A second value of the same type replaces the first.
    #[must_use]
    pub fn with_state<T: Send + Sync + 'static>(mut self, state: T) -> Self {
        Arc::make_mut(&mut self.states).insert(Arc::new(state));
        self
    }

    /// Gives the tools a shared value of type `T`, in place:
    /// [`with_state`](Self::with_state) through `&mut`.
    pub fn insert_state<T: Send + Sync + 'static>(&mut self, state: T) -> &mut Self {
        Arc::make_mut(&mut self.states).insert(Arc::new(state));
        self
    }

    /// Like [`with_state`](Self::with_state), with a value already shared.
    #[must_use]
    pub fn with_shared_state<T: Send + Sync + 'static>(mut self, state: Arc<T>) -> Self {
        Arc::make_mut(&mut self.states).insert(state);
        self
    }

    /// The toolset's state.
    pub(crate) fn state_map(&self) -> &Arc<StateMap> {
        &self.states
    }

    /// Replaces the toolset's state with `states`.
    #[cfg(feature = "code-mode")]
    pub(crate) fn with_state_map(mut self, states: Arc<StateMap>) -> Self {
        self.states = states;
        self
    }

    /// Both toolsets' tools (this one's first) and state (this one's wins
    /// where both hold a type).
    ///
    /// # Errors
    ///
    /// When both have a tool of the same name.
    pub fn merge(mut self, other: Toolset) -> Result<Toolset, ToolsetError> {
        if let Some(dup) = other
            .registry
            .tools
            .iter()
            .find(|e| self.registry.index.contains_key(&e.name))
        {
            return Err(ToolsetError::Duplicate(dup.name.to_string()));
        }
        let registry = Arc::make_mut(&mut self.registry);
        for entry in &other.registry.tools {
            registry
                .index
                .insert(Arc::clone(&entry.name), registry.tools.len());
            registry.tools.push(Arc::clone(entry));
        }
        Arc::make_mut(&mut self.states).absorb(&other.states);
        Ok(self)
    }

    /// The tool called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.registry.find(name).map(|e| &e.tool)
    }

    /// Whether there is a tool called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.registry.index.contains_key(name)
    }

    /// The number of tools.
    pub fn len(&self) -> usize {
        self.registry.tools.len()
    }

    /// Whether there are no tools.
    pub fn is_empty(&self) -> bool {
        self.registry.tools.is_empty()
    }

    /// The tools' names, in the order they were added.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.registry.tools.iter().map(|e| &*e.name)
    }

    /// The tools, in the order they were added.
    pub fn tools(&self) -> impl Iterator<Item = &Arc<dyn Tool>> {
        self.registry.tools.iter().map(|e| &e.tool)
    }

    /// The tool definitions, in order; each serializes to the Messages API's
    /// wire format.
    pub fn definitions(&self) -> impl Iterator<Item = &ToolDefinition> {
        self.registry.tools.iter().map(|e| e.tool.definition())
    }

    /// The wire JSON of every definition, in order, with `"code"` callers as
    /// `code_version`.
    pub fn wire_definitions(&self, code_version: &str) -> Vec<Value> {
        self.definitions()
            .map(|d| d.to_wire(code_version))
            .collect()
    }

    /// Calls the tool `name` with `input`.
    ///
    /// Never fails and never panics: an unknown tool, invalid input, a missing
    /// state, an error from the tool and a panic inside it all become error
    /// results (`is_error: true`) with a message the model can act on.
    pub fn call(
        &self,
        name: &str,
        input: Value,
        call: ToolCall,
    ) -> impl Future<Output = ToolOutput> + Send + 'static + use<> {
        let found = self.registry.find(name).map(Arc::clone);
        let states = Arc::clone(&self.states);
        let unknown = found.is_none().then(|| self.unknown_tool(name));
        async move {
            let Some(entry) = found else {
                return unknown.unwrap_or_default();
            };
            let definition = entry.tool.definition();
            if definition.validate_input {
                let problems = definition.input_errors(&input);
                if !problems.is_empty() {
                    return invalid_input(&entry.name, &problems);
                }
            } else if definition.strict
                // The wire schema of a strict tool lost its bounds (see
                // `ToolDefinition::strict`): they are enforced here instead.
                && let Some(broken) =
                    crate::tool::bounds::violation(&definition.input_schema, &input)
            {
                return ToolOutput::error(format!(
                    "invalid input for tool `{}`: {broken}",
                    entry.name
                ));
            }
            let cx = ToolContext::new(call, Arc::clone(&entry.name), states);
            // A panic while building the future is caught as well as one
            // while polling it.
            let fut =
                match std::panic::catch_unwind(AssertUnwindSafe(|| entry.tool.call(input, cx))) {
                    Ok(fut) => fut,
                    Err(panic) => return panicked(&entry.name, &*panic),
                };
            match AssertUnwindSafe(fut).catch_unwind().await {
                Ok(output) => output,
                Err(panic) => panicked(&entry.name, &*panic),
            }
        }
    }

    /// Checks that the toolset holds every state its tools need (the
    /// `State<T>` parameters of `#[tool]` functions, listed in
    /// [`ToolDefinition::required_states`]). Runners call it before their
    /// first request, and MCP servers before serving, so that a forgotten
    /// [`with_state`](Self::with_state) fails at once rather than as an
    /// error result for the model.
    ///
    /// # Errors
    ///
    /// [`ToolsetError::MissingState`] naming the first tool and state type
    /// missing.
    ///
    /// ```
    /// use toolrunner::{tool, toolset, State};
    ///
    /// struct Db;
    ///
    /// /// Count the rows.
    /// #[tool]
    /// fn count(db: State<Db>) -> u32 {
    ///     let _ = db;
    ///     0
    /// }
    ///
    /// let err = toolset![count].check_state().unwrap_err();
    /// assert!(err.to_string().contains("tool `count` needs a state of type"));
    /// assert!(toolset![count].with_state(Db).check_state().is_ok());
    /// ```
    pub fn check_state(&self) -> Result<(), ToolsetError> {
        for entry in &self.registry.tools {
            let definition = entry.tool.definition();
            if let Some(missing) = definition
                .required_states
                .iter()
                .find(|state| !self.states.contains(state))
            {
                return Err(ToolsetError::MissingState {
                    tool: entry.name.to_string(),
                    state: missing.type_name(),
                    given: self.states.wrapping(missing.type_name()),
                });
            }
        }
        Ok(())
    }

    /// Adds every state of `other` this toolset lacks, and checks that
    /// `other`'s tools then have all they need, before they join this
    /// toolset's. Nothing changes on an error.
    pub(crate) fn take_states_for(&mut self, other: &Toolset) -> Result<(), ToolsetError> {
        let mut states = (*self.states).clone();
        states.absorb(&other.states);
        for entry in &other.registry.tools {
            if let Some(missing) = entry
                .tool
                .definition()
                .required_states
                .iter()
                .find(|state| !states.contains(state))
            {
                return Err(ToolsetError::MissingState {
                    tool: entry.name.to_string(),
                    state: missing.type_name(),
                    given: states.wrapping(missing.type_name()),
                });
            }
        }
        self.states = Arc::new(states);
        Ok(())
    }

    fn unknown_tool(&self, name: &str) -> ToolOutput {
        let names: Vec<&str> = self.names().collect();
        if names.is_empty() {
            ToolOutput::error(format!("unknown tool `{name}`: no tools are available"))
        } else {
            ToolOutput::error(format!(
                "unknown tool `{name}`; available tools: {}",
                names.join(", ")
            ))
        }
    }
}

/// The error result for an input that breaks its tool's schema: every
/// problem, one per line when there are several.
fn invalid_input(tool: &str, problems: &[String]) -> ToolOutput {
    tracing::debug!(
        tool,
        problems = problems.len(),
        "tool input breaks its schema"
    );
    let mut message = format!("invalid input for tool `{tool}`:");
    if let [only] = problems {
        message.push(' ');
        message.push_str(only);
    } else {
        for problem in problems {
            message.push_str("\n- ");
            message.push_str(problem);
        }
    }
    ToolOutput::error(message)
}

/// The error result for a tool that panicked.
pub(crate) fn panicked(tool: &str, panic: &(dyn std::any::Any + Send)) -> ToolOutput {
    let message = panic_message(panic);
    tracing::error!(tool, panic = message, "tool panicked");
    ToolOutput::error(format!("tool `{tool}` panicked: {message}"))
}

/// The message a panic was raised with, when it has one.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

impl fmt::Debug for Toolset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Toolset")
            .field("tools", &self.names().collect::<Vec<_>>())
            .field("states", &self.states)
            .finish()
    }
}

impl<T: Tool> Extend<T> for Toolset {
    /// Adds each tool; a tool whose name is taken or invalid is skipped and logged.
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for tool in iter {
            if let Err(e) = self.add(tool) {
                tracing::warn!(error = %e, "tool not added to toolset");
            }
        }
    }
}

/// Why a tool could not be added to a toolset.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolsetError {
    /// Another tool has this name.
    Duplicate(String),
    /// The name does not match `^[a-zA-Z0-9_-]{1,64}$`.
    InvalidName(String),
    /// A tool needs a state the toolset was not given.
    MissingState {
        /// The tool's name.
        tool: String,
        /// The state's type name.
        state: &'static str,
        /// A state the toolset holds instead that wraps the one needed,
        /// such as `alloc::sync::Arc<app::Db>` given for `app::Db`.
        given: Option<&'static str>,
    },
}

impl fmt::Display for ToolsetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolsetError::Duplicate(name) => {
                write!(f, "the toolset already has a tool named `{name}`")
            }
            ToolsetError::InvalidName(name) => write!(
                f,
                "invalid tool name `{name}`: names are 1 to 64 of a-z, A-Z, 0-9, `_` and `-`"
            ),
            ToolsetError::MissingState {
                tool,
                state,
                given: None,
            } => write!(
                f,
                "tool `{tool}` needs a state of type `{state}`, which the toolset was not given: add it with `.with_state(...)`"
            ),
            // `with_state(Arc::new(db))` holds an `Arc<Db>`, not a `Db`.
            ToolsetError::MissingState {
                tool,
                state,
                given: Some(given),
            } if given.starts_with("alloc::sync::Arc<") => write!(
                f,
                "tool `{tool}` needs a state of type `{state}`, but the toolset was given `{given}`, another type: give the `Arc` with `.with_shared_state(arc)`, or the value itself with `.with_state(value)`"
            ),
            ToolsetError::MissingState {
                tool,
                state,
                given: Some(given),
            } => write!(
                f,
                "tool `{tool}` needs a state of type `{state}`, but the toolset was given `{given}`, another type: take `State<{given}>` in the tool, or give the toolset a `{state}` with `.with_state(...)`"
            ),
        }
    }
}

impl std::error::Error for ToolsetError {}
