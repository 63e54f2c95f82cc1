//! `DynamoSessionStore`: the [`SessionStore`] port on the `sessions` table, with optimistic
//! concurrency through a `version` attribute and conditional writes.

use std::time::Duration;

use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use aws_sdk_dynamodb::Client;
use kyc_core::model::VerificationId;
use kyc_core::ports::{PortError, SessionStore, Version};
use kyc_core::session::{Session, State};

use super::{
    get_consistent, get_n, get_s, n, port_error, put_failure, s, ttl_secs, Item, WriteFailure,
    TTL_ATTRIBUTE,
};

/// Verification sessions in DynamoDB.
///
/// # Item
///
/// | attribute | type | value |
/// |---|---|---|
/// | `verificationId` | S | partition key |
/// | `version` | N | 1 at creation, one more per save |
/// | `session` | S | the session as JSON (kyc-core's serde form, as kyc-local stores it) |
/// | `state` | S | the state's name (`documentRead`, `decided`…), for operators and streams |
/// | `outcome` | S | `approved`/`rejected`/`review`, once decided |
/// | `updatedAt` | N | the session's last change, milliseconds since the epoch |
/// | `expiresAt` | N | TTL, epoch seconds: the session's deadline plus the retention |
///
/// The deadline (`Session::expires_at`) ends the *verification*; the item is kept `retention`
/// longer (30 days by default) so the decision can still be read, then DynamoDB's TTL sweeper
/// removes it.
///
/// # Calls and IAM actions
///
/// `load`: `GetItem` (consistent). `save`: `PutItem` with
/// `ConditionExpression = attribute_not_exists(verificationId)` (create) or
/// `version = :expected` (update), `ReturnValuesOnConditionCheckFailure = ALL_OLD`.
/// `delete`: `DeleteItem`. IAM: `dynamodb:GetItem`, `dynamodb:PutItem`,
/// `dynamodb:DeleteItem` on the table, and `kms:Decrypt`/`kms:GenerateDataKey` on its key.
///
/// # Errors
///
/// A failed condition is [`PortError::Conflict`] (nothing changed), unless the stored item is
/// exactly the one this call writes, version and session byte for byte: then the save
/// succeeds with that version. That is what makes a write whose first attempt landed but
/// whose answer was lost (retried by the SDK, or by the caller after a timeout) succeed
/// instead of reporting a conflict against itself. The adapter cannot tell such a retry from
/// another call writing the identical session (same steps at the same instants), and need
/// not: the stored state is exactly what either caller asked for, and any further change is
/// again conditional. A different session under the same id (a replayed upload that built a
/// new session) is a conflict. A stored item that does not decode, or holds another verification's
/// session, is [`PortError::Integrity`]. The rest as in [`super`].
#[derive(Clone, Debug)]
pub struct DynamoSessionStore {
    client: Client,
    table: String,
    retention: Duration,
}

impl DynamoSessionStore {
    /// How long an item is kept after the session's deadline unless configured otherwise.
    pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

    /// A store on `table` with the default retention.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self::with_retention(client, table, Self::DEFAULT_RETENTION)
    }

    /// A store whose items expire `retention` after their session's deadline.
    pub fn with_retention(client: Client, table: impl Into<String>, retention: Duration) -> Self {
        Self {
            client,
            table: table.into(),
            retention,
        }
    }

    /// The item for `session` at `version`.
    fn encode(&self, session: &Session, version: u64) -> Result<Item, PortError> {
        let body = serde_json::to_string(session).map_err(|_| PortError::Rejected {
            backend: super::BACKEND,
            reason: "the session could not be encoded",
        })?;
        let retention = i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX);
        let expires = ttl_secs(session.expires_at().plus_millis(retention));
        let mut item: Item = [
            ("verificationId", s(session.verification_id().as_str())),
            ("version", n(version)),
            ("session", s(body)),
            ("state", s(session.state().name().as_str())),
            ("updatedAt", n(session.updated_at().millis())),
            (TTL_ATTRIBUTE, n(expires)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        if let State::Decided { outcome, .. } = session.state() {
            item.insert("outcome".to_owned(), s(outcome.as_str()));
        }
        Ok(item)
    }
}

/// Decodes a stored item of verification `id`.
fn decode(id: &VerificationId, item: &Item) -> Result<(Session, Version), PortError> {
    let session: Session =
        serde_json::from_str(get_s(item, "session")?).map_err(|_| PortError::Integrity)?;
    let version = get_n::<u64>(item, "version")?;
    if session.verification_id() != *id || get_s(item, "verificationId")? != id.as_str() {
        return Err(PortError::Integrity);
    }
    Ok((session, Version(version)))
}

impl SessionStore for DynamoSessionStore {
    async fn load(&self, id: &VerificationId) -> Result<Option<(Session, Version)>, PortError> {
        get_consistent(&self.client, &self.table, "verificationId", id.as_str())
            .await?
            .map(|item| decode(id, &item))
            .transpose()
    }

    async fn save(
        &self,
        session: &Session,
        expected: Option<Version>,
    ) -> Result<Version, PortError> {
        let next = match expected {
            None => 1,
            Some(Version(v)) => v.checked_add(1).ok_or(PortError::Conflict)?,
        };
        let item = self.encode(session, next)?;
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.clone()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        put = match expected {
            None => put.condition_expression("attribute_not_exists(verificationId)"),
            Some(Version(v)) => put
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", n(v)),
        };
        match put.send().await {
            Ok(_) => Ok(Version(next)),
            Err(e) => match put_failure(e) {
                // The SDK retried a write that had landed: the stored item is ours.
                WriteFailure::Condition(Some(stored)) if is_same_write(&stored, &item) => {
                    Ok(Version(next))
                }
                WriteFailure::Condition(_) => Err(PortError::Conflict),
                WriteFailure::Other(e) => Err(e),
            },
        }
    }

    async fn delete(&self, id: &VerificationId) -> Result<(), PortError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("verificationId", s(id.as_str()))
            .send()
            .await
            .map_err(|e| port_error(&e))?;
        Ok(())
    }
}

/// Whether `stored` is the item `written` (same version, same session body).
fn is_same_write(stored: &Item, written: &Item) -> bool {
    ["version", "session"]
        .iter()
        .all(|k| stored.get(*k).is_some() && stored.get(*k) == written.get(*k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyc_core::model::Timestamp;
    use kyc_core::session::StepKey;

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);

    fn store() -> DynamoSessionStore {
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .build();
        DynamoSessionStore::with_retention(
            Client::from_conf(conf),
            "sessions",
            Duration::from_secs(60),
        )
    }

    fn session() -> Session {
        Session::start(
            VerificationId::from_random_bytes([1; 16]),
            StepKey::parse("upload-1").unwrap(),
            T0,
            T0.plus_millis(900_500),
        )
    }

    #[test]
    fn an_item_round_trips_and_expires_after_deadline_plus_retention() {
        let (store, session) = (store(), session());
        let item = store.encode(&session, 3).unwrap();
        assert_eq!(
            decode(&session.verification_id(), &item).unwrap(),
            (session.clone(), Version(3))
        );
        // Deadline T0 + 900.5 s, plus 60 s, rounded up to the second.
        assert_eq!(get_n::<i64>(&item, TTL_ATTRIBUTE), Ok(T0.secs() + 961));
        assert_eq!(get_s(&item, "state"), Ok("documentUploaded"));
        assert!(!item.contains_key("outcome"));
    }

    #[test]
    fn an_item_of_another_verification_or_a_broken_body_is_an_integrity_failure() {
        let (store, session) = (store(), session());
        let item = store.encode(&session, 1).unwrap();
        let other = VerificationId::from_random_bytes([2; 16]);
        assert_eq!(decode(&other, &item), Err(PortError::Integrity));
        let mut broken = item.clone();
        broken.insert("session".into(), s("{\"not\":\"a session\"}"));
        assert_eq!(
            decode(&session.verification_id(), &broken),
            Err(PortError::Integrity)
        );
        let mut no_version = item;
        no_version.remove("version");
        assert_eq!(
            decode(&session.verification_id(), &no_version),
            Err(PortError::Integrity)
        );
    }

    #[test]
    fn only_the_identical_item_counts_as_this_calls_own_write() {
        let (store, session) = (store(), session());
        let mine = store.encode(&session, 2).unwrap();
        assert!(is_same_write(&mine, &mine));
        let newer = store.encode(&session, 3).unwrap();
        assert!(!is_same_write(&newer, &mine));
        let mut moved = session.clone();
        moved
            .apply(
                kyc_core::session::Step::ReadDocument {
                    outcome: kyc_core::session::ReadOutcome::Readable,
                },
                T0,
            )
            .unwrap();
        assert!(!is_same_write(&store.encode(&moved, 2).unwrap(), &mine));
        assert!(!is_same_write(&Item::new(), &Item::new()));
    }
}
