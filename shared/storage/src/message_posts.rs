//! Posting a message: one transaction that moves the chat's head (the ordering condition
//! and the `message.created` event), checks the author is still a chat user, puts the
//! message and its client id (unique per chat user), and counts the author's sending
//! rate. See [`crate::messages`] for the ordering contract.

use domain::attachment::Attachment;
use domain::chat::{ChatRecord, LastMessage, message_preview};
use domain::clock;
use domain::conversation::{Poster, after_message};
use domain::events::Change;
use domain::ids::{ChatId, MessageId};
use domain::message::{Author, MessageRecord};
use domain::rate_limit::{Limit, Taken};

use crate::Result;
use crate::attachments;
use crate::chats::InboxKeys;
use crate::conversations::first_response_item;
use crate::item::{Item, expire_after, n, s, to_item};
use crate::key::Entity;
use crate::log::{self, ChatHead, Committed, Staged};
use crate::members::member_key;
use crate::messages::{ClientIdPointer, Messages};
use crate::rate_counters;
use crate::staff_reads::StaffReadRecord;
use crate::tx::{Cancelled, Slot, Transaction};
use crate::update::Update;

/// A message to post.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// A chat user of the chat, or a member of its company.
    pub author: Author,
    /// A member's note (members only).
    pub internal: bool,
    pub body: String,
    pub client_id: Option<String>,
    /// How many messages one chat user may send: counted in the append's transaction.
    pub rate: Limit,
    /// Its files, checked and copied already (see `attachments`): attached in the
    /// append's transaction, each still pending, of this chat and of this author.
    pub attachments: Vec<Attachment>,
}

#[derive(Debug)]
pub enum Posted {
    New(MessageRecord),
    /// The same `client_id` was sent before: the first message, unchanged.
    Repeat(MessageRecord),
    /// The same `client_id` was sent before, and that message was deleted since.
    RepeatOfDeleted,
    AuthorGone,
    ChatGone,
    /// The author sent its `rate` already in this window.
    TooFast {
        retry_after_secs: u64,
    },
    /// An attachment was attached meanwhile (by another message), or is not the
    /// author's pending one of this chat.
    AttachmentTaken,
}

/// The items of one append transaction whose failure means something.
struct AppendSlots {
    author: Slot,
    client_id: Option<Slot>,
    rate: Slot,
    attachments: Vec<Slot>,
}

/// Why an append was refused (a moved chat head is retried before this is asked).
fn classify(
    cancelled: &Cancelled,
    head: Slot,
    slots: &AppendSlots,
    too_fast: Taken,
) -> Option<Posted> {
    Some(
        if slots.client_id.is_some_and(|slot| cancelled.failed(slot)) {
            // Answered by a read of the earlier message: see `repeat`. A repeat is
            // answered even past the rate: it sends nothing new.
            Posted::RepeatOfDeleted
        } else if cancelled.failed(slots.author) {
            Posted::AuthorGone
        } else if slots.attachments.iter().any(|slot| cancelled.failed(*slot)) {
            Posted::AttachmentTaken
        } else if cancelled.failed(head) && cancelled.item(head).is_none() {
            Posted::ChatGone
        } else if let (true, Taken::Exceeded { retry_after_secs }) =
            (cancelled.failed(slots.rate), too_fast)
        {
            Posted::TooFast { retry_after_secs }
        } else {
            return None;
        },
    )
}

impl Messages<'_> {
    /// Posts a message in the chat's id order (see [`crate::messages`]), with its
    /// `message.created` event.
    pub async fn post(&self, chat: &ChatRecord, new: NewMessage) -> Result<Posted> {
        let outcome = self
            .db
            .commit_with_event(ChatHead::of(chat), |tx, head| {
                let at_ms = clock::now_millis();
                let now = clock::rfc3339(at_ms);
                let message = MessageRecord {
                    id: MessageId::next_after(head.newest_message),
                    seq: head.seq + 1,
                    chat_id: chat.id,
                    chat_user_id: new.author.guest(),
                    author: Some(new.author.clone()),
                    internal: new.internal,
                    body: new.body.clone(),
                    created_at: now.clone(),
                    updated_at: now,
                    edited_at: None,
                    client_id: new.client_id.clone(),
                    edit_seqs: Vec::new(),
                    attachments: new.attachments.clone(),
                };
                let (head, slots) = stage_append(tx, head, chat, &message, new.rate, at_ms)?;
                Ok(Staged {
                    head,
                    rest: (message, slots, at_ms),
                })
            })
            .await?;
        match outcome {
            Committed::Done {
                rest: (message, ..),
                ..
            } => Ok(Posted::New(message)),
            Committed::Refused {
                cancelled,
                head,
                rest: (_, slots, at_ms),
            } => match classify(&cancelled, head, &slots, new.rate.exceeded(at_ms)) {
                Some(Posted::RepeatOfDeleted) => self.repeat(chat.id, &new).await,
                Some(posted) => Ok(posted),
                None => Err(cancelled.unexpected("message append")),
            },
        }
    }

    /// The message `author` posted with `client_id` in the chat, if it is still there:
    /// a replay answers it without checking its attachments again (they are attached).
    pub async fn by_client_id(
        &self,
        chat_id: ChatId,
        author: &domain::message::Author,
        client_id: &str,
    ) -> Result<Option<MessageRecord>> {
        let pointer: Option<ClientIdPointer> = self
            .db
            .get(&ClientIdPointer::key((chat_id, &author.key(), client_id)))
            .await?;
        match pointer {
            Some(pointer) => self.get(chat_id, pointer.message_id).await,
            None => Ok(None),
        }
    }

    /// The message an earlier post with the same `client_id` created.
    async fn repeat(&self, chat_id: ChatId, new: &NewMessage) -> Result<Posted> {
        let Some(client_id) = new.client_id.as_deref() else {
            // Only a used client id answers "repeat" (see `classify`).
            return Ok(Posted::RepeatOfDeleted);
        };
        let pointer: Option<ClientIdPointer> = self
            .db
            .get(&ClientIdPointer::key((
                chat_id,
                &new.author.key(),
                client_id,
            )))
            .await?;
        let message = match pointer {
            Some(pointer) => self.get(chat_id, pointer.message_id).await?,
            None => None,
        };
        Ok(message.map_or(Posted::RepeatOfDeleted, Posted::Repeat))
    }
}

/// The items of one append: the chat head (its ordering condition, the event and, in a
/// conversation, the state the message moves and its inbox keys), the author still a
/// chat user or a member, the message, its client id (unique per author), the author's
/// count against `rate`, and for a member its own read marker (its message is read) and
/// a conversation's first response. A guest message that reopens a conversation logs
/// `chat.status_changed` after its `message.created`, in the same write.
fn stage_append(
    tx: &mut Transaction<'_>,
    head: ChatHead,
    chat: &ChatRecord,
    message: &MessageRecord,
    rate: Limit,
    at_ms: i64,
) -> Result<(Slot, AppendSlots)> {
    let chat_id = message.chat_id;
    let retention_days = head.retention_days;
    let author = message.author();
    // Ids become visible in strictly increasing order (see `crate::messages`).
    let mut ordering = Update::new()
        .set("last_message_id", s(message.id.to_string()))
        .set("last_message_at", s(&message.created_at))
        .set("last_message_seq", n(message.seq))
        .add("message_count", n(1))
        .condition("attribute_not_exists(#last_message_id) OR #last_message_id < :last_message_id");
    let company_id = chat.company_id;
    let mut first_response = None;
    let mut logged = vec![Change::MessageCreated(message.resource().into_owned())];
    if let Some((company_id, state)) = &head.conversation {
        let poster = match (&author, message.internal) {
            (Author::Guest { .. }, _) => Poster::Guest,
            (Author::Staff { .. }, false) => Poster::Staff,
            (Author::Staff { .. }, true) => Poster::Note,
        };
        let after = after_message(state, poster, &message.created_at, at_ms);
        let last = LastMessage {
            author: author.clone(),
            preview: message_preview(&message.body, message.attachments.len()),
            internal: message.internal,
        };
        ordering = ordering
            .set("status", s(after.status.as_str()))
            .set("last_message", serde_dynamo::to_attribute_value(&last)?)
            .set_or_remove("waiting_since", Some(after.waiting_since.clone()))
            .set_or_remove("first_response_at", Some(after.first_response_at.clone()));
        if after.clears_snooze {
            ordering = ordering.remove("snoozed_until");
        }
        ordering = InboxKeys::new(
            *company_id,
            after.status,
            after.waiting_since.as_deref(),
            &message.created_at,
        )
        .set(ordering);
        first_response = after.first_response_ms.map(|ms| (*company_id, ms));
        if after.status != state.status {
            let reopened = ChatRecord {
                status: Some(after.status),
                waiting_since: after.waiting_since.clone(),
                first_response_at: after.first_response_at.clone(),
                snoozed_until: chat.snoozed_until.clone().filter(|_| !after.clears_snooze),
                last_message_at: Some(message.created_at.clone()),
                event_seq: message.seq + 1,
                ..chat.clone()
            };
            logged.push(Change::ChatStatusChanged(reopened.resource().into_owned()));
        }
    }
    let message_count = head.message_count + 1;
    let head = log::append_all(tx, head, logged, ordering, at_ms)?;
    let author_slot = match &author {
        Author::Guest { id, .. } => tx.check(
            &domain::chat_user::ChatUserRecord::key((chat_id, *id)),
            "attribute_exists(PK)",
        )?,
        // A member removed meanwhile posts nothing.
        Author::Staff { id, .. } => {
            tx.check(&member_key(company_id, *id), "attribute_exists(PK)")?
        }
    };
    // The chat's retention: the message and its client id go together.
    let kept = |mut item: Item| {
        expire_after(&mut item, at_ms, retention_days);
        item
    };
    tx.put_new(kept(to_item(
        &MessageRecord::key((chat_id, message.id)),
        message,
    )?))?;
    let client_id = match &message.client_id {
        Some(client_id) => {
            let pointer = ClientIdPointer {
                message_id: message.id,
            };
            let pointer_key = ClientIdPointer::key((chat_id, &author.key(), client_id));
            Some(tx.put_new(kept(to_item(&pointer_key, &pointer)?))?)
        }
        None => None,
    };
    let rate = rate_counters::take_in(tx, &rate, &author.key(), at_ms)?;
    let attachment_ids: Vec<_> = message.attachments.iter().map(|a| a.id).collect();
    let attachments = attachments::stage_attach(
        tx,
        chat_id,
        &author.key(),
        &attachment_ids,
        message.id,
        retention_days.map(|days| at_ms / 1000 + i64::from(days) * 24 * 3600),
    )?;
    if let Author::Staff { id, .. } = &author {
        let marker = StaffReadRecord {
            user_id: *id,
            last_read_seq: message.seq,
            read_count: message_count,
        };
        let slot = tx.put_over(to_item(&StaffReadRecord::key((chat_id, *id)), &marker)?)?;
        tx.bookkeeping(slot);
    }
    if let Some((company_id, response_ms)) = first_response {
        let item =
            first_response_item(company_id, chat_id, &message.created_at, at_ms, response_ms)?;
        let slot = tx.put_over(item)?;
        tx.bookkeeping(slot);
    }
    Ok((
        head,
        AppendSlots {
            author: author_slot,
            client_id,
            rate,
            attachments,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(with_client_id: bool) -> AppendSlots {
        AppendSlots {
            author: Slot::at(2),
            client_id: with_client_id.then(|| Slot::at(4)),
            rate: Slot::at(5),
            attachments: Vec::new(),
        }
    }

    const FAILED: &str = "ConditionalCheckFailed";
    const HEAD: Slot = Slot::at(0);
    const WAIT: Taken = Taken::Exceeded {
        retry_after_secs: 7,
    };

    #[test]
    fn a_used_client_id_wins_over_every_other_reason() {
        let cancelled = Cancelled::of(&[
            (FAILED, None),
            ("None", None),
            (FAILED, None),
            ("None", None),
            (FAILED, None),
        ]);
        assert!(matches!(
            classify(&cancelled, HEAD, &slots(true), WAIT),
            Some(Posted::RepeatOfDeleted)
        ));
        assert!(matches!(
            classify(&cancelled, HEAD, &slots(false), WAIT),
            Some(Posted::AuthorGone)
        ));
    }

    #[test]
    fn a_head_that_is_gone_is_a_gone_chat_and_anything_else_is_unexpected() {
        let gone = Cancelled::of(&[(FAILED, None), ("None", None), ("None", None)]);
        assert!(matches!(
            classify(&gone, HEAD, &slots(false), WAIT),
            Some(Posted::ChatGone)
        ));
        let odd = Cancelled::of(&[("ValidationError", None), ("None", None), ("None", None)]);
        assert!(classify(&odd, HEAD, &slots(false), WAIT).is_none());
    }

    #[test]
    fn an_attachment_attached_meanwhile_refuses_the_post() {
        let mut reasons = vec![("None", None); 8];
        reasons[7] = (FAILED, None);
        let taken = Cancelled::of(&reasons);
        let with_files = AppendSlots {
            attachments: vec![Slot::at(6), Slot::at(7)],
            ..slots(false)
        };
        assert!(matches!(
            classify(&taken, HEAD, &with_files, WAIT),
            Some(Posted::AttachmentTaken)
        ));
        // Nothing of its own failed: not the attachments' doing.
        let fine = Cancelled::of(&vec![("None", None); 8]);
        assert!(classify(&fine, HEAD, &with_files, WAIT).is_none());
    }

    #[test]
    fn a_full_rate_window_is_too_fast_unless_the_send_is_a_repeat() {
        let mut reasons = vec![("None", None); 6];
        reasons[5] = (FAILED, None);
        let too_fast = Cancelled::of(&reasons);
        assert!(matches!(
            classify(&too_fast, HEAD, &slots(false), WAIT),
            Some(Posted::TooFast {
                retry_after_secs: 7
            })
        ));
        reasons[4] = (FAILED, None);
        let repeat = Cancelled::of(&reasons);
        assert!(matches!(
            classify(&repeat, HEAD, &slots(true), WAIT),
            Some(Posted::RepeatOfDeleted)
        ));
    }
}
