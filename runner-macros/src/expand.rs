//! Code generation for `#[tool]`.
//!
//! Generated code names the runtime only through `::toolrunner::__private`,
//! so that users need no dependency on serde, schemars or tokio, and so that
//! nothing in the user's scope (a local `Result`, a `use` that shadows a
//! prelude name) can change what it means.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, Visibility};

use crate::ast::{Param, ParamKind, Plain, Read, Return, ToolFn};
use crate::attr::{Caller, DefaultValue};
use crate::ctxt::Ctxt;
use crate::{attr, fallback};

/// The runtime support module.
pub(crate) fn private() -> TokenStream {
    quote!(::toolrunner::__private)
}

/// The runtime support module, spanned for code inside `quote_spanned!`:
/// an expression built from tokens of mixed origins is reported at the
/// macro call rather than at the span it was meant to have.
pub(crate) fn private_at(span: Span) -> TokenStream {
    quote_spanned!(span=> ::toolrunner::__private)
}

/// Expands `#[tool(args)] input`.
pub(crate) fn tool(args: TokenStream, input: TokenStream) -> TokenStream {
    let item: ItemFn = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(e) => {
            // Keep the item, whatever it is, so that code using it does not
            // fail too.
            let error = syn::Error::new(
                e.span(),
                format!("{e}; `#[tool]` goes on a function (`fn` or `async fn`)"),
            )
            .to_compile_error();
            return quote!(#error #input);
        }
    };

    let cx = Ctxt::new();
    let attrs = attr::tool_attrs(&cx, args);
    let tool = ToolFn::from_syn(&cx, attrs, item);
    tool.validate(&cx);
    match cx.check() {
        Ok(()) => expand(&tool),
        Err(errors) => fallback::expand(&tool, &errors),
    }
}

/// The function, the hidden struct and its `ToolFn` impl.
fn expand(tool: &ToolFn) -> TokenStream {
    let p = private();
    let item = &tool.item;
    let ident = &tool.ident;
    let name = &tool.name;
    let marker = marker_struct(tool);
    let assertions = assertions(tool);
    let definition = definition(tool);
    let call = call(tool);
    let imports = imports(tool);

    quote! {
        #item

        #marker

        const _: () = {
            #imports
            #assertions

            #[automatically_derived]
            impl #p::ToolFn for #ident {
                const NAME: &'static str = #name;

                fn definition() -> &'static #p::ToolDefinition {
                    static __DEF: #p::OnceLock<#p::ToolDefinition> = #p::OnceLock::new();
                    // A closure that captures nothing is a plain function:
                    // `cached` is compiled once, not once per tool.
                    #p::cached(&__DEF, || #definition)
                }

                #call
            }
        };
    }
}

/// The hidden struct that shares the function's name. A braced struct lives
/// only in the type namespace, so it does not clash with the function, and
/// one `use` imports both.
///
/// A `pub` function's struct is `pub`; any other's is `pub(crate)`, never
/// less. Whether a `toolset!` may list the tool is the function's
/// visibility, checked there on the function's path, so that listing a
/// private tool from another module fails with "function `x` is private",
/// about the function, rather than about a struct the user never wrote.
pub(crate) fn marker_struct(tool: &ToolFn) -> TokenStream {
    let vis = match &tool.vis {
        Visibility::Public(_) => quote!(pub),
        _ => quote!(pub(crate)),
    };
    let ident = &tool.ident;
    quote! {
        #[doc(hidden)]
        // It is named after the function and is only ever used as a type.
        #[allow(non_camel_case_types, dead_code, unreachable_pub, clippy::redundant_pub_crate)]
        #vis struct #ident {}
    }
}

/// The dispatch traits the generated code calls methods of. Only those that
/// are used are imported, so that no import is unused.
fn imports(tool: &ToolFn) -> TokenStream {
    let p = private();
    let mut traits = Vec::new();
    if tool.plain_params().next().is_some() {
        traits.push(quote!(ParamOps as _));
        traits.push(quote!(ParamFallback as _));
    }
    if tool
        .params
        .iter()
        .any(|param| matches!(param.kind, ParamKind::Context))
    {
        traits.push(quote!(ContextOps as _));
        traits.push(quote!(ContextFallback as _));
    }
    if tool.ret.output_type().is_some() {
        traits.push(quote!(OutputOps as _));
        traits.push(quote!(OutputFallback as _));
    }
    if matches!(tool.ret, Return::Result { .. }) {
        traits.push(quote!(ErrorChain as _));
        traits.push(quote!(DisplayOnly as _));
        traits.push(quote!(NotDisplay as _));
    }
    if traits.is_empty() {
        return TokenStream::new();
    }
    quote!(use #p::{#(#traits),*};)
}

/// Compile-time checks, each spanned on the type it is about so that the
/// error (with the runtime's `on_unimplemented` message) lands there.
pub(crate) fn assertions(tool: &ToolFn) -> TokenStream {
    let mut checks = TokenStream::new();
    for param in &tool.params {
        match &param.kind {
            ParamKind::Plain(plain) => {
                let ty = &plain.schema_ty;
                let p = private_at(ty.span());
                checks.extend(quote_spanned! {ty.span()=>
                    #p::assert_param::<#ty>();
                });
            }
            ParamKind::Context => {
                let ty = &param.ty;
                let p = private_at(ty.span());
                checks.extend(quote_spanned! {ty.span()=>
                    #p::assert_context::<#ty>();
                });
            }
            ParamKind::Invalid => {}
        }
    }
    if let Some(ty) = tool.ret.output_type() {
        let p = private_at(ty.span());
        checks.extend(quote_spanned! {ty.span()=>
            #p::assert_output::<#ty>();
        });
    }
    if checks.is_empty() {
        return checks;
    }
    // One constant for all of them: each is an item the compiler checks and
    // evaluates on its own, and the calls inside keep their own spans.
    quote!(const _: () = { #checks };)
}

/// The expression building the `ToolDefinition`.
fn definition(tool: &ToolFn) -> TokenStream {
    let p = private();
    let name = &tool.name;
    let description = tool.description.as_deref().unwrap_or_default();
    let schema = schema(tool);

    let mut options = TokenStream::new();
    if let Some(callers) = &tool.allowed_callers {
        let callers = callers.iter().map(|caller| match caller {
            Caller::Direct => quote!(#p::AllowedCaller::Direct),
            Caller::Code => quote!(#p::AllowedCaller::Code),
            Caller::CodeExecution(version) => {
                quote!(#p::AllowedCaller::CodeExecution(#p::String::from(#version)))
            }
        });
        options.extend(quote!(.with_allowed_callers([#(#callers),*])));
    }
    if tool.strict {
        options.extend(quote!(.with_strict(true)));
    }
    if tool.defer_loading {
        options.extend(quote!(.with_defer_loading(true)));
    }
    if !tool.input_examples.is_empty() {
        let examples = &tool.input_examples;
        options.extend(quote!(.with_input_examples([#(#p::serde_json::json!(#examples)),*])));
    }
    if let Some(eager) = tool.eager_input_streaming {
        options.extend(quote!(.with_eager_input_streaming(#eager)));
    }
    // The schema is exact for a `#[tool]`: inputs are checked against it.
    options.extend(quote!(.with_input_validation(true)));

    let definition = quote! {
        #p::ToolDefinition::new(#name, #description, #schema) #options
    };
    // The states the tool needs, so that a runner can report one missing
    // before the first call rather than the model at the call.
    let states: Vec<TokenStream> = tool
        .params
        .iter()
        .filter(|param| matches!(param.kind, ParamKind::Context))
        .map(|param| {
            let ty = &param.ty;
            quote!((&#p::Context::<#ty>::new()).__toolrunner_state())
        })
        .collect();
    if states.is_empty() {
        return definition;
    }
    quote! {
        #p::require_states(#definition, [#(#states),*])
    }
}

/// The expression building the input schema, one property per plain parameter.
fn schema(tool: &ToolFn) -> TokenStream {
    let p = private();
    let params: Vec<TokenStream> = tool
        .plain_params()
        .map(|(_, plain)| {
            let ty = &plain.schema_ty;
            let name = &plain.name;
            let description = match &plain.docs {
                Some(docs) => quote!(#p::core::option::Option::Some(#docs)),
                None => quote!(#p::core::option::Option::None),
            };
            let required = plain.is_required();
            quote! {
                (&#p::Param::<#ty>::new()).__toolrunner_schema(&mut __schema, #name, #description, #required);
            }
        })
        .collect();
    if params.is_empty() {
        return quote!(#p::SchemaBuilder::new().finish());
    }
    quote! {{
        let mut __schema = #p::SchemaBuilder::new();
        #(#params)*
        __schema.finish()
    }}
}

/// How generated code leaves early with an error result.
#[derive(Clone, Copy)]
enum Fail {
    /// In `ToolFn::call`, which returns a future.
    Future,
    /// In the body of a sync tool, which returns the `ToolOutput` itself.
    Output,
}

impl Fail {
    fn wrap(self, error: TokenStream) -> TokenStream {
        let p = private();
        match self {
            Fail::Future => quote!(#p::ready(#error)),
            Fail::Output => error,
        }
    }
}

/// `ToolFn::call`: context, then input, then the function.
///
/// A sync tool's whole body (reading the input included) is a closure that
/// captures nothing, passed to the runtime as a plain `fn` pointer: the
/// runtime's `blocking` is then compiled once, not once per tool with its
/// own task type.
fn call(tool: &ToolFn) -> TokenStream {
    let p = private();
    let name = &tool.name;
    let has_context = tool
        .params
        .iter()
        .any(|param| matches!(param.kind, ParamKind::Context));
    // An unused parameter would warn in the user's crate.
    let cx_pat = if has_context { quote!(__cx) } else { quote!(_) };
    let fail = if tool.is_async {
        Fail::Future
    } else {
        Fail::Output
    };
    let context = tool
        .params
        .iter()
        .filter(|param| matches!(param.kind, ParamKind::Context))
        .map(|param| read_context(param, fail));
    let args = read_args(tool, fail);
    let run = run(tool);

    if tool.is_async {
        return quote! {
            fn call(__input: #p::Value, #cx_pat: #p::ToolContext) -> #p::ToolFuture<'static> {
                #(#context)*
                #args
                #run
            }
        };
    }
    let body = quote! {
        |__input, #cx_pat| {
            #(#context)*
            #args
            #run
        }
    };
    let call = if tool.inline.is_some() {
        quote!(#p::inline(__input, __cx, #body))
    } else {
        quote!(#p::blocking(#name, __input, __cx, #body))
    };
    quote! {
        fn call(__input: #p::Value, __cx: #p::ToolContext) -> #p::ToolFuture<'static> {
            #call
        }
    }
}

/// Takes a context parameter from the call's context, or returns its error.
fn read_context(param: &Param, fail: Fail) -> TokenStream {
    let p = private();
    let binding = &param.binding;
    let ty = &param.ty;
    let error = fail.wrap(quote!(__error));
    quote! {
        let #binding: #ty = match (&#p::Context::<#ty>::new()).__toolrunner_context(&__cx) {
            #p::core::result::Result::Ok(__value) => __value,
            #p::core::result::Result::Err(__error) => return #error,
        };
    }
}

/// Reads every plain parameter from the input. Each is read before any
/// error is acted on, so that the model hears about all bad fields at once.
fn read_args(tool: &ToolFn, fail: Fail) -> TokenStream {
    let p = private();
    let name = &tool.name;
    let plain: Vec<(&Param, &Plain)> = tool.plain_params().collect();
    let names = plain.iter().map(|(_, plain)| &plain.name);
    let reads = plain.iter().map(|(param, plain)| read_arg(param, plain));
    let bindings: Vec<_> = plain.iter().map(|(param, _)| &param.binding).collect();
    let mutability = if plain.is_empty() {
        None
    } else {
        Some(quote!(mut))
    };
    let error = fail.wrap(quote!(__error));

    let unwrap = if plain.is_empty() {
        TokenStream::new()
    } else {
        // `ArgsReader` yields `None` only with an error recorded, so this
        // cannot fail after `finish`; still, a wrong input must never panic.
        let missing = fail.wrap(quote!(#p::missing_argument(#name)));
        quote! {
            let (#(#p::core::option::Option::Some(#bindings),)*) = (#(#bindings,)*) else {
                return #missing;
            };
        }
    };

    quote! {
        let #mutability __args = match #p::ArgsReader::new(#name, __input, &[#(#names),*]) {
            #p::core::result::Result::Ok(__args) => __args,
            #p::core::result::Result::Err(__error) => return #error,
        };
        #(#reads)*
        if let #p::core::result::Result::Err(__error) = __args.finish() {
            return #error;
        }
        #unwrap
    }
}

/// Reads one plain parameter into its binding: `Some(value)`, or `None`
/// with the error recorded in the reader.
fn read_arg(param: &Param, plain: &Plain) -> TokenStream {
    let p = private();
    let binding = &param.binding;
    let ty = &param.ty;
    let name = &plain.name;
    let read = match &plain.read {
        Read::Required => {
            quote!((&#p::Param::<#ty>::new()).__toolrunner_required(&mut __args, #name))
        }
        Read::Optional => {
            let inner = &plain.schema_ty;
            quote!((&#p::Param::<#inner>::new()).__toolrunner_optional(&mut __args, #name))
        }
        Read::Default(default) => {
            let default = match default {
                // A closure rather than the function itself: passing
                // `Default::default` would check `T: Default` twice, once
                // at the call (on the attribute). The body is spanned on the
                // `default` key, so that a type without `Default` is
                // reported there.
                DefaultValue::Trait(span) => {
                    let p = private_at(*span);
                    let body = quote_spanned!(*span=> #p::core::default::Default::default());
                    quote!(|| #body)
                }
                DefaultValue::Expr(expr) => quote!(|| #expr),
            };
            quote!((&#p::Param::<#ty>::new()).__toolrunner_or_else(&mut __args, #name, #default))
        }
    };
    quote! {
        let #binding: #p::core::option::Option<#ty> = #read;
    }
}

/// Runs the function and converts its result: an async function as a boxed
/// future, a sync one in place (its caller, `call`, decides where that runs).
fn run(tool: &ToolFn) -> TokenStream {
    let ident = &tool.ident;
    let args = tool.params.iter().map(|param| &param.binding);
    if tool.is_async {
        let call = quote!(#ident(#(#args),*).await);
        let convert = convert(tool, &call);
        // Spanned on the function's name: a future that is not `Send` is
        // reported there.
        let span = ident.span();
        let p = private_at(span);
        quote_spanned! {span=>
            #p::Box::pin(async move { #convert })
        }
    } else {
        let call = quote!(#ident(#(#args),*));
        convert(tool, &call)
    }
}

/// Converts the result of `call` into a `ToolOutput`.
fn convert(tool: &ToolFn, call: &TokenStream) -> TokenStream {
    let p = private();
    let name = &tool.name;
    // The conversion falls back quietly when `assert_output` already
    // reports a wrong type; a type it could not check (`impl Trait`) is
    // converted directly, so that a mistake is still reported, on the type.
    let output = |value: TokenStream| match tool.ret.output_type() {
        Some(_) => quote!(#p::Output(#value).__toolrunner_output()),
        None => {
            let span = tool.ret.span();
            let p = private_at(span);
            quote_spanned!(span=> #p::output(#value))
        }
    };
    match &tool.ret {
        Return::Unit => quote!({
            #call;
            #p::ToolOutput::empty()
        }),
        Return::Value(_) => output(call.clone()),
        Return::Result { ty, .. } => {
            let ok = output(quote!(__value));
            let span = ty.span();
            let check = {
                let p = private_at(span);
                quote_spanned!(span=> #p::check_error(&__error))
            };
            quote! {
                match #call {
                    #p::core::result::Result::Ok(__value) => #ok,
                    #p::core::result::Result::Err(__error) => #p::error_output(
                        #name,
                        (&#p::ErrorRef(#check)).__toolrunner_describe(),
                    ),
                }
            }
        }
    }
}
