//! The in-process test layer (see `api_tests::in_process`): each function's handler fed
//! its real `events/` fixtures, DynamoDB answered by canned mocks. One module per
//! function, named after it, so a change to a function finds its tests here.

mod chat_messages;
mod chat_users;
mod chats;
mod companies;
mod current_user;
mod tokens;
mod webhooks;
