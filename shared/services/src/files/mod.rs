//! Attachments' objects in S3 (spec §10): the upload slot a client sends its file to, the
//! check of what arrived, the checked copy that is the only one ever served, the links
//! that serve it, and removing both objects.
//!
//! **Uploads are presigned POSTs, signed here** ([`post_policy`]), not presigned PUTs:
//! a POST policy carries `content-length-range`, which S3 enforces, so a slot is pinned
//! to its key, its type *and* its size. The Rust SDK has no presigned POST
//! (awslabs/aws-sdk-rust#863), and whether its presigned PUT signs `Content-Length` has
//! changed between versions (awslabs/aws-sdk-rust#466); a policy we sign ourselves with
//! the HMAC-SHA256 already linked says exactly what it pins, and a unit test holds it.
//!
//! **The check** ([`Files::check`]) runs when a message names the attachment, before
//! anything is visible: the object's size must be the declared one, its first bytes must
//! be its type's, and an image is decoded under a pixel cap and re-encoded in its own
//! format ([`clean_image`]), so no EXIF (GPS) or other metadata survives, with its
//! orientation applied. The bytes checked are written to `files/…`, a prefix no slot
//! names: re-posting to the slot afterwards changes nothing that is served.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use domain::attachment::{self, AttachmentRecord, ContentType, DOWNLOAD_VALID_SECS, HEAD_BYTES};
use domain::clock;

use crate::ServiceError;

mod image;
mod policy;

pub use image::clean_image;
pub use policy::{PresignedPost, Signer, Slot, post_policy};

/// The bucket of attachments and the client that reaches it.
#[derive(Debug, Clone)]
pub struct Files {
    client: sdk::Deferred<Client>,
    credentials: Option<SharedCredentialsProvider>,
    bucket: String,
    region: String,
    /// `AWS_ENDPOINT_URL` (moto locally): uploads go to `{endpoint}/{bucket}`.
    endpoint: Option<String>,
}

/// S3 moves whole files: give an attempt more than the table's 1.5 s (a 25 MiB file).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

fn s3_client(config: &SdkConfig) -> Client {
    let timeouts = aws_sdk_s3::config::timeout::TimeoutConfig::builder()
        .connect_timeout(sdk::CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .timeout_config(timeouts)
        // A local endpoint (moto) has no per-bucket host names.
        .force_path_style(config.endpoint_url().is_some())
        // Checksums only where S3 requires them: the check reads the whole object and
        // judges its bytes itself, and S3-compatible stand-ins (moto) lag behind the
        // SDK's newest trailing-checksum defaults.
        .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired)
        .build();
    Client::from_conf(s3)
}

/// Why an upload failed its check: each a 422 with its own message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Nothing is at the slot's key.
    NotUploaded,
    /// The object's size is not the declared one.
    WrongSize,
    /// Its first bytes are not its type's.
    WrongType,
    /// An image that does not decode.
    Undecodable,
    /// An image over [`MAX_PIXELS`] (a decompression bomb, or just too large).
    TooManyPixels,
}

/// A checked file, copied to the key it is served from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// Its size as served (a re-encoded image has a new one).
    pub size: u64,
}

/// `Content-Disposition` of a served file: a raster image inline, anything else a
/// download, with its name (an ASCII stand-in, and the exact name per RFC 6266/5987).
pub fn content_disposition(kind: ContentType, filename: &str) -> String {
    let disposition = if kind.is_raster() {
        "inline"
    } else {
        "attachment"
    };
    let ascii: String = filename
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in filename.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A link to a served file, minted now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    pub expires_at: String,
}

impl Files {
    /// The bucket `bucket`, its client built at first use.
    pub fn new(config: &SdkConfig, bucket: impl Into<String>) -> Self {
        Self {
            client: sdk::Deferred::new(config, s3_client),
            credentials: config.credentials_provider(),
            bucket: bucket.into(),
            region: config
                .region()
                .map_or_else(|| "us-east-1".to_owned(), |r| r.as_ref().to_owned()),
            endpoint: config.endpoint_url().map(str::to_owned),
        }
    }

    /// A bucket no call reaches: for handler tests and benchmarks whose messages carry
    /// no files (the client would be built at a first use that never comes).
    pub fn offline(bucket: impl Into<String>) -> Self {
        let config = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        Self::new(&config, bucket)
    }

    fn client(&self) -> &Client {
        self.client.get()
    }

    /// Where the uploads are POSTed.
    fn upload_url(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => format!("{}/{}", endpoint.trim_end_matches('/'), self.bucket),
            None => format!("https://{}.s3.{}.amazonaws.com/", self.bucket, self.region),
        }
    }

    /// An upload slot for `record` (see [`post_policy`]).
    pub async fn upload_slot(
        &self,
        record: &AttachmentRecord,
    ) -> Result<PresignedPost, ServiceError> {
        let provider = self.credentials.as_ref().ok_or(ServiceError::BadKey(
            "no AWS credentials to sign uploads with",
        ))?;
        let credentials = provider.provide_credentials().await.map_err(|err| {
            ServiceError::Aws(sdk::Failure::unavailable_because("ProvideCredentials", err))
        })?;
        let key = attachment::upload_key(record.chat_id, record.id);
        post_policy(
            &Signer {
                access_key_id: credentials.access_key_id(),
                secret_access_key: credentials.secret_access_key(),
                session_token: credentials.session_token(),
                region: &self.region,
            },
            &Slot {
                bucket: &self.bucket,
                key: &key,
                content_type: record.content_type,
                size: record.size,
            },
            self.upload_url(),
            record.created_ms,
        )
    }

    /// Checks what arrived at `record`'s slot (see the module) and writes the checked
    /// bytes to the key it is served from; the upload itself is removed after.
    pub async fn check(
        &self,
        record: &AttachmentRecord,
    ) -> Result<Result<Served, Refused>, ServiceError> {
        let upload = attachment::upload_key(record.chat_id, record.id);
        let head = match self
            .client()
            .head_object()
            .bucket(&self.bucket)
            .key(&upload)
            .send()
            .await
        {
            Ok(head) => head,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => {
                return Ok(Err(Refused::NotUploaded));
            }
            Err(err) => return Err(sdk::Failure::of(err).into()),
        };
        if head.content_length().and_then(|n| u64::try_from(n).ok()) != Some(record.size) {
            return Ok(Err(Refused::WrongSize));
        }
        // The bytes the head described (a re-post in between is another ETag: refused).
        let mut get = self.client().get_object().bucket(&self.bucket).key(&upload);
        if let Some(etag) = head.e_tag() {
            get = get.if_match(etag);
        }
        let object = match get.send().await {
            Ok(object) => object,
            Err(err)
                if err
                    .raw_response()
                    .is_some_and(|r| r.status().as_u16() == 412) =>
            {
                return Ok(Err(Refused::WrongSize));
            }
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(Err(Refused::NotUploaded));
            }
            Err(err) => return Err(sdk::Failure::of(err).into()),
        };
        if object.content_length().and_then(|n| u64::try_from(n).ok()) != Some(record.size) {
            return Ok(Err(Refused::WrongSize));
        }
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|err| sdk::Failure::unavailable_because("GetObject", err))?
            .into_bytes();
        if u64::try_from(bytes.len()).ok() != Some(record.size) {
            return Ok(Err(Refused::WrongSize));
        }
        if !record
            .content_type
            .matches(&bytes[..bytes.len().min(HEAD_BYTES)])
        {
            return Ok(Err(Refused::WrongType));
        }
        let served = if record.content_type.is_raster() {
            match clean_image(record.content_type, &bytes) {
                Ok(clean) => clean,
                Err(refused) => return Ok(Err(refused)),
            }
        } else {
            bytes.to_vec()
        };
        let size = u64::try_from(served.len()).unwrap_or(u64::MAX);
        self.client()
            .put_object()
            .bucket(&self.bucket)
            .key(attachment::file_key(record.chat_id, record.id))
            .content_type(record.content_type.as_str())
            .body(ByteStream::from(served))
            .send()
            .await
            .map_err(sdk::Failure::of)?;
        // The slot's object is no longer needed; the bucket's lifecycle rule removes it
        // within a day should this fail.
        if let Err(err) = self
            .client()
            .delete_object()
            .bucket(&self.bucket)
            .key(&upload)
            .send()
            .await
        {
            tracing::warn!(error = %sdk::Chain(&err), "an upload could not be removed after its check");
        }
        Ok(Ok(Served { size }))
    }

    /// A link to the served copy of `attachment` of `chat`, valid
    /// [`DOWNLOAD_VALID_SECS`], served with its exact type and, unless it is a raster
    /// image, as a download. Minted per read, never stored or logged.
    pub async fn link(
        &self,
        chat: domain::ids::ChatId,
        attachment: &domain::attachment::Attachment,
    ) -> Result<Link, ServiceError> {
        let valid = Duration::from_secs(DOWNLOAD_VALID_SECS);
        let config = PresigningConfig::expires_in(valid)
            .map_err(|_| ServiceError::BadKey("a presigned link's validity was refused"))?;
        let now_ms = clock::now_millis();
        let presigned = self
            .client()
            .get_object()
            .bucket(&self.bucket)
            .key(attachment::file_key(chat, attachment.id))
            .response_content_type(attachment.content_type.as_str())
            .response_content_disposition(content_disposition(
                attachment.content_type,
                &attachment.filename,
            ))
            .presigned(config)
            .await
            .map_err(sdk::Failure::of)?;
        Ok(Link {
            url: presigned.uri().to_owned(),
            expires_at: clock::rfc3339(
                now_ms + i64::try_from(DOWNLOAD_VALID_SECS).unwrap_or(900) * 1000,
            ),
        })
    }

    /// Removes both objects of an attachment (its upload and its served copy); a key
    /// with nothing at it is no error.
    pub async fn remove(
        &self,
        chat: domain::ids::ChatId,
        id: domain::ids::AttachmentId,
    ) -> Result<(), ServiceError> {
        for key in [
            attachment::upload_key(chat, id),
            attachment::file_key(chat, id),
        ] {
            self.client()
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .map_err(sdk::Failure::of)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_raster_images_are_shown_inline() {
        assert_eq!(
            content_disposition(ContentType::Pdf, "Rapport été.pdf"),
            "attachment; filename=\"Rapport _t_.pdf\"; filename*=UTF-8''Rapport%20%C3%A9t%C3%A9.pdf"
        );
        assert!(content_disposition(ContentType::Png, "a.png").starts_with("inline;"));
    }
}
