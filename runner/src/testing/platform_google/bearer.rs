//! The bearer check of Google's scripted platform servers.

use super::super::{Recorded, Reply};
use super::google_error;
use super::token_endpoint::TokenState;

/// Which bearer tokens a server accepts.
#[derive(Clone)]
pub(super) enum Accepts {
    /// Those the token endpoint issued and has not expired.
    Issued(TokenState),
    /// This one.
    Token(String),
}

impl Accepts {
    /// Refuses `request` as Google does (`401` `UNAUTHENTICATED`) unless it
    /// carries an accepted `Authorization: Bearer` token.
    pub(super) fn check(&self, request: &Recorded) -> Result<(), Box<Reply>> {
        let token = request
            .header("authorization")
            .and_then(|value| value.strip_prefix("Bearer "));
        let good = match (self, token) {
            (Accepts::Issued(state), Some(token)) => state.is_valid(token),
            (Accepts::Token(expected), Some(token)) => expected == token,
            (_, None) => false,
        };
        if good {
            Ok(())
        } else {
            Err(Box::new(google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
            )))
        }
    }
}
