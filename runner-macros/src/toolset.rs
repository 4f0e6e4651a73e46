//! `toolset![a, path::to::b]`: a `Toolset` of `#[tool]` functions, with a
//! compile-time check that no two of them share a name.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Path, Token};

use crate::ctxt::Ctxt;
use crate::expand::{private, private_at};

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

    // Each path is named once, by a type alias, and the aliases are used
    // everywhere else, each mention spanned on its path: a path that is not a
    // tool (a function without `#[tool]`) then gets exactly one error, on
    // the path, instead of one per use.
    let alias = |i: usize| Ident::new(&format!("__ToolrunnerTool{i}"), paths[i].span());
    let declarations = (0..paths.len()).map(|i| {
        let (path, alias) = (paths[i], alias(i));
        quote_spanned!(path.span()=> type #alias = #path;)
    });

    let mut checks = TokenStream::new();
    for (j, second) in paths.iter().enumerate() {
        for (i, first) in paths[..j].iter().enumerate() {
            if same_path(first, second) {
                // The name check would fire too; one clear error is enough.
                cx.error_spanned_by(
                    second,
                    format!("tool `{}` is listed twice", path_string(second)),
                );
                continue;
            }
            // Names are only known once the `#[tool]` expansions are type
            // checked, so the comparison is a constant the compiler evaluates.
            // Every token is spanned on the second path's last segment, the
            // tool's own name, so that the error lands there.
            let span = last_ident_span(second);
            let message = LitStr::new(
                &format!(
                    "tools `{}` and `{}` have the same name; rename one with #[tool(name = \"...\")]",
                    path_string(first),
                    path_string(second)
                ),
                span,
            );
            let p = private_at(span);
            let (a, b) = (alias(i), alias(j));
            checks.extend(quote_spanned! {span=>
                const _: () = if #p::str_eq(
                    <#a as #p::ToolFn>::NAME,
                    <#b as #p::ToolFn>::NAME,
                ) {
                    #p::core::panic!(#message)
                };
            });
        }
    }

    let tools = (0..paths.len()).map(|i| {
        let (span, alias) = (paths[i].span(), alias(i));
        let p = private_at(span);
        quote_spanned!(span=> <#alias as #p::ToolFn>::__tool())
    });
    let errors = match cx.check() {
        Ok(()) => TokenStream::new(),
        Err(errors) => errors.to_compile_error(),
    };

    quote! {{
        #errors
        #(#declarations)*
        #checks
        #p::toolset(#p::Vec::from([#(#tools),*]))
    }}
}

/// The span of the last segment's name: what a path to a tool function
/// ends with.
fn last_ident_span(path: &Path) -> Span {
    path.segments
        .last()
        .map_or_else(|| path.span(), |segment| segment.ident.span())
}

/// Whether two paths are written the same way, which makes them the same tool.
fn same_path(a: &Path, b: &Path) -> bool {
    a.to_token_stream().to_string() == b.to_token_stream().to_string()
}

fn path_string(path: &Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}
