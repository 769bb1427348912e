//! Capped counts: how many of a kind a holder has (API tokens and companies of a user,
//! chats and webhooks of a company, chat users of a chat), kept on the holder's item by
//! an atomic `ADD` in the same transaction as each item added or removed, and refused at
//! the cap by that update's own condition: concurrent inserts cannot pass it together.
//!
//! Items from before a count existed were never counted: a count may go below zero, and
//! a cap may let that many more in. It never lets a holder grow without bound.

use domain::{chat_user, company, team, user};

use crate::item::{Item, n};
use crate::tx::{Cancelled, Slot, Transaction};
use crate::update::Update;
use crate::{Db, Key, Result};

/// A count on a holder's item, and its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    /// The holder item's attribute that counts.
    pub attribute: &'static str,
    pub max: u32,
}

pub const API_TOKENS: Cap = Cap {
    attribute: "api_token_count",
    max: user::MAX_API_TOKENS,
};
pub const COMPANIES: Cap = Cap {
    attribute: "company_count",
    max: user::MAX_COMPANIES,
};
pub const CHATS: Cap = Cap {
    attribute: "chat_count",
    max: company::MAX_CHATS,
};
/// Conversations are counted apart from chats (a company's visitors make them): the
/// chat cap stays what an operator manages.
pub const CONVERSATIONS: Cap = Cap {
    attribute: "conversation_count",
    max: company::MAX_CONVERSATIONS,
};
pub const WEBHOOKS: Cap = Cap {
    attribute: "webhook_count",
    max: company::MAX_WEBHOOKS,
};
pub const MEMBERS: Cap = Cap {
    attribute: "member_count",
    max: team::MAX_MEMBERS,
};
pub const CHAT_USERS: Cap = Cap {
    attribute: "chat_user_count",
    max: chat_user::MAX_CHAT_USERS_PER_CHAT,
};

/// How adding one more went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    Added,
    /// The holder has [`Cap::max`] already.
    AtCap,
    /// The holder is gone.
    HolderGone,
}

impl Cap {
    /// `update` (of the holder's item) also counts `delta`: one more is refused at the
    /// cap by the update's condition; fewer always go.
    pub(crate) fn change(self, update: Update, delta: i64) -> Update {
        let update = update.add(self.attribute, n(delta));
        if delta > 0 {
            let max = format!(":max_{}", self.attribute);
            update.value(&max, n(self.max)).condition(&format!(
                "attribute_not_exists(#{attr}) OR #{attr} < {max}",
                attr = self.attribute
            ))
        } else {
            update
        }
    }

    /// In a transaction: counts `delta` on the holder's item at `holder`, which must exist.
    pub(crate) fn count(self, tx: &mut Transaction<'_>, holder: &Key, delta: i64) -> Result<Slot> {
        let update = self
            .change(Update::new(), delta)
            .condition("attribute_exists(PK)");
        tx.update_with(holder, update)
    }

    /// Whether the holder item a failed condition handed back is at the cap.
    pub(crate) fn is_full(self, holder: Option<&Item>) -> bool {
        holder
            .and_then(|item| item.get(self.attribute))
            .and_then(|count| count.as_n().ok())
            .and_then(|count| count.parse::<i64>().ok())
            .is_some_and(|count| count >= i64::from(self.max))
    }

    /// Why the count at `slot` refused one more: the holder is there (at the cap), or
    /// gone (the failed condition hands back no item).
    pub(crate) fn refusal(cancelled: &Cancelled, slot: Slot) -> Added {
        if cancelled.item(slot).is_some() {
            Added::AtCap
        } else {
            Added::HolderGone
        }
    }
}

impl Db {
    /// Puts a new item (a fresh id: never taken), counted against `cap` on the holder's
    /// item in the same transaction.
    pub(crate) async fn put_counted(&self, item: Item, holder: &Key, cap: Cap) -> Result<Added> {
        let mut tx = Transaction::new(self);
        let counted = cap.count(&mut tx, holder, 1)?;
        let put = tx.put_new(item)?;
        match tx.commit().await? {
            Ok(()) => Ok(Added::Added),
            // An existing item is this very write, committed by an attempt whose answer
            // was lost before the SDK retried it.
            Err(cancelled) if cancelled.failed(put) => Ok(Added::Added),
            Err(cancelled) if cancelled.failed(counted) => Ok(Cap::refusal(&cancelled, counted)),
            Err(cancelled) => Err(cancelled.unexpected("counted insert")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn one_more_is_conditioned_on_the_cap_and_fewer_are_not() {
        let more = CHATS.change(Update::new(), 1).into_parts();
        assert_eq!(more.expression, "ADD #chat_count :chat_count");
        assert_eq!(
            more.condition.as_deref(),
            Some("attribute_not_exists(#chat_count) OR #chat_count < :max_chat_count")
        );
        let fewer = CHATS.change(Update::new(), -1).into_parts();
        assert_eq!(fewer.condition, None);
    }

    #[test]
    fn a_holder_at_its_cap_is_full() {
        let at = |count: u32| HashMap::from([(CHAT_USERS.attribute.to_owned(), n(count))]);
        assert!(CHAT_USERS.is_full(Some(&at(1_000))));
        assert!(!CHAT_USERS.is_full(Some(&at(999))));
        assert!(!CHAT_USERS.is_full(None));
    }
}
