//! One `UpdateItem`, built from named changes: `SET` for values, `REMOVE` for nulls,
//! `ADD` for counters, and a condition. Attribute names go through `#name` placeholders
//! (so reserved words like `name` are fine), values through `:name`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use serde::de::DeserializeOwned;

use crate::item::{Item, from_item, is_condition_failed, s};
use crate::{Db, Key, Result};

pub(crate) struct UpdateParts {
    pub(crate) expression: String,
    pub(crate) condition: Option<String>,
    pub(crate) names: Option<HashMap<String, String>>,
    pub(crate) values: Option<HashMap<String, AttributeValue>>,
}

#[derive(Debug, Default)]
#[must_use]
pub(crate) struct Update {
    sets: Vec<String>,
    removes: Vec<String>,
    adds: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    condition: Option<String>,
}

impl Update {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn name(&mut self, attr: &str) -> String {
        let placeholder = format!("#{attr}");
        self.names.insert(placeholder.clone(), attr.to_owned());
        placeholder
    }

    pub(crate) fn set(mut self, attr: &str, value: AttributeValue) -> Self {
        let name = self.name(attr);
        self.values.insert(format!(":{attr}"), value);
        self.sets.push(format!("{name} = :{attr}"));
        self
    }

    pub(crate) fn remove(mut self, attr: &str) -> Self {
        let name = self.name(attr);
        self.removes.push(name);
        self
    }

    /// Sets `attr` to the value at `placeholder` unless it has a value already.
    pub(crate) fn set_if_absent(mut self, attr: &str, placeholder: &str) -> Self {
        let name = self.name(attr);
        self.sets
            .push(format!("{name} = if_not_exists({name}, {placeholder})"));
        self
    }

    /// Sets `key` of the map attribute `map` (the map must exist).
    pub(crate) fn set_entry(mut self, map: &str, key: &str, value: AttributeValue) -> Self {
        let map_name = self.name(map);
        let key_name = self.name(key);
        let placeholder = format!(":{map}_{key}");
        self.values.insert(placeholder.clone(), value);
        self.sets
            .push(format!("{map_name}.{key_name} = {placeholder}"));
        self
    }

    /// Removes `key` of the map attribute `map`.
    pub(crate) fn remove_entry(mut self, map: &str, key: &str) -> Self {
        let map_name = self.name(map);
        let key_name = self.name(key);
        self.removes.push(format!("{map_name}.{key_name}"));
        self
    }

    /// Adds to a number (atomic: concurrent adds all count).
    pub(crate) fn add(mut self, attr: &str, value: AttributeValue) -> Self {
        let name = self.name(attr);
        self.values.insert(format!(":{attr}"), value);
        self.adds.push(format!("{name} :{attr}"));
        self
    }

    /// `Some(Some(v))` sets, `Some(None)` removes, `None` leaves the attribute alone.
    pub(crate) fn set_or_remove(self, attr: &str, change: Option<Option<String>>) -> Self {
        match change {
            Some(Some(text)) => self.set(attr, s(text)),
            Some(None) => self.remove(attr),
            None => self,
        }
    }

    /// Declares `#attr` for a condition on an attribute the update does not change.
    pub(crate) fn named(mut self, attr: &str) -> Self {
        self.name(attr);
        self
    }

    pub(crate) fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    /// Adds a condition; several are all required (`AND`).
    pub(crate) fn condition(mut self, expression: &str) -> Self {
        self.condition = Some(match self.condition.take() {
            None => expression.to_owned(),
            Some(earlier) => format!("({earlier}) AND ({expression})"),
        });
        self
    }

    /// What an `UpdateItem` or a transaction's `Update` is made of.
    pub(crate) fn into_parts(self) -> UpdateParts {
        let expression = self.expression();
        UpdateParts {
            expression,
            condition: self.condition,
            names: (!self.names.is_empty()).then_some(self.names),
            values: (!self.values.is_empty()).then_some(self.values),
        }
    }

    fn expression(&self) -> String {
        let clauses = [
            ("SET", &self.sets),
            ("REMOVE", &self.removes),
            ("ADD", &self.adds),
        ];
        clauses
            .iter()
            .filter(|(_, parts)| !parts.is_empty())
            .map(|(verb, parts)| format!("{verb} {}", parts.join(", ")))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl Db {
    async fn apply(
        &self,
        key: &Key,
        update: Update,
        returns: ReturnValue,
    ) -> Result<Option<Option<Item>>> {
        let parts = update.into_parts();
        let result = self
            .client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.to_item()))
            .update_expression(parts.expression)
            .set_condition_expression(parts.condition)
            .set_expression_attribute_names(parts.names)
            .set_expression_attribute_values(parts.values)
            .return_values(returns)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Some(output.attributes)),
            Err(err) if is_condition_failed(&err) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// Applies `update` if its condition holds and returns the item as it is now;
    /// `None` when the condition did not hold.
    pub(crate) async fn update_returning<T: DeserializeOwned>(
        &self,
        key: &Key,
        update: Update,
    ) -> Result<Option<T>> {
        match self.apply(key, update, ReturnValue::AllNew).await? {
            Some(item) => Ok(Some(from_item(item.unwrap_or_default())?)),
            None => Ok(None),
        }
    }

    /// As [`Db::update_returning`], the item as stored (for an item whose attributes
    /// say which record it holds).
    pub(crate) async fn update_returning_item(
        &self,
        key: &Key,
        update: Update,
    ) -> Result<Option<Item>> {
        Ok(self
            .apply(key, update, ReturnValue::AllNew)
            .await?
            .map(Option::unwrap_or_default))
    }

    /// Applies `update` if its condition holds; `false` when it did not.
    pub(crate) async fn update_if(&self, key: &Key, update: Update) -> Result<bool> {
        Ok(self.apply(key, update, ReturnValue::None).await?.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::n;

    #[test]
    fn clauses_and_placeholders() {
        let update = Update::new()
            .set("name", s("Acme"))
            .set_or_remove("website", Some(None))
            .set_or_remove("description", None)
            .add("count", n(1))
            .condition("attribute_exists(PK)")
            .condition("#count < :count");
        assert_eq!(
            update.condition.as_deref(),
            Some("(attribute_exists(PK)) AND (#count < :count)")
        );
        assert_eq!(
            update.expression(),
            "SET #name = :name REMOVE #website ADD #count :count"
        );
        assert_eq!(update.names.len(), 3);
        assert_eq!(update.values.len(), 2);
        assert!(!update.names.contains_key("#description"));
    }
}
