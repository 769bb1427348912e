//! Typed identifiers: one type per entity, so a chat id can never be passed where a
//! chat-user id is expected. All are ULIDs (time-ordered, 26 characters, canonical
//! upper-case spelling only: one resource, one spelling). They travel as strings in
//! JSON, in DynamoDB and in paths; a path segment that is not one is a 404.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ulid::Ulid;

/// What every id type shares; `NOT_FOUND` is the 404 message for a malformed path id.
pub trait EntityId: Copy + fmt::Display {
    const NOT_FOUND: &'static str;
    fn parse(text: &str) -> Option<Self>;
}

fn parse_canonical(text: &str) -> Option<Ulid> {
    if text.len() != 26 || text.bytes().any(|b| b.is_ascii_lowercase()) {
        return None;
    }
    Ulid::from_string(text).ok()
}

macro_rules! entity_id {
    ($(#[$meta:meta])* $name:ident, $not_found:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Ulid);

        impl $name {
            /// A new id: now, plus 80 random bits.
            pub fn new() -> Self {
                Self(Ulid::new())
            }

            pub fn from_ulid(ulid: Ulid) -> Self {
                Self(ulid)
            }

            pub fn ulid(self) -> Ulid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl EntityId for $name {
            const NOT_FOUND: &'static str = $not_found;

            fn parse(text: &str) -> Option<Self> {
                parse_canonical(text).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
                <Self as EntityId>::parse(&text)
                    .ok_or_else(|| D::Error::custom(concat!("not a ", stringify!($name))))
            }
        }
    };
}

entity_id!(
    /// An operator (a user with API tokens).
    UserId,
    "No such user."
);
entity_id!(
    /// One of an operator's API tokens (its `jti`).
    ApiTokenId,
    "No such API token."
);
entity_id!(CompanyId, "No such company.");
entity_id!(InvitationId, "No such invitation.");
entity_id!(
    /// What `…/members/{member_id}` names: an active member's user id, or an
    /// invitation's id.
    MemberId,
    "No such member."
);
entity_id!(ChatId, "No such chat.");
entity_id!(ChatUserId, "No such chat user.");
entity_id!(
    /// A webhook endpoint of a company.
    WebhookId,
    "No such webhook."
);
entity_id!(
    /// One event's delivery to one webhook endpoint; also its `webhook-id` header, the
    /// same on every attempt, which is what receivers de-duplicate on.
    DeliveryId,
    "No such delivery."
);
entity_id!(
    /// A file uploaded to a chat (spec §10): pending until a message names it.
    AttachmentId,
    "No such attachment."
);
entity_id!(
    /// A message; ids of one chat become visible in increasing order (see `db::messages`).
    MessageId,
    "No such message."
);

impl MessageId {
    /// The next id for a chat whose newest message is `last`: now, but above `last`
    /// whatever the clocks of the writers say.
    pub fn next_after(last: Option<MessageId>) -> MessageId {
        let now = Ulid::new();
        match last {
            Some(MessageId(last)) if now <= last => MessageId(last.increment().unwrap_or(now)),
            _ => MessageId(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_ulids_parse() {
        let id = ChatId::new();
        assert_eq!(ChatId::parse(&id.to_string()), Some(id));
        assert_eq!(ChatId::parse(&id.to_string().to_lowercase()), None);
        assert_eq!(ChatId::parse("not-a-ulid"), None);
        assert_eq!(ChatId::parse(""), None);
        assert_eq!(ChatId::parse(&format!("{id}0")), None);
        assert!(ChatId::parse("nope").is_none());
    }

    #[test]
    fn ids_travel_as_strings() {
        let id = MessageId::new();
        let json = serde_json::to_value(id).unwrap();
        assert_eq!(json, serde_json::Value::String(id.to_string()));
        assert_eq!(serde_json::from_value::<MessageId>(json).unwrap(), id);
        assert!(serde_json::from_value::<MessageId>(serde_json::json!("x")).is_err());
    }

    #[test]
    fn next_message_ids_always_climb() {
        let far_future = MessageId::from_ulid(Ulid::from_parts(u64::MAX >> 17, 5));
        let next = MessageId::next_after(Some(far_future));
        assert!(next > far_future);
        let past = MessageId::from_ulid(Ulid::from_parts(1, 0));
        assert!(MessageId::next_after(Some(past)) > past);
        assert!(MessageId::next_after(None) > past);
    }
}
