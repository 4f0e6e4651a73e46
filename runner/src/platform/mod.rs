//! TEMPORARY stand-in until the seam (branch i25-aws) is merged.
#![allow(dead_code)]
#[cfg(feature = "foundry")]
mod foundry;
#[cfg(feature = "vertex")]
mod google;
#[cfg(any(feature = "vertex", feature = "foundry"))]
mod token;
#[cfg(feature = "foundry")]
pub use foundry::Foundry;
#[cfg(feature = "vertex")]
pub use google::{GoogleCloud, Vertex};
#[cfg(any(feature = "vertex", feature = "foundry"))]
pub use token::{TokenError, TokenProvider};
