//! The items as stored (via `serde_dynamo`) and their public JSON shapes.
//! Private fields (hashes, the chat password, owner ids) stay out of `resource()`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub created_at: String,
    pub updated_at: String,
}

impl UserRecord {
    pub fn resource(&self) -> Value {
        json!({
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// The unique-email item: points at the user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserEmailRecord {
    pub user_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiTokenRecord {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    /// `last_used_at` in epoch ms, so the write can be skipped while it is recent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_ms: Option<i64>,
}

impl ApiTokenRecord {
    pub fn resource(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginFailuresRecord {
    pub failures: u32,
    pub window_start_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompanyRecord {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Chats of this company; a company is deleted only at 0 (kept by transactions).
    #[serde(default)]
    pub chat_count: i64,
}

impl CompanyRecord {
    pub fn resource(&self) -> Value {
        json!({
            "id": self.id,
            "owner_id": self.owner_id,
            "name": self.name,
            "website": self.website,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatRecord {
    pub id: String,
    pub company_id: String,
    pub owner_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The join secret handed to guests; retrievable by design (it is shared, not personal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_at: Option<String>,
    /// The newest message id: new ids must sort after it (see chat-messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_id: Option<String>,
}

impl ChatRecord {
    pub fn resource(&self) -> Value {
        json!({
            "id": self.id,
            "company_id": self.company_id,
            "name": self.name,
            "description": self.description,
            "has_password": self.password.is_some(),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_message_at": self.last_message_at,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatUserRecord {
    pub id: String,
    pub chat_id: String,
    pub name: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl ChatUserRecord {
    /// `show_email`: operators and the chat user itself see it; other chat users do not.
    pub fn resource(&self, show_email: bool) -> Value {
        let mut value = json!({
            "id": self.id,
            "chat_id": self.chat_id,
            "name": self.name,
            "verified_at": self.verified_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        });
        if show_email {
            value["email"] = json!(self.email);
        }
        value
    }
}

/// The unique-email-in-chat item: points at the chat user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatUserEmailRecord {
    pub chat_user_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthCodeRecord {
    /// HMAC of the code (never the code); `None` after use or after too many tries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_digest: Option<String>,
    pub expires_at_ms: i64,
    pub failed_attempts: u32,
    /// Send throttle: last email, and the emails sent in the current hour window.
    pub last_sent_ms: i64,
    pub window_start_ms: i64,
    pub sent_in_window: u32,
    /// Optimistic-concurrency version: every write is conditional on it.
    pub version: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageRecord {
    pub id: String,
    pub chat_id: String,
    pub chat_user_id: String,
    pub body: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl MessageRecord {
    pub fn resource(&self) -> Value {
        json!({
            "id": self.id,
            "chat_id": self.chat_id,
            "chat_user_id": self.chat_user_id,
            "body": self.body,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "edited_at": self.edited_at,
        })
    }
}

/// The idempotency item of a `client_id`: points at the message it created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageClientIdRecord {
    pub message_id: String,
}
