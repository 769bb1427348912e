//! Cursor pagination over one partition: one `Query` per page (a second only when
//! DynamoDB stops at its 1 MB limit), and an opaque `next_cursor` that is `null` on
//! the last page.
//!
//! The cursor names its list and carries the key of the last item returned. It is
//! checked against the list being read (same list name, same partition, same key
//! prefix), so a cursor of another list or another tenant is a 422, never data.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::item::{Item, from_item};
use crate::key::{GSI1PK, GSI1SK, PK, SK};
use crate::{Db, Key, Result, StoreError};

/// One page of a list in one partition, narrowed by a sort-key prefix.
#[derive(Debug, Clone)]
pub(crate) struct ListQuery {
    /// Names the list inside the cursor (e.g. `companies`).
    pub list: &'static str,
    /// `Some(GSI1)` to read the index.
    pub index: Option<&'static str>,
    pub partition: String,
    pub sort_prefix: String,
    pub per_page: usize,
    pub cursor: Option<String>,
}

#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct CursorBody {
    l: String,
    k: HashMap<String, String>,
}

impl ListQuery {
    fn key_attrs(&self) -> (&'static str, &'static str) {
        match self.index {
            Some(_) => (GSI1PK, GSI1SK),
            None => (PK, SK),
        }
    }

    /// The attributes of an exclusive start key for this list.
    fn start_key_attrs(&self) -> &'static [&'static str] {
        match self.index {
            Some(_) => &[PK, SK, GSI1PK, GSI1SK],
            None => &[PK, SK],
        }
    }

    fn encode_cursor(&self, item: &Item) -> Option<String> {
        let k = self
            .start_key_attrs()
            .iter()
            .map(|attr| match item.get(*attr) {
                Some(AttributeValue::S(v)) => Some((attr.to_string(), v.clone())),
                _ => None,
            })
            .collect::<Option<HashMap<_, _>>>()?;
        let body = CursorBody {
            l: self.list.to_owned(),
            k,
        };
        Some(URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).ok()?))
    }

    fn decode_cursor(&self, cursor: &str) -> Result<Item> {
        let invalid = || StoreError::ForeignCursor;
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        let (pk_attr, sk_attr) = self.key_attrs();
        let expected: Vec<&str> = self.start_key_attrs().to_vec();
        let shape_ok = body.l == self.list
            && body.k.len() == expected.len()
            && expected.iter().all(|a| body.k.contains_key(*a))
            && body.k[pk_attr] == self.partition
            && body.k[sk_attr].starts_with(&self.sort_prefix);
        if !shape_ok {
            return Err(invalid());
        }
        Ok(body
            .k
            .into_iter()
            .map(|(k, v)| (k, AttributeValue::S(v)))
            .collect())
    }
}

impl Db {
    /// Reads one page of `query`, oldest first (sort keys are ULIDs).
    pub(crate) async fn list<T: DeserializeOwned>(&self, query: &ListQuery) -> Result<Page<T>> {
        self.list_in_order(query, false).await
    }

    /// Reads one page of `query`, newest first.
    pub(crate) async fn list_newest_first<T: DeserializeOwned>(
        &self,
        query: &ListQuery,
    ) -> Result<Page<T>> {
        self.list_in_order(query, true).await
    }

    async fn list_in_order<T: DeserializeOwned>(
        &self,
        query: &ListQuery,
        newest_first: bool,
    ) -> Result<Page<T>> {
        let mut start_key = query
            .cursor
            .as_deref()
            .map(|c| query.decode_cursor(c))
            .transpose()?;
        let (pk_attr, sk_attr) = query.key_attrs();
        // One extra item tells whether another page exists, so the last page says null.
        let wanted = query.per_page + 1;
        let mut items: Vec<Item> = Vec::with_capacity(wanted);
        loop {
            let output = self
                .client()
                .query()
                .table_name(&self.table)
                .set_index_name(query.index.map(str::to_owned))
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", pk_attr)
                .expression_attribute_names("#sk", sk_attr)
                .expression_attribute_values(":pk", AttributeValue::S(query.partition.clone()))
                .expression_attribute_values(
                    ":prefix",
                    AttributeValue::S(query.sort_prefix.clone()),
                )
                .set_exclusive_start_key(start_key.take())
                .scan_index_forward(!newest_first)
                .limit((wanted - items.len()) as i32)
                // Strong consistency where DynamoDB offers it (not on a GSI).
                .consistent_read(query.index.is_none())
                .send()
                .await?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if items.len() < wanted => start_key = Some(key),
                _ => break,
            }
        }
        let next_cursor = if items.len() > query.per_page {
            items.truncate(query.per_page);
            items.last().and_then(|item| query.encode_cursor(item))
        } else {
            None
        };
        if query.index.is_some() {
            items = self.whole_items(&items).await?;
        }
        let items = items
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<T>>>()?;
        Ok(Page { items, next_cursor })
    }

    /// The table's items behind a page of a keys-only index, in the page's order: one
    /// `BatchGetItem` (a page is at most 100). An item deleted since the index was read
    /// is left out.
    async fn whole_items(&self, entries: &[Item]) -> Result<Vec<Item>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let keys = entries
            .iter()
            .map(Key::of_item)
            .collect::<Option<Vec<Key>>>()
            .ok_or(StoreError::Unexpected(
                "an index entry without the table's keys",
            ))?;
        let found = self.get_all(&keys.iter().collect::<Vec<_>>()).await?;
        Ok(found.into_iter().flatten().collect())
    }
}

/// A slice of one partition by sort key (both bounds inclusive), in either order.
pub(crate) struct KeyRange {
    pub(crate) partition: String,
    pub(crate) low: String,
    pub(crate) high: String,
    pub(crate) newest_first: bool,
    pub(crate) limit: usize,
}

impl Db {
    /// A strongly consistent `Query` of a key range: `limit` items, or all the range has.
    /// DynamoDB stops a page at 1 MB whatever the limit: the next page is read then, so
    /// a short answer always means the range has no more.
    pub(crate) async fn query_range(&self, range: KeyRange) -> Result<Vec<Item>> {
        let mut items: Vec<Item> = Vec::with_capacity(range.limit);
        let mut start_key = None;
        loop {
            let output = self
                .client()
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND SK BETWEEN :low AND :high")
                .expression_attribute_values(":pk", AttributeValue::S(range.partition.clone()))
                .expression_attribute_values(":low", AttributeValue::S(range.low.clone()))
                .expression_attribute_values(":high", AttributeValue::S(range.high.clone()))
                .scan_index_forward(!range.newest_first)
                .set_exclusive_start_key(start_key.take())
                .limit((range.limit - items.len()) as i32)
                .consistent_read(true)
                .send()
                .await?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if items.len() < range.limit => start_key = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Up to `max` items of a partition under `sort_prefix` whose attribute at `path`
    /// (names of nested maps, outermost first) is `value`, oldest first, page after page.
    pub(crate) async fn query_filtered(
        &self,
        partition: &str,
        sort_prefix: &str,
        (path, value): (&[&str], AttributeValue),
        max: usize,
    ) -> Result<Vec<Item>> {
        let mut items: Vec<Item> = Vec::new();
        let mut start_key = None;
        let placeholders: Vec<String> = (0..path.len()).map(|i| format!("#p{i}")).collect();
        let names: HashMap<String, String> = placeholders
            .iter()
            .cloned()
            .zip(path.iter().map(|name| (*name).to_owned()))
            .collect();
        let filter = format!("{} = :value", placeholders.join("."));
        loop {
            let output = self
                .client()
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .filter_expression(&filter)
                .set_expression_attribute_names(Some(names.clone()))
                .expression_attribute_values(":pk", AttributeValue::S(partition.to_owned()))
                .expression_attribute_values(":prefix", AttributeValue::S(sort_prefix.to_owned()))
                .expression_attribute_values(":value", value.clone())
                .set_exclusive_start_key(start_key.take())
                .consistent_read(true)
                .send()
                .await?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if items.len() < max => start_key = Some(key),
                _ => {
                    items.truncate(max);
                    return Ok(items);
                }
            }
        }
    }

    /// Sets the text at `set_path` to `value` (and removes what `remove_path` names) on
    /// every item of a partition under `sort_prefix` whose attribute at `match_path` is
    /// `matched` (each only if it still exists: one deleted meanwhile is left gone); how
    /// many matched.
    pub(crate) async fn rewrite_filtered(
        &self,
        partition: &str,
        sort_prefix: &str,
        (match_path, matched): (&[&str], AttributeValue),
        (set_path, value): (&[&str], &str),
        remove_path: Option<&[&str]>,
    ) -> Result<usize> {
        let items = self
            .query_filtered(partition, sort_prefix, (match_path, matched), usize::MAX)
            .await?;
        let mut names: HashMap<String, String> = HashMap::new();
        let mut path = |tag: &str, path: &[&str]| {
            let placeholders: Vec<String> = path
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let placeholder = format!("#{tag}{i}");
                    names.insert(placeholder.clone(), (*name).to_owned());
                    placeholder
                })
                .collect();
            placeholders.join(".")
        };
        let mut expression = format!("SET {} = :value", path("s", set_path));
        if let Some(remove_path) = remove_path {
            expression.push_str(&format!(" REMOVE {}", path("r", remove_path)));
        }
        for item in &items {
            let (Some(pk), Some(sk)) = (item.get(PK), item.get(SK)) else {
                continue;
            };
            let outcome = self
                .client()
                .update_item()
                .table_name(&self.table)
                .key(PK, pk.clone())
                .key(SK, sk.clone())
                .update_expression(&expression)
                .condition_expression("attribute_exists(PK)")
                .set_expression_attribute_names(Some(names.clone()))
                .expression_attribute_values(":value", AttributeValue::S(value.to_owned()))
                .send()
                .await;
            match outcome {
                Ok(_) => {}
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(items.len())
    }

    /// Every item of a list, page after page (for the few callers that need them all:
    /// the admin tool's token list, a chat's open sockets).
    pub(crate) async fn list_all<T: DeserializeOwned>(
        &self,
        mut query: ListQuery,
    ) -> Result<Vec<T>> {
        let mut all = Vec::new();
        loop {
            let page = self.list(&query).await?;
            all.extend(page.items);
            match page.next_cursor {
                Some(next) => query.cursor = Some(next),
                None => return Ok(all),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(partition: &str) -> ListQuery {
        ListQuery {
            list: "companies",
            index: None,
            partition: partition.to_owned(),
            sort_prefix: "COMPANY#".to_owned(),
            per_page: 25,
            cursor: None,
        }
    }

    fn item(pk: &str, sk: &str) -> Item {
        HashMap::from([
            ("PK".to_owned(), AttributeValue::S(pk.to_owned())),
            ("SK".to_owned(), AttributeValue::S(sk.to_owned())),
            ("name".to_owned(), AttributeValue::S("x".to_owned())),
        ])
    }

    #[test]
    fn a_cursor_round_trips_within_its_list() {
        let q = query("USER#A");
        let cursor = q.encode_cursor(&item("USER#A", "COMPANY#1")).unwrap();
        let key = q.decode_cursor(&cursor).unwrap();
        assert_eq!(key.len(), 2);
        assert_eq!(key["SK"], AttributeValue::S("COMPANY#1".into()));
    }

    #[test]
    fn foreign_or_forged_cursors_are_422() {
        let mine = query("USER#A");
        let theirs = query("USER#B")
            .encode_cursor(&item("USER#B", "COMPANY#1"))
            .unwrap();
        assert!(matches!(
            mine.decode_cursor(&theirs),
            Err(StoreError::ForeignCursor)
        ));
        let mut tokens = query("USER#A");
        tokens.list = "tokens";
        let tokens_cursor = tokens.encode_cursor(&item("USER#A", "COMPANY#1")).unwrap();
        for foreign in [tokens_cursor.as_str(), "!!!", "e30"] {
            assert!(
                matches!(mine.decode_cursor(foreign), Err(StoreError::ForeignCursor)),
                "{foreign}"
            );
        }
    }
}
