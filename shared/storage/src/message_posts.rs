//! Posting a message: one transaction that moves the chat's head (the ordering condition
//! and the `message.created` event), checks the author is still a chat user, puts the
//! message and its client id (unique per chat user), and counts the author's sending
//! rate. A chat user's rate is counted on its own item, whose existence is the check: one
//! write where a check and a counter item were two. See [`crate::messages`] for the
//! ordering contract.

use domain::attachment::Attachment;
use domain::chat::{ChatRecord, LastMessage, message_preview};
use domain::chat_user::ChatUserRecord;
use domain::clock;
use domain::conversation::{Poster, after_message};
use domain::events::Change;
use domain::ids::{ChatId, MessageId};
use domain::message::{Author, MessageRecord};
use domain::rate_limit::{Limit, Taken, WindowCount};

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
    /// A chat user's sending count as its front door read it (`ChatUserRecord::sent`);
    /// `None` for a member, or when not read (a wrong guess costs one more attempt).
    pub sent: Option<WindowCount>,
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
    /// A chat user's item (its rate counted on it), or a member's check.
    author: Slot,
    client_id: Option<Slot>,
    /// A member's counter item (`None`: counted on the author's item).
    rate: Option<Slot>,
    attachments: Vec<Slot>,
}

/// Why an append was refused (a moved chat head is retried before this is asked).
#[derive(Debug)]
enum Refusal {
    Answer(Posted),
    /// A chat user's count moved since it was read (another of its messages): go again
    /// from the count its item holds now.
    Recount(Option<WindowCount>),
}

fn classify(
    cancelled: &Cancelled,
    head: Slot,
    slots: &AppendSlots,
    rate: Limit,
    at_ms: i64,
) -> Option<Refusal> {
    let too_fast = || match rate.exceeded(at_ms) {
        Taken::Exceeded { retry_after_secs } => Posted::TooFast { retry_after_secs },
        // `exceeded` always answers a wait.
        Taken::Allowed => Posted::TooFast {
            retry_after_secs: 1,
        },
    };
    Some(Refusal::Answer(
        if slots.client_id.is_some_and(|slot| cancelled.failed(slot)) {
            // Answered by a read of the earlier message: see `repeat`. A repeat is
            // answered even past the rate: it sends nothing new.
            Posted::RepeatOfDeleted
        } else if cancelled.failed(slots.author) {
            // A member's check hands back nothing; a chat user's item, if it still is one.
            match (slots.rate, cancelled.item(slots.author)) {
                (None, Some(item)) => {
                    let now = rate_counters::count_in(item);
                    if now.is_some_and(|count| rate.is_full(count, at_ms)) {
                        too_fast()
                    } else {
                        return Some(Refusal::Recount(now));
                    }
                }
                _ => Posted::AuthorGone,
            }
        } else if slots.attachments.iter().any(|slot| cancelled.failed(*slot)) {
            Posted::AttachmentTaken
        } else if cancelled.failed(head) && cancelled.item(head).is_none() {
            Posted::ChatGone
        } else if slots.rate.is_some_and(|slot| cancelled.failed(slot)) {
            too_fast()
        } else {
            return None;
        },
    ))
}

/// Attempts at one post whose author's count moved meanwhile (each loses only to another
/// of the same author's messages, which got in).
const RECOUNTS: usize = 5;

impl Messages<'_> {
    /// Posts a message in the chat's id order (see [`crate::messages`]), with its
    /// `message.created` event.
    pub async fn post(&self, chat: &ChatRecord, mut new: NewMessage) -> Result<Posted> {
        for _ in 0..RECOUNTS {
            match self.attempt(chat, &new).await? {
                Ok(posted) => return Ok(posted),
                Err(now) => new.sent = now,
            }
        }
        Err(crate::StoreError::unavailable(
            "TransactWriteItems",
            "the author's sending count stayed contended",
        ))
    }

    /// One post from the author's count as `new` has it: `Err` with the count its item
    /// holds when that moved meanwhile.
    async fn attempt(
        &self,
        chat: &ChatRecord,
        new: &NewMessage,
    ) -> Result<std::result::Result<Posted, Option<WindowCount>>> {
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
                let (head, slots) =
                    stage_append(tx, head, chat, &message, (new.rate, new.sent), at_ms)?;
                Ok(Staged {
                    head,
                    rest: (message, slots, at_ms),
                })
            })
            .await?;
        Ok(match outcome {
            Committed::Done {
                rest: (message, ..),
                ..
            } => Ok(Posted::New(message)),
            Committed::Refused {
                cancelled,
                head,
                rest: (_, slots, at_ms),
            } => match classify(&cancelled, head, &slots, new.rate, at_ms) {
                Some(Refusal::Answer(Posted::RepeatOfDeleted)) => {
                    Ok(self.repeat(chat.id, new).await?)
                }
                Some(Refusal::Answer(posted)) => Ok(posted),
                Some(Refusal::Recount(now)) => Err(now),
                None => return Err(cancelled.unexpected("message append")),
            },
        })
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
/// chat user (its item, counting its rate from the count `sent` as read) or a member (a
/// check, and a counter item for its rate), the message, its client id (unique per
/// author), and for a member its own read marker (its message is read) and a
/// conversation's first response. A guest message that reopens a conversation logs
/// `chat.status_changed` after its `message.created`, in the same write.
fn stage_append(
    tx: &mut Transaction<'_>,
    head: ChatHead,
    chat: &ChatRecord,
    message: &MessageRecord,
    (rate, sent): (Limit, Option<WindowCount>),
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
    let (author_slot, rate) = match &author {
        Author::Guest { id, .. } => (
            tx.update_with(
                &ChatUserRecord::key((chat_id, *id)),
                rate_counters::count_on_item(&rate, sent, at_ms),
            )?,
            None,
        ),
        // A member removed meanwhile posts nothing. Its rate is counted across the chats
        // it writes in, on a counter item of its own.
        Author::Staff { id, .. } => (
            tx.check(&member_key(company_id, *id), "attribute_exists(PK)")?,
            Some(rate_counters::take_in(tx, &rate, &author.key(), at_ms)?),
        ),
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
    use crate::item::n;

    /// A member's post (a check and a counter item), or a chat user's (`rate: None`).
    fn slots(with_client_id: bool) -> AppendSlots {
        AppendSlots {
            author: Slot::at(2),
            client_id: with_client_id.then(|| Slot::at(4)),
            rate: Some(Slot::at(5)),
            attachments: Vec::new(),
        }
    }

    fn guest_slots() -> AppendSlots {
        AppendSlots {
            rate: None,
            ..slots(true)
        }
    }

    const FAILED: &str = "ConditionalCheckFailed";
    const HEAD: Slot = Slot::at(0);
    const RATE: Limit = Limit {
        name: "messages",
        max: 3,
        window_ms: 60_000,
    };
    /// 55 s before its window ends.
    const AT: i64 = 125_000;

    fn answer(refusal: Option<Refusal>) -> Option<Posted> {
        match refusal {
            Some(Refusal::Answer(posted)) => Some(posted),
            _ => None,
        }
    }

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
            answer(classify(&cancelled, HEAD, &slots(true), RATE, AT)),
            Some(Posted::RepeatOfDeleted)
        ));
        assert!(matches!(
            answer(classify(&cancelled, HEAD, &slots(false), RATE, AT)),
            Some(Posted::AuthorGone)
        ));
    }

    #[test]
    fn a_head_that_is_gone_is_a_gone_chat_and_anything_else_is_unexpected() {
        let gone = Cancelled::of(&[(FAILED, None), ("None", None), ("None", None)]);
        assert!(matches!(
            answer(classify(&gone, HEAD, &slots(false), RATE, AT)),
            Some(Posted::ChatGone)
        ));
        let odd = Cancelled::of(&[("ValidationError", None), ("None", None), ("None", None)]);
        assert!(classify(&odd, HEAD, &slots(false), RATE, AT).is_none());
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
            answer(classify(&taken, HEAD, &with_files, RATE, AT)),
            Some(Posted::AttachmentTaken)
        ));
        // Nothing of its own failed: not the attachments' doing.
        let fine = Cancelled::of(&vec![("None", None); 8]);
        assert!(classify(&fine, HEAD, &with_files, RATE, AT).is_none());
    }

    #[test]
    fn a_full_rate_window_is_too_fast_unless_the_send_is_a_repeat() {
        let mut reasons = vec![("None", None); 6];
        reasons[5] = (FAILED, None);
        let too_fast = Cancelled::of(&reasons);
        assert!(matches!(
            answer(classify(&too_fast, HEAD, &slots(false), RATE, AT)),
            Some(Posted::TooFast {
                retry_after_secs: 55
            })
        ));
        reasons[4] = (FAILED, None);
        let repeat = Cancelled::of(&reasons);
        assert!(matches!(
            answer(classify(&repeat, HEAD, &slots(true), RATE, AT)),
            Some(Posted::RepeatOfDeleted)
        ));
    }

    /// A chat user's item as a failed condition hands it back.
    fn chat_user(window_start_ms: i64, sent: u32) -> Option<Item> {
        Some(Item::from([
            ("PK".to_owned(), crate::item::s("CHAT#1")),
            ("sent_window_ms".to_owned(), n(window_start_ms)),
            ("sent_in_window".to_owned(), n(sent)),
        ]))
    }

    #[test]
    fn a_chat_user_s_own_item_tells_gone_from_too_fast_from_a_count_that_moved() {
        let failed_author = |item: Option<Item>| {
            Cancelled::of(&[
                ("None", None),
                ("None", None),
                (FAILED, item),
                ("None", None),
                ("None", None),
            ])
        };
        assert!(matches!(
            answer(classify(
                &failed_author(None),
                HEAD,
                &guest_slots(),
                RATE,
                AT
            )),
            Some(Posted::AuthorGone)
        ));
        assert!(matches!(
            answer(classify(
                &failed_author(chat_user(120_000, 3)),
                HEAD,
                &guest_slots(),
                RATE,
                AT
            )),
            Some(Posted::TooFast {
                retry_after_secs: 55
            })
        ));
        // Another message of its own got in first: go again from its count.
        assert!(matches!(
            classify(
                &failed_author(chat_user(120_000, 2)),
                HEAD,
                &guest_slots(),
                RATE,
                AT
            ),
            Some(Refusal::Recount(Some(WindowCount {
                window_start_ms: 120_000,
                count: 2
            })))
        ));
    }
}
