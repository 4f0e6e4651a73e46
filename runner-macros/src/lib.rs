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

// Turns a function into a tool. Documented where `toolrunner` re-exports
// it: a doc comment here would be appended to that page.
#[proc_macro_attribute]
pub fn tool(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::tool(args.into(), input.into()).into()
}

// Collects `#[tool]` functions into a toolset; documented where
// `toolrunner` re-exports it, as `tool` is.
#[proc_macro]
pub fn toolset(input: TokenStream) -> TokenStream {
    toolset::toolset(input.into()).into()
}

/// How many tokens the macros emit, the proxy for compile time that needs
/// no nightly profiler: `python3 runner/benches/compile_time.py --expansion-size`
/// (or `cargo test -p toolrunner-macros --lib expansion_size -- --ignored --nocapture`).
#[cfg(test)]
mod expansion_size {
    use proc_macro2::TokenStream;
    use quote::quote;

    fn count(tokens: TokenStream) -> usize {
        tokens
            .into_iter()
            .map(|tree| match tree {
                proc_macro2::TokenTree::Group(group) => 1 + count(group.stream()),
                _ => 1,
            })
            .sum()
    }

    #[test]
    #[ignore = "a measurement, not a check"]
    fn expansion_size() {
        let sizes =
            std::env::var("TOOLRUNNER_EXPANSION_SIZES").unwrap_or_else(|_| "10,100,500".into());
        let input = quote! {
            /// Add two integers.
            pub fn add(
                /// The first term.
                a: i64,
                /// The second term.
                b: i64,
            ) -> i64 {
                a + b
            }
        };
        let one = count(crate::expand::tool(TokenStream::new(), input.clone()));
        let written = count(input);
        println!("#[tool] on `add`: {one} tokens out for {written} in");
        for n in sizes
            .split(',')
            .map(|n| n.trim().parse::<usize>().expect("a size"))
        {
            let paths = (0..n).map(|i| quote::format_ident!("add{i}"));
            let set = count(crate::toolset::toolset(quote!(#(#paths),*)));
            println!(
                "N = {n}: {} tokens from #[tool], {set} from toolset!",
                n * one
            );
        }
    }
}
