//! What `chat-admin` does, as functions the tests and the local-stack scripts share.
//! Works the same against moto (`AWS_ENDPOINT_URL`) and against real AWS.

use aws_sdk_dynamodb::Client as DynamoClient;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use aws_sdk_sesv2::Client as SesClient;
use domain::api_token::ApiTokenRecord;
use domain::clock;
use domain::ids::{ApiTokenId, EntityId, UserId};
use domain::text::{Email, Name};
use domain::user::{AT_API_TOKEN_CAP, UserRecord};
use services::aws_sdk_secretsmanager::Client as SecretsClient;
use services::crypto;
use services::keyring::{self, KeyVersion, Keys, StoredKeys};
use std::time::Duration;
use storage::Db;
use storage::cap::Added;
use storage::cascade::{Cascade, UserDeleted};
use storage::key as keys;
use storage::users::UserCreated;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The deployment's keys, read from their secret as a function reads them (only the
/// current key is used here: chat-admin signs, it never verifies).
pub async fn keys(secrets: &SecretsClient, secret_id: &str) -> Result<Keys, Error> {
    Ok(Keys::load(secrets.clone(), secret_id.to_owned(), Duration::ZERO).await?)
}

/// What a rotation did, by key id (never a key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The new key, which signs from now on.
    pub kid: String,
    /// The key that signed until now: it verifies during the rotation window, unless
    /// discarded.
    pub retired_kid: String,
    /// The key retired by the rotation before, dropped now: what it signed stops working.
    pub dropped_kid: Option<String>,
}

/// `chat-admin secret rotate`: a new key signs from now on; the current one retires now
/// and still verifies for the rotation window, or stops at once with `discard_current`
/// (a key that leaked). The key retired before is dropped. One GetSecretValue and one
/// PutSecretValue (a new version of the secret; Secrets Manager keeps the old one as
/// AWSPREVIOUS).
pub async fn rotate_keys(
    secrets: &SecretsClient,
    secret_id: &str,
    discard_current: bool,
) -> Result<Rotation, Error> {
    let stored = keyring::read_stored(secrets, secret_id).await?;
    let rotated = stored.rotated(
        StoredKeys::new_material()?,
        clock::now_millis(),
        discard_current,
    );
    let kid = |material: &str| KeyVersion::derive(material).map(|v| v.kid().to_owned());
    let rotation = Rotation {
        kid: kid(&rotated.current)?,
        retired_kid: kid(&stored.current)?,
        dropped_kid: stored.previous.as_deref().map(kid).transpose()?,
    };
    keyring::write_stored(secrets, secret_id, &rotated).await?;
    Ok(rotation)
}

/// One of the inbox's indexes: `GSI2PK` and `sort`, projecting the keys and the assignee.
fn inbox_index(name: &str, sort: &str, projected: &[&str]) -> Result<GlobalSecondaryIndex, Error> {
    Ok(GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(keys::GSI2PK)
                .key_type(KeyType::Hash)
                .build()?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(sort)
                .key_type(KeyType::Range)
                .build()?,
        )
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::Include)
                .set_non_key_attributes(Some(
                    projected.iter().map(|attr| (*attr).to_owned()).collect(),
                ))
                .build(),
        )
        .build()?)
}

/// Creates the table exactly as `template.yaml` declares it: `PK`/`SK`, `GSI1`
/// (`GSI1PK`/`GSI1SK`, keys only), the inbox's `GSI2` (`GSI2PK`/`GSI2SK`) and
/// `GSI3` (`GSI2PK`/`GSI3SK`) with keys and what `keys::GSI2_PROJECTED` and
/// `keys::GSI3_PROJECTED` name, on-demand, TTL on `ttl`, a stream of new and old
/// images (the fan-out of events to WebSockets reads it). An existing table is left as
/// it is.
pub async fn create_table(client: &DynamoClient, table: &str) -> Result<bool, Error> {
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let result = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()?,
        )
        .attribute_definitions(attr(keys::PK)?)
        .attribute_definitions(attr(keys::SK)?)
        .attribute_definitions(attr(keys::GSI1PK)?)
        .attribute_definitions(attr(keys::GSI1SK)?)
        .attribute_definitions(attr(keys::GSI2PK)?)
        .attribute_definitions(attr(keys::GSI2SK)?)
        .attribute_definitions(attr(keys::GSI3SK)?)
        .key_schema(key(keys::PK, KeyType::Hash)?)
        .key_schema(key(keys::SK, KeyType::Range)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(keys::GSI1)
                .key_schema(key(keys::GSI1PK, KeyType::Hash)?)
                .key_schema(key(keys::GSI1SK, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()?,
        )
        .global_secondary_indexes(inbox_index(
            keys::GSI2,
            keys::GSI2SK,
            &keys::GSI2_PROJECTED,
        )?)
        .global_secondary_indexes(inbox_index(
            keys::GSI3,
            keys::GSI3SK,
            &keys::GSI3_PROJECTED,
        )?)
        .send()
        .await;
    match result {
        Ok(_) => {}
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            return Ok(false);
        }
        Err(err) => {
            return Err(aws_sdk_dynamodb::error::DisplayErrorContext(err)
                .to_string()
                .into());
        }
    }
    // Real DynamoDB takes a few seconds to make a table ACTIVE; moto is instant.
    for _ in 0..120 {
        let status = client
            .describe_table()
            .table_name(table)
            .send()
            .await?
            .table
            .and_then(|t| t.table_status);
        if status == Some(aws_sdk_dynamodb::types::TableStatus::Active) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(keys::TTL)
                .enabled(true)
                .build()?,
        )
        .send()
        .await?;
    Ok(true)
}

/// Registers the sender (an address, or a domain covering it) with SES. Locally this is
/// all moto needs to accept mail from it; on AWS it starts the verification (a link by
/// email for an address, DNS records for a domain).
pub async fn verify_sender(ses: &SesClient, identity: &str) -> Result<(), Error> {
    let result = ses
        .create_email_identity()
        .email_identity(identity)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_already_exists_exception()) =>
        {
            Ok(())
        }
        Err(err) => Err(aws_sdk_sesv2::error::DisplayErrorContext(err)
            .to_string()
            .into()),
    }
}

/// Creates a user; its email is unique (a conditional put of the email item).
pub async fn create_user(
    db: &Db,
    email: &str,
    name: &str,
    password: &str,
) -> Result<UserRecord, Error> {
    let email = Email::parse("email", email)?;
    let name = Name::parse("name", name)?;
    if password.chars().count() < 8 {
        return Err("the password must be at least 8 characters".into());
    }
    let now = clock::now_rfc3339();
    let user = UserRecord {
        id: UserId::new(),
        email: email.into_inner(),
        name: name.into_inner(),
        password_hash: crypto::hash_password(password)?,
        created_at: now.clone(),
        updated_at: now,
        memberships: Default::default(),
    };
    match db.users().create(&user).await? {
        UserCreated::Created => Ok(user),
        UserCreated::EmailTaken => {
            Err(format!("a user with the email {} already exists", user.email).into())
        }
    }
}

pub async fn find_user(db: &Db, email: &str) -> Result<UserRecord, Error> {
    let email = Email::parse("email", email)?;
    db.users()
        .by_email(email.as_str())
        .await?
        .ok_or_else(|| format!("no user with the email {}", email.as_str()).into())
}

/// Deletes a user and everything it owns (see `Db::delete_user`): its companies, chats
/// (with their chat users, whose tokens stop working at once), webhook endpoints and API
/// tokens.
pub async fn delete_user(db: &Db, email: &str) -> Result<(UserRecord, UserDeleted), Error> {
    let user = find_user(db, email).await?;
    match storage::cascade::delete_user(db, &user).await? {
        Cascade::Done(deleted) => Ok((user, deleted)),
        // A chat created meanwhile (or not yet in the index): run it again.
        Cascade::CompanyStillHasChats(_) => {
            Err("a company of the user still has chats: delete the user again".into())
        }
    }
}

/// Issues an API token for a user (as `POST /api/tokens` does, without the password).
pub async fn issue_token(
    db: &Db,
    keys: &Keys,
    user: &UserRecord,
    name: &str,
) -> Result<(String, ApiTokenRecord), Error> {
    let name = Name::parse("name", name)?;
    let record = ApiTokenRecord {
        id: ApiTokenId::new(),
        user_id: user.id,
        name: name.into_inner(),
        created_at: clock::now_rfc3339(),
        last_used_at: None,
        last_used_ms: None,
        expires_at: None,
    };
    let token = keys.issue_api_token(user.id, record.id).await?;
    match db.api_tokens().insert(&record).await? {
        Added::Added => Ok((token, record)),
        Added::AtCap => Err(AT_API_TOKEN_CAP.into()),
        Added::HolderGone => Err(format!("the user {} is gone", user.email).into()),
    }
}

pub async fn all_tokens(db: &Db, user_id: UserId) -> Result<Vec<ApiTokenRecord>, Error> {
    Ok(db.api_tokens().all(user_id).await?)
}

pub async fn revoke_token(
    db: &Db,
    user_id: UserId,
    token_id: &str,
) -> Result<ApiTokenRecord, Error> {
    let id = ApiTokenId::parse(token_id).ok_or_else(|| format!("{token_id} is not a token id"))?;
    db.api_tokens()
        .revoke(user_id, id)
        .await?
        .ok_or_else(|| format!("no token {token_id} for this user").into())
}
