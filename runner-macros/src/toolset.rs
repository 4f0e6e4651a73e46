//! `toolset![a, path::to::b]`: a `Toolset` of `#[tool]` functions, with a
//! compile-time check that no two of them share a name.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Ident, Path, Token};

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
    let written: Vec<String> = paths.iter().map(|path| path_string(path)).collect();

    // Each path is named once, by an alias, and the aliases are used
    // everywhere else, each mention spanned on the name the path ends with:
    // a path that is not a tool then gets exactly one error, on that name,
    // instead of one per use.
    let alias = |i: usize| Ident::new(&format!("__ToolrunnerTool{i}"), paths[i].span());
    let declarations = declarations(&paths, &written, &alias);
    // The hidden struct of a tool is visible crate-wide; the function's own
    // visibility says who may list it. Naming the function checks that, and
    // a private one fails as "function `x` is private", on its path.
    let visibility_checks = paths.iter().map(|path| {
        let span = last_ident_span(path);
        quote_spanned!(span=> let _ = #path;)
    });

    // Paths written the same way are the same tool: one clear error, and
    // the name check below skips the repeat (it would fire too).
    let mut unique: Vec<usize> = Vec::new();
    for (j, second) in written.iter().enumerate() {
        if written[..j].contains(second) {
            cx.error_spanned_by(paths[j], format!("tool `{second}` is listed twice"));
        } else {
            unique.push(j);
        }
    }
    let checks = name_checks(&paths, &written, &unique, &alias);
    let tools = (0..paths.len()).map(|i| {
        let (span, alias) = (last_ident_span(paths[i]), alias(i));
        let p = private_at(span);
        quote_spanned!(span=> <#alias as #p::ToolFn>::__tool())
    });
    let errors = match cx.check() {
        Ok(()) => TokenStream::new(),
        Err(errors) => errors.to_compile_error(),
    };

    quote! {{
        #errors
        #declarations
        #(#visibility_checks)*
        #checks
        #p::toolset(#p::Vec::from([#(#tools),*]))
    }}
}

/// Names each path by its alias, in the type namespace, where `#[tool]`
/// puts the hidden type that shares the function's name.
///
/// A `use` imports whatever the path names, in each namespace: for a
/// function without `#[tool]`, nothing in the type namespace. There the
/// alias falls back to a glob import of `FunctionWithoutTool`, which names
/// and `use`s shadow, and a check spanned on the function's name says that
/// it needs `#[tool]`: rustc's own error ("expected type, found function")
/// would not say what to do.
fn declarations(
    paths: &[&Path],
    written: &[String],
    alias: &dyn Fn(usize) -> Ident,
) -> TokenStream {
    if paths.is_empty() {
        return TokenStream::new();
    }
    let p = private();
    let aliases: Vec<Ident> = (0..paths.len()).map(alias).collect();
    let imports = paths
        .iter()
        .zip(&aliases)
        .map(|(path, alias)| quote!(#path as #alias));
    let marked_checks = paths.iter().zip(written).zip(&aliases).map(|((path, written), alias)| {
        let span = last_ident_span(path);
        let p = private_at(span);
        let function = path.segments.last().map_or_else(String::new, |s| s.ident.to_string());
        let message = format!(
            "`{written}` is not a tool: `toolset!` takes functions marked with `#[tool]`, so add `#[tool]` to `fn {function}`"
        );
        quote_spanned! {span=>
            const _: () = if !<#alias as #p::ToolFn>::__MARKED {
                #p::core::panic!(#message)
            };
        }
    });
    quote! {
        #[allow(unused_imports, unreachable_pub)]
        mod __toolrunner_fallback {
            #(pub use #p::FunctionWithoutTool as #aliases;)*
        }
        #[allow(unused_imports)]
        use __toolrunner_fallback::*;
        #(#[allow(unused_imports)] use #imports;)*
        #(#marked_checks)*
    }
}

/// Checks that no two tools share a name. Names are only known once the
/// `#[tool]` expansions are type checked, so the comparison is constant
/// evaluation. It costs O(N) tokens, not one check per pair: the names and
/// paths are listed once, and each tool gets one small check that finds the
/// first earlier tool with its name and panics with a message naming both,
/// built at compile time. Each check is spanned on its tool's own name, so
/// that the error lands there.
fn name_checks(
    paths: &[&Path],
    written: &[String],
    unique: &[usize],
    alias: &dyn Fn(usize) -> Ident,
) -> TokenStream {
    if unique.len() < 2 {
        return TokenStream::new();
    }
    let names = unique.iter().map(|&i| {
        let (span, alias) = (last_ident_span(paths[i]), alias(i));
        let p = private_at(span);
        quote_spanned!(span=> <#alias as #p::ToolFn>::NAME)
    });
    let strings = unique.iter().map(|&i| &written[i]);
    let mut out = quote! {
        const __TOOLRUNNER_NAMES: &[&str] = &[#(#names),*];
        const __TOOLRUNNER_PATHS: &[&str] = &[#(#strings),*];
    };
    for (j, &index) in unique.iter().enumerate().skip(1) {
        let span = last_ident_span(paths[index]);
        let p = private_at(span);
        out.extend(quote_spanned! {span=>
            const _: () = {
                const CLASH: #p::NameClash = #p::NameClash::find(__TOOLRUNNER_NAMES, __TOOLRUNNER_PATHS, #j);
                const MESSAGE: [u8; CLASH.message_len()] = CLASH.message();
                if CLASH.found() {
                    #p::core::panic!("{}", #p::utf8(&MESSAGE))
                }
            };
        });
    }
    out
}

/// The span of the last segment's name: what a path to a tool function
/// ends with.
fn last_ident_span(path: &Path) -> Span {
    path.segments
        .last()
        .map_or_else(|| path.span(), |segment| segment.ident.span())
}

fn path_string(path: &Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}
