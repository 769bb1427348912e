//! Messages, and the ordering contract: a poller asking `?after=<last id it saw>` must
//! never miss a message and never see one twice. Ids are ULIDs, and a message is written
//! in one transaction with the chat item on the condition that its id sorts after the
//! chat's `last_message_id` (see [`crate::message_posts`]). So ids become visible in
//! strictly increasing order: once a reader has seen id X, no message with an id below X
//! can appear later. A writer that loses the race (a later id was committed first) goes
//! again above the winner's id, which the failed condition hands back.

use domain::clock;
use domain::ids::{ChatId, ChatUserId, MessageId};
use domain::message::{MessageRecord, Reader, UNREAD_WINDOW, count_unread};
use serde::{Deserialize, Serialize};

use crate::item::{from_item, is_expired, s};
use crate::key::{Entity, chat_partition};
use crate::page::KeyRange;
use crate::{Db, Key, Result};

pub(crate) const PREFIX: &str = "MSG#";

impl Entity for MessageRecord {
    type Id<'a> = (ChatId, MessageId);

    fn key((chat_id, message_id): (ChatId, MessageId)) -> Key {
        Key::new(chat_partition(chat_id), format!("{PREFIX}{message_id}"))
    }
}

/// The idempotency item of a `client_id`: points at the message it created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ClientIdPointer {
    pub(crate) message_id: MessageId,
}

impl Entity for ClientIdPointer {
    /// The chat, the author's key (`Author::key`: a chat user's id, or `staff#<user>`)
    /// and the client id.
    type Id<'a> = (ChatId, &'a str, &'a str);

    /// Makes a `client_id` unique per author: holds the id of the message it created.
    fn key((chat_id, author, client_id): (ChatId, &str, &str)) -> Key {
        Key::new(
            chat_partition(chat_id),
            format!("CLIENT#{author}#{client_id}"),
        )
    }
}

/// Where a page of messages starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Latest,
    Before(MessageId),
    After(MessageId),
}

#[derive(Debug)]
pub struct MessagePage {
    /// Oldest first.
    pub messages: Vec<MessageRecord>,
    pub has_more: bool,
}

/// The messages of every chat.
#[derive(Debug, Clone, Copy)]
pub struct Messages<'a> {
    pub(crate) db: &'a Db,
}

impl Messages<'_> {
    /// `None` when there is none, or it is past its chat's retention.
    pub async fn get(
        &self,
        chat_id: ChatId,
        message_id: MessageId,
    ) -> Result<Option<MessageRecord>> {
        let item = self
            .db
            .get_item(&MessageRecord::key((chat_id, message_id)))
            .await?;
        let now_secs = clock::now_millis() / 1000;
        item.filter(|item| !is_expired(item, now_secs))
            .map(from_item)
            .transpose()
    }

    /// One `Query` per page in the chat's partition, bounded by the window's id.
    pub async fn page(
        &self,
        chat_id: ChatId,
        window: Window,
        per_page: usize,
    ) -> Result<MessagePage> {
        let bound = |id: MessageId| format!("{PREFIX}{id}");
        let end = format!("{PREFIX}~");
        // Bounds are inclusive in DynamoDB: the window's own message is dropped below,
        // so one more than a page plus one tells whether there is more.
        let (low, high, newest_first, exclude) = match window {
            Window::Latest => (PREFIX.to_owned(), end, true, None),
            Window::Before(id) => (PREFIX.to_owned(), bound(id), true, Some(id)),
            Window::After(id) => (bound(id), end, false, Some(id)),
        };
        let items = self
            .db
            .query_range(KeyRange {
                partition: chat_partition(chat_id),
                low,
                high,
                newest_first,
                limit: per_page + 2,
            })
            .await?;
        let mut messages = Vec::with_capacity(per_page + 2);
        let now_secs = clock::now_millis() / 1000;
        // Past the chat's retention is gone, though DynamoDB deletes it later.
        for item in items.into_iter().filter(|item| !is_expired(item, now_secs)) {
            let message: MessageRecord = from_item(item)?;
            if Some(message.id) != exclude {
                messages.push(message);
            }
        }
        let has_more = messages.len() > per_page;
        messages.truncate(per_page);
        if newest_first {
            messages.reverse();
        }
        Ok(MessagePage { messages, has_more })
    }

    /// As [`Messages::page`], without notes (what a chat user may read): pages further
    /// on until the page holds `per_page` messages or the window has no more, so a page
    /// is never short of messages that exist (nor empty while `has_more`).
    pub async fn page_without_notes(
        &self,
        chat_id: ChatId,
        window: Window,
        per_page: usize,
    ) -> Result<MessagePage> {
        let backwards = !matches!(window, Window::After(_));
        let mut visible: Vec<MessageRecord> = Vec::with_capacity(per_page);
        let mut next = window;
        loop {
            let page = self.page(chat_id, next, per_page).await?;
            let edge = if backwards {
                page.messages.first()
            } else {
                page.messages.last()
            }
            .map(|m| m.id);
            let shown = page.messages.into_iter().filter(|m| !m.internal);
            if backwards {
                let mut older: Vec<MessageRecord> = shown.collect();
                older.append(&mut visible);
                visible = older;
            } else {
                visible.extend(shown);
            }
            let more = match edge {
                Some(edge) if page.has_more => edge,
                _ => return Ok(trim(visible, per_page, backwards, false)),
            };
            if visible.len() >= per_page {
                return Ok(trim(visible, per_page, backwards, true));
            }
            next = if backwards {
                Window::Before(more)
            } else {
                Window::After(more)
            };
        }
    }

    /// The whole conversation, oldest first, up to `max` messages (the transcript).
    pub async fn all(&self, chat_id: ChatId, max: usize) -> Result<Vec<MessageRecord>> {
        let mut all: Vec<MessageRecord> = Vec::new();
        // After the smallest id there is: from the first message on.
        let mut after = MessageId::from_ulid(ulid::Ulid::nil());
        while all.len() < max {
            let page = self.page(chat_id, Window::After(after), 100).await?;
            all.extend(page.messages);
            match (page.has_more, all.last()) {
                (true, Some(last)) => after = last.id,
                _ => break,
            }
        }
        all.truncate(max);
        Ok(all)
    }

    /// The messages one chat user wrote in a chat, oldest first, up to `max`: a `Query`
    /// of the chat's messages filtered to the author (DynamoDB reads them all to filter).
    pub async fn by_author(
        &self,
        chat_id: ChatId,
        author: ChatUserId,
        max: usize,
    ) -> Result<Vec<MessageRecord>> {
        let items = self
            .db
            .query_filtered(
                &chat_partition(chat_id),
                PREFIX,
                (&["chat_user_id"], s(author.to_string())),
                max,
            )
            .await?;
        let now_secs = clock::now_millis() / 1000;
        items
            .into_iter()
            .filter(|item| !is_expired(item, now_secs))
            .map(from_item)
            .collect()
    }

    /// How many of the newest messages were written by others after `last_read_seq`:
    /// one Query of at most [`UNREAD_WINDOW`] messages, so 100 means "100 or more".
    pub async fn unread_count(
        &self,
        chat_id: ChatId,
        reader: Reader,
        last_read_seq: u64,
    ) -> Result<u32> {
        let page = self.page(chat_id, Window::Latest, UNREAD_WINDOW).await?;
        Ok(count_unread(&page.messages, &reader, last_read_seq))
    }
}

/// The `per_page` messages nearest the window's start (the newest when reading
/// backwards), and whether more follow.
fn trim(
    mut messages: Vec<MessageRecord>,
    per_page: usize,
    backwards: bool,
    more: bool,
) -> MessagePage {
    let has_more = more || messages.len() > per_page;
    if messages.len() > per_page {
        if backwards {
            messages.drain(..messages.len() - per_page);
        } else {
            messages.truncate(per_page);
        }
    }
    MessagePage { messages, has_more }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_messages_by_id() {
        let chat = ChatId::new();
        let first = MessageId::new();
        let second = MessageId::next_after(Some(first));
        assert!(MessageRecord::key((chat, first)).sk < MessageRecord::key((chat, second)).sk);
        assert!(MessageRecord::key((chat, second)).sk < format!("{PREFIX}~"));
    }
}
