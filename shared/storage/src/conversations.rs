//! Conversations: one visitor's chat with a company's team. Opened at the company's
//! front door (a proven email, or a site's signed identity), found again by the visitor's
//! pointer in the company's partition (unique by a conditional put); listed in the
//! inbox ([`crate::inbox`]); moved by assignment and status changes, each logged
//! (members only).

use domain::chat::{ChatKind, ChatRecord, ConversationStatus, GuestSummary};
use domain::chat_user::{ChatUserRecord, ERASED_NAME};
use domain::clock;
use domain::company::CompanyRecord;
use domain::events::{Change, Event};
use domain::ids::{ChatId, ChatUserId, CompanyId, UserId};
use serde::{Deserialize, Serialize};

use crate::cap::{self, Added};
use crate::chat_users::ChatUserEmailPointer;
use crate::chats::{InboxKeys, chat_item};
use crate::item::{Item, n, s, to_item};
use crate::key::{Entity, company_partition};
use crate::log::{self, ChatHead, Committed, Staged};
use crate::tx::Transaction;
use crate::update::Update;
use crate::{Db, Key, Result, StoreError};

use crate::inbox::{AssigneeFilter, InboxQuery, InboxSort};

/// Who a visitor is to its company: a proven email, or the `sub` of a site's signed
/// identity (never its email: a site that does not verify emails cannot hand one
/// visitor's history to another).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visitor<'a> {
    Email(&'a str),
    Subject(&'a str),
}

impl Visitor<'_> {
    fn key(&self) -> String {
        match self {
            Visitor::Email(email) => format!("email#{email}"),
            Visitor::Subject(sub) => format!("sub#{sub}"),
        }
    }
}

/// Points from a visitor to its conversation.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct VisitorPointer {
    chat_id: ChatId,
    chat_user_id: ChatUserId,
}

impl Entity for VisitorPointer {
    type Id<'a> = (CompanyId, &'a Visitor<'a>);

    fn key((company_id, visitor): (CompanyId, &Visitor<'_>)) -> Key {
        Key::new(
            company_partition(company_id),
            format!("VISITOR#{}", visitor.key()),
        )
    }
}

/// The first staff reply of a conversation: what the company's typical reply time is
/// the median of (read by its availability, newest first).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FirstResponseRecord {
    pub(crate) response_ms: i64,
}

/// Kept a quarter of a year: availability reads the newest 50.
const FIRST_RESPONSE_DAYS: u32 = 90;

pub(crate) fn first_response_item(
    company_id: CompanyId,
    chat_id: ChatId,
    at: &str,
    at_ms: i64,
    response_ms: i64,
) -> Result<Item> {
    let key = Key::new(
        company_partition(company_id),
        format!("FIRSTRESPONSE#{at}#{chat_id}"),
    );
    let mut item = to_item(&key, &FirstResponseRecord { response_ms })?;
    crate::item::expire_after(&mut item, at_ms, Some(FIRST_RESPONSE_DAYS));
    Ok(item)
}

/// The visitor as its conversation starts.
#[derive(Debug, Clone)]
pub struct NewVisitor {
    pub name: String,
    pub email: Option<String>,
}

#[derive(Debug)]
pub enum Opened {
    /// The visitor's conversation (made now, or found again) and its chat user.
    Ready {
        chat: Box<ChatRecord>,
        chat_user: Box<ChatUserRecord>,
        new: bool,
    },
    NoSuchCompany,
    /// The company has [`domain::company::MAX_CONVERSATIONS`] conversations.
    AtCap,
}

/// A change of a conversation's state by a member.
#[derive(Debug, Clone)]
pub enum StateChange {
    Assign(Option<UserId>),
    Status {
        status: ConversationStatus,
        snoozed_until: Option<String>,
    },
}

#[derive(Debug)]
pub enum StateChanged {
    Done(Box<ChatRecord>),
    /// Already so: nothing written, nothing logged.
    Unchanged(Box<ChatRecord>),
    Gone,
}

#[derive(Debug, Clone, Copy)]
pub struct Conversations<'a> {
    pub(crate) db: &'a Db,
}

impl Conversations<'_> {
    /// The visitor's conversation with `company`, made now if it has none (or its last
    /// one was deleted): the chat, its one chat user (verified: the visitor has just
    /// proven who it is), its `chat_user.joined`, the visitor's pointer and the company's
    /// count, in one transaction. Two first visits at once agree on one conversation.
    pub async fn open(
        &self,
        company: &CompanyRecord,
        visitor: Visitor<'_>,
        new: &NewVisitor,
    ) -> Result<Opened> {
        let pointer_key = VisitorPointer::key((company.id, &visitor));
        for _ in 0..3 {
            if let Some(pointer) = self.db.get::<VisitorPointer>(&pointer_key).await? {
                if let Some((chat_user, chat)) = self
                    .db
                    .chat_users()
                    .with_chat(pointer.chat_id, pointer.chat_user_id)
                    .await?
                {
                    return Ok(Opened::Ready {
                        chat: Box::new(chat),
                        chat_user: Box::new(chat_user),
                        new: false,
                    });
                }
                // Its conversation was deleted: the next visit starts a new one.
                self.db
                    .delete_if(
                        &pointer_key,
                        "chat_id = :chat_id",
                        &[(":chat_id", s(pointer.chat_id.to_string()))],
                    )
                    .await?;
                continue;
            }
            match self.create(company, &pointer_key, new).await? {
                Some(opened) => return Ok(opened),
                // Another first visit made it: read it.
                None => continue,
            }
        }
        Err(StoreError::unavailable(
            "TransactWriteItems",
            "the visitor's conversation kept changing while it was opened",
        ))
    }

    /// Whether the visitor has a conversation with the company (its pointer: the
    /// conversation may have been deleted since).
    pub async fn find(
        &self,
        company_id: CompanyId,
        visitor: Visitor<'_>,
    ) -> Result<Option<ChatId>> {
        let pointer: Option<VisitorPointer> = self
            .db
            .get(&VisitorPointer::key((company_id, &visitor)))
            .await?;
        Ok(pointer.map(|p| p.chat_id))
    }

    /// `None` when another request put the visitor's pointer first.
    async fn create(
        &self,
        company: &CompanyRecord,
        pointer_key: &Key,
        new: &NewVisitor,
    ) -> Result<Option<Opened>> {
        let at_ms = clock::now_millis();
        let now = clock::rfc3339(at_ms);
        let chat_user = ChatUserRecord {
            id: ChatUserId::new(),
            chat_id: ChatId::new(),
            name: new.name.clone(),
            email: new.email.clone().unwrap_or_default(),
            verified_at: Some(now.clone()),
            created_at: now.clone(),
            updated_at: now.clone(),
            announced: true,
            ..ChatUserRecord::default()
        };
        let chat = ChatRecord {
            id: chat_user.chat_id,
            company_id: company.id,
            name: new.name.clone(),
            description: None,
            password: None,
            created_at: now.clone(),
            updated_at: now.clone(),
            last_message_at: None,
            last_message_id: None,
            event_seq: 1,
            last_message_seq: Some(0),
            unread_email_minutes: None,
            tokens_revoked_at_ms: None,
            retention_days: company.retention_days,
            assignee_id: None,
            kind: ChatKind::Conversation,
            status: Some(ConversationStatus::Open),
            snoozed_until: None,
            waiting_since: None,
            first_response_at: None,
            guest: Some(GuestSummary {
                id: chat_user.id,
                name: new.name.clone(),
                email: new.email.clone(),
            }),
            last_message: None,
            message_count: 0,
        };
        let mut tx = Transaction::new(self.db);
        let pointer = tx.put_new(to_item(
            pointer_key,
            &VisitorPointer {
                chat_id: chat.id,
                chat_user_id: chat_user.id,
            },
        )?)?;
        let counted = cap::CONVERSATIONS.count(&mut tx, &CompanyRecord::key(company.id), 1)?;
        let mut chat_item = chat_item(&chat)?;
        chat_item.insert(cap::CHAT_USERS.attribute.to_owned(), n(1));
        tx.put_new(chat_item)?;
        tx.put_new(to_item(
            &ChatUserRecord::key((chat.id, chat_user.id)),
            &chat_user,
        )?)?;
        if !chat_user.email.is_empty() {
            tx.put_new(to_item(
                &ChatUserEmailPointer::key((chat.id, &chat_user.email)),
                &ChatUserEmailPointer::of(&chat_user),
            )?)?;
        }
        let joined = Event {
            seq: 1,
            chat_id: chat.id,
            at: now,
            change: Change::ChatUserJoined(chat_user.resource(true).into_owned()),
            actor: None,
        };
        let event = tx.put_new(self.db.event_item(&joined, at_ms, chat.retention_days)?)?;
        tx.bookkeeping(event);
        match tx.commit().await? {
            Ok(()) => Ok(Some(Opened::Ready {
                chat: Box::new(chat),
                chat_user: Box::new(chat_user),
                new: true,
            })),
            Err(cancelled) if cancelled.failed(pointer) => Ok(None),
            Err(cancelled) if cancelled.failed(counted) => {
                Ok(Some(match cap::Cap::refusal(&cancelled, counted) {
                    Added::AtCap => Opened::AtCap,
                    Added::Added | Added::HolderGone => Opened::NoSuchCompany,
                }))
            }
            Err(cancelled) => Err(cancelled.unexpected("conversation open")),
        }
    }

    /// Assigns a conversation or changes its status, and logs `chat.assigned` or
    /// `chat.status_changed` (members see them; a guest sees a status change as a
    /// `chat.updated` with the status only). The inbox keys move with the status.
    pub async fn change_state(
        &self,
        chat: &ChatRecord,
        change: &StateChange,
    ) -> Result<StateChanged> {
        let mut read = chat.clone();
        for _ in 0..crate::chat_users::MAX_REREADS {
            let Some(updated) = apply(&read, change) else {
                return Ok(StateChanged::Unchanged(Box::new(read)));
            };
            let at_ms = clock::now_millis();
            let outcome = self
                .db
                .commit_with_event(ChatHead::of(&read), |tx, head| {
                    let updated = ChatRecord {
                        event_seq: head.seq + 1,
                        updated_at: clock::rfc3339(at_ms),
                        ..updated.clone()
                    };
                    let mut update = Update::new()
                        .set("updated_at", s(&updated.updated_at))
                        // As read: the state this change was decided on.
                        .condition("updated_at = :read_updated_at")
                        .value(":read_updated_at", s(&read.updated_at));
                    update = match updated.assignee_id {
                        Some(user) => update.set("assignee_id", s(user.to_string())),
                        None => update.remove("assignee_id"),
                    };
                    let status = updated.status.unwrap_or_default();
                    update = update.set("status", s(status.as_str()));
                    update = match &updated.snoozed_until {
                        Some(until) => update.set("snoozed_until", s(until)),
                        None => update.remove("snoozed_until"),
                    };
                    if let Some(keys) = InboxKeys::of(&updated) {
                        update = keys.set(update);
                    }
                    let resource = updated.resource().into_owned();
                    let logged = match change {
                        StateChange::Assign(_) => Change::ChatAssigned(resource),
                        StateChange::Status { .. } => Change::ChatStatusChanged(resource),
                    };
                    let head = log::append(tx, head, logged, update, at_ms)?;
                    Ok(Staged {
                        head,
                        rest: updated,
                    })
                })
                .await?;
            match outcome {
                Committed::Done { rest } => return Ok(StateChanged::Done(Box::new(rest))),
                Committed::Refused { .. } => match self.db.chats().get(chat.id).await? {
                    Some(now) => read = now,
                    None => return Ok(StateChanged::Gone),
                },
            }
        }
        Err(StoreError::unavailable(
            "TransactWriteItems",
            "the conversation kept changing during its state change",
        ))
    }

    /// Unassigns every conversation of the company assigned to `user` (a member that
    /// left), each logged as `chat.assigned` to nobody; how many. One filtered Query per
    /// page of each status's inbox: a member's removal is rare, its conversations few.
    pub async fn unassign_member(&self, company_id: CompanyId, user: UserId) -> Result<usize> {
        let mut unassigned = 0;
        for status in ConversationStatus::ALL {
            let mut query = InboxQuery {
                company_id,
                status,
                assignee: AssigneeFilter::Member(user),
                sort: InboxSort::Recent,
                per_page: 50,
                cursor: None,
                reader: user,
            };
            loop {
                let page = self.db.inbox().page(&query).await?;
                for row in page
                    .rows
                    .iter()
                    .filter(|row| row.chat.assignee_id == Some(user))
                {
                    if let StateChanged::Done(_) = self
                        .change_state(&row.chat, &StateChange::Assign(None))
                        .await?
                    {
                        unassigned += 1;
                    }
                }
                match page.next_cursor {
                    Some(next) => query.cursor = Some(next),
                    None => break,
                }
            }
        }
        Ok(unassigned)
    }

    /// Ends a snooze that is still the one `snoozed_until` names (the conversation is
    /// open again, logged without an actor); `false` when it changed meanwhile.
    pub async fn wake(&self, chat_id: ChatId, snoozed_until: &str) -> Result<bool> {
        let Some(chat) = self.db.chats().get(chat_id).await? else {
            return Ok(false);
        };
        let still = chat.status == Some(ConversationStatus::Snoozed)
            && chat.snoozed_until.as_deref() == Some(snoozed_until);
        if !still {
            return Ok(false);
        }
        let open = StateChange::Status {
            status: ConversationStatus::Open,
            snoozed_until: None,
        };
        Ok(matches!(
            self.change_state(&chat, &open).await?,
            StateChanged::Done(_)
        ))
    }

    /// An erased chat user leaves no name or email in its conversation's row (the chat
    /// item the inbox shows); nothing when `chat` is not its conversation.
    pub async fn forget_guest(&self, chat: &ChatRecord, chat_user: ChatUserId) -> Result<()> {
        if chat.guest.as_ref().map(|guest| guest.id) != Some(chat_user) {
            return Ok(());
        }
        let mut update = Update::new()
            .set("name", s(ERASED_NAME))
            .set(
                "guest",
                serde_dynamo::to_attribute_value(GuestSummary {
                    id: chat_user,
                    name: ERASED_NAME.to_owned(),
                    email: None,
                })?,
            )
            .condition("attribute_exists(PK)");
        if let Some(last) = &chat.last_message
            && last.author.guest() == Some(chat_user)
        {
            let mut last = last.clone();
            last.author = domain::message::Author::Guest {
                id: chat_user,
                name: ERASED_NAME.to_owned(),
            };
            update = update.set("last_message", serde_dynamo::to_attribute_value(&last)?);
        }
        self.db.update_if(&ChatRecord::key(chat.id), update).await?;
        Ok(())
    }

    /// Forgets which conversation an email's visitor had (the pointer's key holds the
    /// email).
    pub async fn forget_visitor(&self, company_id: CompanyId, email: &str) -> Result<()> {
        self.db
            .delete(&VisitorPointer::key((company_id, &Visitor::Email(email))))
            .await
    }
}

/// The conversation after `change`, or `None` when it changes nothing.
fn apply(chat: &ChatRecord, change: &StateChange) -> Option<ChatRecord> {
    let mut updated = chat.clone();
    match change {
        StateChange::Assign(assignee) => updated.assignee_id = *assignee,
        StateChange::Status {
            status,
            snoozed_until,
        } => {
            updated.status = Some(*status);
            updated.snoozed_until = snoozed_until.clone();
        }
    }
    let same = updated.assignee_id == chat.assignee_id
        && updated.status.unwrap_or_default() == chat.status.unwrap_or_default()
        && updated.snoozed_until == chat.snoozed_until;
    (!same).then_some(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visitors_by_email_and_by_subject_never_share_a_pointer() {
        let company = CompanyId::new();
        let by_email = VisitorPointer::key((company, &Visitor::Email("a@example.com")));
        let by_sub = VisitorPointer::key((company, &Visitor::Subject("a@example.com")));
        assert_ne!(by_email, by_sub);
    }
}
