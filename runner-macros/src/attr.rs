//! Parsing of `#[tool(...)]` options, on the function and on its parameters,
//! and of doc comments.
//!
//! Values are parsed as expressions and interpreted afterwards, rather than
//! parsed as the exact literal expected: a wrong value (`name = get_weather`)
//! is then recorded as an error and parsing goes on, so that every mistake in
//! the attribute is reported at once.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Meta, Token};

use crate::ctxt::Ctxt;
use crate::rules::is_code_execution_version;
use crate::symbol::{self, Symbol};

/// The options of `#[tool(...)]` on the function.
#[derive(Default)]
pub(crate) struct ToolAttrs {
    /// `name = "..."`.
    pub(crate) name: Option<LitStr>,
    /// `description = "..."`.
    pub(crate) description: Option<LitStr>,
    /// `allowed_callers = [...]`; `None` when the option is left out.
    pub(crate) allowed_callers: Option<Vec<Caller>>,
    /// `strict` or `strict = true`.
    pub(crate) strict: bool,
    /// `defer_loading` or `defer_loading = true`.
    pub(crate) defer_loading: bool,
    /// `input_examples = [{...}, ...]`: each example's JSON tokens.
    pub(crate) input_examples: Vec<TokenStream>,
    /// `eager_input_streaming` or `eager_input_streaming = bool`.
    pub(crate) eager_input_streaming: Option<bool>,
    /// `inline` or `inline = true`, with the key's span for errors.
    pub(crate) inline: Option<Span>,
}

/// One entry of `allowed_callers`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Caller {
    /// `"direct"`.
    Direct,
    /// `"code"`.
    Code,
    /// An exact code-execution version, `code_execution_YYYYMMDD`.
    CodeExecution(String),
}

/// The options of `#[tool(...)]` on a parameter, and its doc comment.
#[derive(Default)]
pub(crate) struct ParamAttrs {
    /// `rename = "..."`.
    pub(crate) rename: Option<LitStr>,
    /// `default` or `default = expr`.
    pub(crate) default: Option<DefaultValue>,
    /// The `///` comment, cleaned up.
    pub(crate) docs: Option<String>,
    /// The first `#[tool(...)]` attribute, to point at when a context
    /// parameter is given options it cannot use.
    pub(crate) tool_attr: Option<TokenStream>,
}

/// Where a parameter's default comes from.
pub(crate) enum DefaultValue {
    /// `#[tool(default)]`: `Default::default()`, spanned on the key so that a
    /// type without `Default` is reported there.
    Trait(Span),
    /// `#[tool(default = expr)]`.
    Expr(Box<Expr>),
}

/// One option that may be given once; a second occurrence is an error.
struct Once<T> {
    key: Symbol,
    value: Option<T>,
}

impl<T> Once<T> {
    fn new(key: Symbol) -> Self {
        Once { key, value: None }
    }

    fn set(&mut self, cx: &Ctxt, path: &syn::Path, value: T) {
        if self.value.is_some() {
            cx.error_spanned_by(path, format!("duplicate option `{}`", self.key));
        } else {
            self.value = Some(value);
        }
    }
}

/// Parses the arguments of `#[tool(...)]` on the function.
pub(crate) fn tool_attrs(cx: &Ctxt, args: TokenStream) -> ToolAttrs {
    let mut name = Once::new(symbol::NAME);
    let mut description = Once::new(symbol::DESCRIPTION);
    let mut allowed_callers = Once::new(symbol::ALLOWED_CALLERS);
    let mut strict = Once::new(symbol::STRICT);
    let mut defer_loading = Once::new(symbol::DEFER_LOADING);
    let mut inline = Once::new(symbol::INLINE);
    let mut input_examples = Once::new(symbol::INPUT_EXAMPLES);
    let mut eager_input_streaming = Once::new(symbol::EAGER_INPUT_STREAMING);

    let parser = syn::meta::parser(|meta| {
        let path = &meta.path;
        if *path == symbol::NAME {
            if let Some(lit) = string_value(cx, &meta, symbol::NAME)? {
                name.set(cx, path, lit);
            }
        } else if *path == symbol::DESCRIPTION {
            if let Some(lit) = string_value(cx, &meta, symbol::DESCRIPTION)? {
                description.set(cx, path, lit);
            }
        } else if *path == symbol::ALLOWED_CALLERS {
            if let Some(callers) = callers_value(cx, &meta)? {
                allowed_callers.set(cx, path, callers);
            }
        } else if *path == symbol::STRICT {
            if let Some(flag) = flag_value(cx, &meta, symbol::STRICT)? {
                strict.set(cx, path, flag);
            }
        } else if *path == symbol::DEFER_LOADING {
            if let Some(flag) = flag_value(cx, &meta, symbol::DEFER_LOADING)? {
                defer_loading.set(cx, path, flag);
            }
        } else if *path == symbol::INPUT_EXAMPLES {
            if let Some(examples) = examples_value(cx, &meta)? {
                input_examples.set(cx, path, examples);
            }
        } else if *path == symbol::EAGER_INPUT_STREAMING {
            if let Some(flag) = flag_value(cx, &meta, symbol::EAGER_INPUT_STREAMING)? {
                eager_input_streaming.set(cx, path, flag);
            }
        } else if *path == symbol::INLINE {
            if let Some(flag) = flag_value(cx, &meta, symbol::INLINE)? {
                inline.set(cx, path, flag.then(|| path.span()));
            }
        } else {
            cx.error_spanned_by(
                path,
                unknown("option", path, symbol::TOOL_OPTIONS, "`#[tool]` accepts"),
            );
            skip_value(&meta)?;
        }
        Ok(())
    });
    // A syntax error stops parsing: what follows it cannot be trusted.
    if let Err(e) = parser.parse2(args) {
        cx.syn_error(e);
    }

    ToolAttrs {
        name: name.value,
        description: description.value,
        allowed_callers: allowed_callers.value,
        strict: strict.value.unwrap_or(false),
        defer_loading: defer_loading.value.unwrap_or(false),
        input_examples: input_examples.value.unwrap_or_default(),
        eager_input_streaming: eager_input_streaming.value,
        inline: inline.value.flatten(),
    }
}

/// Reads `input_examples = [{"a": 1}, ...]`: a list of JSON objects, each
/// kept as tokens for `serde_json::json!`, which checks them at compile time.
fn examples_value(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<Vec<TokenStream>>> {
    let expected = "expected a list of example inputs, each a JSON object:                     `input_examples = [{\"a\": 1}, {\"a\": 2}]`";
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(&meta.path, expected);
        return Ok(None);
    }
    let group: proc_macro2::Group = meta.value()?.parse()?;
    if group.delimiter() != proc_macro2::Delimiter::Bracket {
        cx.error_spanned_by(&group, expected);
        return Ok(None);
    }
    let mut examples = Vec::new();
    let mut current = TokenStream::new();
    let mut items = Vec::new();
    for token in group.stream() {
        match &token {
            proc_macro2::TokenTree::Punct(p) if p.as_char() == ',' => {
                items.push(std::mem::take(&mut current));
            }
            _ => current.extend([token]),
        }
    }
    if !current.is_empty() {
        items.push(current);
    }
    for item in items {
        let mut tokens = item.clone().into_iter();
        match (tokens.next(), tokens.next()) {
            (Some(proc_macro2::TokenTree::Group(object)), None)
                if object.delimiter() == proc_macro2::Delimiter::Brace =>
            {
                examples.push(item);
            }
            _ => cx.error_spanned_by(
                &item,
                "an input example is a JSON object, like `{\"a\": 1}`",
            ),
        }
    }
    Ok(Some(examples))
}

/// Reads the options and doc comment of one parameter, and removes from
/// `attrs` what rustc must not see: `#[tool(...)]` is ours, and rustc
/// rejects doc comments on parameters.
pub(crate) fn param_attrs(cx: &Ctxt, attrs: &mut Vec<Attribute>) -> ParamAttrs {
    let mut rename = Once::new(symbol::RENAME);
    let mut default = Once::new(symbol::DEFAULT);
    let mut tool_attr = None;

    for attr in attrs.iter() {
        if attr.path() == symbol::CFG || attr.path() == symbol::CFG_ATTR {
            // The schema and the call are built from the parameters as
            // written; a parameter that may vanish would desynchronise them.
            cx.error_spanned_by(
                attr,
                "`#[cfg]` is not supported on tool parameters: the tool's schema is built from every parameter; \
                 use `#[cfg]` on the whole function instead",
            );
            continue;
        }
        if attr.path() != symbol::TOOL {
            continue;
        }
        tool_attr.get_or_insert_with(|| attr.to_token_stream());
        let result = attr.parse_nested_meta(|meta| {
            let path = &meta.path;
            if *path == symbol::RENAME {
                if let Some(lit) = string_value(cx, &meta, symbol::RENAME)? {
                    rename.set(cx, path, lit);
                }
            } else if *path == symbol::DEFAULT {
                if meta.input.peek(Token![=]) {
                    let expr: Expr = meta.value()?.parse()?;
                    default.set(cx, path, DefaultValue::Expr(Box::new(expr)));
                } else {
                    default.set(cx, path, DefaultValue::Trait(path.span()));
                }
            } else {
                cx.error_spanned_by(
                    path,
                    unknown(
                        "parameter option",
                        path,
                        symbol::PARAM_OPTIONS,
                        "parameters accept",
                    ),
                );
                skip_value(&meta)?;
            }
            Ok(())
        });
        if let Err(e) = result {
            cx.syn_error(e);
        }
    }

    let docs = docs(cx, attrs);
    attrs.retain(|attr| attr.path() != symbol::TOOL && attr.path() != symbol::DOC);

    ParamAttrs {
        rename: rename.value,
        default: default.value,
        docs,
        tool_attr,
    }
}

/// The text of the `///` comments (or `#[doc = "..."]` attributes) in
/// `attrs`: one leading space stripped from each line, lines joined with
/// newlines, and the whole trimmed. `None` when there is no text.
pub(crate) fn docs(cx: &Ctxt, attrs: &[Attribute]) -> Option<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        if attr.path() != symbol::DOC {
            continue;
        }
        // `#[doc(hidden)]` and the like carry no text.
        let Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) => {
                let value = lit.value();
                // A block comment holds several lines in one attribute, and
                // an empty `///` line is an empty string that must still
                // separate paragraphs, which `str::lines` would drop.
                for line in value.split('\n') {
                    let line = line.strip_suffix('\r').unwrap_or(line);
                    lines.push(line.strip_prefix(' ').unwrap_or(line).to_owned());
                }
            }
            other => cx.error_spanned_by(
                other,
                "`#[tool]` can only read doc comments written as string literals; \
                 give the text with `#[tool(description = \"...\")]` instead",
            ),
        }
    }
    let text = lines.join("\n");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Reads `key = "..."`. `Ok(None)` when the value is not a string; the error
/// is recorded.
fn string_value(cx: &Ctxt, meta: &ParseNestedMeta<'_>, key: Symbol) -> syn::Result<Option<LitStr>> {
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(&meta.path, format!("expected a value: `{key} = \"...\"`"));
        return Ok(None);
    }
    let expr: Expr = meta.value()?.parse()?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(Some(lit)),
        other => {
            cx.error_spanned_by(
                other,
                format!("expected a string literal: `{key} = \"...\"`"),
            );
            Ok(None)
        }
    }
}

/// Reads a flag: `key` alone or `key = true` / `key = false`.
fn flag_value(cx: &Ctxt, meta: &ParseNestedMeta<'_>, key: Symbol) -> syn::Result<Option<bool>> {
    if !meta.input.peek(Token![=]) {
        return Ok(Some(true));
    }
    let expr: Expr = meta.value()?.parse()?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(lit),
            ..
        }) => Ok(Some(lit.value)),
        other => {
            cx.error_spanned_by(
                other,
                format!("expected `true` or `false`: `{key} = true`, or just `{key}`"),
            );
            Ok(None)
        }
    }
}

/// Reads `allowed_callers = ["direct", "code", ...]`. Unknown and repeated
/// entries are recorded as errors and left out.
fn callers_value(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<Vec<Caller>>> {
    let expected = format!(
        "expected a list of callers: `allowed_callers = [\"{}\", \"{}\"]`",
        symbol::DIRECT,
        symbol::CODE
    );
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(&meta.path, expected);
        return Ok(None);
    }
    let expr: Expr = meta.value()?.parse()?;
    let Expr::Array(array) = expr else {
        cx.error_spanned_by(expr, expected);
        return Ok(None);
    };
    let mut callers = Vec::new();
    for elem in &array.elems {
        let Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) = elem
        else {
            cx.error_spanned_by(
                elem,
                format!("expected a string literal such as \"{}\"", symbol::CODE),
            );
            continue;
        };
        let value = lit.value();
        let caller = match value.as_str() {
            symbol::DIRECT => Caller::Direct,
            symbol::CODE => Caller::Code,
            v if is_code_execution_version(v) => Caller::CodeExecution(value.clone()),
            _ => {
                cx.error_spanned_by(
                    lit,
                    format!(
                        "unknown caller \"{value}\": expected \"{}\", \"{}\" or an exact code execution version such as \"{}\"",
                        symbol::DIRECT,
                        symbol::CODE,
                        symbol::CODE_EXECUTION_EXAMPLE
                    ),
                );
                continue;
            }
        };
        if callers.contains(&caller) {
            cx.error_spanned_by(lit, format!("caller \"{value}\" is listed twice"));
            continue;
        }
        callers.push(caller);
    }
    Ok(Some(callers))
}

/// The message for an unknown key: what was given, what it was probably
/// meant to be, and what is accepted.
fn unknown(what: &str, path: &syn::Path, options: &[Symbol], accepts: &str) -> String {
    let given = path.to_token_stream().to_string().replace(' ', "");
    let hint = match symbol::closest(&given, options) {
        Some(symbol) => format!("did you mean `{symbol}`? "),
        None => String::new(),
    };
    format!(
        "unknown {what} `{given}`; {hint}{accepts} {}",
        symbol::one_of(options)
    )
}

/// Consumes the value of an unknown option, whatever its shape (`key`,
/// `key = expr`, `key(...)`), so that parsing can go on to the next one.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _: proc_macro2::Group = meta.input.parse()?;
    }
    Ok(())
}
