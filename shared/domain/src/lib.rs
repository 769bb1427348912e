//! The Chat API's domain: what the API is about, with no I/O.
//!
//! - [`ids`]: one id type per entity; [`clock`]: time as the API writes it.
//! - The records, one module per entity ([`user`], [`api_token`], [`login`], [`company`],
//!   [`chat`], [`chat_user`], [`auth_code`], [`message`], [`realtime`], [`webhook`]): what
//!   is kept about each, and each one's API resource (the one type every answer, event,
//!   webhook and email shows it as).
//! - [`attachment`]: files in chats: the types allowed, their magic numbers, the limits.
//! - [`availability`]: business hours (`open_now`) and the typical reply time.
//! - [`team`]: a company's members, their roles, and the one table of what each role
//!   may do.
//! - [`events`]: the chat log's typed events, and who sees what of them.
//! - The rules: [`text`] (request values parsed into types), [`guessable`] (chat
//!   passwords), [`rate_limit`], [`jobs`] (background work and its timing),
//!   [`personal_data`] (what an export or erasure answers).
//!
//! Storage keeps these records, the services send them, and the edge serves them; none
//! of those is imported here.

pub mod api_token;
pub mod attachment;
pub mod auth_code;
pub mod availability;
pub mod chat;
pub mod chat_user;
pub mod clock;
pub mod company;
pub mod conversation;
pub mod events;
pub mod guessable;
pub mod ids;
pub mod jobs;
pub mod login;
pub mod message;
pub mod personal_data;
pub mod rate_limit;
pub mod realtime;
pub mod team;
pub mod text;
pub mod user;
pub mod webhook;
