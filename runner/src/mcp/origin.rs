//! Where a request comes from: the `Host` and `Origin` checks that keep web
//! pages from reaching a local MCP server.
//!
//! A page on `evil.example` can make the browser send requests to
//! `127.0.0.1`, directly (the browser then sends `Origin: http://evil.example`)
//! or through DNS rebinding (the browser then sends `Host: evil.example`). The
//! MCP transport spec asks servers to refuse both with 403. Requests without
//! `Origin` come from programs, not pages, and pass.
//!
//! rmcp checks the same lists; this guard runs first so that a foreign page
//! gets 403 before authentication could answer 401, and with a message
//! naming the refused value.

use hyper::{HeaderMap, Uri};

/// Origins always allowed: pages served from this machine, on any port.
/// The same hosts as rmcp's default `Host` list.
pub(crate) const LOOPBACK_ORIGINS: [&str; 6] = [
    "http://localhost:*",
    "https://localhost:*",
    "http://127.0.0.1:*",
    "https://127.0.0.1:*",
    "http://[::1]:*",
    "https://[::1]:*",
];

/// The `Host` and `Origin` values a server accepts.
#[derive(Clone, Debug)]
pub(crate) struct Guard {
    /// Allowed `Host` values, `host` or `host:port`; empty allows any (as in
    /// rmcp's config).
    hosts: Vec<String>,
    origins: Vec<AllowedOrigin>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum AllowedOrigin {
    /// `null`: the origin of sandboxed frames and local files.
    Null,
    Tuple {
        scheme: String,
        host: String,
        /// `None` for `:*`, any port.
        port: Option<u16>,
    },
}

impl Guard {
    /// A guard for `hosts` (rmcp's `allowed_hosts`) and `origins` (entries
    /// `scheme://host`, `scheme://host:port`, `scheme://host:*` or `null`).
    ///
    /// # Errors
    ///
    /// The message for an origin entry that does not parse.
    pub(crate) fn new(hosts: &[String], origins: &[String]) -> Result<Guard, String> {
        let origins = origins
            .iter()
            .map(|entry| {
                parse_allowed_origin(entry).ok_or_else(|| {
                    format!(
                        "invalid allowed origin `{entry}`: expected `scheme://host`, `scheme://host:port`, `scheme://host:*` or `null`"
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Guard {
            hosts: hosts.to_vec(),
            origins,
        })
    }

    /// The allowed origins with their ports spelled out (`:443`, `:*`), as
    /// rmcp reads them the same way.
    pub(crate) fn origins(&self) -> Vec<String> {
        self.origins
            .iter()
            .map(|origin| match origin {
                AllowedOrigin::Null => "null".to_owned(),
                AllowedOrigin::Tuple { scheme, host, port } => {
                    let host = if host.contains(':') {
                        format!("[{host}]")
                    } else {
                        host.clone()
                    };
                    match port {
                        Some(port) => format!("{scheme}://{host}:{port}"),
                        None => format!("{scheme}://{host}:*"),
                    }
                }
            })
            .collect()
    }

    /// Checks the `Host` header (or the URI's authority, for HTTP/2).
    ///
    /// # Errors
    ///
    /// Why the request is refused, for a 403 (or a 400 when there is no
    /// host at all).
    pub(crate) fn check_host(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), String> {
        let raw = match headers.get(hyper::header::HOST) {
            Some(value) => value
                .to_str()
                .map_err(|_| "forbidden: the host header is not valid text".to_owned())?
                .to_owned(),
            None => match uri.authority() {
                Some(authority) => authority.as_str().to_owned(),
                None => return Err("forbidden: the request names no host".into()),
            },
        };
        if self.hosts.is_empty() {
            return Ok(());
        }
        let authority: hyper::http::uri::Authority = raw
            .parse()
            .map_err(|_| format!("forbidden: invalid host `{raw}`"))?;
        let host = normalize_host(authority.host());
        let port = authority.port_u16();
        let allowed = self.hosts.iter().any(|entry| {
            let (entry_host, entry_port) = match entry.parse::<hyper::http::uri::Authority>() {
                Ok(a) => (normalize_host(a.host()), a.port_u16()),
                Err(_) => (normalize_host(entry), None),
            };
            entry_host == host && entry_port.is_none_or(|p| Some(p) == port)
        });
        if allowed {
            Ok(())
        } else {
            Err(format!(
                "forbidden: host `{raw}` is not allowed (only loopback hosts are, by default: against DNS rebinding); a server meant to be reached by this name should allow it with `allowed_hosts`"
            ))
        }
    }

    /// Checks the `Origin` header, if there is one.
    ///
    /// # Errors
    ///
    /// Why the request is refused, for a 403.
    pub(crate) fn check_origin(&self, headers: &HeaderMap) -> Result<(), String> {
        let Some(value) = headers.get(hyper::header::ORIGIN) else {
            return Ok(());
        };
        let Ok(raw) = value.to_str() else {
            return Err("forbidden: the origin header is not valid text".into());
        };
        let Some(origin) = parse_origin(raw) else {
            return Err(format!("forbidden: invalid origin `{raw}`"));
        };
        if self.origins.iter().any(|allowed| matches(allowed, &origin)) {
            Ok(())
        } else {
            Err(format!(
                "forbidden: origin `{raw}` is not allowed (only pages served from loopback are, by default); a web app meant to call this server should be allowed with `allowed_origins`"
            ))
        }
    }
}

/// A concrete origin from a request.
#[derive(Debug, PartialEq, Eq)]
enum Origin {
    Null,
    Tuple {
        scheme: String,
        host: String,
        port: Option<u16>,
    },
}

fn parse_origin(value: &str) -> Option<Origin> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("null") {
        return Some(Origin::Null);
    }
    let uri: Uri = value.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    // An origin is scheme, host and port: nothing else.
    if authority.as_str().contains('@') || uri.path_and_query().is_some_and(|p| p.as_str() != "/") {
        return None;
    }
    Some(Origin::Tuple {
        scheme,
        host: normalize_host(authority.host()),
        port: authority.port_u16(),
    })
}

fn parse_allowed_origin(entry: &str) -> Option<AllowedOrigin> {
    let entry = entry.trim();
    let (base, any_port) = match entry.strip_suffix(":*") {
        Some(base) => (base, true),
        None => (entry, false),
    };
    match parse_origin(base)? {
        Origin::Null if !any_port => Some(AllowedOrigin::Null),
        Origin::Null => None,
        Origin::Tuple { port: Some(_), .. } if any_port => None,
        Origin::Tuple { scheme, host, port } => {
            let port = if any_port {
                None
            } else {
                // No port means the scheme's default port, as in the
                // origin's own serialization (RFC 6454).
                Some(port.or_else(|| default_port(&scheme))?)
            };
            Some(AllowedOrigin::Tuple { scheme, host, port })
        }
    }
}

fn matches(allowed: &AllowedOrigin, origin: &Origin) -> bool {
    match (allowed, origin) {
        (AllowedOrigin::Null, Origin::Null) => true,
        (
            AllowedOrigin::Tuple { scheme, host, port },
            Origin::Tuple {
                scheme: o_scheme,
                host: o_host,
                port: o_port,
            },
        ) => {
            scheme == o_scheme
                && host == o_host
                && port.is_none_or(|p| Some(p) == o_port.or_else(|| default_port(o_scheme)))
        }
        _ => false,
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(origins: &[&str]) -> Guard {
        let mut all: Vec<String> = LOOPBACK_ORIGINS.iter().map(|s| s.to_string()).collect();
        all.extend(origins.iter().map(|s| s.to_string()));
        let hosts = ["localhost".to_owned(), "127.0.0.1".into(), "::1".into()];
        Guard::new(&hosts, &all).unwrap()
    }

    fn origin(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(hyper::header::ORIGIN, value.parse().unwrap());
        headers
    }

    fn host(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(hyper::header::HOST, value.parse().unwrap());
        headers
    }

    #[test]
    fn loopback_origins_pass_and_others_need_the_list() {
        let guard = guard(&["https://app.example.com", "http://dev.example:*", "null"]);
        for ok in [
            "http://localhost:3000",
            "http://127.0.0.1",
            "https://[::1]:8443",
            "https://app.example.com",
            "https://app.example.com:443",
            "http://dev.example:9999",
            "null",
        ] {
            assert_eq!(guard.check_origin(&origin(ok)), Ok(()), "{ok}");
        }
        for refused in [
            "http://evil.example",
            "https://app.example.com:8443",
            "http://app.example.com",
            "http://127.0.0.2",
            "http://localhost.evil.example",
            "not an origin",
        ] {
            assert!(guard.check_origin(&origin(refused)).is_err(), "{refused}");
        }
        assert_eq!(guard.check_origin(&HeaderMap::new()), Ok(()));
        assert_eq!(
            guard
                .check_origin(&origin("http://evil.example"))
                .unwrap_err(),
            "forbidden: origin `http://evil.example` is not allowed (only pages served from loopback are, by default); a web app meant to call this server should be allowed with `allowed_origins`"
        );
    }

    #[test]
    fn entries_are_spelled_out_for_rmcp() {
        let guard = Guard::new(
            &[],
            &[
                "https://App.example.com".into(),
                "http://[::1]:*".into(),
                "null".into(),
            ],
        )
        .unwrap();
        assert_eq!(
            guard.origins(),
            ["https://app.example.com:443", "http://[::1]:*", "null"]
        );
    }

    #[test]
    fn bad_entries_are_named() {
        let err = Guard::new(&[], &["app.example.com".into()]).unwrap_err();
        assert!(
            err.starts_with("invalid allowed origin `app.example.com`"),
            "{err}"
        );
        assert!(Guard::new(&[], &["https://a.example:443:*".into()]).is_err());
    }

    #[test]
    fn hosts_are_checked_with_and_without_ports() {
        let uri = Uri::from_static("/mcp");
        let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".into(), "::1".into()];
        hosts.push("mcp.example.com:8443".into());
        let guard = Guard::new(&hosts, &[]).unwrap();
        for ok in [
            "127.0.0.1:8000",
            "localhost",
            "[::1]:1",
            "mcp.example.com:8443",
        ] {
            assert_eq!(guard.check_host(&uri, &host(ok)), Ok(()), "{ok}");
        }
        for refused in ["evil.example", "mcp.example.com", "mcp.example.com:80"] {
            assert!(guard.check_host(&uri, &host(refused)).is_err(), "{refused}");
        }
        let any = Guard::new(&[], &[]).unwrap();
        assert_eq!(any.check_host(&uri, &host("evil.example")), Ok(()));
    }
}
