//! The auth code of one email in one chat, with its send throttle. Every write is
//! conditional on the version read, so of concurrent sends or guesses only one wins: a
//! code is used at most once, and at most one email goes out per window.

use domain::auth_code::{AuthCodeRecord, CodeAttempt, CodeScope, CodeSource};
use domain::chat::ChatRecord;
use domain::company::CompanyRecord;
use domain::ids::{ChatId, ChatUserId, CompanyId};

use crate::chat_users::ChatUserEmailPointer;
use crate::item::{from_item, n, s, to_item};
use crate::key::{Entity, TTL, chat_partition, company_partition};
use crate::update::Update;
use crate::{Db, Key, Result};

impl Entity for AuthCodeRecord {
    /// What it opens, the email, and who asked.
    type Id<'a> = (CodeScope, &'a str, &'a CodeSource);

    fn key((scope, email, source): (CodeScope, &str, &CodeSource)) -> Key {
        let partition = match scope {
            CodeScope::Chat(chat_id) => chat_partition(chat_id),
            CodeScope::Company(company_id) => company_partition(company_id),
        };
        Key::new(partition, format!("CODE#{email}#{}", source.tag()))
    }
}

/// What a company's front door reads first, in one round trip.
#[derive(Debug)]
pub struct CompanyCodeLookup {
    pub company: Option<CompanyRecord>,
    /// The codes found of the sources asked about, in the order asked.
    pub codes: Vec<(CodeSource, AuthCodeRecord)>,
}

/// What send-code and get-token read first, in one round trip.
#[derive(Debug)]
pub struct CodeLookup {
    pub chat: Option<ChatRecord>,
    /// The chat user this email belongs to in the chat, if any.
    pub member: Option<ChatUserId>,
    /// The codes found of the sources asked about, in the order asked.
    pub codes: Vec<(CodeSource, AuthCodeRecord)>,
}

// A chat user's pending codes are not removed with it or with its old email: a code
// only ever opens the chat user its email points to now (get-token reads the pointer
// in the same round trip), and it went to that very mailbox.

#[derive(Debug, Clone, Copy)]
pub struct AuthCodes<'a> {
    pub(crate) db: &'a Db,
}

impl AuthCodes<'_> {
    /// The chat, the email's chat user, and the codes of `sources` (at most 3), in one
    /// round trip.
    pub async fn lookup(
        &self,
        chat_id: ChatId,
        email: &str,
        sources: &[CodeSource],
    ) -> Result<CodeLookup> {
        let chat = ChatRecord::key(chat_id);
        let member = ChatUserEmailPointer::key((chat_id, email));
        let code_keys: Vec<Key> = sources
            .iter()
            .map(|source| AuthCodeRecord::key((CodeScope::Chat(chat_id), email, source)))
            .collect();
        let keys: Vec<&Key> = [&chat, &member].into_iter().chain(&code_keys).collect();
        let mut found = self.db.get_all(&keys).await?.into_iter();
        let (chat, member) = (found.next().flatten(), found.next().flatten());
        let mut codes = Vec::with_capacity(sources.len());
        for (source, item) in sources.iter().zip(found) {
            if let Some(item) = item {
                codes.push((source.clone(), from_item(item)?));
            }
        }
        Ok(CodeLookup {
            chat: chat.map(from_item).transpose()?,
            member: member
                .map(from_item::<ChatUserEmailPointer>)
                .transpose()?
                .map(|pointer| pointer.chat_user_id),
            codes,
        })
    }

    /// The company and the codes of `sources` (at most 3) for `email` at its front
    /// door, in one round trip.
    pub async fn lookup_company(
        &self,
        company_id: CompanyId,
        email: &str,
        sources: &[CodeSource],
    ) -> Result<CompanyCodeLookup> {
        let company = CompanyRecord::key(company_id);
        let code_keys: Vec<Key> = sources
            .iter()
            .map(|source| AuthCodeRecord::key((CodeScope::Company(company_id), email, source)))
            .collect();
        let keys: Vec<&Key> = [&company].into_iter().chain(&code_keys).collect();
        let mut found = self.db.get_all(&keys).await?.into_iter();
        let company = found.next().flatten();
        let mut codes = Vec::with_capacity(sources.len());
        for (source, item) in sources.iter().zip(found) {
            if let Some(item) = item {
                codes.push((source.clone(), from_item(item)?));
            }
        }
        Ok(CompanyCodeLookup {
            company: company.map(from_item).transpose()?,
            codes,
        })
    }

    pub async fn get(
        &self,
        chat_id: CodeScope,
        email: &str,
        source: &CodeSource,
    ) -> Result<Option<AuthCodeRecord>> {
        self.db
            .get(&AuthCodeRecord::key((chat_id, email, source)))
            .await
    }

    /// Writes `code` over the version read (`previous_version`, 0 for none); `false`
    /// when another write got in first. DynamoDB may drop the item after `forget_at_ms`.
    pub async fn store(
        &self,
        chat_id: CodeScope,
        email: &str,
        source: &CodeSource,
        code: &AuthCodeRecord,
        previous_version: u64,
        forget_at_ms: i64,
    ) -> Result<bool> {
        let mut item = to_item(&AuthCodeRecord::key((chat_id, email, source)), code)?;
        item.insert(TTL.to_owned(), n(forget_at_ms / 1000 + 60));
        self.db
            .put_if(
                item,
                "attribute_not_exists(PK) OR version = :version",
                &[(":version", n(previous_version))],
            )
            .await
    }

    /// Sets the code of the item `job_id` is to make it for (its digest, and when it
    /// expires); `false` when a later request replaced the item, the code is set already
    /// (a second delivery of the same job), was used, or is gone.
    pub async fn set_code(
        &self,
        chat_id: CodeScope,
        email: &str,
        source: &CodeSource,
        job_id: &str,
        digest: &str,
        expires_at_ms: i64,
    ) -> Result<bool> {
        let update = Update::new()
            .set("code_digest", s(digest))
            .set("expires_at_ms", n(expires_at_ms))
            .set("failed_attempts", n(0))
            .value(":job", s(job_id))
            .condition("attribute_exists(PK) AND made_by_job = :job")
            .condition("attribute_not_exists(code_digest)");
        self.db
            .update_if(&AuthCodeRecord::key((chat_id, email, source)), update)
            .await
    }

    /// Takes back the code `job_id` set, when its mail failed: the job's retry sets a new
    /// one (nobody saw this one).
    pub async fn clear_code(
        &self,
        chat_id: CodeScope,
        email: &str,
        source: &CodeSource,
        job_id: &str,
    ) -> Result<bool> {
        let update = Update::new()
            .remove("code_digest")
            .value(":job", s(job_id))
            .condition("attribute_exists(PK) AND made_by_job = :job");
        self.db
            .update_if(&AuthCodeRecord::key((chat_id, email, source)), update)
            .await
    }

    /// Consumes the code or counts the try, conditional on the version read; `false`
    /// when another attempt settled it first.
    pub async fn settle(
        &self,
        chat_id: CodeScope,
        email: &str,
        source: &CodeSource,
        read_version: u64,
        attempt: CodeAttempt,
    ) -> Result<bool> {
        let update = Update::new()
            .set("version", n(read_version + 1))
            .condition("version = :read")
            .value(":read", n(read_version));
        let update = match attempt {
            // Used: no job may make it again.
            CodeAttempt::Correct => update.remove("code_digest").remove("made_by_job"),
            CodeAttempt::Wrong {
                failed_attempts,
                kills,
            } => {
                let update = update.set("failed_attempts", n(failed_attempts));
                if kills {
                    update.remove("code_digest").remove("made_by_job")
                } else {
                    update
                }
            }
        };
        self.db
            .update_if(&AuthCodeRecord::key((chat_id, email, source)), update)
            .await
    }

    /// Deletes every code kept for `email` in the chat, whoever asked for it; how many.
    pub async fn delete_all_of(&self, chat_id: ChatId, email: &str) -> Result<usize> {
        self.db
            .purge_prefix(&chat_partition(chat_id), &format!("CODE#{email}#"))
            .await
    }
}
