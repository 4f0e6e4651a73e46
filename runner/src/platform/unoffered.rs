//! What a platform lacks among the tools and betas of a Messages request.
//!
//! Each platform declares it as data, a table of [`Lacking`] entries with
//! the public source that says so beside each; [`refuse_unoffered`] checks
//! every Messages and token-counting request against it before the
//! platform rewrites the request, so nothing the platform would turn down
//! is sent. Only what a source says is missing is listed: anything else
//! goes through, and the platform's own 4xx comes back as the usual API
//! error. A user whose platform has since added a feature lets it through
//! with the builder's `assume_offered`, naming the tool type or beta.

use super::{MessagesCall, Platform};
use crate::error::Error;

/// One thing a platform does not offer: every tool `type` or beta name
/// that starts with `prefix`.
#[derive(Debug)]
pub(crate) struct Lacking {
    /// The start of the tool types or beta names, e.g. `code_execution_`.
    pub(crate) prefix: &'static str,
    /// The feature's name in errors, e.g. "the code-execution tool".
    pub(crate) feature: &'static str,
    /// What to use instead, when there is something.
    pub(crate) instead: Option<&'static str>,
}

/// What a platform lacks among request tools and betas.
#[derive(Debug)]
pub(crate) struct Unoffered {
    /// Matched against the `type` of each tool the request declares.
    pub(crate) tools: &'static [Lacking],
    /// Matched against each beta the request carries.
    pub(crate) betas: &'static [Lacking],
}

/// What to use instead of the code-execution tool anywhere it is missing.
const USE_CODE_MODE: &str =
    "use code mode (`toolrunner::code_mode::CodeMode`), which runs programs on the client";

/// The API's code-execution tool (programmatic tool calling among its
/// uses), where a platform lacks it.
pub(crate) const CODE_EXECUTION_TOOL: Lacking = Lacking {
    prefix: "code_execution_",
    feature: "the code-execution tool",
    instead: Some(USE_CODE_MODE),
};

/// The betas that switch the code-execution tool on
/// (`code-execution-2025-05-22`, `code-execution-2025-08-25`).
pub(crate) const CODE_EXECUTION_BETA: Lacking = Lacking {
    prefix: "code-execution-",
    feature: "the code-execution beta",
    instead: Some(USE_CODE_MODE),
};

/// A platform's table, less the names its builder was told the platform
/// offers after all.
#[derive(Debug)]
pub(crate) struct Refusals {
    table: &'static Unoffered,
    /// Tool types and beta names let through, exactly as written.
    assumed: Vec<String>,
    /// The builder's name, for the advice an error gives: `Bedrock`.
    builder: &'static str,
}

impl Refusals {
    /// Refuses what `table` lists, but for the `assumed` names, which the
    /// builder named `builder` was told to let through.
    pub(crate) fn new(
        table: &'static Unoffered,
        assumed: Vec<String>,
        builder: &'static str,
    ) -> Self {
        Refusals {
            table,
            assumed,
            builder,
        }
    }

    /// Refuses `call` when it carries a tool or beta that the table lists
    /// and that was not assumed offered; `platform` is the platform's name.
    ///
    /// # Errors
    ///
    /// [`Error::is_unsupported`] for the first such tool, else the first
    /// such beta.
    pub(crate) fn check(
        &self,
        platform: &'static str,
        call: &MessagesCall<'_>,
    ) -> Result<(), Error> {
        let tools = call.tool_types.iter().map(String::as_str);
        if let Some((value, entry)) = self.first(tools, self.table.tools) {
            return Err(self.error(platform, "tool type", value, entry));
        }
        let betas = call.betas.iter().map(String::as_str);
        if let Some((value, entry)) = self.first(betas, self.table.betas) {
            return Err(self.error(platform, "beta", value, entry));
        }
        Ok(())
    }

    /// The first of `values` (tool types or betas) that `lacking` lists
    /// and that was not assumed offered, with its entry.
    fn first<'a>(
        &self,
        values: impl IntoIterator<Item = &'a str>,
        lacking: &'static [Lacking],
    ) -> Option<(&'a str, &'static Lacking)> {
        values
            .into_iter()
            .filter(|value| !self.assumed.iter().any(|a| a == value))
            .find_map(|value| {
                lacking
                    .iter()
                    .find(|entry| value.starts_with(entry.prefix))
                    .map(|entry| (value, entry))
            })
    }

    /// The error for `value`, which `entry` says `platform` lacks.
    fn error(&self, platform: &'static str, what: &str, value: &str, entry: &Lacking) -> Error {
        let feature = format!("{} ({what} `{value}`)", entry.feature);
        let escape = format!(
            "if {platform} offers it now, `{}::assume_offered(\"{value}\")` sends it anyway",
            self.builder
        );
        let advice = match entry.instead {
            Some(instead) => format!("{instead}; or, {escape}"),
            None => escape,
        };
        Error::unsupported_with_advice(platform, feature, advice)
    }
}

/// Refuses `call` when it carries a tool or beta that `platform` lacks,
/// naming the platform, the feature and the value.
///
/// # Errors
///
/// As [`Refusals::check`].
pub(crate) fn refuse_unoffered(
    platform: &dyn Platform,
    call: &MessagesCall<'_>,
) -> Result<(), Error> {
    match platform.refusals() {
        Some(refusals) => refusals.check(platform.name(), call),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use reqwest::header::HeaderMap;

    static TABLE: Unoffered = Unoffered {
        tools: &[
            Lacking {
                prefix: "code_execution_",
                feature: "the code-execution tool",
                instead: Some(USE_CODE_MODE),
            },
            Lacking {
                prefix: "web_search_",
                feature: "the web search tool",
                instead: None,
            },
        ],
        betas: &[CODE_EXECUTION_BETA],
    };

    fn check(refusals: &Refusals, tools: &[&str], betas: &[&str]) -> Result<(), Error> {
        let tool_types: Vec<String> = tools.iter().map(|t| (*t).to_owned()).collect();
        let betas: Vec<String> = betas.iter().map(|b| (*b).to_owned()).collect();
        let call = MessagesCall {
            model: "m",
            body: &Bytes::new(),
            stream: false,
            betas: &betas,
            tool_types: &tool_types,
            anthropic_version: "2026-10-21",
            headers: &HeaderMap::new(),
        };
        refusals.check("Test Cloud", &call)
    }

    #[test]
    fn a_listed_prefix_is_refused_with_the_value_and_advice() {
        let refusals = Refusals::new(&TABLE, Vec::new(), "TestCloud");
        let error = check(
            &refusals,
            &["bash_20250124", "code_execution_20260521"],
            &[],
        )
        .unwrap_err();
        assert!(error.is_unsupported());
        assert_eq!(
            error.to_string(),
            "the code-execution tool (tool type `code_execution_20260521`) is not offered on Test Cloud: \
             use code mode (`toolrunner::code_mode::CodeMode`), which runs programs on the client; \
             or, if Test Cloud offers it now, `TestCloud::assume_offered(\"code_execution_20260521\")` sends it anyway"
        );
        let error = check(&refusals, &["web_search_20250305"], &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the web search tool (tool type `web_search_20250305`) is not offered on Test Cloud: \
             if Test Cloud offers it now, `TestCloud::assume_offered(\"web_search_20250305\")` sends it anyway"
        );
        let error = check(
            &refusals,
            &[],
            &["context-1m-2025-08-07", "code-execution-2025-08-25"],
        )
        .unwrap_err();
        assert!(error.to_string().starts_with(
            "the code-execution beta (beta `code-execution-2025-08-25`) is not offered on Test Cloud"
        ));
    }

    #[test]
    fn what_is_not_listed_or_is_assumed_offered_goes_through() {
        let refusals = Refusals::new(&TABLE, Vec::new(), "TestCloud");
        check(
            &refusals,
            &["bash_20250124", "web_fetch_20250910", "memory_20250818"],
            &["context-1m-2025-08-07"],
        )
        .unwrap();
        // A prefix, not a substring: `bash_code_execution` is another tool.
        check(&refusals, &["text_editor_code_execution_20250825"], &[]).unwrap();

        let assumed = Refusals::new(
            &TABLE,
            vec![
                "code_execution_20260120".into(),
                "code-execution-2025-08-25".into(),
            ],
            "TestCloud",
        );
        check(
            &assumed,
            &["code_execution_20260120"],
            &["code-execution-2025-08-25"],
        )
        .unwrap();
        // Exactly the names assumed: another version is still refused.
        assert!(check(&assumed, &["code_execution_20260521"], &[]).is_err());
    }
}
