//! What can go wrong in a service call, as a type of its own: the edge maps it to a
//! status in one place (its error enum's `From<ServiceError>`). The keys' own failures
//! ([`KeyError`]) live here too, below the keyring, so the modules that fail with a
//! `ServiceError` (the keyring among them) all point down to this one.

/// Why the keys could not be had; never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("reading the keys secret {secret_id} from Secrets Manager failed")]
    Read {
        secret_id: String,
        #[source]
        source: sdk::Failure,
    },
    #[error("writing the keys secret {secret_id} to Secrets Manager failed")]
    Write {
        secret_id: String,
        #[source]
        source: sdk::Failure,
    },
    #[error("the keys secret {secret_id} has no string value")]
    NoString { secret_id: String },
    #[error("the keys secret is not valid: {0}")]
    Malformed(&'static str),
    #[error("deriving the keys failed")]
    Derive,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// An AWS call failed: "not now" (`unavailable`), or a bug.
    #[error(transparent)]
    Aws(#[from] sdk::Failure),
    /// The keys could not be read or derived.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The OS random source failed.
    #[error("the OS random source failed")]
    Random(#[source] getrandom::Error),
    /// argon2 could not hash a password.
    #[error("argon2 could not hash a password")]
    PasswordHash(#[source] argon2::password_hash::Error),
    /// A token could not be signed.
    #[error("a token could not be signed")]
    Sign(#[source] jsonwebtoken::errors::Error),
    /// A frame, job or email part could not be written.
    #[error("{0} could not be written")]
    Encode(
        &'static str,
        #[source] Box<dyn std::error::Error + Send + Sync>,
    ),
    /// A request to AWS could not be built (a required part was missing: a bug).
    #[error("an AWS request could not be built")]
    Build(#[from] aws_smithy_types::error::operation::BuildError),
    /// A key or secret of ours is not what it must be (a stored webhook secret that is
    /// not base64, a key HMAC refuses): a bug or a corrupt record.
    #[error("{0}")]
    BadKey(&'static str),
}

impl ServiceError {
    #[cfg_attr(
        not(any(feature = "push", feature = "queue")),
        allow(
            dead_code,
            reason = "frames and jobs are encoded by the push and queue features"
        )
    )]
    pub(crate) fn encode(
        what: &'static str,
        err: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Encode(what, Box::new(err))
    }
}

/// An AWS SDK error of any service: a [`sdk::Failure`].
macro_rules! from_sdk_error {
    ($($error:ty),* $(,)?) => {
        $(
            impl From<aws_smithy_runtime_api::client::result::SdkError<$error, aws_smithy_runtime_api::http::Response>>
                for ServiceError
            {
                fn from(
                    err: aws_smithy_runtime_api::client::result::SdkError<
                        $error,
                        aws_smithy_runtime_api::http::Response,
                    >,
                ) -> Self {
                    Self::Aws(sdk::Failure::of(err))
                }
            }
        )*
    };
}

from_sdk_error!(aws_sdk_sesv2::operation::send_email::SendEmailError);
#[cfg(feature = "queue")]
from_sdk_error!(aws_sdk_sqs::operation::send_message::SendMessageError);
#[cfg(feature = "push")]
from_sdk_error!(
    aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError,
    aws_sdk_apigatewaymanagement::operation::delete_connection::DeleteConnectionError,
);
