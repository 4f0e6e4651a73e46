//! Microsoft Foundry on loopback: [`ScriptedFoundry`], the first-party
//! Messages API under a resource's `/anthropic/` path, checking the
//! Foundry API key or the Microsoft Entra ID bearer token.

use std::io;
use std::sync::Arc;

use serde_json::{Value, json};

use super::{Gate, Recorded, Reply, Script, ScriptedServer};

/// What the server takes as credentials.
enum Accepts {
    /// This key, in `api-key` or `x-api-key`.
    ApiKey(String),
    /// Bearer tokens that `valid` accepts.
    Entra(Arc<dyn Fn(&str) -> bool + Send + Sync>),
}

struct FoundryGate {
    accepts: Accepts,
}

/// Foundry on `127.0.0.1`: a [`ScriptedServer`] that first checks what a
/// Foundry resource checks, and answers `401` in Azure's shape when the
/// credentials are wrong.
///
/// - the path: `POST /anthropic/v1/messages` (else `404`);
/// - the credentials: the key in `api-key` or `x-api-key`, or an
///   `Authorization: Bearer` token the check accepts.
///
/// The body is the first-party one, handed to the script as it came.
///
/// # Examples
///
/// ```
/// use toolrunner::testing::platform_foundry::ScriptedFoundry;
/// use toolrunner::testing::Reply;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let foundry = ScriptedFoundry::start_with_key(|_: &serde_json::Value| Reply::text("Hi"), "key")
///     .await
///     .unwrap();
/// assert!(foundry.base_url().ends_with("/anthropic/"));
/// # });
/// ```
pub struct ScriptedFoundry {
    server: ScriptedServer,
}

impl ScriptedFoundry {
    /// Starts a resource that takes the API key `key`.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start_with_key(script: impl Script, key: &str) -> io::Result<Self> {
        Self::start(script, Accepts::ApiKey(key.to_owned())).await
    }

    /// Starts a resource that takes the Entra ID tokens `valid` accepts.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start_with_entra(
        script: impl Script,
        valid: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> io::Result<Self> {
        Self::start(script, Accepts::Entra(Arc::new(valid))).await
    }

    async fn start(script: impl Script, accepts: Accepts) -> io::Result<Self> {
        let gate = FoundryGate { accepts };
        let server = ScriptedServer::start_gated(script, Some(Box::new(gate))).await?;
        Ok(ScriptedFoundry { server })
    }

    /// The base URL to give [`Foundry::base_url`](crate::platform::Foundry::base_url),
    /// as a resource's: the server's root and `/anthropic/`.
    pub fn base_url(&self) -> String {
        format!("{}/anthropic/", self.server.url())
    }

    /// The scripted server behind: every request as sent.
    pub fn server(&self) -> &ScriptedServer {
        &self.server
    }
}

impl std::fmt::Debug for ScriptedFoundry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedFoundry")
            .field("server", &self.server)
            .finish()
    }
}

impl Gate for FoundryGate {
    fn admit(&self, request: &Recorded) -> Result<Value, Box<Reply>> {
        if request.method != "POST" || request.target != "/anthropic/v1/messages" {
            return Err(Box::new(Reply::json(
                404,
                json!({"error": {"code": "404", "message": "Resource not found"}}),
            )));
        }
        let good = match &self.accepts {
            Accepts::ApiKey(key) => ["api-key", "x-api-key"]
                .iter()
                .any(|name| request.header(name) == Some(key.as_str())),
            Accepts::Entra(valid) => request
                .header("authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|token| valid(token)),
        };
        if !good {
            return Err(Box::new(Reply::json(
                401,
                json!({"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint."}}),
            )));
        }
        Ok(serde_json::from_str(&request.body).unwrap_or(Value::Null))
    }
}
