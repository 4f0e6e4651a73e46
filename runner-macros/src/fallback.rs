//! What `#[tool]` emits when the function has errors.
//!
//! The compile errors alone would make the function vanish, and every use of
//! it (direct calls, `toolset![...]`) would fail too, burying the real
//! mistakes under errors that are only consequences. So the function is still
//! emitted, and the hidden struct with an impl that type-checks but is never
//! run, since the build fails anyway.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::ToolFn;
use crate::expand::{assertions, marker_struct, private};

pub(crate) fn expand(tool: &ToolFn, errors: &syn::Error) -> TokenStream {
    let errors = errors.to_compile_error();
    let item = &tool.item;
    if tool.has_receiver {
        // The function sits in an `impl` block, where neither a struct nor an
        // unnamed const may be declared.
        return quote!(#errors #item);
    }

    let p = private();
    let ident = &tool.ident;
    let name = &tool.name;
    let marker = marker_struct(tool);
    // Checks on the parameter types still report their own mistakes in the
    // same build, except for a generic function: there the types name
    // generic parameters that do not exist outside of it.
    let generic =
        !tool.item.sig.generics.params.is_empty() || tool.item.sig.generics.where_clause.is_some();
    let assertions = if generic {
        TokenStream::new()
    } else {
        assertions(tool)
    };

    quote! {
        #errors

        #item

        #marker

        const _: () = {
            #assertions

            #[automatically_derived]
            impl #p::ToolFn for #ident {
                const NAME: &'static str = #name;

                fn definition() -> &'static #p::ToolDefinition {
                    #p::core::unreachable!()
                }

                fn call(_: #p::Value, _: #p::ToolContext) -> #p::ToolFuture<'static> {
                    #p::core::unreachable!()
                }
            }
        };
    }
}
