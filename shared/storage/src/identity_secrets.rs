//! A company's identity secret (one item in its partition): replaced whole by each new
//! one, which keeps the one it replaced for the overlap.

use domain::clock;
use domain::company::{IDENTITY_SECRET_OVERLAP_MS, IdentitySecretRecord};
use domain::ids::CompanyId;
use domain::webhook::SigningSecret;

use crate::item::{s, to_item};
use crate::key::{Entity, company_partition};
use crate::{Db, Key, Result};

impl Entity for IdentitySecretRecord {
    type Id<'a> = CompanyId;

    fn key(company_id: CompanyId) -> Key {
        Key::new(company_partition(company_id), "IDENTITY")
    }
}

#[derive(Debug, Clone, Copy)]
pub struct IdentitySecrets<'a> {
    pub(crate) db: &'a Db,
}

impl IdentitySecrets<'_> {
    pub async fn get(&self, company_id: CompanyId) -> Result<Option<IdentitySecretRecord>> {
        self.db.get(&IdentitySecretRecord::key(company_id)).await
    }

    /// Makes `secret` the company's, the current one (if any) verifying for the overlap;
    /// conditional on the one read, so of two rotations at once only one is kept (the
    /// other gets `None`: no secret shown that does not verify).
    pub async fn rotate(
        &self,
        company_id: CompanyId,
        secret: String,
    ) -> Result<Option<IdentitySecretRecord>> {
        let now_ms = clock::now_millis();
        let current = self.get(company_id).await?;
        let read_at = current.as_ref().map(|c| c.created_at.clone());
        let record = IdentitySecretRecord {
            company_id,
            secret: SigningSecret::new(secret),
            previous_secret: current.as_ref().map(|c| c.secret.clone()),
            previous_until_ms: current.map(|_| now_ms + IDENTITY_SECRET_OVERLAP_MS),
            created_at: clock::rfc3339(now_ms),
        };
        let item = to_item(&IdentitySecretRecord::key(company_id), &record)?;
        let written = match read_at {
            None => self.db.put_new(item).await?,
            Some(read_at) => {
                self.db
                    .put_if(item, "created_at = :read_at", &[(":read_at", s(read_at))])
                    .await?
            }
        };
        Ok(written.then_some(record))
    }
}
