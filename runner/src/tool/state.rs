//! Shared state handed to tools: [`State`] and the toolset's type map.

use std::any::{Any, TypeId, type_name};
use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Shared state of type `T`, given to a toolset with
/// [`Toolset::with_state`](crate::Toolset::with_state).
///
/// A `State<T>` parameter of a `#[tool]` function is filled from the toolset
/// and left out of the tool's input schema. The tool's definition lists `T`
/// in its [`required_states`](crate::ToolDefinition::required_states): a
/// runner whose toolset holds no `T` fails before its first request, and an
/// MCP server before serving, with an error naming the tool and the type
/// (see [`Toolset::check_state`](crate::Toolset::check_state)). A call made
/// some other way fails with an error result naming the type; the function
/// is not run.
///
/// ```
/// use toolrunner::{tool, toolset, State};
///
/// struct Greeting(String);
///
/// /// Greet someone.
/// #[tool]
/// fn greet(greeting: State<Greeting>, name: String) -> String {
///     format!("{}, {name}!", greeting.0)
/// }
///
/// let tools = toolset![greet].with_state(Greeting("Hello".into()));
/// # let _ = tools;
/// ```
pub struct State<T: ?Sized>(Arc<T>);

impl<T: ?Sized> State<T> {
    /// Wraps shared state, as the toolset does for `State<T>` parameters.
    pub fn new(state: Arc<T>) -> Self {
        State(state)
    }

    /// The shared pointer to the state.
    pub fn into_inner(self) -> Arc<T> {
        self.0
    }
}

impl<T: ?Sized> Clone for State<T> {
    fn clone(&self) -> Self {
        State(Arc::clone(&self.0))
    }
}

impl<T: ?Sized> Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for State<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("State").field(&&*self.0).finish()
    }
}

/// A state type a tool needs: a `State<T>` parameter of a `#[tool]`
/// function, listed in its [`ToolDefinition::required_states`](crate::ToolDefinition::required_states).
///
/// Runners and MCP servers check, before the first call, that their
/// toolset holds every state its tools need (see
/// [`Toolset::check_state`](crate::Toolset::check_state)).
#[derive(Clone, Copy, Debug)]
pub struct StateType {
    id: TypeId,
    name: &'static str,
}

impl StateType {
    /// The state type `T`.
    pub fn of<T: Send + Sync + 'static>() -> Self {
        StateType {
            id: TypeId::of::<T>(),
            name: type_name::<T>(),
        }
    }

    /// The type's id.
    pub fn type_id(&self) -> TypeId {
        self.id
    }

    /// The type's name, as `std::any::type_name` gives it.
    pub fn type_name(&self) -> &'static str {
        self.name
    }
}

impl PartialEq for StateType {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for StateType {}

impl std::hash::Hash for StateType {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

/// The states a toolset holds, one per type.
#[derive(Clone, Default)]
pub(crate) struct StateMap {
    entries: HashMap<TypeId, Entry>,
}

#[derive(Clone)]
struct Entry {
    name: &'static str,
    value: Arc<dyn Any + Send + Sync>,
}

impl StateMap {
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: Arc<T>) {
        self.entries.insert(
            TypeId::of::<T>(),
            Entry {
                name: type_name::<T>(),
                value,
            },
        );
    }

    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Option<State<T>> {
        let entry = self.entries.get(&TypeId::of::<T>())?;
        Arc::clone(&entry.value).downcast::<T>().ok().map(State)
    }

    /// Whether a state of type `state` is held.
    pub(crate) fn contains(&self, state: &StateType) -> bool {
        self.entries.contains_key(&state.id)
    }

    /// Adds every state of `other` that `self` lacks; `self` wins on a clash.
    pub(crate) fn absorb(&mut self, other: &StateMap) {
        for (id, entry) in &other.entries {
            self.entries.entry(*id).or_insert_with(|| entry.clone());
        }
    }

    /// A held type that wraps `needed` (a type name), such as
    /// `alloc::sync::Arc<app::Db>` for `app::Db`: the likely reason a
    /// `State<app::Db>` finds nothing, worth naming in the error.
    pub(crate) fn wrapping(&self, needed: &str) -> Option<&'static str> {
        let mut wrappers: Vec<&'static str> = self
            .type_names()
            .filter(|held| {
                held.match_indices(needed).any(|(at, _)| {
                    let after = &held[at + needed.len()..];
                    held[..at].ends_with('<') && (after.starts_with('>') || after.starts_with(','))
                })
            })
            .collect();
        wrappers.sort_unstable();
        wrappers.first().copied()
    }

    pub(crate) fn type_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.values().map(|e| e.name)
    }
}

impl fmt::Debug for StateMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.type_names().collect();
        names.sort_unstable();
        f.debug_set().entries(names).finish()
    }
}
