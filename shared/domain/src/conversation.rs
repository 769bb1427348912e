//! A conversation's state as its messages move it: who owes an answer since when, and
//! the first answer's time. Pure: storage writes what [`after_message`] decides, in the
//! message's own transaction.

use crate::chat::ConversationStatus;
use crate::clock;

/// What a message reads of its conversation (as the chat item was read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateRead {
    pub status: ConversationStatus,
    pub waiting_since: Option<String>,
    pub first_response_at: Option<String>,
    pub snoozed: bool,
}

/// Who posts, as far as the state cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poster {
    Guest,
    /// A member's reply the guest sees.
    Staff,
    /// A member's note: no reply, so it moves nothing.
    Note,
}

/// The state after a message at `at` (`at_ms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateAfter {
    pub status: ConversationStatus,
    pub waiting_since: Option<String>,
    /// Set by the first staff reply to a waiting guest.
    pub first_response_at: Option<String>,
    /// Milliseconds from the guest's first unanswered message to that first reply.
    pub first_response_ms: Option<i64>,
    /// A guest message ends a snooze.
    pub clears_snooze: bool,
}

/// A guest message makes the conversation `open` (from pending, snoozed or resolved) and
/// starts the wait if none runs; a staff reply ends the wait (and, the first time, is the
/// first response); a note changes nothing.
pub fn after_message(read: &StateRead, poster: Poster, at: &str, at_ms: i64) -> StateAfter {
    let unchanged = StateAfter {
        status: read.status,
        waiting_since: read.waiting_since.clone(),
        first_response_at: read.first_response_at.clone(),
        first_response_ms: None,
        clears_snooze: false,
    };
    match poster {
        Poster::Note => unchanged,
        Poster::Guest => StateAfter {
            status: ConversationStatus::Open,
            waiting_since: Some(read.waiting_since.clone().unwrap_or_else(|| at.to_owned())),
            clears_snooze: read.snoozed || read.status == ConversationStatus::Snoozed,
            ..unchanged
        },
        Poster::Staff => {
            let first = read.first_response_at.is_none() && read.waiting_since.is_some();
            StateAfter {
                waiting_since: None,
                first_response_at: if first {
                    Some(at.to_owned())
                } else {
                    read.first_response_at.clone()
                },
                first_response_ms: first
                    .then(|| read.waiting_since.as_deref().and_then(clock::parse_rfc3339))
                    .flatten()
                    .map(|since| (at_ms - since).max(0)),
                ..unchanged
            }
        }
    }
}

/// The inbox's sort keys of a conversation: newest activity (`recent`, GSI2, read
/// backwards, every conversation) and the start of its wait (`waiting`, GSI3, read
/// forwards; only unanswered conversations have one, so a reply leaves that index).
/// Bare times: index keys need not be unique (a cursor holds the table key too, which
/// orders ties), and every byte on the chat item counts toward a message's write units.
pub fn recent_key(last_activity: &str) -> String {
    last_activity.to_owned()
}

pub fn waiting_key(waiting_since: &str) -> String {
    waiting_since.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: &str = "2026-12-05T10:00:00.000Z";
    const T1: &str = "2026-12-05T10:05:00.000Z";

    fn read(status: ConversationStatus, waiting: Option<&str>) -> StateRead {
        StateRead {
            status,
            waiting_since: waiting.map(str::to_owned),
            first_response_at: None,
            snoozed: status == ConversationStatus::Snoozed,
        }
    }

    #[test]
    fn a_guest_message_reopens_and_starts_the_wait_once() {
        for status in ConversationStatus::ALL {
            let after = after_message(&read(status, None), Poster::Guest, T0, 0);
            assert_eq!(after.status, ConversationStatus::Open);
            assert_eq!(after.waiting_since.as_deref(), Some(T0));
            assert_eq!(after.clears_snooze, status == ConversationStatus::Snoozed);
        }
        let later = after_message(
            &read(ConversationStatus::Open, Some(T0)),
            Poster::Guest,
            T1,
            0,
        );
        assert_eq!(later.waiting_since.as_deref(), Some(T0));
    }

    #[test]
    fn the_first_staff_reply_ends_the_wait_and_is_timed_and_a_note_moves_nothing() {
        let waiting = read(ConversationStatus::Open, Some(T0));
        let t1_ms = clock::parse_rfc3339(T1).unwrap();
        let note = after_message(&waiting, Poster::Note, T1, t1_ms);
        assert_eq!(note.waiting_since.as_deref(), Some(T0));
        assert_eq!(note.first_response_at, None);
        let reply = after_message(&waiting, Poster::Staff, T1, t1_ms);
        assert_eq!(reply.waiting_since, None);
        assert_eq!(reply.first_response_at.as_deref(), Some(T1));
        assert_eq!(reply.first_response_ms, Some(5 * 60 * 1000));
        assert_eq!(reply.status, ConversationStatus::Open);
        let answered = StateRead {
            first_response_at: Some(T1.into()),
            ..waiting
        };
        let second = after_message(&answered, Poster::Staff, T1, t1_ms);
        assert_eq!(second.first_response_ms, None);
        assert_eq!(second.first_response_at.as_deref(), Some(T1));
    }

    #[test]
    fn the_longest_wait_sorts_first() {
        let waiting_long = waiting_key(T0);
        let waiting_short = waiting_key(T1);
        let mut keys = vec![waiting_short.clone(), waiting_long.clone()];
        keys.sort();
        assert_eq!(keys, [waiting_long, waiting_short]);
    }
}
