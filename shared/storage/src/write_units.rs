//! What a write costs in DynamoDB's write units, computed from the items by AWS's
//! documented rules (moto reports no size-based `ConsumedCapacity`, so the tests and the
//! bench compute it from the stored items instead):
//!
//! - an item's size is the sum of its attribute names and values (strings and binaries
//!   by length, numbers about one byte per two digits plus one, lists and maps 3 bytes
//!   plus 1 per element and their elements);
//! - a write inside a transaction costs 2 units per started KB of the larger of the
//!   item's before and after images (prepare and commit);
//! - a global secondary index costs nothing when the write leaves its entry alone, one
//!   write when the entry appears, disappears or only a projected attribute changes, and
//!   two (a delete and a put) when an index key changes. AWS does not say whether index
//!   writes inside a transaction are doubled too; this counts them once, as a
//!   third-party measurement on AWS reports (the README says so);
//! - a `ConditionCheck` in a transaction is counted as a transactional write of the item
//!   it reads (2 units per started KB), the dearer reading of what AWS documents.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::item::Item;
use crate::key::{
    GSI1, GSI1PK, GSI1SK, GSI2, GSI2_PROJECTED, GSI2PK, GSI2SK, GSI3, GSI3_PROJECTED, GSI3SK, PK,
    SK,
};

const KB: usize = 1024;

/// The bytes DynamoDB counts for one item.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(number) => number_size(number),
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(values) => 3 + values.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(name, v)| 1 + name.len() + value_size(v))
                .sum::<usize>()
        }
        AttributeValue::Ss(texts) => texts.iter().map(String::len).sum(),
        AttributeValue::Ns(numbers) => numbers.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(blobs) => blobs.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

fn number_size(number: &str) -> usize {
    let digits = number.chars().filter(char::is_ascii_digit).count();
    digits.div_ceil(2) + 1
}

fn started_kb(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(KB).max(1)).unwrap_or(u32::MAX)
}

/// The units one transactional write of an item costs the table (`None`: absent).
pub fn table_units(before: Option<&Item>, after: Option<&Item>) -> u32 {
    let larger = before.map_or(0, item_size).max(after.map_or(0, item_size));
    2 * started_kb(larger)
}

/// A global secondary index: its key attributes and what it projects beyond them (the
/// table's keys are in every index).
#[derive(Debug, Clone, Copy)]
pub struct IndexShape {
    pub name: &'static str,
    pub partition: &'static str,
    pub sort: &'static str,
    pub projected: Projected,
}

/// What an index carries beyond its own keys and the table's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projected {
    /// `KEYS_ONLY`.
    Keys,
    /// `INCLUDE`: these attributes.
    Include(&'static [&'static str]),
    /// `ALL`: the whole item.
    All,
}

/// A company's chats, keys only (`key::GSI1`): a message changes none of them.
pub const CHATS_INDEX: IndexShape = IndexShape {
    name: GSI1,
    partition: GSI1PK,
    sort: GSI1SK,
    projected: Projected::Keys,
};

/// The inbox's two indexes, as `key` declares them.
pub const INBOX_INDEXES: [IndexShape; 2] = [
    IndexShape {
        name: GSI2,
        partition: GSI2PK,
        sort: GSI2SK,
        projected: Projected::Include(&GSI2_PROJECTED),
    },
    IndexShape {
        name: GSI3,
        partition: GSI2PK,
        sort: GSI3SK,
        projected: Projected::Include(&GSI3_PROJECTED),
    },
];

/// Every index of the table.
pub const ALL_INDEXES: [IndexShape; 3] = [CHATS_INDEX, INBOX_INDEXES[0], INBOX_INDEXES[1]];

impl IndexShape {
    /// The item's entry in this index (`None`: not in it, a sparse index).
    fn entry(&self, item: &Item) -> Option<Item> {
        if !(item.contains_key(self.partition) && item.contains_key(self.sort)) {
            return None;
        }
        let projected: &[&str] = match self.projected {
            Projected::All => return Some(item.clone()),
            Projected::Keys => &[],
            Projected::Include(attrs) => attrs,
        };
        let attrs = [PK, SK, self.partition, self.sort];
        Some(
            attrs
                .iter()
                .chain(projected)
                .filter_map(|attr| Some(((*attr).to_owned(), item.get(*attr)?.clone())))
                .collect(),
        )
    }

    /// The units a write from `before` to `after` costs this index.
    pub fn units(&self, before: Option<&Item>, after: Option<&Item>) -> u32 {
        let old = before.and_then(|item| self.entry(item));
        let new = after.and_then(|item| self.entry(item));
        match (old, new) {
            (None, None) => 0,
            (None, Some(entry)) | (Some(entry), None) => started_kb(item_size(&entry)),
            (Some(old), Some(new)) if old == new => 0,
            (Some(old), Some(new)) => {
                let key_moved = [self.partition, self.sort]
                    .iter()
                    .any(|attr| old.get(*attr) != new.get(*attr));
                if key_moved {
                    started_kb(item_size(&old)) + started_kb(item_size(&new))
                } else {
                    started_kb(item_size(&old).max(item_size(&new)))
                }
            }
        }
    }
}

/// The units a change of one item costs the inbox's indexes.
pub fn inbox_units(before: Option<&Item>, after: Option<&Item>) -> u32 {
    INBOX_INDEXES
        .iter()
        .map(|index| index.units(before, after))
        .sum()
}

/// The units a change of one item costs every index of the table, by index name (the
/// ones it leaves alone left out).
pub fn index_units(before: Option<&Item>, after: Option<&Item>) -> Vec<(&'static str, u32)> {
    ALL_INDEXES
        .iter()
        .map(|index| (index.name, index.units(before, after)))
        .filter(|(_, units)| *units > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::item::{n, s};

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn sizes_follow_the_documented_rules() {
        // "PK" + "CHAT#1" = 8; "n" + 3 digits = 1 + 3; "m" + map {"a": "bc"} = 1 + 3 + 1 + 1 + 2.
        let map = AttributeValue::M(HashMap::from([("a".to_owned(), s("bc"))]));
        let sized = item(&[("PK", s("CHAT#1")), ("n", n(123)), ("m", map)]);
        assert_eq!(item_size(&sized), 8 + 4 + 8);
        assert_eq!(item_size(&item(&[("e", s("é"))])), 3);
    }

    #[test]
    fn a_transactional_write_costs_two_units_per_started_kb_of_the_larger_image() {
        let small = item(&[("PK", s("x"))]);
        let big = item(&[("PK", s("x")), ("body", s("a".repeat(1500)))]);
        assert_eq!(table_units(None, Some(&small)), 2);
        assert_eq!(table_units(Some(&small), Some(&big)), 4);
        assert_eq!(table_units(Some(&big), None), 4);
    }

    fn conversation(recent: &str, waiting: Option<&str>, assignee: Option<&str>) -> Item {
        let mut pairs = vec![
            (PK, s("CHAT#1")),
            (SK, s("CHAT")),
            (GSI2PK, s("INBOX#c#open")),
            (GSI2SK, s(recent)),
            ("last_message", s(recent)),
        ];
        if let Some(waiting) = waiting {
            pairs.push((GSI3SK, s(waiting)));
        }
        if let Some(assignee) = assignee {
            pairs.push(("assignee_id", s(assignee)));
        }
        item(&pairs)
    }

    #[test]
    fn a_message_leaves_the_keys_only_chats_index_alone() {
        let chat = |last: &str| {
            item(&[
                (PK, s("CHAT#1")),
                (SK, s("CHAT")),
                (GSI1PK, s("COMPANY#c")),
                (GSI1SK, s("CHAT#1")),
                ("last_message_id", s(last)),
            ])
        };
        assert!(index_units(Some(&chat("a")), Some(&chat("b"))).is_empty());
        // A new chat gains its entry: one unit.
        assert_eq!(index_units(None, Some(&chat("a"))), vec![(GSI1, 1)]);
        // Had it projected the whole item, every message would pay one.
        let all = IndexShape {
            projected: Projected::All,
            ..CHATS_INDEX
        };
        assert_eq!(all.units(Some(&chat("a")), Some(&chat("b"))), 1);
    }

    #[test]
    fn the_inbox_costs_two_units_a_message_and_one_more_when_a_wait_starts_or_ends() {
        let answered = conversation("t1", None, None);
        let answered_later = conversation("t2", None, None);
        let waiting = conversation("t3", Some("t3"), None);
        let still_waiting = conversation("t4", Some("t3"), None);
        // A staff message to an answered conversation: GSI2 moves.
        assert_eq!(inbox_units(Some(&answered), Some(&answered_later)), 2);
        // A guest starts a wait: GSI2 moves, GSI3 gains the row.
        assert_eq!(inbox_units(Some(&answered_later), Some(&waiting)), 3);
        // The guest writes again: GSI2 moves, GSI3 is left alone.
        assert_eq!(inbox_units(Some(&waiting), Some(&still_waiting)), 2);
        // The reply: GSI2 moves, GSI3 loses the row.
        assert_eq!(inbox_units(Some(&still_waiting), Some(&answered)), 3);
        // An attribute no index projects: nothing.
        assert_eq!(inbox_units(Some(&answered), Some(&answered)), 0);
        // Assigning: one write on each index that holds the row.
        let assigned = conversation("t4", Some("t3"), Some("u"));
        assert_eq!(inbox_units(Some(&still_waiting), Some(&assigned)), 2);
        // A room is on neither.
        let room = item(&[(PK, s("CHAT#2")), (SK, s("CHAT"))]);
        assert_eq!(inbox_units(Some(&room), Some(&room)), 0);
    }
}
