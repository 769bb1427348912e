//! A company's inbox: its conversations, one status at a time, by newest activity or by
//! longest wait. GSI2 holds every conversation (newest activity); GSI3 only the
//! unanswered ones (start of their wait). Two sparse indexes rather than one
//! "waiting, then the rest" order: with that, every staff reply moved a row on both
//! indexes; now a message moves its row on GSI2 and enters or leaves GSI3 only when it
//! starts or ends a wait (see [`crate::write_units`] and the README's cost section).
//!
//! A `recent` page is one Query of GSI2. A `waiting` walk reads GSI3 (the unanswered,
//! longest wait first), then GSI2 without them (the answered, newest activity first):
//! one Query a page, two on the one page where the first part ends. Beside it, one
//! `BatchGetItem` of the rows' chats and the reader's markers. A filtered read (an
//! assignee, or the answered part) looks at up to [`EVALUATED_PER_QUERY`] index entries
//! a Query, so a page may be short while its cursor says more may follow.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::chat::{ChatRecord, ConversationStatus};
use domain::ids::{ChatId, CompanyId, EntityId, UserId};
use serde::{Deserialize, Serialize};

use crate::chats::inbox_partition;
use crate::item::{Item, from_item, s};
use crate::key::{Entity, GSI2, GSI2PK, GSI2SK, GSI3, GSI3SK, PK, SK};
use crate::staff_reads::StaffReadRecord;
use crate::{Db, Key, Result, StoreError};

/// How many index entries a filtered Query may look at (each entry is a few hundred
/// bytes: about 10 read units). Enough for a page of 50 when one row in ten matches.
pub const EVALUATED_PER_QUERY: usize = 500;

/// Who an inbox shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    Anyone,
    Unassigned,
    Member(UserId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxSort {
    Recent,
    Waiting,
}

#[derive(Debug, Clone)]
pub struct InboxQuery {
    pub company_id: CompanyId,
    pub status: ConversationStatus,
    pub assignee: AssigneeFilter,
    pub sort: InboxSort,
    pub per_page: usize,
    pub cursor: Option<String>,
    /// Whose read markers the rows carry.
    pub reader: UserId,
}

/// One row: the conversation, and the reader's marker in it.
#[derive(Debug, Clone)]
pub struct InboxRow {
    pub chat: ChatRecord,
    pub read: Option<StaffReadRecord>,
}

#[derive(Debug)]
pub struct InboxPage {
    pub rows: Vec<InboxRow>,
    pub next_cursor: Option<String>,
}

/// One ordered read of an inbox partition; a sort is one or two of them, in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leg {
    /// GSI2 backwards: every conversation, newest activity first.
    Recent,
    /// GSI3 forwards: the unanswered, longest wait first.
    Waiting,
    /// GSI2 backwards without the unanswered: the rest of a `waiting` walk.
    Answered,
}

impl Leg {
    fn of(sort: InboxSort) -> &'static [Leg] {
        match sort {
            InboxSort::Recent => &[Leg::Recent],
            InboxSort::Waiting => &[Leg::Waiting, Leg::Answered],
        }
    }

    fn index(self) -> &'static str {
        match self {
            Leg::Recent | Leg::Answered => GSI2,
            Leg::Waiting => GSI3,
        }
    }

    fn sort_attr(self) -> &'static str {
        match self {
            Leg::Recent | Leg::Answered => GSI2SK,
            Leg::Waiting => GSI3SK,
        }
    }

    /// The key attributes of an entry of its index (what a cursor keeps).
    fn key_attrs(self) -> [&'static str; 4] {
        [PK, SK, GSI2PK, self.sort_attr()]
    }

    /// Its name in a cursor.
    fn tag(self) -> &'static str {
        match self {
            Leg::Recent => "recent",
            Leg::Waiting => "waiting",
            Leg::Answered => "answered",
        }
    }
}

/// Where a leg's read stopped.
enum LegEnd {
    /// More may follow this index entry.
    After(Item),
    Done,
}

/// An inbox cursor: the leg a walk is in and the index key it stopped at (none: the
/// leg's start).
#[derive(Serialize, Deserialize)]
struct InboxCursor {
    /// The inbox partition (company and status): a cursor is valid only for it.
    p: String,
    /// The leg.
    o: String,
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    k: HashMap<String, String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Inbox<'a> {
    pub(crate) db: &'a Db,
}

impl Inbox<'_> {
    /// One page of a company's inbox (see the module's notes for its reads).
    pub async fn page(&self, query: &InboxQuery) -> Result<InboxPage> {
        let partition = inbox_partition(query.company_id, query.status);
        let legs = Leg::of(query.sort);
        let (mut leg_at, mut start) = match query.cursor.as_deref() {
            Some(raw) => decode_cursor(raw, &partition, legs)?,
            None => (0, None),
        };
        let mut found: Vec<Item> = Vec::new();
        let mut next_cursor = None;
        while let Some(&leg) = legs.get(leg_at) {
            let room = query.per_page - found.len();
            let (items, end) = self
                .read_leg(&partition, leg, query.assignee, start.take(), room)
                .await?;
            found.extend(items);
            match end {
                LegEnd::After(key) => {
                    next_cursor = Some(encode_cursor(&partition, leg, Some(&key))?);
                    break;
                }
                LegEnd::Done => {
                    leg_at += 1;
                    if found.len() >= query.per_page {
                        if let Some(&next) = legs.get(leg_at) {
                            next_cursor = Some(encode_cursor(&partition, next, None)?);
                        }
                        break;
                    }
                }
            }
        }
        let chat_ids: Vec<ChatId> = found
            .iter()
            .filter_map(|item| {
                let pk = item.get(PK)?.as_s().ok()?;
                ChatId::parse(pk.strip_prefix("CHAT#")?)
            })
            .collect();
        let rows = self.rows(&chat_ids, query.reader).await?;
        Ok(InboxPage { rows, next_cursor })
    }

    /// At most `room` index entries of one leg from `start`, and where it stopped.
    async fn read_leg(
        &self,
        partition: &str,
        leg: Leg,
        assignee: AssigneeFilter,
        start: Option<Item>,
        room: usize,
    ) -> Result<(Vec<Item>, LegEnd)> {
        let mut request = self
            .db
            .client()
            .query()
            .table_name(&self.db.table)
            .index_name(leg.index())
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", GSI2PK)
            .expression_attribute_values(":pk", s(partition))
            .scan_index_forward(leg == Leg::Waiting)
            .set_exclusive_start_key(start);
        let mut conditions = Vec::new();
        match assignee {
            AssigneeFilter::Anyone => {}
            AssigneeFilter::Unassigned => conditions.push("attribute_not_exists(assignee_id)"),
            AssigneeFilter::Member(user) => {
                conditions.push("assignee_id = :assignee");
                request = request.expression_attribute_values(":assignee", s(user.to_string()));
            }
        }
        if leg == Leg::Answered {
            conditions.push("attribute_not_exists(#waiting)");
            request = request.expression_attribute_names("#waiting", GSI3SK);
        }
        // Unfiltered, one more than the room tells whether another follows; filtered,
        // DynamoDB's limit counts the entries it looks at, not the ones it keeps.
        let limit = if conditions.is_empty() {
            room + 1
        } else {
            EVALUATED_PER_QUERY.max(room + 1)
        };
        if !conditions.is_empty() {
            request = request.filter_expression(conditions.join(" AND "));
        }
        let output = request
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await?;
        let mut items = output.items.unwrap_or_default();
        let end = if items.len() > room {
            items.truncate(room);
            match items.last() {
                Some(last) => LegEnd::After(last.clone()),
                None => LegEnd::Done,
            }
        } else {
            match output.last_evaluated_key {
                Some(key) => LegEnd::After(key),
                None => LegEnd::Done,
            }
        };
        Ok((items, end))
    }

    /// The chats and the reader's markers in them, in one `BatchGetItem` (at most 50
    /// rows: 100 keys, DynamoDB's limit), in the order of `chat_ids`.
    async fn rows(&self, chat_ids: &[ChatId], reader: UserId) -> Result<Vec<InboxRow>> {
        if chat_ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<Key> = chat_ids
            .iter()
            .flat_map(|chat| {
                [
                    ChatRecord::key(*chat),
                    StaffReadRecord::key((*chat, reader)),
                ]
            })
            .collect();
        let refs: Vec<&Key> = keys.iter().collect();
        let mut found = self.db.get_all(&refs).await?.into_iter();
        let mut rows = Vec::with_capacity(chat_ids.len());
        while let (Some(chat), Some(read)) = (found.next(), found.next()) {
            // A conversation deleted since the index was read is left out.
            if let Some(chat) = chat {
                rows.push(InboxRow {
                    chat: from_item(chat)?,
                    read: read.map(from_item).transpose()?,
                });
            }
        }
        Ok(rows)
    }
}

fn encode_cursor(partition: &str, leg: Leg, key: Option<&Item>) -> Result<String> {
    let k = match key {
        None => HashMap::new(),
        Some(key) => leg
            .key_attrs()
            .iter()
            .map(|attr| match key.get(*attr) {
                Some(AttributeValue::S(v)) => Ok(((*attr).to_owned(), v.clone())),
                _ => Err(StoreError::Unexpected("an inbox key lacks an attribute")),
            })
            .collect::<Result<HashMap<_, _>>>()?,
    };
    let body = InboxCursor {
        p: partition.to_owned(),
        o: leg.tag().to_owned(),
        k,
    };
    let bytes = serde_json::to_vec(&body)
        .map_err(|_| StoreError::Unexpected("a cursor did not serialise"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Which of `legs` a cursor is in, and the key to start after (`None`: the leg's start).
fn decode_cursor(raw: &str, partition: &str, legs: &[Leg]) -> Result<(usize, Option<Item>)> {
    let body: InboxCursor = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(StoreError::ForeignCursor)?;
    let at = legs
        .iter()
        .position(|leg| leg.tag() == body.o)
        .filter(|_| body.p == partition)
        .ok_or(StoreError::ForeignCursor)?;
    if body.k.is_empty() {
        return Ok((at, None));
    }
    let attrs = legs[at].key_attrs();
    let fits = body.k.len() == attrs.len()
        && attrs.iter().all(|a| body.k.contains_key(*a))
        && body.k.get(GSI2PK).map(String::as_str) == Some(partition);
    if !fits {
        return Err(StoreError::ForeignCursor);
    }
    let key = body
        .k
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect();
    Ok((at, Some(key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(partition: &str, sort_attr: &str) -> Item {
        HashMap::from([
            (PK.to_owned(), s("CHAT#X")),
            (SK.to_owned(), s("CHAT")),
            (GSI2PK.to_owned(), s(partition)),
            (sort_attr.to_owned(), s("2026#X")),
        ])
    }

    #[test]
    fn a_cursor_opens_only_its_own_inbox_and_sort() {
        let company = CompanyId::new();
        let open = inbox_partition(company, ConversationStatus::Open);
        let recent = Leg::of(InboxSort::Recent);
        let waiting = Leg::of(InboxSort::Waiting);
        let at = key(&open, GSI2SK);
        let cursor = encode_cursor(&open, Leg::Recent, Some(&at)).unwrap();
        let (leg, start) = decode_cursor(&cursor, &open, recent).unwrap();
        assert_eq!((leg, start), (0, Some(at)));
        let resolved = inbox_partition(company, ConversationStatus::Resolved);
        assert!(decode_cursor(&cursor, &resolved, recent).is_err());
        assert!(decode_cursor(&cursor, &open, waiting).is_err());
        let other = inbox_partition(CompanyId::new(), ConversationStatus::Open);
        assert!(decode_cursor(&cursor, &other, recent).is_err());
        assert!(decode_cursor("not-a-cursor", &open, recent).is_err());
    }

    #[test]
    fn a_waiting_walk_goes_on_into_the_answered_part() {
        let open = inbox_partition(CompanyId::new(), ConversationStatus::Open);
        let waiting = Leg::of(InboxSort::Waiting);
        let in_waiting = encode_cursor(&open, Leg::Waiting, Some(&key(&open, GSI3SK))).unwrap();
        assert_eq!(decode_cursor(&in_waiting, &open, waiting).unwrap().0, 0);
        let answered_start = encode_cursor(&open, Leg::Answered, None).unwrap();
        assert_eq!(
            decode_cursor(&answered_start, &open, waiting).unwrap(),
            (1, None)
        );
        // A key of the wrong index for its leg is refused.
        let mixed = encode_cursor(&open, Leg::Answered, Some(&key(&open, GSI3SK)));
        assert!(mixed.is_err());
        assert!(decode_cursor(&answered_start, &open, Leg::of(InboxSort::Recent)).is_err());
    }
}
