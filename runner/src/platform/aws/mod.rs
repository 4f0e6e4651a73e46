//! What the AWS platforms share: region, credentials and API keys read as
//! the official SDKs read them, and SigV4 signing.

mod auth;
mod messages_api;
#[cfg(feature = "aws-config")]
mod quiet;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;

#[cfg(not(feature = "aws-config"))]
pub(crate) use auth::EnvCredentials;
pub(crate) use auth::{Auth, Env, Signer, process_env};
pub(crate) use messages_api::MessagesApi;

use crate::client::{ClientBuilder, ShownUrl};
use crate::error::Error;

pub(crate) const REGION_VARS: [&str; 2] = ["AWS_REGION", "AWS_DEFAULT_REGION"];

/// The settings every AWS platform builder takes.
pub(crate) struct Settings {
    /// The environment, when the builder came from `from_env`: credentials
    /// not given explicitly are looked for there.
    pub(crate) env: Option<Env>,
    pub(crate) region: Option<String>,
    pub(crate) base_url: Option<String>,
    pub(crate) api_key: Option<String>,
    pub(crate) access_key: Option<String>,
    pub(crate) secret_key: Option<String>,
    pub(crate) session_token: Option<String>,
    pub(crate) profile: Option<String>,
    pub(crate) provider: Option<SharedCredentialsProvider>,
    /// Whether a region not given may come from the AWS profile files, as
    /// the Python SDK's Bedrock client asks boto3 for one: set by
    /// `Bedrock::from_env`, which reads the process environment.
    pub(crate) profile_region: bool,
    pub(crate) client: ClientBuilder,
}

impl Settings {
    /// Nothing set, nothing read.
    pub(crate) fn new() -> Self {
        Settings {
            env: None,
            region: None,
            base_url: None,
            api_key: None,
            access_key: None,
            secret_key: None,
            session_token: None,
            profile: None,
            provider: None,
            profile_region: false,
            client: ClientBuilder::new(),
        }
    }

    /// What every AWS platform reads from `env`: the region, and
    /// `ANTHROPIC_CUSTOM_HEADERS` as default headers. The platform reads
    /// its own base URL and key variables.
    pub(crate) fn from_env(env: Env) -> Self {
        let mut settings = Settings::new();
        settings.region = REGION_VARS.iter().find_map(|name| env(name));
        settings.client = ClientBuilder::from_env_headers(|name| env(name));
        settings.env = Some(env);
        settings
    }

    /// The first of `names` set in the environment, if read.
    pub(crate) fn env_var(&self, names: &[&str]) -> Option<String> {
        let env = self.env.as_ref()?;
        names.iter().find_map(|name| env(name))
    }

    /// Whether AWS credentials were given explicitly (rather than left to
    /// the environment).
    pub(crate) fn has_explicit_credentials(&self) -> bool {
        self.access_key.is_some()
            || self.secret_key.is_some()
            || self.session_token.is_some()
            || self.profile.is_some()
            || self.provider.is_some()
    }

    /// The API key to use, in the order of the SDK's Mantle and AWS
    /// clients: one given explicitly; none when AWS credentials were given
    /// explicitly (SigV4); else the first of `vars` in the environment.
    /// `None` means SigV4.
    pub(crate) fn resolve_key(&self, vars: &[&str]) -> Option<String> {
        if let Some(key) = &self.api_key {
            return Some(key.clone());
        }
        if self.has_explicit_credentials() {
            return None;
        }
        self.env_var(vars)
    }

    /// The region, or an error naming the variables to set.
    pub(crate) fn require_region(&self, platform: &str, setter: &str) -> Result<String, Error> {
        self.region.clone().ok_or_else(|| {
            Error::config(format!(
                "no AWS region for {platform}: set AWS_REGION (or AWS_DEFAULT_REGION), or call {setter}"
            ))
        })
    }

    /// The region given or read from the environment; else, with feature
    /// `aws-config` when the builder read the process environment or names
    /// a profile, the region that profile sets in the AWS config files, as
    /// boto3 finds it for the Python SDK's Bedrock client. Otherwise an
    /// error naming what to set.
    pub(crate) fn region_or_profile(&self, platform: &str, setter: &str) -> Result<String, Error> {
        #[cfg(feature = "aws-config")]
        if self.region.is_none()
            && (self.profile_region || self.profile.is_some())
            && let Some(region) = chain::profile_region(self.profile.as_deref())
        {
            return Ok(region);
        }
        self.require_region(platform, setter)
    }

    /// The SigV4 signer for `service` in `region`, with the credentials
    /// given explicitly, else those of the environment (with feature
    /// `aws-config`, the whole AWS chain: profiles, SSO, web identity,
    /// instance roles).
    pub(crate) fn signer(
        &self,
        service: &'static str,
        region: String,
        platform: &str,
        key_vars: &str,
    ) -> Result<Signer, Error> {
        let (provider, renewable) = match (&self.access_key, &self.secret_key) {
            (Some(key), Some(secret)) => {
                let credentials =
                    Credentials::new(key, secret, self.session_token.clone(), None, "toolrunner");
                (SharedCredentialsProvider::new(credentials), false)
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(Error::config(
                    "an AWS access key and secret key must be given together",
                ));
            }
            (None, None) => match (&self.provider, &self.profile) {
                (Some(provider), _) => (provider.clone(), true),
                (None, profile) => (
                    self.default_chain(profile.as_deref(), platform, key_vars)?,
                    true,
                ),
            },
        };
        Ok(Signer::new(service, region, provider, renewable))
    }

    #[cfg(feature = "aws-config")]
    fn default_chain(
        &self,
        profile: Option<&str>,
        _platform: &str,
        _key_vars: &str,
    ) -> Result<SharedCredentialsProvider, Error> {
        Ok(SharedCredentialsProvider::new(chain::Chain::new(
            profile.map(str::to_owned),
            self.region.clone(),
        )))
    }

    #[cfg(not(feature = "aws-config"))]
    fn default_chain(
        &self,
        profile: Option<&str>,
        platform: &str,
        key_vars: &str,
    ) -> Result<SharedCredentialsProvider, Error> {
        if let Some(profile) = profile {
            return Err(Error::config(format!(
                "AWS profile {profile:?} needs the `aws-config` feature of toolrunner"
            )));
        }
        match &self.env {
            Some(env) if EnvCredentials::present(env) => {
                Ok(SharedCredentialsProvider::new(EnvCredentials {
                    env: env.clone(),
                }))
            }
            _ => Err(Error::config(format!(
                "no AWS credentials for {platform}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
                 (or {key_vars} for an API key), give them to the builder, or enable the \
                 `aws-config` feature for profiles, SSO and instance roles"
            ))),
        }
    }
}

impl std::fmt::Debug for Settings {
    /// Which settings are given; never a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |value: &Option<String>| value.as_ref().map(|_| "<redacted>");
        f.debug_struct("Settings")
            .field("from_env", &self.env.is_some())
            .field("region", &self.region)
            .field("base_url", &self.base_url.as_deref().map(ShownUrl))
            .field("api_key", &set(&self.api_key))
            .field("access_key", &set(&self.access_key))
            .field("secret_key", &set(&self.secret_key))
            .field("session_token", &set(&self.session_token))
            .field("profile", &self.profile)
            .field("provider", &self.provider.as_ref().map(|_| "<provider>"))
            .field("client", &self.client)
            .finish()
    }
}

/// The setters every AWS platform builder has, over its `settings` field.
macro_rules! aws_setters {
    () => {
        /// Sets the AWS region (default: `AWS_REGION`, else
        /// `AWS_DEFAULT_REGION`, with `from_env`).
        pub fn region(mut self, region: impl Into<String>) -> Self {
            self.settings.region = Some(region.into());
            self
        }

        /// Sets the base URL, in place of the one derived from the region.
        pub fn base_url(mut self, url: impl Into<String>) -> Self {
            self.settings.base_url = Some(url.into());
            self
        }

        /// Sets an API key, used instead of SigV4. Kept out of `Debug`
        /// output, errors and logs.
        pub fn api_key(mut self, key: impl Into<String>) -> Self {
            self.settings.api_key = Some(key.into());
            self
        }

        /// Signs with these AWS credentials (a session token too for
        /// temporary ones), instead of looking for them in the environment.
        /// Kept out of `Debug` output, errors and logs.
        pub fn credentials(
            mut self,
            access_key: impl Into<String>,
            secret_key: impl Into<String>,
            session_token: Option<String>,
        ) -> Self {
            self.settings.access_key = Some(access_key.into());
            self.settings.secret_key = Some(secret_key.into());
            self.settings.session_token = session_token;
            self
        }

        /// Signs with credentials from `provider` (any provider of the AWS
        /// SDK for Rust), asked again when they near their expiry or the
        /// platform says they expired.
        pub fn credentials_provider(
            mut self,
            provider: impl aws_credential_types::provider::ProvideCredentials + 'static,
        ) -> Self {
            self.settings.provider =
                Some(aws_credential_types::provider::SharedCredentialsProvider::new(provider));
            self
        }

        /// Signs with the credentials of the AWS profile `name` (feature
        /// `aws-config`; without it, `build` says so), even with keys in
        /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, as boto3 does for
        /// a profile named: only the profile's `credential_source =
        /// Environment` uses those. Bedrock also takes the profile's region
        /// when none is set.
        pub fn profile(mut self, name: impl Into<String>) -> Self {
            self.settings.profile = Some(name.into());
            self
        }

        /// Sets the settings every client has (timeout, retries, default
        /// headers, API version, HTTP client) from `builder`. Its
        /// first-party credentials and base URL must be left unset.
        pub fn client(mut self, builder: $crate::ClientBuilder) -> Self {
            self.settings.client = builder;
            self
        }
    };
}
pub(crate) use aws_setters;

#[cfg(feature = "aws-config")]
mod chain {
    //! The full AWS credential chain, made on first use (it is async).

    use aws_config::default_provider::credentials::DefaultCredentialsChain;
    use aws_config::meta::credentials::CredentialsProviderChain;
    use aws_config::meta::region::ProvideRegion;
    use aws_config::provider_config::ProviderConfig;
    use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
    use tokio::sync::OnceCell;

    #[derive(Debug)]
    pub(super) struct Chain {
        profile: Option<String>,
        region: Option<String>,
        chain: OnceCell<SharedCredentialsProvider>,
    }

    /// The region `profile` (else `AWS_PROFILE`, else `default`) sets in the
    /// AWS config files, through aws-config's profile region provider.
    pub(super) fn profile_region(profile: Option<&str>) -> Option<String> {
        use futures_util::FutureExt;
        let mut provider = aws_config::profile::ProfileFileRegionProvider::builder();
        if let Some(profile) = profile {
            provider = provider.profile_name(profile);
        }
        // aws-config reads the profile files with blocking I/O, so the
        // future is ready when first polled: `build` need not be async.
        let region = provider.build().region().now_or_never().flatten()?;
        Some(region.to_string())
    }

    impl Chain {
        pub(super) fn new(profile: Option<String>, region: Option<String>) -> Self {
            Chain {
                profile,
                region,
                chain: OnceCell::new(),
            }
        }

        async fn build(&self) -> SharedCredentialsProvider {
            use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
            let http = aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .build_https();
            let config = ProviderConfig::default()
                .with_http_client(http)
                .with_region(self.region.clone().map(aws_config::Region::new));
            match &self.profile {
                None => SharedCredentialsProvider::new(
                    DefaultCredentialsChain::builder()
                        .configure(config)
                        .build()
                        .await,
                ),
                Some(profile) => explicit_profile(profile, self.region.clone(), config).await,
            }
        }
    }

    /// The chain for a profile named explicitly, as boto3 makes it for
    /// `Session(profile_name=...)` (the Python SDK's `aws_profile`): the
    /// default chain without the environment variables first, so that the
    /// profile's own credentials win over keys in the environment, which
    /// only its `credential_source = Environment` uses. aws-config's
    /// default chain would take those keys instead.
    async fn explicit_profile(
        profile: &str,
        region: Option<String>,
        config: ProviderConfig,
    ) -> SharedCredentialsProvider {
        // The region STS is asked in: the one given, else the environment's,
        // else the profile's, as for the default chain.
        let region = aws_config::meta::region::RegionProviderChain::first_try(
            region.map(aws_config::Region::new),
        )
        .or_else(aws_config::environment::EnvironmentVariableRegionProvider::new())
        .or_else(
            aws_config::profile::ProfileFileRegionProvider::builder()
                .profile_name(profile)
                .build(),
        )
        .region()
        .await;
        let config = config.with_region(region);
        let chain = CredentialsProviderChain::first_try(
            "Profile",
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .configure(&config)
                .profile_name(profile)
                .build(),
        )
        .or_else(
            "WebIdentityToken",
            aws_config::web_identity_token::WebIdentityTokenCredentialsProvider::builder()
                .configure(&config)
                .build(),
        )
        .or_else(
            "EcsContainer",
            aws_config::ecs::EcsCredentialsProvider::builder()
                .configure(&config)
                .build(),
        )
        .or_else(
            "Ec2InstanceMetadata",
            aws_config::imds::credentials::ImdsCredentialsProvider::builder()
                .configure(&config)
                .build(),
        );
        SharedCredentialsProvider::new(chain)
    }

    impl ProvideCredentials for Chain {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            // The runtime under the chain would log the SSO portal's
            // bearer token at TRACE level: see `quiet`.
            future::ProvideCredentials::new(super::quiet::quietly(async move {
                let chain = self.chain.get_or_init(|| self.build()).await;
                chain.provide_credentials().await
            }))
        }
    }
}
