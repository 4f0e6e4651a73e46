//! Checks that need the whole model rather than one attribute or parameter.

use std::collections::HashMap;

use crate::ast::ToolFn;
use crate::ctxt::Ctxt;
use crate::rules::is_valid_tool_name;

impl ToolFn {
    /// Records every problem found.
    pub(crate) fn validate(&self, cx: &Ctxt) {
        self.check_name(cx);
        self.check_description(cx);
        self.check_inline(cx);
        self.check_property_names(cx);
    }

    /// The Messages API rejects names outside `^[a-zA-Z0-9_-]{1,64}$`; better
    /// to hear it from the compiler than from the first request.
    fn check_name(&self, cx: &Ctxt) {
        if is_valid_tool_name(&self.name) {
            return;
        }
        let rules = "tool names are 1 to 64 of a-z, A-Z, 0-9, `_` and `-`";
        let message = if self.name_given {
            format!("invalid tool name \"{}\": {rules}", self.name)
        } else {
            format!(
                "the function name `{}` is not a valid tool name ({rules}); give the tool another name \
                 with `#[tool(name = \"...\")]`",
                self.name
            )
        };
        cx.syn_error(syn::Error::new(self.name_span, message));
    }

    /// The model decides when to call a tool from its description alone, so
    /// a tool without one is a mistake, not a style issue.
    fn check_description(&self, cx: &Ctxt) {
        if self.description.is_none() {
            cx.error_spanned_by(
                &self.ident,
                format!(
                    "tool `{}` has no description: add a `///` doc comment saying what the tool does and \
                     when to use it (the model reads it to decide when to call the tool), \
                     or give one with `#[tool(description = \"...\")]`",
                    self.name
                ),
            );
        }
    }

    fn check_inline(&self, cx: &Ctxt) {
        if let (Some(span), true) = (self.inline, self.is_async) {
            cx.syn_error(syn::Error::new(
                span,
                "`inline` only applies to synchronous functions: an `async fn` always runs on the async runtime; \
                 remove `inline`",
            ));
        }
    }

    /// Two parameters with the same property name could never both be filled.
    fn check_property_names(&self, cx: &Ctxt) {
        let mut seen: HashMap<&str, &syn::Ident> = HashMap::new();
        for property in self.params.iter().filter_map(|p| p.property.as_ref()) {
            if let Some(first) = seen.get(property.name.as_str()) {
                cx.error_spanned_by(
                    &property.tokens,
                    format!(
                        "property `{}` is already taken by parameter `{first}`; give one of them another \
                         name with `#[tool(rename = \"...\")]`",
                        property.name
                    ),
                );
            } else {
                seen.insert(&property.name, &property.ident);
            }
        }
    }
}
