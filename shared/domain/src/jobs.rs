//! Background jobs, as they travel on the SQS queues: webhook deliveries, and on the
//! mail queue unread-message checks and auth codes to make and mail.
//!
//! SQS holds a message back at most 15 minutes. A job due later carries its own
//! `not_before`; the function that receives it early sends it on again for the time left
//! ([`wait_left`]), at most 15 minutes per hop. That is how a webhook retry waits 12
//! hours without a polling table or a scan.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::auth_code::{CodeScope, CodeSource};
use crate::ids::{ChatId, ChatUserId, CompanyId, DeliveryId, WebhookId};

/// One webhook delivery to attempt (its record holds the body and the attempt count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub company_id: CompanyId,
    pub webhook_id: WebhookId,
    pub delivery_id: DeliveryId,
    /// Epoch ms before which the attempt must not happen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
}

/// One check whether a chat user should get an email about unread messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyJob {
    pub chat_id: ChatId,
    pub chat_user_id: ChatUserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
}

/// One auth code to make and, for a chat user, mail. The request that asked for it
/// (send-code, or an owner adding a chat user) kept its bookkeeping (the send throttle,
/// a code item waiting for its code) and answered without waiting for the mail: members
/// and strangers get their answers alike, however long SES takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeJob {
    /// The code item the request wrote names this job: only it may set the code (again,
    /// when a retry follows a failed mail), and a later request's item stops it.
    pub job_id: String,
    /// The chat the code opens (`None` for a company's front door).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<ChatId>,
    /// The company whose front door the code opens (a visitor's conversation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<CompanyId>,
    /// Normalized.
    pub email: String,
    pub source: CodeSource,
    /// `false` for an address that is no chat user: the code is made, never mailed, so
    /// its bookkeeping matches a member's.
    pub mailed: bool,
}

/// The end of a conversation's snooze: at `snoozed_until` it is open again, unless its
/// snooze changed meanwhile (then another job ends that one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WakeJob {
    pub chat_id: ChatId,
    pub snoozed_until: String,
    pub wake_at_ms: i64,
}

impl CodeJob {
    /// What the code opens (`None` only for a job naming neither: a bug).
    pub fn scope(&self) -> Option<CodeScope> {
        match (self.company_id, self.chat_id) {
            (Some(company), _) => Some(CodeScope::Company(company)),
            (None, Some(chat)) => Some(CodeScope::Chat(chat)),
            (None, None) => None,
        }
    }

    pub fn new(
        job_id: String,
        scope: CodeScope,
        email: String,
        source: CodeSource,
        mailed: bool,
    ) -> Self {
        let (chat_id, company_id) = match scope {
            CodeScope::Chat(chat) => (Some(chat), None),
            CodeScope::Company(company) => (None, Some(company)),
        };
        Self {
            job_id,
            chat_id,
            company_id,
            email,
            source,
            mailed,
        }
    }
}

/// What the mail queue carries (and the jobs that wait on it, as unread checks do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MailJob {
    /// Tried first: only it has `job_id`, `email` and `source`.
    Code(CodeJob),
    /// Only it has `snoozed_until`.
    Wake(WakeJob),
    Unread(NotifyJob),
}

/// How long a job received at `now_millis` must still wait; `None` when it is due.
pub fn wait_left(not_before: Option<i64>, now_millis: i64) -> Option<Duration> {
    let left = not_before? - now_millis;
    (left > 0).then(|| Duration::from_millis(u64::try_from(left).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_waits_only_until_it_is_due() {
        assert_eq!(wait_left(None, 5), None);
        assert_eq!(wait_left(Some(5), 5), None);
        assert_eq!(wait_left(Some(1_005), 5), Some(Duration::from_secs(1)));
    }

    #[test]
    fn the_mail_queue_tells_its_jobs_apart() {
        let unread = MailJob::Unread(NotifyJob {
            chat_id: ChatId::new(),
            chat_user_id: ChatUserId::new(),
            not_before: Some(5),
        });
        let code = MailJob::Code(CodeJob::new(
            "j".into(),
            CodeScope::Chat(ChatId::new()),
            "ann@example.com".into(),
            CodeSource::Caller("tag".into()),
            true,
        ));
        let wake = MailJob::Wake(WakeJob {
            chat_id: ChatId::new(),
            snoozed_until: "2026-12-05T10:00:00.000Z".into(),
            wake_at_ms: 5,
        });
        for job in [unread, code, wake] {
            let text = serde_json::to_string(&job).unwrap();
            assert_eq!(
                serde_json::from_str::<MailJob>(&text).unwrap(),
                job,
                "{text}"
            );
        }
    }

    #[test]
    fn jobs_travel_as_json() {
        let job = NotifyJob {
            chat_id: ChatId::new(),
            chat_user_id: ChatUserId::new(),
            not_before: None,
        };
        let text = serde_json::to_string(&job).unwrap();
        assert!(!text.contains("not_before"));
        assert_eq!(serde_json::from_str::<NotifyJob>(&text).unwrap(), job);
    }
}
