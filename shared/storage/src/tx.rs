//! `TransactWriteItems` on the table. Each item added hands back a [`Slot`]; when the
//! transaction is cancelled, [`Cancelled`] answers per slot whether *its* condition
//! failed, and with what item. Only the entity module that built a transaction reads
//! its outcome, and turns it into a typed result of its own.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    CancellationReason, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update as UpdateItem,
};

use crate::item::{Item, Values, values};
use crate::update::Update;
use crate::{Db, Key, Result, StoreError};

/// Names one item of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot(usize);

pub(crate) struct Transaction<'a> {
    db: &'a Db,
    items: Vec<TransactWriteItem>,
    /// Items that keep the log's books (an event put): their failures are the race for
    /// the chat's counter, never a refusal of the write itself.
    bookkeeping: Vec<Slot>,
}

/// Why a transaction did not happen, item by item.
#[derive(Debug)]
pub(crate) struct Cancelled {
    reasons: Vec<CancellationReason>,
    bookkeeping: Vec<Slot>,
}

impl Cancelled {
    /// The condition of this item did not hold.
    pub(crate) fn failed(&self, slot: Slot) -> bool {
        self.reasons
            .get(slot.0)
            .and_then(CancellationReason::code)
            .is_some_and(|code| code == "ConditionalCheckFailed")
    }

    /// Some condition of the transaction did not hold.
    pub(crate) fn any_failed(&self) -> bool {
        self.reasons
            .iter()
            .any(|r| r.code() == Some("ConditionalCheckFailed"))
    }

    /// A condition of the write itself did not hold: of an item other than `head` and
    /// the log's bookkeeping.
    pub(crate) fn refused_besides(&self, head: Slot) -> bool {
        (0..self.reasons.len())
            .map(Slot)
            .filter(|slot| *slot != head && !self.bookkeeping.contains(slot))
            .any(|slot| self.failed(slot))
    }

    /// The item as it was when its condition failed (updates and deletes ask for it).
    pub(crate) fn item(&self, slot: Slot) -> Option<&Item> {
        self.reasons.get(slot.0).and_then(CancellationReason::item)
    }

    /// Another transaction held one of the items: worth another attempt.
    pub(crate) fn conflicted(&self) -> bool {
        self.reasons
            .iter()
            .any(|r| r.code() == Some("TransactionConflict"))
    }

    /// A cancellation the caller did not expect: "not now" when DynamoDB throttled or
    /// another transaction held an item (both pass), else a bug naming the reason codes.
    pub(crate) fn unexpected(&self, what: &'static str) -> StoreError {
        let reasons: Vec<String> = self
            .reasons
            .iter()
            .map(|r| r.code().unwrap_or("None").to_owned())
            .collect();
        if reasons
            .iter()
            .any(|c| matches!(c.as_str(), "ThrottlingError" | "TransactionConflict"))
        {
            StoreError::unavailable(
                "TransactWriteItems",
                format!("{what} cancelled: {reasons:?}"),
            )
        } else {
            StoreError::Cancelled { what, reasons }
        }
    }
}

#[cfg(test)]
impl Slot {
    pub(crate) const fn at(index: usize) -> Self {
        Self(index)
    }
}

#[cfg(test)]
impl Cancelled {
    /// A cancellation as DynamoDB reports it: a reason code (and item) per slot.
    pub(crate) fn of(reasons: &[(&str, Option<Item>)]) -> Self {
        Self {
            bookkeeping: Vec::new(),
            reasons: reasons
                .iter()
                .map(|(code, item)| {
                    CancellationReason::builder()
                        .code(*code)
                        .set_item(item.clone())
                        .build()
                })
                .collect(),
        }
    }
}

impl<'a> Transaction<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self {
            db,
            items: Vec::with_capacity(4),
            bookkeeping: Vec::new(),
        }
    }

    /// Marks an item as the log's bookkeeping (see [`Cancelled::refused_besides`]).
    pub(crate) fn bookkeeping(&mut self, slot: Slot) {
        self.bookkeeping.push(slot);
    }

    pub(crate) fn db(&self) -> &'a Db {
        self.db
    }

    fn push(&mut self, item: TransactWriteItem) -> Slot {
        self.items.push(item);
        Slot(self.items.len() - 1)
    }

    pub(crate) fn put(
        &mut self,
        item: Item,
        condition: &str,
        condition_values: Values<'_>,
    ) -> Result<Slot> {
        let put = Put::builder()
            .table_name(self.db.table())
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(values(condition_values))
            .build()?;
        Ok(self.push(TransactWriteItem::builder().put(put).build()))
    }

    /// A put that replaces whatever item has its key.
    pub(crate) fn put_over(&mut self, item: Item) -> Result<Slot> {
        let put = Put::builder()
            .table_name(self.db.table())
            .set_item(Some(item))
            .build()?;
        Ok(self.push(TransactWriteItem::builder().put(put).build()))
    }

    /// A put that must create its item (uniqueness, or a fresh id).
    pub(crate) fn put_new(&mut self, item: Item) -> Result<Slot> {
        self.put(item, "attribute_not_exists(PK)", &[])
    }

    pub(crate) fn delete(
        &mut self,
        key: &Key,
        condition: Option<&str>,
        condition_values: Values<'_>,
    ) -> Result<Slot> {
        let delete = Delete::builder()
            .table_name(self.db.table())
            .set_key(Some(key.to_item()))
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_values(values(condition_values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()?;
        Ok(self.push(TransactWriteItem::builder().delete(delete).build()))
    }

    /// An update built with [`Update`]; a failed condition hands back the item as it was.
    pub(crate) fn update_with(&mut self, key: &Key, update: Update) -> Result<Slot> {
        let parts = update.into_parts();
        let update = UpdateItem::builder()
            .table_name(self.db.table())
            .set_key(Some(key.to_item()))
            .update_expression(parts.expression)
            .set_condition_expression(parts.condition)
            .set_expression_attribute_names(parts.names)
            .set_expression_attribute_values(parts.values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()?;
        Ok(self.push(TransactWriteItem::builder().update(update).build()))
    }

    pub(crate) fn check(&mut self, key: &Key, condition: &str) -> Result<Slot> {
        self.check_with(key, condition, &[])
    }

    /// A condition on an item the transaction does not write, with its values.
    pub(crate) fn check_with(
        &mut self,
        key: &Key,
        condition: &str,
        condition_values: Values<'_>,
    ) -> Result<Slot> {
        let check = ConditionCheck::builder()
            .table_name(self.db.table())
            .set_key(Some(key.to_item()))
            .condition_expression(condition)
            .set_expression_attribute_values(values(condition_values))
            .build()?;
        Ok(self.push(TransactWriteItem::builder().condition_check(check).build()))
    }

    /// A condition that names attributes through `#placeholders` (`names`).
    pub(crate) fn check_named(
        &mut self,
        key: &Key,
        condition: &str,
        names: &[(&str, &str)],
    ) -> Result<Slot> {
        self.check_named_with(key, condition, names, &[])
    }

    /// [`Transaction::check_named`] with values too.
    pub(crate) fn check_named_with(
        &mut self,
        key: &Key,
        condition: &str,
        names: &[(&str, &str)],
        condition_values: Values<'_>,
    ) -> Result<Slot> {
        let names = names
            .iter()
            .map(|(placeholder, name)| ((*placeholder).to_owned(), (*name).to_owned()))
            .collect();
        let check = ConditionCheck::builder()
            .table_name(self.db.table())
            .set_key(Some(key.to_item()))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(values(condition_values))
            .build()?;
        Ok(self.push(TransactWriteItem::builder().condition_check(check).build()))
    }

    /// Runs it: `Ok(Err(cancelled))` when a condition (or a conflict) stopped it.
    pub(crate) async fn commit(self) -> Result<std::result::Result<(), Cancelled>> {
        let result = self
            .db
            .client()
            .transact_write_items()
            .set_transact_items(Some(self.items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Ok(())),
            Err(err) => match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    Ok(Err(Cancelled {
                        reasons: cancelled.cancellation_reasons().to_vec(),
                        bookkeeping: self.bookkeeping,
                    }))
                }
                _ => Err(err.into()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passes(err: StoreError) -> bool {
        matches!(err, StoreError::Aws(failure) if failure.unavailable)
    }

    #[test]
    fn passing_cancellations_are_unavailable_and_odd_ones_a_bug() {
        let throttled = Cancelled::of(&[("None", None), ("ThrottlingError", None)]);
        assert!(passes(throttled.unexpected("x")));
        let conflict = Cancelled::of(&[("TransactionConflict", None)]);
        assert!(passes(conflict.unexpected("x")));
        let odd = Cancelled::of(&[("ValidationError", None)]);
        assert!(matches!(
            odd.unexpected("x"),
            StoreError::Cancelled { what: "x", .. }
        ));
    }

    #[test]
    fn a_lost_counter_race_is_not_a_refusal_of_the_write() {
        let failed = "ConditionalCheckFailed";
        // The head and its event item failed (another write took the seq): a race.
        let mut race = Cancelled::of(&[(failed, None), (failed, None), ("None", None)]);
        race.bookkeeping.push(Slot::at(1));
        assert!(!race.refused_besides(Slot::at(0)));
        // The write's own item failed too (e.g. a used client id): a refusal.
        let mut refused = Cancelled::of(&[(failed, None), (failed, None), (failed, None)]);
        refused.bookkeeping.push(Slot::at(1));
        assert!(refused.refused_besides(Slot::at(0)));
    }
}
