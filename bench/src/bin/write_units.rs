//! What one message costs in DynamoDB write units, per kind of message, through the
//! storage layer the functions call: every item of the message's `TransactWriteItems`
//! (read off the request itself by an interceptor on the SDK client), its image before
//! and after the write, and the units AWS's sizing rules give each
//! (`storage::write_units`), the table's indexes included.
//!
//! The harness asks for `ReturnConsumedCapacity: INDEXES` and prints what the endpoint
//! answered beside the computed figure: on AWS that is DynamoDB's own count; moto answers
//! a constant whatever the items (its `ConsumedCapacity` is a placeholder), so against
//! moto the computed figure is the measurement.
//!
//! Usage: write-units OWNER_EMAIL STAGE (TABLE_NAME and the functions' AWS settings in
//! the environment; STAGE labels the rows, e.g. `after`). Prints one JSON line per kind:
//! `{"kind", "stage", "wru", "rru", "reported_wru", "items": [{"what", "units"}]}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::transact_write_items::{
    TransactWriteItemsInput, TransactWriteItemsOutput,
};
use aws_sdk_dynamodb::types::{
    AttributeValue, KeyType, ProjectionType, ReturnConsumedCapacity, TransactWriteItem,
};
use domain::chat_user::ChatUserRecord;
use domain::events::Actor;
use domain::ids::ChatId;
use domain::message::{Author, sending_rate};
use domain::user::UserRecord;
use storage::message_posts::{NewMessage, Posted};
use storage::write_units::{IndexShape, Projected, item_size, table_units};
use storage::{Db, Item, Key};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// One action of a recorded transaction.
#[derive(Debug, Clone)]
struct Action {
    kind: &'static str,
    key: Key,
}

/// The transactions the client sent, and the capacity the endpoint reported for them.
#[derive(Debug, Default)]
struct Recorded {
    actions: Vec<Action>,
    reported: f64,
}

#[derive(Debug, Clone, Default)]
struct Recorder(Arc<Mutex<Recorded>>);

impl Recorder {
    fn take(&self) -> Recorded {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

fn action_of(item: &TransactWriteItem) -> Option<Action> {
    let (kind, key) = if let Some(put) = item.put() {
        ("put", put.item())
    } else if let Some(update) = item.update() {
        ("update", update.key())
    } else if let Some(delete) = item.delete() {
        ("delete", delete.key())
    } else {
        ("condition check", item.condition_check()?.key())
    };
    Some(Action {
        kind,
        key: Key::of_item(key)?,
    })
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "write-units recorder"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(input) = context
            .input_mut()
            .downcast_mut::<TransactWriteItemsInput>()
        {
            input.return_consumed_capacity = Some(ReturnConsumedCapacity::Indexes);
            let actions = input.transact_items().iter().filter_map(action_of);
            let mut recorded = self.0.lock().unwrap_or_else(|e| e.into_inner());
            // A retried transaction (a lost race) is recorded again: the harness posts
            // one message at a time, so a retry here would be a finding of its own.
            recorded.actions.extend(actions);
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(output) = context.output_or_error()
            && let Some(output) = output.downcast_ref::<TransactWriteItemsOutput>()
        {
            let units: f64 = output
                .consumed_capacity()
                .iter()
                .filter_map(|c| c.capacity_units())
                .sum();
            self.0.lock().unwrap_or_else(|e| e.into_inner()).reported += units;
        }
        Ok(())
    }
}

/// What a kind of message costs.
struct Measured {
    kind: &'static str,
    /// (what, units), per item and index.
    items: Vec<(String, u32)>,
    reported: f64,
    rru: u32,
}

/// Every item of the partitions a message may write, by key: the "before" images.
async fn snapshot(
    client: &Client,
    table: &str,
    partitions: &[String],
) -> Result<HashMap<(String, String), Item>, Error> {
    let mut items = HashMap::new();
    for partition in partitions {
        let mut start = None;
        loop {
            let page = client
                .query()
                .table_name(table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(partition.clone()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            for item in page.items() {
                if let Some(key) = Key::of_item(item) {
                    items.insert((key.pk, key.sk), item.clone());
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
    }
    Ok(items)
}

async fn get(client: &Client, table: &str, key: &Key) -> Result<Option<Item>, Error> {
    Ok(client
        .get_item()
        .table_name(table)
        .set_key(Some(key.to_item()))
        .consistent_read(true)
        .send()
        .await?
        .item()
        .cloned())
}

/// The table's indexes as DynamoDB describes them (not as the code declares them: the
/// table measured is the judge). Leaked: a handful of names, once per run.
async fn index_shapes(client: &Client, table: &str) -> Result<Vec<IndexShape>, Error> {
    let leak = |text: &str| -> &'static str { Box::leak(text.to_owned().into_boxed_str()) };
    let described = client.describe_table().table_name(table).send().await?;
    let mut shapes = Vec::new();
    for index in described
        .table()
        .map(|t| t.global_secondary_indexes())
        .unwrap_or_default()
    {
        let key = |kind: KeyType| {
            index
                .key_schema()
                .iter()
                .find(|k| *k.key_type() == kind)
                .map(|k| leak(k.attribute_name()))
                .ok_or("an index without its key")
        };
        let projection = index.projection();
        let projected = match projection.and_then(|p| p.projection_type()) {
            Some(ProjectionType::All) => Projected::All,
            Some(ProjectionType::Include) => {
                let attrs: Vec<&'static str> = projection
                    .map(|p| p.non_key_attributes())
                    .unwrap_or_default()
                    .iter()
                    .map(|attr| leak(attr))
                    .collect();
                Projected::Include(Box::leak(attrs.into_boxed_slice()))
            }
            _ => Projected::Keys,
        };
        shapes.push(IndexShape {
            name: leak(index.index_name().unwrap_or("?")),
            partition: key(KeyType::Hash)?,
            sort: key(KeyType::Range)?,
            projected,
        });
    }
    Ok(shapes)
}

/// What an item is, from its sort key (`MSG#…` → `MSG`).
fn what(key: &Key) -> String {
    let prefix = key.sk.split('#').next().unwrap_or_default();
    let partition = key.pk.split('#').next().unwrap_or_default();
    format!("{partition}/{prefix}")
}

/// Read units of a strongly consistent read of these items: one per started 4 KB each.
fn read_units(items: &[Option<Item>]) -> u32 {
    items
        .iter()
        .map(|item| {
            let size = item.as_ref().map_or(0, item_size);
            u32::try_from(size.div_ceil(4096).max(1)).unwrap_or(u32::MAX)
        })
        .sum()
}

struct Harness {
    client: Client,
    table: String,
    recorder: Recorder,
    db: Db,
    indexes: Vec<IndexShape>,
}

impl Harness {
    /// Posts `new` to `chat` and measures its transaction. `partitions`: every partition
    /// it may write (checked: an item elsewhere stops the run rather than go uncounted).
    async fn measure(
        &self,
        kind: &'static str,
        db: &Db,
        chat_id: ChatId,
        new: NewMessage,
        partitions: Vec<String>,
        front_door: &[Key],
    ) -> Result<Measured, Error> {
        let chat = db.chats().get(chat_id).await?.ok_or("no chat")?;
        let mut new = new;
        if let Author::Guest { id, .. } = &new.author {
            let guest = db
                .chat_users()
                .get(chat_id, *id)
                .await?
                .ok_or("no chat user")?;
            new.sent = guest.sent();
        }
        let before = snapshot(&self.client, &self.table, &partitions).await?;
        self.recorder.take();
        match db.messages().post(&chat, new).await? {
            Posted::New(_) => {}
            other => return Err(format!("{kind}: {other:?}").into()),
        }
        let recorded = self.recorder.take();
        let mut items = Vec::new();
        for action in &recorded.actions {
            if !partitions.contains(&action.key.pk) {
                return Err(format!(
                    "{kind}: {} is outside the partitions snapshotted",
                    action.key.pk
                )
                .into());
            }
            let old = before.get(&(action.key.pk.clone(), action.key.sk.clone()));
            let new = get(&self.client, &self.table, &action.key).await?;
            let what = format!("{} {}", action.kind, what(&action.key));
            if action.kind == "condition check" {
                // Read, not written: its size decides the units.
                items.push((what, table_units(old, old)));
                continue;
            }
            items.push((what.clone(), table_units(old, new.as_ref())));
            for index in &self.indexes {
                let units = index.units(old, new.as_ref());
                if units > 0 {
                    items.push((format!("{what}: {}", index.name), units));
                }
            }
        }
        let mut door = Vec::new();
        for key in front_door {
            door.push(get(&self.client, &self.table, key).await?);
        }
        Ok(Measured {
            kind,
            items,
            reported: recorded.reported,
            rru: read_units(&door),
        })
    }
}

fn message(author: Author, body: &str, internal: bool) -> NewMessage {
    NewMessage {
        author,
        internal,
        body: body.to_owned(),
        // As the widget and the console send every message.
        client_id: Some(ulid::Ulid::new().to_string()),
        rate: sending_rate(100_000),
        // A chat user's: read by `measure`, as the front door reads it.
        sent: None,
        attachments: Vec::new(),
    }
}

/// A message as long as the warm benchmark's (a sentence a visitor writes).
const BODY: &str = "Hello! Is the blue kettle back in stock, and can it ship to Lisbon this week?";

fn key_of(pk: String, sk: String) -> Key {
    Key { pk, sk }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let (Some(owner_email), Some(stage)) = (args.next(), args.next()) else {
        return Err("usage: write-units OWNER_EMAIL STAGE".into());
    };
    let table = std::env::var("TABLE_NAME")?;
    let recorder = Recorder::default();
    let sdk = sdk::from_lambda_env();
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .interceptor(recorder.clone())
        .build();
    let client = Client::from_conf(config);
    let db = Db::new(client.clone(), table.clone());
    let indexes = index_shapes(&client, &table).await?;
    let harness = Harness {
        client,
        table,
        recorder,
        db,
        indexes,
    };
    let db = &harness.db;
    let owner: UserRecord = db
        .users()
        .by_email(&owner_email)
        .await?
        .ok_or("no such operator")?;
    let staff_db = db.acting_as(Actor::user(owner.id, &owner.name));
    let company = chat_bench::fixture::company(db, &owner, "Write units").await?;
    let (room, room_guest) = chat_bench::fixture::room_with_guest(db, &company, "Room").await?;

    // A visitor's conversation, opened as the front door opens one.
    let visitor = storage::conversations::NewVisitor {
        name: "Ada Visitor".into(),
        email: Some("ada.visitor@example.com".into()),
    };
    let (conversation, guest) = match db
        .conversations()
        .open(
            &company,
            storage::conversations::Visitor::Subject("visitor-1"),
            &visitor,
        )
        .await?
    {
        storage::conversations::Opened::Ready {
            chat, chat_user, ..
        } => (*chat, *chat_user),
        other => return Err(format!("the conversation did not open: {other:?}").into()),
    };

    let chat_part = |id: ChatId| storage::key::chat_partition(id);
    let company_part = storage::key::company_partition(company.id);
    let limits = |author: &Author| format!("LIMIT#messages#{}", author.key());
    let guest_of = |user: &ChatUserRecord| Author::Guest {
        id: user.id,
        name: user.name.clone(),
    };
    let staff = Author::Staff {
        id: owner.id,
        name: owner.name.clone(),
    };
    let guest_door = |chat: ChatId, user: &ChatUserRecord| {
        vec![
            key_of(chat_part(chat), format!("MEMBER#{}", user.id)),
            key_of(chat_part(chat), "CHAT".into()),
        ]
    };
    let staff_door = |chat: ChatId| {
        vec![
            key_of(storage::key::user_partition(owner.id), "PROFILE".into()),
            key_of(chat_part(chat), "CHAT".into()),
        ]
    };
    let guest_parts =
        |chat: ChatId, author: &Author| vec![chat_part(chat), company_part.clone(), limits(author)];

    let room_author = guest_of(&room_guest);
    let visitor_author = guest_of(&guest);
    // (kind, author, a note, by a member, in which chat): in this order, each
    // conversation step from the state the one before left.
    let steps: [(&'static str, &Author, bool, bool, ChatId); 8] = [
        ("room message", &room_author, false, false, room.id),
        ("room message (staff)", &staff, false, true, room.id),
        (
            "conversation: guest message starting a wait",
            &visitor_author,
            false,
            false,
            conversation.id,
        ),
        (
            "conversation: guest message",
            &visitor_author,
            false,
            false,
            conversation.id,
        ),
        (
            "conversation: first staff reply",
            &staff,
            false,
            true,
            conversation.id,
        ),
        (
            "conversation: guest message starting a new wait",
            &visitor_author,
            false,
            false,
            conversation.id,
        ),
        (
            "conversation: staff reply",
            &staff,
            false,
            true,
            conversation.id,
        ),
        ("conversation: note", &staff, true, true, conversation.id),
    ];
    let mut out = Vec::new();
    for (kind, author, internal, is_staff, chat) in steps {
        let (on, door) = if is_staff {
            (&staff_db, staff_door(chat))
        } else {
            let user = if chat == room.id { &room_guest } else { &guest };
            (db, guest_door(chat, user))
        };
        let measured = harness
            .measure(
                kind,
                on,
                chat,
                message(author.clone(), BODY, internal),
                guest_parts(chat, author),
                &door,
            )
            .await?;
        out.push(measured);
    }
    for m in out {
        let wru: u32 = m.items.iter().map(|(_, units)| units).sum();
        let items: Vec<_> = m
            .items
            .iter()
            .map(|(what, units)| serde_json::json!({ "what": what, "units": units }))
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "kind": m.kind,
                "stage": stage,
                "wru": wru,
                "rru": m.rru,
                "reported_wru": m.reported,
                "items": items,
            })
        );
    }
    Ok(())
}
