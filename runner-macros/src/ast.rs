//! The typed model of a `#[tool]` function, read from syn's syntax tree.
//!
//! Reading never stops at the first problem: each one is recorded in the
//! [`Ctxt`] and the model is still built, with the faulty parts marked, so
//! that later checks can report their own findings in the same build and the
//! fallback expansion has a function to emit.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{
    FnArg, GenericArgument, Ident, ItemFn, Pat, PathArguments, ReturnType, Type, TypePath,
    Visibility,
};

use crate::attr::{self, Caller, DefaultValue, ToolAttrs};
use crate::ctxt::Ctxt;
use crate::symbol;

/// A `#[tool]` function.
pub(crate) struct ToolFn {
    /// The function as it is emitted: as written, minus the parameter
    /// attributes rustc would reject.
    pub(crate) item: ItemFn,
    /// The function's visibility, given to the hidden struct too.
    pub(crate) vis: Visibility,
    /// The function's name, shared by the hidden struct.
    pub(crate) ident: Ident,
    /// The tool's name as the model sees it.
    pub(crate) name: String,
    /// What to point at when the name is wrong: the `name = "..."` literal,
    /// or the function's name.
    pub(crate) name_span: Span,
    /// Whether `name` came from `name = "..."`.
    pub(crate) name_given: bool,
    /// The tool's description: the option, else the doc comment.
    pub(crate) description: Option<String>,
    pub(crate) allowed_callers: Option<Vec<Caller>>,
    pub(crate) strict: bool,
    pub(crate) defer_loading: bool,
    /// `input_examples`, each as JSON tokens.
    pub(crate) input_examples: Vec<TokenStream>,
    pub(crate) eager_input_streaming: Option<bool>,
    /// The span of `inline`, when given.
    pub(crate) inline: Option<Span>,
    pub(crate) is_async: bool,
    /// Whether the function takes `self`. It then sits in an `impl` block,
    /// where no struct may be declared, so nothing is emitted beside it.
    pub(crate) has_receiver: bool,
    pub(crate) params: Vec<Param>,
    pub(crate) ret: Return,
}

/// One parameter.
pub(crate) struct Param {
    /// The local variable holding the value in generated code.
    pub(crate) binding: Ident,
    /// The type as written.
    pub(crate) ty: Type,
    /// The property it fills, when it has a usable name, even if its type
    /// is wrong: the property is checked for clashes all the same.
    pub(crate) property: Option<Property>,
    pub(crate) kind: ParamKind,
}

/// The property a parameter fills.
pub(crate) struct Property {
    /// The parameter's name in the function.
    pub(crate) ident: Ident,
    /// The property name.
    pub(crate) name: String,
    /// What to point at when the property name is wrong or taken: the
    /// `rename = "..."` literal, or the parameter's name.
    pub(crate) tokens: TokenStream,
}

/// Where a parameter's value comes from.
pub(crate) enum ParamKind {
    /// The model's input: a property of the input object.
    Plain(Box<Plain>),
    /// The call's context: `State<T>` or `ToolCall`.
    Context,
    /// A parameter that could not be understood; an error was recorded.
    Invalid,
}

/// A parameter read from the input.
pub(crate) struct Plain {
    /// The property name.
    pub(crate) name: String,
    /// The type the schema describes: `T` for `Option<T>`, else the type.
    pub(crate) schema_ty: Type,
    pub(crate) read: Read,
    /// The `///` comment, for the property's description.
    pub(crate) docs: Option<String>,
}

/// How a plain parameter is read.
pub(crate) enum Read {
    /// It must be present.
    Required,
    /// `Option<T>`: absent or `null` is `None`.
    Optional,
    /// It falls back to a default when absent or `null`.
    Default(DefaultValue),
}

impl Plain {
    /// Whether the schema lists the property as required.
    pub(crate) fn is_required(&self) -> bool {
        matches!(self.read, Read::Required)
    }
}

/// What the function returns.
pub(crate) enum Return {
    /// Nothing: `()`.
    Unit,
    /// A value converted with `IntoToolOutput`.
    Value(Box<Type>),
    /// A `Result`, whose `Err` becomes an error result. `ok` is the success
    /// type when the path names it (`Result<T, E>`, `io::Result<T>`).
    Result {
        ty: Box<Type>,
        ok: Option<Box<Type>>,
    },
}

impl ToolFn {
    /// Reads `item` with the options `attrs`.
    pub(crate) fn from_syn(cx: &Ctxt, attrs: ToolAttrs, mut item: ItemFn) -> ToolFn {
        let sig = &item.sig;
        if let Some(token) = &sig.unsafety {
            cx.error_spanned_by(
                token,
                "a tool cannot be an `unsafe fn`: the model cannot uphold its safety contract; \
                 write a safe function that checks the input and calls this one",
            );
        }
        if let Some(variadic) = &sig.variadic {
            cx.error_spanned_by(
                variadic,
                "a tool cannot be variadic: every parameter must be a named property of the input",
            );
        }
        check_generics(cx, &item);

        let is_async = sig.asyncness.is_some();
        let ident = sig.ident.clone();
        let ret = Return::from_syn(&sig.output);
        if let ReturnType::Type(_, ty) = &sig.output
            && let Type::Never(never) = peel(ty)
        {
            cx.error_spanned_by(
                never,
                "a tool cannot return `!`: the model waits for its result; return a value, \
                 or `Result<T, E>` to report a failure",
            );
        }
        let description = match &attrs.description {
            Some(lit) => Some(lit.value().trim().to_owned()).filter(|d| !d.is_empty()),
            None => attr::docs(cx, &item.attrs),
        };
        let (name, name_span, name_given) = match &attrs.name {
            Some(lit) => (lit.value(), lit.span(), true),
            None => (ident.unraw().to_string(), ident.span(), false),
        };

        let mut params = Vec::new();
        let mut has_receiver = false;
        for (index, input) in item.sig.inputs.iter_mut().enumerate() {
            let binding = Ident::new(&format!("__arg{index}"), Span::call_site());
            match input {
                FnArg::Receiver(receiver) => {
                    has_receiver = true;
                    cx.error_spanned_by(
                        &*receiver,
                        "a tool must be a free function, not a method: remove `self` and take what \
                         the tool needs as parameters, or shared values as `State<T>`",
                    );
                }
                FnArg::Typed(typed) => {
                    let param_attrs = attr::param_attrs(cx, &mut typed.attrs);
                    let ty = (*typed.ty).clone();
                    let (property, kind) = param_kind(cx, &typed.pat, &ty, param_attrs);
                    params.push(Param {
                        binding,
                        ty,
                        property,
                        kind,
                    });
                }
            }
        }

        if !item.sig.inputs.is_empty() {
            // Clippy's advice on parameters does not fit a tool: it takes
            // owned values because it reads them from JSON, so it cannot
            // borrow instead, and its parameters are the properties of its
            // input, as many as the input has. First, so that the user's own
            // lint attributes override it.
            item.attrs.insert(
                0,
                syn::parse_quote!(#[allow(clippy::needless_pass_by_value, clippy::too_many_arguments)]),
            );
        }

        ToolFn {
            vis: item.vis.clone(),
            ident,
            name,
            name_span,
            name_given,
            description,
            allowed_callers: attrs.allowed_callers,
            strict: attrs.strict,
            defer_loading: attrs.defer_loading,
            input_examples: attrs.input_examples,
            eager_input_streaming: attrs.eager_input_streaming,
            inline: attrs.inline,
            is_async,
            has_receiver,
            params,
            ret,
            item,
        }
    }

    /// The parameters read from the input.
    pub(crate) fn plain_params(&self) -> impl Iterator<Item = (&Param, &Plain)> {
        self.params.iter().filter_map(|p| match &p.kind {
            ParamKind::Plain(plain) => Some((p, &**plain)),
            _ => None,
        })
    }
}

/// Generic parameters cannot work: the macro names every parameter type in
/// the schema and the call, and a tool has one schema.
fn check_generics(cx: &Ctxt, item: &ItemFn) {
    let generics = &item.sig.generics;
    if !generics.params.is_empty() {
        let only_lifetimes = generics
            .params
            .iter()
            .all(|p| matches!(p, syn::GenericParam::Lifetime(_)));
        let message = if only_lifetimes {
            "a tool cannot have lifetime parameters: its arguments are owned values read from JSON; \
             remove the lifetimes and take owned types (`String` instead of `&str`)"
        } else {
            "a tool cannot be generic: its schema and its input are built from concrete types; \
             remove the generic parameters and use concrete types"
        };
        cx.error_spanned_by(generics, message);
    } else if let Some(where_clause) = &generics.where_clause {
        cx.error_spanned_by(
            where_clause,
            "a tool cannot have a `where` clause: its parameters must be concrete types",
        );
    }
}

fn param_kind(
    cx: &Ctxt,
    pat: &Pat,
    ty: &Type,
    attrs: attr::ParamAttrs,
) -> (Option<Property>, ParamKind) {
    let owned = check_owned(cx, ty);

    // A context parameter's name does not matter, so any pattern is fine,
    // such as `State(db): State<Db>`.
    if is_context(ty) {
        if let Some(tokens) = attrs.tool_attr {
            cx.error_spanned_by(
                tokens,
                "context parameters (`State<T>`, `ToolCall`) are not part of the input and take no options; \
                 remove this attribute",
            );
        }
        let kind = if owned {
            ParamKind::Context
        } else {
            ParamKind::Invalid
        };
        return (None, kind);
    }

    let property = param_ident(cx, pat).map(|ident| {
        let (name, tokens) = match &attrs.rename {
            Some(lit) => (lit.value(), lit.to_token_stream()),
            None => (ident.unraw().to_string(), ident.to_token_stream()),
        };
        if !is_valid_property_name(&name) {
            let hint = if attrs.rename.is_some() {
                ""
            } else {
                "; give it another with `#[tool(rename = \"...\")]`"
            };
            cx.error_spanned_by(
                &tokens,
                format!(
                    "invalid property name `{name}`: property names are 1 to 64 of a-z, A-Z, 0-9, `_`, `.` and `-`{hint}"
                ),
            );
        }
        Property {
            ident,
            name,
            tokens,
        }
    });
    let Some(name) = property.as_ref().map(|p| p.name.clone()) else {
        return (property, ParamKind::Invalid);
    };
    if !owned {
        return (property, ParamKind::Invalid);
    }

    let option_inner = option_inner(ty).cloned();
    let read = match (attrs.default, &option_inner) {
        (Some(default), _) => Read::Default(default),
        (None, Some(_)) => Read::Optional,
        (None, None) => Read::Required,
    };
    let plain = Plain {
        name,
        schema_ty: option_inner.unwrap_or_else(|| ty.clone()),
        read,
        docs: attrs.docs,
    };
    (property, ParamKind::Plain(Box::new(plain)))
}

/// The parameter's name, when its pattern is a plain (possibly `mut`) name.
fn param_ident(cx: &Ctxt, pat: &Pat) -> Option<Ident> {
    match pat {
        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => Some(p.ident.clone()),
        Pat::Wild(_) => {
            cx.error_spanned_by(
                pat,
                "a tool parameter needs a name: it becomes the property name the model fills in",
            );
            None
        }
        _ => {
            cx.error_spanned_by(
                pat,
                "a tool parameter must be a plain name, not a pattern: the name becomes the property \
                 name; bind the whole value (`point: Point`) and destructure it in the body",
            );
            None
        }
    }
}

/// Records an error for every borrowed or `impl Trait` part of `ty`; true
/// when there is none.
fn check_owned(cx: &Ctxt, ty: &Type) -> bool {
    struct Finder<'a> {
        cx: &'a Ctxt,
        ok: bool,
        /// The parameter's whole type.
        top: &'a Type,
    }

    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
            self.ok = false;
            let owned = owned_suggestion(&r.elem);
            let whole = matches!(peel(self.top), Type::Reference(top) if std::ptr::eq(top, r));
            let message = if whole && type_path(&r.elem).is_some() && owned == type_string(&r.elem)
            {
                // A reference to a type of the user's may be meant as
                // state: say both ways, the value or the state.
                let mutable = if r.mutability.is_some() {
                    "; put what calls change behind a `Mutex`"
                } else {
                    ""
                };
                format!(
                    "a tool parameter cannot be a reference: use `{owned}` for a value the model sends, \
                     read from JSON, or `State<{owned}>` for state the toolset holds \
                     (`.with_state(..)`{mutable})"
                )
            } else {
                format!(
                    "a tool parameter must be an owned type, read from JSON: use `{owned}` instead of `{}`",
                    type_string(r)
                )
            };
            self.cx.error_spanned_by(r, message);
            // The reference is reported as a whole; no need to look inside.
        }

        fn visit_type_impl_trait(&mut self, t: &'ast syn::TypeImplTrait) {
            self.ok = false;
            self.cx.error_spanned_by(
                t,
                "`impl Trait` cannot be a tool parameter: the macro must name the type to read it from JSON; \
                 use a concrete type",
            );
        }

        fn visit_lifetime(&mut self, lifetime: &'ast syn::Lifetime) {
            if lifetime.ident != "static" {
                self.ok = false;
                self.cx.error_spanned_by(
                    lifetime,
                    "a tool parameter cannot borrow: its value is read from JSON that is gone once the \
                     call starts; use an owned type",
                );
            }
        }
    }

    let mut finder = Finder {
        cx,
        ok: true,
        top: ty,
    };
    finder.visit_type(ty);
    finder.ok
}

/// The owned type to suggest instead of a reference to `elem`.
fn owned_suggestion(elem: &Type) -> String {
    match peel(elem) {
        Type::Path(p) if p.qself.is_none() && p.path.is_ident("str") => "String".to_owned(),
        Type::Path(p) if p.qself.is_none() && p.path.is_ident("Path") => "PathBuf".to_owned(),
        Type::Path(p) if p.qself.is_none() && p.path.is_ident("OsStr") => "OsString".to_owned(),
        Type::Slice(slice) => format!("Vec<{}>", type_string(&slice.elem)),
        other => type_string(other),
    }
}

/// A type as written, without the spaces token streams put everywhere.
pub(crate) fn type_string(ty: &impl ToTokens) -> String {
    let mut s = ty.to_token_stream().to_string();
    for (from, to) in [
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ::", "::"),
        (":: ", "::"),
        (" ,", ","),
        ("& ", "&"),
        ("[ ", "["),
        (" ]", "]"),
        ("( ", "("),
        (" )", ")"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// Whether the Messages API accepts `name` as a property key.
fn is_valid_property_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Looks through the invisible groups that `macro_rules!` wraps around `$t:ty`
/// and through parentheses.
fn peel(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => peel(&g.elem),
        Type::Paren(p) => peel(&p.elem),
        other => other,
    }
}

/// The path of `ty`, when it is a path type without `<T as Trait>::`.
fn type_path(ty: &Type) -> Option<&TypePath> {
    match peel(ty) {
        Type::Path(p) if p.qself.is_none() => Some(p),
        _ => None,
    }
}

/// Whether `ty` is filled from the call's context, judged by the last
/// segment of its path: `State<...>` or `ToolCall`. The macro cannot resolve
/// names, and these two are what `toolrunner` exports.
fn is_context(ty: &Type) -> bool {
    type_path(ty)
        .and_then(|p| p.path.segments.last())
        .is_some_and(|seg| seg.ident == symbol::STATE || seg.ident == symbol::TOOL_CALL)
}

/// `T` when `ty` is `Option<T>` (by any path).
fn option_inner(ty: &Type) -> Option<&Type> {
    let seg = type_path(ty)?.path.segments.last()?;
    if seg.ident != symbol::OPTION {
        return None;
    }
    first_type_arg(&seg.arguments)
}

fn first_type_arg(args: &PathArguments) -> Option<&Type> {
    let PathArguments::AngleBracketed(args) = args else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

impl Return {
    fn from_syn(output: &ReturnType) -> Return {
        let ReturnType::Type(_, ty) = output else {
            return Return::Unit;
        };
        match peel(ty) {
            Type::Tuple(tuple) if tuple.elems.is_empty() => return Return::Unit,
            // Reported as an error; `Unit` keeps the fallback from naming
            // the unstable never type.
            Type::Never(_) => return Return::Unit,
            _ => {}
        }
        let result_seg = type_path(ty)
            .and_then(|p| p.path.segments.last())
            .filter(|seg| seg.ident == symbol::RESULT);
        match result_seg {
            Some(seg) => Return::Result {
                ok: first_type_arg(&seg.arguments).cloned().map(Box::new),
                ty: ty.clone(),
            },
            None => Return::Value(ty.clone()),
        }
    }

    /// The type to check with `assert_output`: the value type, or the `Ok`
    /// type of a `Result`. `None` when there is nothing to check or the type
    /// cannot be named (`impl Trait`), in which case the conversion itself,
    /// spanned on the return type, reports any problem.
    pub(crate) fn output_type(&self) -> Option<&Type> {
        let ty = match self {
            Return::Unit => return None,
            Return::Value(ty) => ty,
            Return::Result { ok, .. } => ok.as_ref()?,
        };
        (!contains_impl_trait(ty)).then_some(ty)
    }

    /// What to point at for errors about the returned value.
    pub(crate) fn span(&self) -> Span {
        match self {
            Return::Unit => Span::call_site(),
            Return::Value(ty) => ty.span(),
            Return::Result { ok: Some(ok), .. } => ok.span(),
            Return::Result { ty, .. } => ty.span(),
        }
    }
}

fn contains_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    finder.visit_type(ty);
    finder.0
}
