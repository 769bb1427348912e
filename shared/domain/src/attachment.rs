//! Attachments (spec §10): files a chat user or a member uploads straight to S3, then
//! names in a message. What is allowed (an allowlist of types, a size cap, filename rules),
//! how a file's first bytes must look for its declared type, where its objects live, and
//! the record kept from the upload request until the message that carries it is gone.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::ids::{AttachmentId, ChatId, MessageId};
use crate::rate_limit::Limit;

/// A file's size cap when its company sets none (the spec's default).
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// How long an upload slot (the presigned POST) is valid.
pub const UPLOAD_VALID_SECS: i64 = 600;
/// How long a download link (a presigned GET, minted per read) is valid: at most 15 min.
pub const DOWNLOAD_VALID_SECS: u64 = 900;
/// How long an upload nobody attached is kept (the bucket's lifecycle rule on the upload
/// prefix says the same; its record expires with it).
pub const PENDING_KEPT_SECS: i64 = 24 * 3600;
/// Attachments one message may carry.
pub const MAX_PER_MESSAGE: usize = 10;
/// Pixels an image may have: decoding it takes 4 bytes a pixel (RGBA), so this bounds a
/// decompression bomb at about 100 MB of memory, far under the function's.
pub const MAX_PIXELS: u64 = 25_000_000;
/// Bytes of a file's head its type is judged by.
pub const HEAD_BYTES: usize = 512;

/// Upload slots per uploader (a chat user, or a member): counted when a slot is handed
/// out, by number and by declared bytes, per hour and per day.
pub mod budgets {
    use super::Limit;

    pub const UPLOADS_PER_HOUR: Limit = Limit {
        name: "uploads-hour",
        max: 60,
        window_ms: 3_600_000,
    };
    pub const UPLOADS_PER_DAY: Limit = Limit {
        name: "uploads-day",
        max: 200,
        window_ms: 86_400_000,
    };
    pub const UPLOAD_BYTES_PER_HOUR: Limit = Limit {
        name: "upload-bytes-hour",
        max: 200 * 1024 * 1024,
        window_ms: 3_600_000,
    };
    pub const UPLOAD_BYTES_PER_DAY: Limit = Limit {
        name: "upload-bytes-day",
        max: 1024 * 1024 * 1024,
        window_ms: 86_400_000,
    };
}

/// The types a file may have: an allowlist. Anything that a browser would run or render
/// as a page (SVG, HTML, …) is not on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    Jpeg,
    Png,
    Gif,
    Webp,
    Pdf,
    Text,
    Csv,
    Docx,
    Xlsx,
    Pptx,
    Odt,
    Ods,
    Odp,
    Zip,
}

const ALL: [ContentType; 14] = [
    ContentType::Jpeg,
    ContentType::Png,
    ContentType::Gif,
    ContentType::Webp,
    ContentType::Pdf,
    ContentType::Text,
    ContentType::Csv,
    ContentType::Docx,
    ContentType::Xlsx,
    ContentType::Pptx,
    ContentType::Odt,
    ContentType::Ods,
    ContentType::Odp,
    ContentType::Zip,
];

impl ContentType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Pdf => "application/pdf",
            Self::Text => "text/plain",
            Self::Csv => "text/csv",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            Self::Odt => "application/vnd.oasis.opendocument.text",
            Self::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Self::Odp => "application/vnd.oasis.opendocument.presentation",
            Self::Zip => "application/zip",
        }
    }

    /// The type a `content_type` field names (case and parameters such as `charset`
    /// ignored), if it is on the allowlist.
    pub fn parse(text: &str) -> Option<Self> {
        let essence = text
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        ALL.into_iter().find(|t| t.as_str() == essence)
    }

    /// The field's value, or the message shown under it.
    pub fn parse_field(field: &str, text: &str) -> Result<Self, String> {
        Self::parse(text).ok_or_else(|| {
            format!(
                "The {field} must be one of: {}. Other types (SVG and HTML included) are not accepted.",
                ALL.map(Self::as_str).join(", ")
            )
        })
    }

    /// A raster image: decoded, cleaned of its metadata and shown inline. Everything
    /// else is served as a download (`Content-Disposition: attachment`).
    pub fn is_raster(self) -> bool {
        matches!(self, Self::Jpeg | Self::Png | Self::Gif | Self::Webp)
    }

    /// Whether a file's first bytes (up to [`HEAD_BYTES`]) look like this type (its magic
    /// number; for text, no NUL and valid UTF-8).
    pub fn matches(self, head: &[u8]) -> bool {
        match self {
            Self::Jpeg => head.starts_with(&[0xFF, 0xD8, 0xFF]),
            Self::Png => head.starts_with(b"\x89PNG\r\n\x1a\n"),
            Self::Gif => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
            Self::Webp => head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP",
            Self::Pdf => head.starts_with(b"%PDF-"),
            Self::Text | Self::Csv => looks_like_text(head),
            // OOXML and ODF documents are ZIP archives.
            Self::Docx
            | Self::Xlsx
            | Self::Pptx
            | Self::Odt
            | Self::Ods
            | Self::Odp
            | Self::Zip => head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06"),
        }
    }
}

/// UTF-8 text with no NUL; the head may end inside a character.
fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        // Cut mid-character at the head's end: still text.
        Err(err) => err.error_len().is_none(),
    }
}

impl Serialize for ContentType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ContentType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("not an allowed content type"))
    }
}

/// A declared size in bytes, as the request gave it (checked against the company's cap
/// by [`check_size`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

/// The attachments a message names: 1 to [`MAX_PER_MESSAGE`] distinct ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentIds(pub Vec<AttachmentId>);

impl AttachmentIds {
    /// The ids, or the message shown under the field.
    pub fn parse(field: &str, texts: &[&str]) -> Result<Self, String> {
        if texts.len() > MAX_PER_MESSAGE {
            return Err(format!(
                "The {field} field may name at most {MAX_PER_MESSAGE} attachments."
            ));
        }
        let mut ids = Vec::with_capacity(texts.len());
        for text in texts {
            let id = <AttachmentId as crate::ids::EntityId>::parse(text)
                .ok_or_else(|| format!("The {field} field must hold attachment IDs."))?;
            if ids.contains(&id) {
                return Err(format!("The {field} field names an attachment twice."));
            }
            ids.push(id);
        }
        Ok(Self(ids))
    }
}

/// A declared size: 1 byte up to `max`.
pub fn check_size(field: &str, size: u64, max: u64) -> Result<u64, String> {
    if size == 0 {
        Err(format!("The {field} must be at least 1 byte."))
    } else if size > max {
        Err(format!("The {field} must not be greater than {max} bytes."))
    } else {
        Ok(size)
    }
}

/// Where an upload lands: the presigned POST is pinned to this key.
pub fn upload_key(chat: ChatId, id: AttachmentId) -> String {
    format!("uploads/{chat}/{id}")
}

/// Where the checked copy lives: no upload slot ever names this prefix, and only this
/// copy is served.
pub fn file_key(chat: ChatId, id: AttachmentId) -> String {
    format!("files/{chat}/{id}")
}

/// Where an attachment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentState {
    /// A slot was handed out; the upload may or may not have happened.
    Pending,
    /// Checked, copied, and carried by a message.
    Attached,
}

/// What is kept of an attachment (storage's `attachments`): from its upload request until
/// its message (or its chat) goes; a pending one expires after [`PENDING_KEPT_SECS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRecord {
    pub id: AttachmentId,
    pub chat_id: ChatId,
    /// Who may attach it: its uploader's key (`Author::key`).
    pub uploader: String,
    pub filename: String,
    pub content_type: ContentType,
    /// The size the upload request declared (the upload is pinned to it).
    pub size: u64,
    pub state: AttachmentState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    /// When the slot was handed out (milliseconds since the epoch).
    pub created_ms: i64,
}

impl AttachmentRecord {
    /// Past the time its upload could still be attached.
    pub fn expired(&self, now_ms: i64) -> bool {
        now_ms > self.created_ms + PENDING_KEPT_SECS * 1000
    }
}

/// An attachment as a message shows it. Events, webhooks and emails carry it as kept
/// (no link); an HTTP read adds `url` and `expires_at`, minted then and never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub content_type: ContentType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    pub filename: String,
    pub id: AttachmentId,
    /// The size of the file as served (an image re-encoded has its new size).
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowlisted_types_parse() {
        assert_eq!(ContentType::parse("image/PNG"), Some(ContentType::Png));
        assert_eq!(
            ContentType::parse("text/plain; charset=utf-8"),
            Some(ContentType::Text)
        );
        for refused in ["image/svg+xml", "text/html", "application/javascript", ""] {
            assert_eq!(ContentType::parse(refused), None, "{refused}");
        }
        for t in ALL {
            assert_eq!(ContentType::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn magic_numbers_decide() {
        assert!(ContentType::Png.matches(b"\x89PNG\r\n\x1a\n...."));
        assert!(!ContentType::Png.matches(b"hello, I am text"));
        assert!(ContentType::Jpeg.matches(&[0xFF, 0xD8, 0xFF, 0xE0]));
        assert!(ContentType::Pdf.matches(b"%PDF-1.7\n"));
        assert!(!ContentType::Pdf.matches(b"<html>"));
        assert!(ContentType::Webp.matches(b"RIFF\x10\0\0\0WEBPVP8 "));
        assert!(ContentType::Docx.matches(b"PK\x03\x04rest"));
        assert!(ContentType::Text.matches("naïve text".as_bytes()));
        // A head cut inside a character is still text; a NUL or broken UTF-8 is not.
        assert!(ContentType::Text.matches(&"é".as_bytes()[..1]));
        assert!(!ContentType::Csv.matches(b"a,b\0c"));
        assert!(!ContentType::Text.matches(b"\xff\xfe\x00"));
    }

    #[test]
    fn sizes_are_bounded() {
        assert!(check_size("size", 0, DEFAULT_MAX_BYTES).is_err());
        assert_eq!(check_size("size", 10, DEFAULT_MAX_BYTES), Ok(10));
        assert!(check_size("size", DEFAULT_MAX_BYTES + 1, DEFAULT_MAX_BYTES).is_err());
    }
}
