//! Procedural macros for toolrunner; use them through the `toolrunner` crate,
//! which documents them and provides the runtime their expansions call.
//!
//! - `#[tool]`: `ast` reads the function into a model, collecting every
//!   mistake in a `ctxt::Ctxt`; `valid` checks the model as a whole; `expand`
//!   generates the code, or `fallback` a quiet stand-in when there were
//!   errors. `attr` parses the options and `symbol` names them.
//! - `toolset!`: `toolset`.

mod ast;
mod attr;
mod ctxt;
mod expand;
mod fallback;
mod rules;
mod symbol;
mod toolset;
mod valid;

use proc_macro::TokenStream;

/// Turns a function into a tool. See `toolrunner::tool`.
#[proc_macro_attribute]
pub fn tool(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::tool(args.into(), input.into()).into()
}

/// Collects `#[tool]` functions into a toolset. See `toolrunner::toolset!`.
#[proc_macro]
pub fn toolset(input: TokenStream) -> TokenStream {
    toolset::toolset(input.into()).into()
}
