//! What a company's availability is read from, in the company's partition: the items of
//! its team's open streams and of its recent first responses. Both are written elsewhere
//! (the team stream's `$connect`, and the transaction of a conversation's first staff
//! reply); this module only reads them, one `Query` each.
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | an open team stream | `COMPANY#<company>` | `TEAMSOCKET#<connection id>` | `ttl` |
//! | a first response | `COMPANY#<company>` | `FIRSTRESPONSE#<RFC 3339 time of the reply>#<chat>` | `response_ms` (N), `ttl` |

use aws_sdk_dynamodb::types::AttributeValue;
use domain::ids::CompanyId;

use crate::item::{Item, is_expired, n};
use crate::key::{TTL, company_partition};
use crate::{Db, Result};

/// The sort-key prefix of a team member's open stream.
pub const TEAM_SOCKET_PREFIX: &str = "TEAMSOCKET#";
/// The sort-key prefix of a first response; the time that follows sorts them.
pub const FIRST_RESPONSE_PREFIX: &str = "FIRSTRESPONSE#";
/// How many of the newest first responses the reply time is the median of.
pub const FIRST_RESPONSE_SAMPLES: i32 = 50;
/// Pages read past expired stream items (DynamoDB deletes by TTL days late) before the
/// answer is "offline": a bound on what a company full of stale items costs.
const STALE_PAGES: usize = 4;

#[derive(Debug, Clone, Copy)]
pub struct Availability<'a> {
    pub(crate) db: &'a Db,
}

impl Availability<'_> {
    /// Whether a member of `company` has the team stream open: one `Query` of one item
    /// in the usual case. An item past its TTL is skipped (and the next page read).
    pub async fn online(&self, company: CompanyId) -> Result<bool> {
        let now = domain::clock::now_millis() / 1000;
        let mut start_key = None;
        for page in 0..=STALE_PAGES {
            let output = self
                .db
                .client()
                .query()
                .table_name(&self.db.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", AttributeValue::S(company_partition(company)))
                .expression_attribute_values(
                    ":prefix",
                    AttributeValue::S(TEAM_SOCKET_PREFIX.into()),
                )
                .projection_expression("PK, SK, #ttl")
                .expression_attribute_names("#ttl", TTL)
                .set_exclusive_start_key(start_key.take())
                // One item answers it; after a stale one, a page of them.
                .limit(if page == 0 { 1 } else { 25 })
                .send()
                .await?;
            if output
                .items
                .unwrap_or_default()
                .iter()
                .any(|item| !is_expired(item, now))
            {
                return Ok(true);
            }
            match output.last_evaluated_key {
                Some(key) => start_key = Some(key),
                None => return Ok(false),
            }
        }
        Ok(false)
    }

    /// The `response_ms` of the company's newest first responses (at most
    /// [`FIRST_RESPONSE_SAMPLES`]), newest first: one `Query`. Expired items and items
    /// without a number are left out.
    pub async fn recent_first_responses(&self, company: CompanyId) -> Result<Vec<i64>> {
        let now = domain::clock::now_millis() / 1000;
        let output = self
            .db
            .client()
            .query()
            .table_name(&self.db.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(company_partition(company)))
            .expression_attribute_values(":prefix", AttributeValue::S(FIRST_RESPONSE_PREFIX.into()))
            .projection_expression("response_ms, #ttl")
            .expression_attribute_names("#ttl", TTL)
            .scan_index_forward(false)
            .limit(FIRST_RESPONSE_SAMPLES)
            .send()
            .await?;
        Ok(output
            .items
            .unwrap_or_default()
            .iter()
            .filter(|item| !is_expired(item, now))
            .filter_map(response_ms)
            .collect())
    }
}

fn response_ms(item: &Item) -> Option<i64> {
    match item.get("response_ms") {
        Some(AttributeValue::N(ms)) => ms.parse().ok(),
        _ => None,
    }
}

/// The item of an open team stream, as the team stream's `$connect` writes it: for
/// tests that stand in for that writer.
pub fn team_socket_item(company: CompanyId, connection_id: &str, ttl_secs: i64) -> Item {
    Item::from([
        (
            "PK".to_owned(),
            AttributeValue::S(company_partition(company)),
        ),
        (
            "SK".to_owned(),
            AttributeValue::S(format!("{TEAM_SOCKET_PREFIX}{connection_id}")),
        ),
        (TTL.to_owned(), n(ttl_secs)),
    ])
}

/// The item of a first response, as a conversation's first staff reply writes it: for
/// tests that stand in for that writer.
pub fn first_response_item(
    company: CompanyId,
    replied_at: &str,
    chat: &str,
    response_ms: i64,
    ttl_secs: i64,
) -> Item {
    Item::from([
        (
            "PK".to_owned(),
            AttributeValue::S(company_partition(company)),
        ),
        (
            "SK".to_owned(),
            AttributeValue::S(format!("{FIRST_RESPONSE_PREFIX}{replied_at}#{chat}")),
        ),
        ("response_ms".to_owned(), n(response_ms)),
        (TTL.to_owned(), n(ttl_secs)),
    ])
}
