//! `toolset![a, path::to::b]`: a `Toolset` of `#[tool]` functions, with a
//! compile-time check that no two of them share a name.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Path, Token};

use crate::ctxt::Ctxt;
use crate::expand::private;

/// The paths to the tools, in order.
struct Input {
    paths: Punctuated<Path, Token![,]>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        Ok(Input {
            paths: Punctuated::parse_terminated(input)?,
        })
    }
}

/// Expands `toolset![...]`.
pub(crate) fn toolset(input: TokenStream) -> TokenStream {
    let input: Input = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => {
            let error = syn::Error::new(
                e.span(),
                format!(
                    "{e}; `toolset!` takes paths to `#[tool]` functions: `toolset![add, weather::get_weather]`"
                ),
            );
            return error.to_compile_error();
        }
    };
    let p = private();
    let paths: Vec<&Path> = input.paths.iter().collect();
    let cx = Ctxt::new();

    let mut checks = TokenStream::new();
    for (j, second) in paths.iter().enumerate() {
        for first in &paths[..j] {
            if same_path(first, second) {
                // The name check would fire too; one clear error is enough.
                cx.error_spanned_by(
                    second,
                    format!("tool `{}` is listed twice", path_string(second)),
                );
                continue;
            }
            // Names are only known once the `#[tool]` expansions are type
            // checked, so the comparison is a constant the compiler evaluates;
            // spanned on the second path so that the error lands there.
            let message = format!(
                "tools `{}` and `{}` have the same name; rename one with #[tool(name = \"...\")]",
                path_string(first),
                path_string(second)
            );
            checks.extend(quote_spanned! {second.span()=>
                const _: () = if #p::str_eq(
                    <#first as #p::ToolFn>::NAME,
                    <#second as #p::ToolFn>::NAME,
                ) {
                    #p::core::panic!(#message)
                };
            });
        }
    }

    let tools = paths
        .iter()
        .map(|path| quote_spanned!(path.span()=> #p::tool::<#path>()));
    let errors = match cx.check() {
        Ok(()) => TokenStream::new(),
        Err(errors) => errors.to_compile_error(),
    };

    quote! {{
        #errors
        #checks
        #p::toolset(#p::Vec::from([#(#tools),*]))
    }}
}

/// Whether two paths are written the same way, which makes them the same tool.
fn same_path(a: &Path, b: &Path) -> bool {
    a.to_token_stream().to_string() == b.to_token_stream().to_string()
}

fn path_string(path: &Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}
