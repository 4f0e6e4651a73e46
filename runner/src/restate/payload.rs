//! [`Payload`]: JSON in and out of Restate, for handler bodies and journaled
//! results alike.
//!
//! The SDK's own `Json` wrapper needs `schemars` schemas for handler bodies
//! when the SDK's `schemars` feature is on anywhere in the build, which the
//! wire types here do not have; this wrapper always describes its body as
//! any JSON.

use bytes::Bytes;
use restate_sdk::serde::{Deserialize, PayloadMetadata, Serialize};

/// A value carried as JSON.
pub(crate) struct Payload<T>(pub(crate) T);

impl<T: serde::Serialize> Serialize for Payload<T> {
    type Error = serde_json::Error;

    fn serialize(&self) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(&self.0).map(Bytes::from)
    }
}

impl<T: serde::de::DeserializeOwned> Deserialize for Payload<T> {
    type Error = serde_json::Error;

    fn deserialize(bytes: &mut Bytes) -> Result<Self, Self::Error> {
        serde_json::from_slice(bytes).map(Payload)
    }
}

impl<T> PayloadMetadata for Payload<T> {}
