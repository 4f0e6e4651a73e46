//! Google's platforms: Vertex AI and Claude on Google Cloud, sharing
//! Google OAuth ([`auth`]).

mod auth;
mod google_cloud;
mod path;
mod vertex;

// The scripted servers check the scope of self-signed JWTs.
#[cfg(feature = "testing")]
pub(crate) use auth::CLOUD_PLATFORM_SCOPE;
pub use google_cloud::GoogleCloud;
pub use vertex::Vertex;
