//! Procedural macros for toolrunner; use them through the `toolrunner` crate.

use proc_macro::TokenStream;

/// See `toolrunner::tool`.
#[proc_macro_attribute]
pub fn tool(_args: TokenStream, input: TokenStream) -> TokenStream {
    input
}

/// See `toolrunner::toolset!`.
#[proc_macro]
pub fn toolset(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
