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

use std::io::Cursor;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use base64::Engine;
use domain::attachment::{
    self, AttachmentRecord, ContentType, DOWNLOAD_VALID_SECS, HEAD_BYTES, MAX_PIXELS,
    UPLOAD_VALID_SECS,
};
use domain::clock;
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use serde_json::json;
use sha2::Sha256;

use crate::ServiceError;

type HmacSha256 = Hmac<Sha256>;

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

/// A presigned upload: the client POSTs `fields`, then the file as the multipart `file`,
/// to `url` before `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresignedPost {
    pub method: &'static str,
    pub url: String,
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub expires_at: String,
}

/// What a POST policy is signed with.
pub struct Signer<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
}

/// What a slot is pinned to.
pub struct Slot<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub content_type: ContentType,
    pub size: u64,
}

/// `20261205T203000Z` and `20261205` of an instant.
fn amz_dates(at_ms: i64) -> (String, String) {
    let iso = clock::rfc3339(at_ms);
    let date_time: String = iso
        .chars()
        .take(19)
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    let day = date_time.chars().take(8).collect();
    (format!("{date_time}Z"), day)
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<Vec<u8>, ServiceError> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key)
        .map_err(|_| ServiceError::BadKey("HMAC refused the signing key"))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().to_vec())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SigV4 POST policy for one upload slot, signed at `now_ms`, valid
/// [`UPLOAD_VALID_SECS`]: only `slot.key`, only `Content-Type: slot.content_type`, and
/// exactly `slot.size` bytes (`content-length-range`), as S3 enforces.
pub fn post_policy(
    signer: &Signer<'_>,
    slot: &Slot<'_>,
    url: String,
    now_ms: i64,
) -> Result<PresignedPost, ServiceError> {
    let (amz_date, day) = amz_dates(now_ms);
    let credential = format!(
        "{}/{day}/{}/s3/aws4_request",
        signer.access_key_id, signer.region
    );
    let expires_at = clock::rfc3339(now_ms + UPLOAD_VALID_SECS * 1000);
    let mut conditions = vec![
        json!({ "bucket": slot.bucket }),
        json!({ "key": slot.key }),
        json!({ "Content-Type": slot.content_type.as_str() }),
        json!(["content-length-range", slot.size, slot.size]),
        json!({ "x-amz-algorithm": "AWS4-HMAC-SHA256" }),
        json!({ "x-amz-credential": credential }),
        json!({ "x-amz-date": amz_date }),
    ];
    if let Some(token) = signer.session_token {
        conditions.push(json!({ "x-amz-security-token": token }));
    }
    let policy = json!({ "expiration": expires_at, "conditions": conditions });
    let policy = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
    let key = hmac_sha256(
        format!("AWS4{}", signer.secret_access_key).as_bytes(),
        day.as_bytes(),
    )?;
    let key = hmac_sha256(&key, signer.region.as_bytes())?;
    let key = hmac_sha256(&key, b"s3")?;
    let key = hmac_sha256(&key, b"aws4_request")?;
    let signature = hex(&hmac_sha256(&key, policy.as_bytes())?);
    let mut fields = serde_json::Map::new();
    let mut field = |name: &str, value: &str| {
        fields.insert(name.to_owned(), json!(value));
    };
    field("key", slot.key);
    field("Content-Type", slot.content_type.as_str());
    field("x-amz-algorithm", "AWS4-HMAC-SHA256");
    field("x-amz-credential", &credential);
    field("x-amz-date", &amz_date);
    if let Some(token) = signer.session_token {
        field("x-amz-security-token", token);
    }
    field("policy", &policy);
    field("x-amz-signature", &signature);
    Ok(PresignedPost {
        method: "POST",
        url,
        fields,
        expires_at,
    })
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

/// An image decoded under the pixel cap, turned upright by its EXIF orientation, and
/// re-encoded in its own format from its pixels alone: no metadata of the upload (EXIF,
/// GPS, XMP, comments, ICC) is carried over. A GIF keeps its first frame only.
pub fn clean_image(kind: ContentType, bytes: &[u8]) -> Result<Vec<u8>, Refused> {
    use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
    let format = match kind {
        ContentType::Jpeg => ImageFormat::Jpeg,
        ContentType::Png => ImageFormat::Png,
        ContentType::Gif => ImageFormat::Gif,
        ContentType::Webp => ImageFormat::WebP,
        _ => return Err(Refused::WrongType),
    };
    let mut limits = Limits::default();
    // Bounds what the decoder may allocate before it knows better (a header lying about
    // its size): the cap's pixels at 4 bytes each, and some room for the codec.
    limits.max_alloc = Some(MAX_PIXELS * 4 + 64 * 1024 * 1024);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| Refused::Undecodable)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Refused::TooManyPixels);
    }
    let orientation = decoder.orientation().map_err(|_| Refused::Undecodable)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|err| match err {
        image::ImageError::Limits(_) => Refused::TooManyPixels,
        _ => Refused::Undecodable,
    })?;
    image.apply_orientation(orientation);
    let mut out = Vec::new();
    let encoded = match kind {
        ContentType::Jpeg => DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90),
        ),
        ContentType::Png => image.write_with_encoder(image::codecs::png::PngEncoder::new(&mut out)),
        ContentType::Webp => DynamicImage::ImageRgba8(image.to_rgba8())
            .write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut out)),
        _ => {
            let mut encoder = image::codecs::gif::GifEncoder::new(&mut out);
            encoder.encode_frame(image::Frame::new(image.to_rgba8()))
        }
    };
    // Pixels we decoded ourselves always encode; a failure here is odd, not the upload's.
    encoded.map_err(|_| Refused::Undecodable)?;
    Ok(out)
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

    const SIGNER: Signer<'static> = Signer {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session_token: Some("session"),
        region: "eu-west-1",
    };

    fn slot() -> PresignedPost {
        post_policy(
            &SIGNER,
            &Slot {
                bucket: "files-bucket",
                key: "uploads/C/A",
                content_type: ContentType::Png,
                size: 1234,
            },
            "https://files-bucket.s3.eu-west-1.amazonaws.com/".into(),
            // 2026-12-05T20:30:00.000Z
            1_796_502_600_000,
        )
        .unwrap()
    }

    fn policy(post: &PresignedPost) -> serde_json::Value {
        let encoded = post.fields["policy"].as_str().unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        serde_json::from_slice(&decoded).unwrap()
    }

    #[test]
    fn the_policy_pins_key_type_and_exact_size_for_ten_minutes() {
        let post = slot();
        let policy = policy(&post);
        assert_eq!(
            clock::rfc3339(1_796_502_600_000),
            "2026-12-05T20:30:00.000Z"
        );
        assert_eq!(policy["expiration"], "2026-12-05T20:40:00.000Z");
        assert_eq!(post.expires_at, "2026-12-05T20:40:00.000Z");
        let conditions = policy["conditions"].as_array().unwrap();
        assert!(conditions.contains(&json!({ "key": "uploads/C/A" })));
        assert!(conditions.contains(&json!({ "bucket": "files-bucket" })));
        assert!(conditions.contains(&json!({ "Content-Type": "image/png" })));
        assert!(conditions.contains(&json!(["content-length-range", 1234, 1234])));
        assert!(conditions.contains(&json!({ "x-amz-security-token": "session" })));
        assert!(conditions.contains(&json!({ "x-amz-date": "20261205T203000Z" })));
        assert!(conditions.contains(
            &json!({ "x-amz-credential": "AKIDEXAMPLE/20261205/eu-west-1/s3/aws4_request" })
        ));
        // Every field the client must send is one the policy names, with the same value.
        assert_eq!(post.fields["key"], "uploads/C/A");
        assert_eq!(post.fields["Content-Type"], "image/png");
        assert_eq!(post.fields["x-amz-date"], "20261205T203000Z");
        assert_eq!(post.method, "POST");
    }

    #[test]
    fn the_signature_is_sigv4_over_the_encoded_policy() {
        let post = slot();
        let policy = post.fields["policy"].as_str().unwrap();
        // The SigV4 key derivation, spelled out step by step.
        let k_date =
            hmac_sha256(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", b"20261205").unwrap();
        let k_region = hmac_sha256(&k_date, b"eu-west-1").unwrap();
        let k_service = hmac_sha256(&k_region, b"s3").unwrap();
        let k_signing = hmac_sha256(&k_service, b"aws4_request").unwrap();
        let expected = hex(&hmac_sha256(&k_signing, policy.as_bytes()).unwrap());
        assert_eq!(post.fields["x-amz-signature"], expected.as_str());
        assert_eq!(expected.len(), 64);
        // Any other size is another policy, and another signature.
        let other = post_policy(
            &SIGNER,
            &Slot {
                bucket: "files-bucket",
                key: "uploads/C/A",
                content_type: ContentType::Png,
                size: 1235,
            },
            String::new(),
            1_796_502_600_000,
        )
        .unwrap();
        assert_ne!(
            other.fields["x-amz-signature"],
            post.fields["x-amz-signature"]
        );
    }

    #[test]
    fn the_hmac_is_rfc_4231s() {
        // RFC 4231, test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?").unwrap();
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
        let mut plain = Vec::new();
        image::DynamicImage::new_rgb8(width, height)
            .write_with_encoder(image::codecs::jpeg::JpegEncoder::new(&mut plain))
            .unwrap();
        // An APP1 Exif segment with a GPS IFD pointer, right after SOI.
        let mut tiff = b"II*\0\x08\0\0\0".to_vec();
        tiff.extend_from_slice(&[1, 0]); // one entry
        tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 26, 0, 0, 0]); // GPSInfo → 26
        tiff.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
        tiff.extend_from_slice(&[1, 0]); // GPS IFD: one entry
        tiff.extend_from_slice(&[1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]); // GPSLatitudeRef "N"
        tiff.extend_from_slice(&[0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let len = u16::try_from(app1.len() + 2).unwrap();
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&plain[2..]);
        out
    }

    /// A JPEG whose EXIF says "rotate 90° clockwise to show" (orientation 6).
    fn jpeg_turned(width: u32, height: u32) -> Vec<u8> {
        let mut plain = Vec::new();
        image::DynamicImage::new_rgb8(width, height)
            .write_with_encoder(image::codecs::jpeg::JpegEncoder::new(&mut plain))
            .unwrap();
        let mut tiff = b"II*\0\x08\0\0\0".to_vec();
        tiff.extend_from_slice(&[1, 0]); // one entry
        tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]); // Orientation 6
        tiff.extend_from_slice(&[0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let len = u16::try_from(app1.len() + 2).unwrap();
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn a_cleaned_image_is_upright_and_says_nothing_of_its_turn() {
        let clean = clean_image(ContentType::Jpeg, &jpeg_turned(64, 48)).unwrap();
        let decoded = image::load_from_memory(&clean).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (48, 64), "turned");
        assert!(!contains(&clean, b"Exif"));
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_cleaned_jpeg_keeps_its_pixels_and_loses_its_exif() {
        let upload = jpeg_with_gps(64, 48);
        assert!(contains(&upload, b"Exif"));
        let clean = clean_image(ContentType::Jpeg, &upload).unwrap();
        assert!(ContentType::Jpeg.matches(&clean));
        assert!(!contains(&clean, b"Exif"));
        let decoded = image::load_from_memory(&clean).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (64, 48));
    }

    /// What the check costs a photo: a 2 MP JPEG decoded, turned and re-encoded. The
    /// codecs are built at opt-level 3 even in tests (Cargo.toml), as in release.
    #[test]
    fn a_2_mp_jpeg_is_cleaned_in_well_under_the_request_budget() {
        let mut photo = Vec::new();
        image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(1600, 1200, |x, y| {
            image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
        }))
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut photo, 85,
        ))
        .unwrap();
        let started = std::time::Instant::now();
        let clean = clean_image(ContentType::Jpeg, &photo).unwrap();
        let took = started.elapsed();
        eprintln!(
            "2 MP JPEG ({} bytes) checked and re-encoded ({} bytes) in {took:?}",
            photo.len(),
            clean.len()
        );
        assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    }

    #[test]
    fn text_is_not_an_image_and_a_bomb_is_refused_before_decoding() {
        assert_eq!(
            clean_image(ContentType::Png, b"just some text"),
            Err(Refused::Undecodable)
        );
        // 30 MP of one colour: a few kilobytes that would decode to 120 MB of RGBA.
        let mut png = Vec::new();
        image::DynamicImage::new_luma8(6000, 5000)
            .write_with_encoder(image::codecs::png::PngEncoder::new(&mut png))
            .unwrap();
        assert!(png.len() < 1024 * 1024, "{}", png.len());
        assert_eq!(
            clean_image(ContentType::Png, &png),
            Err(Refused::TooManyPixels)
        );
    }

    #[test]
    fn only_raster_images_are_shown_inline() {
        assert_eq!(
            content_disposition(ContentType::Pdf, "Rapport été.pdf"),
            "attachment; filename=\"Rapport _t_.pdf\"; filename*=UTF-8''Rapport%20%C3%A9t%C3%A9.pdf"
        );
        assert!(content_disposition(ContentType::Png, "a.png").starts_with("inline;"));
    }
}
