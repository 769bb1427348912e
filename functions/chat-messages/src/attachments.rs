//! Attachments (spec §10): the upload slot (`POST /api/chats/{chat_id}/attachments`),
//! the check a message's attachments pass before it is posted, and the download links
//! every HTTP read of a message mints.

use domain::attachment::{
    self, Attachment, AttachmentRecord, AttachmentState, ContentType, DEFAULT_MAX_BYTES, Size,
    budgets,
};
use domain::clock;
use domain::ids::{AttachmentId, ChatId};
use domain::message::MessageResource;
use domain::team::Action;
use domain::text::Filename;
use edge::access::{self, ChatAccess};
use edge::fields::Fields;
use edge::{ApiError, ApiRequest, FieldErrors, envelope};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;
use services::files::{Files, PresignedPost, Refused};
use storage::attachments::{Created, Spend, attachable};

use crate::App;

/// `201 {data: {id, upload: {method, url, fields}, expires_at}}`.
#[derive(Serialize)]
struct Slot {
    id: AttachmentId,
    upload: Upload,
    expires_at: String,
}

#[derive(Serialize)]
struct Upload {
    method: &'static str,
    url: String,
    fields: serde_json::Map<String, serde_json::Value>,
}

const OVER_BUDGET: &str =
    "You have uploaded as many files, or as many bytes, as you may for now. Wait, then try again.";

/// Whoever may post in the chat may upload to it: a chat user of the chat, or a member
/// whose role answers it.
pub async fn upload(app: &App, req: &ApiRequest, chat: ChatId) -> Result<Response<Body>, ApiError> {
    let access = access::chat_access(&app.ctx, req, chat, Action::Answer).await?;
    let mut fields = Fields::new(&req.body);
    let filename = fields.required::<Filename>("filename");
    let content_type = fields.required::<ContentType>("content_type");
    let size = fields.required::<Size>("size");
    if let Some(Size(bytes)) = size
        && let Err(message) = attachment::check_size("size", bytes, DEFAULT_MAX_BYTES)
    {
        fields.error("size", message);
    }
    let (filename, content_type, Size(size)) =
        fields.finish_with(|| Some((filename?, content_type?, size?)))?;
    let record = AttachmentRecord {
        id: AttachmentId::new(),
        chat_id: access.chat().id,
        uploader: access.author().key(),
        filename: filename.into_inner(),
        content_type,
        size,
        state: AttachmentState::Pending,
        message_id: None,
        created_ms: clock::now_millis(),
    };
    let bytes = u32::try_from(size).unwrap_or(u32::MAX);
    let spend = [
        Spend {
            limit: budgets::UPLOADS_PER_HOUR,
            amount: 1,
        },
        Spend {
            limit: budgets::UPLOADS_PER_DAY,
            amount: 1,
        },
        Spend {
            limit: budgets::UPLOAD_BYTES_PER_HOUR,
            amount: bytes,
        },
        Spend {
            limit: budgets::UPLOAD_BYTES_PER_DAY,
            amount: bytes,
        },
    ];
    match app
        .ctx
        .db
        .attachments()
        .create(&record, &access.budget_key(), &spend)
        .await?
    {
        Created::Done => {}
        Created::OverBudget { retry_after_secs } => {
            return Err(ApiError::TooManyRequests {
                message: OVER_BUDGET,
                retry_after_secs,
            });
        }
    }
    let PresignedPost {
        method,
        url,
        fields,
        expires_at,
    } = app.files.upload_slot(&record).await?;
    Ok(envelope::data(
        StatusCode::CREATED,
        Slot {
            id: record.id,
            upload: Upload {
                method,
                url,
                fields,
            },
            expires_at,
        },
    ))
}

const FIELD: &str = "attachment_ids";

/// What the 422 says of an attachment that failed its check.
fn refusal(id: AttachmentId, refused: Refused, declared: ContentType) -> String {
    match refused {
        Refused::NotUploaded => {
            format!("Attachment {id} was not uploaded: send the file to its upload URL first.")
        }
        Refused::WrongSize => {
            format!("Attachment {id} is not the size its upload request declared.")
        }
        Refused::WrongType => format!(
            "Attachment {id} is not a {} file: its content does not match its type.",
            declared.as_str()
        ),
        Refused::Undecodable => format!("Attachment {id} is not a valid image."),
        Refused::TooManyPixels => format!(
            "Attachment {id} has more than {} pixels.",
            attachment::MAX_PIXELS
        ),
    }
}

/// The attachments `ids`, each the caller's pending upload in this chat, checked and
/// copied to the key it is served from (see `services::files`), as the message will
/// carry them; any that is not is a 422 naming it. Attaching them is the message's own
/// transaction (it fails when one was attached meanwhile).
pub async fn check(
    app: &App,
    access: &ChatAccess,
    ids: &[AttachmentId],
) -> Result<Vec<Attachment>, ApiError> {
    let chat = access.chat().id;
    let uploader = access.author().key();
    let records = app.ctx.db.attachments().get_all(chat, ids).await?;
    let now_ms = clock::now_millis();
    let mut checked = Vec::with_capacity(ids.len());
    for (id, record) in ids.iter().zip(records) {
        let Some(record) = record.filter(|r| r.chat_id == chat && r.uploader == uploader) else {
            return Err(FieldErrors::single(
                FIELD,
                format!("Attachment {id} is not one of your uploads to this chat."),
            ));
        };
        if record.state == AttachmentState::Attached {
            return Err(FieldErrors::single(
                FIELD,
                format!("Attachment {id} is already attached to a message."),
            ));
        }
        if !attachable(&record, chat, &uploader, now_ms) {
            return Err(FieldErrors::single(
                FIELD,
                format!("Attachment {id} expired: upload the file again."),
            ));
        }
        match app.files.check(&record).await? {
            Ok(served) => checked.push(Attachment {
                content_type: record.content_type,
                expires_at: None,
                filename: record.filename,
                id: record.id,
                size: served.size,
                url: None,
            }),
            Err(refused) => {
                return Err(FieldErrors::single(
                    FIELD,
                    refusal(*id, refused, record.content_type),
                ));
            }
        }
    }
    Ok(checked)
}

pub const ALREADY_USED: &str =
    "An attachment was attached to another message meanwhile: each is attached once.";

/// The message as an HTTP read shows it: each attachment with a download link minted
/// now (never stored, never logged).
pub async fn with_links<'a>(
    files: &Files,
    message: MessageResource<'a>,
) -> Result<MessageResource<'a>, ApiError> {
    if message.attachments.is_empty() {
        return Ok(message);
    }
    let mut linked = message.attachments.to_vec();
    for attachment in &mut linked {
        let link = files.link(message.chat_id, attachment).await?;
        attachment.url = Some(link.url);
        attachment.expires_at = Some(link.expires_at);
    }
    Ok(MessageResource {
        attachments: linked.into(),
        ..message
    })
}
