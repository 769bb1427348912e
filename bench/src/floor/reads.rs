//! The floor of the two hot read routes: `GET /api/user` and a guest's message list.

use storage::aws_sdk_dynamodb::types::AttributeValue;

use super::{Claims, Floor, key};

impl Floor {
    /// `GET /api/user`: the profile and the token item; how many items.
    pub(super) async fn user(&self, claims: &Claims) -> Option<usize> {
        let partition = format!("USER#{}", claims.sub);
        let token = format!("TOKEN#{}", claims.jti.as_deref()?);
        let items = self
            .batch_get_all(vec![
                key(partition.clone(), "PROFILE".to_owned()),
                key(partition, token),
            ])
            .await?;
        Some(items.len())
    }

    /// `GET /api/chats/{id}/messages` with a chat-user token: its chat user and the chat,
    /// then one page of messages; how many items.
    pub(super) async fn messages(&self, chat: &str, claims: &Claims) -> Option<usize> {
        if claims.chat.as_deref() != Some(chat) {
            return None;
        }
        let partition = format!("CHAT#{chat}");
        let found = self
            .batch_get_all(vec![
                key(partition.clone(), format!("MEMBER#{}", claims.sub)),
                key(partition.clone(), "CHAT".to_owned()),
            ])
            .await?
            .len();
        let output = self
            .dynamodb
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND SK BETWEEN :low AND :high")
            .expression_attribute_values(":pk", AttributeValue::S(partition))
            .expression_attribute_values(":low", AttributeValue::S("MSG#".to_owned()))
            .expression_attribute_values(":high", AttributeValue::S("MSG#~".to_owned()))
            .scan_index_forward(false)
            .limit(52)
            .consistent_read(true)
            .send()
            .await
            .ok()?;
        Some(found + output.items().len())
    }
}
