//! Multi-item reads and deletes: `BatchGetItem` for the reads a request needs together,
//! and the purge of a whole partition in `BatchWriteItem`s of 25. Both ask again for what
//! DynamoDB hands back unprocessed, with the layer's one back-off.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, KeysAndAttributes, WriteRequest};

use crate::item::Item;
use crate::key::{self, Key};
use crate::retry::Backoff;
use crate::{Db, Result, StoreError};

/// Keys per `BatchWriteItem`: DynamoDB's limit.
const WRITE_BATCH: usize = 25;
/// Keys read per page of a purge.
const PURGE_PAGE: i32 = 500;

impl Db {
    /// Reads `N` items in one round trip (strongly consistent), in the order of `keys`.
    pub(crate) async fn get_many<const N: usize>(
        &self,
        keys: [&Key; N],
    ) -> Result<[Option<Item>; N]> {
        self.get_all(&keys)
            .await?
            .try_into()
            .map_err(|_| StoreError::Unexpected("BatchGetItem answered another number of keys"))
    }

    /// As [`Db::get_many`], for a number of keys known only at run time (at most 100).
    pub(crate) async fn get_all(&self, keys: &[&Key]) -> Result<Vec<Option<Item>>> {
        let mut pending: Vec<Item> = keys.iter().map(|k| k.to_item()).collect();
        let mut found: Vec<Item> = Vec::with_capacity(keys.len());
        let mut backoff = Backoff::unprocessed_items();
        loop {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()?;
            let output = self
                .client()
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await?;
            if let Some(mut responses) = output.responses {
                found.extend(responses.remove(&self.table).unwrap_or_default());
            }
            if let Some(rest) = output
                .unprocessed_keys
                .and_then(|mut unprocessed| unprocessed.remove(&self.table))
            {
                pending = rest.keys;
            }
            if pending.is_empty() {
                break;
            }
            if !backoff.wait().await {
                // DynamoDB hands keys back under throttling: a dependency failure, not a bug.
                return Err(StoreError::unavailable(
                    "BatchGetItem",
                    "keys left unprocessed",
                ));
            }
        }
        Ok(keys
            .iter()
            .map(|wanted| {
                found
                    .iter()
                    .position(|item| item_has_key(item, wanted))
                    .map(|i| found.swap_remove(i))
            })
            .collect())
    }

    /// Deletes every item of a partition; returns how many went.
    pub(crate) async fn purge_partition(&self, partition: &str) -> Result<usize> {
        self.purge(partition, None, None).await
    }

    /// Deletes the items of a partition whose sort key starts with `sort_prefix`.
    pub(crate) async fn purge_prefix(&self, partition: &str, sort_prefix: &str) -> Result<usize> {
        self.purge(partition, Some(sort_prefix), None).await
    }

    /// As [`Db::purge_prefix`], only the items whose top-level attribute `attr` is
    /// `value` (a filter: the query still reads the whole prefix).
    pub(crate) async fn purge_filtered(
        &self,
        partition: &str,
        sort_prefix: &str,
        (attr, value): (&[&str], AttributeValue),
    ) -> Result<usize> {
        self.purge(partition, Some(sort_prefix), Some((attr, value)))
            .await
    }

    async fn purge(
        &self,
        partition: &str,
        sort_prefix: Option<&str>,
        filter: Option<(&[&str], AttributeValue)>,
    ) -> Result<usize> {
        let mut removed = 0;
        let mut start_key = None;
        let mut values =
            HashMap::from([(":pk".to_owned(), AttributeValue::S(partition.to_owned()))]);
        let condition = match sort_prefix {
            Some(prefix) => {
                values.insert(":prefix".to_owned(), AttributeValue::S(prefix.to_owned()));
                "PK = :pk AND begins_with(SK, :prefix)"
            }
            None => "PK = :pk",
        };
        let mut names = None;
        let filter = filter.map(|(path, value)| {
            values.insert(":filter".to_owned(), value);
            let placeholders: Vec<String> = (0..path.len()).map(|i| format!("#f{i}")).collect();
            names = Some(
                placeholders
                    .iter()
                    .cloned()
                    .zip(path.iter().map(|p| (*p).to_owned()))
                    .collect::<HashMap<String, String>>(),
            );
            format!("{} = :filter", placeholders.join("."))
        });
        loop {
            let page = self
                .client()
                .query()
                .table_name(&self.table)
                .key_condition_expression(condition)
                .set_filter_expression(filter.clone())
                .set_expression_attribute_names(names.clone())
                .set_expression_attribute_values(Some(values.clone()))
                .projection_expression("PK, SK")
                .set_exclusive_start_key(start_key.take())
                .limit(PURGE_PAGE)
                .send()
                .await?;
            let keys_page = page.items.unwrap_or_default();
            for chunk in keys_page.chunks(WRITE_BATCH) {
                self.delete_batch(chunk).await?;
                removed += chunk.len();
            }
            match page.last_evaluated_key {
                Some(key) => start_key = Some(key),
                None => return Ok(removed),
            }
        }
    }

    /// One `BatchWriteItem` of deletes (at most 25 keys), until all are processed.
    async fn delete_batch(&self, keys: &[Item]) -> Result<()> {
        let mut requests: Vec<WriteRequest> = keys
            .iter()
            .map(|key| {
                DeleteRequest::builder()
                    .set_key(Some(key.clone()))
                    .build()
                    .map(|d| WriteRequest::builder().delete_request(d).build())
            })
            .collect::<Result<_, _>>()?;
        let mut backoff = Backoff::unprocessed_items();
        loop {
            let output = self
                .client()
                .batch_write_item()
                .request_items(&self.table, std::mem::take(&mut requests))
                .send()
                .await?;
            requests = output
                .unprocessed_items
                .and_then(|mut unprocessed| unprocessed.remove(&self.table))
                .unwrap_or_default();
            if requests.is_empty() {
                return Ok(());
            }
            if !backoff.wait().await {
                return Err(StoreError::unavailable(
                    "BatchWriteItem",
                    "items left unprocessed",
                ));
            }
        }
    }
}

fn item_has_key(item: &Item, wanted: &Key) -> bool {
    let attr = |name: &str| match item.get(name) {
        Some(AttributeValue::S(s)) => Some(s.as_str()),
        _ => None,
    };
    attr(key::PK) == Some(wanted.pk.as_str()) && attr(key::SK) == Some(wanted.sk.as_str())
}
