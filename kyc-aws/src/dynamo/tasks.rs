//! `DynamoTaskStore`: the SecureTask board's tasks in the `tasks` table, with optimistic
//! concurrency like the sessions; the same API and rules as kyc-local's `SqliteTaskStore`
//! (the model is [`kyc_core::tasks`]).

use std::fmt;
use std::sync::Arc;

use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;
use kyc_core::model::{Timestamp, ValueError};
use kyc_core::ports::{PortError, RandomSource, Version};
use kyc_core::tasks::{normalize_title, Task, TaskChange, TaskId, TaskStatus};

use super::{
    delete_failure, get_consistent, get_n, get_s, n, port_error, put_failure, s, update_failure,
    Item, WriteFailure,
};

/// Why a task-store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskStoreError {
    /// An argument was refused (empty or overlong owner or title, control characters); the
    /// message names the argument, never its value.
    #[error(transparent)]
    Invalid(#[from] ValueError),
    /// DynamoDB failed, or a conditional write lost a race ([`PortError::Conflict`]).
    #[error(transparent)]
    Port(#[from] PortError),
}

impl TaskStoreError {
    /// Whether repeating the operation later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Port(p) if p.is_retryable())
    }
}

/// Tasks in DynamoDB.
///
/// # Item
///
/// `taskId` (S, partition key), `owner` (S), `title` (S), `status` (S: `todo`/`doing`/`done`),
/// `createdAt`, `updatedAt` (N, milliseconds since the epoch), `version` (N: 1 at creation,
/// one more per change). The table's stream (`NEW_AND_OLD_IMAGES`) becomes
/// [`TaskEvent`](kyc_core::tasks::TaskEvent)s ([`super::streams`]). Titles are user text:
/// they stay in the table (KMS-encrypted at rest) and never go into events.
///
/// # Listing an owner's tasks
///
/// The stack's table has no index on `owner`, so [`list_for_owner`](Self::list_for_owner)
/// is a paginated, strongly consistent `Scan` with `FilterExpression = owner = :owner`: it
/// reads the whole table, which suits a reference board with few tasks and always sees a task
/// just created. With [`with_owner_index`](Self::with_owner_index) it `Query`s a global
/// secondary index keyed on `owner` instead (cheap at any size, but eventually consistent: a
/// task created a moment ago may be missing).
///
/// # Calls and IAM actions
///
/// `create`: `PutItem` (`attribute_not_exists(taskId)`); `get`: `GetItem` (consistent);
/// `list_for_owner`: `Scan` (or `Query` on the index); `update`: `UpdateItem` with
/// `version = :expected`; `delete`: `DeleteItem` with `version = :expected`. Conditional
/// writes return the stored item on failure (`ALL_OLD`), which tells "no such task" from "the
/// task changed" in one call, and recognises this call's own write after an SDK retry. IAM:
/// `dynamodb:PutItem`, `GetItem`, `Scan` (or `Query` on `table/…/index/…`), `UpdateItem`,
/// `DeleteItem`, and use of the table's KMS key.
///
/// # Errors
///
/// [`TaskStoreError::Invalid`] for refused arguments; [`PortError::Conflict`] when the task
/// changed since the expected version (nothing changed); [`PortError::Integrity`] for an item
/// that does not decode; the rest as in [`super`].
#[derive(Clone)]
pub struct DynamoTaskStore {
    client: Client,
    table: String,
    rng: Arc<dyn RandomSource>,
    owner_index: Option<String>,
}

impl fmt::Debug for DynamoTaskStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoTaskStore")
            .field("table", &self.table)
            .field("owner_index", &self.owner_index)
            .finish_non_exhaustive()
    }
}

impl DynamoTaskStore {
    /// A store on `table`; task ids are drawn from `rng`.
    pub fn new(client: Client, table: impl Into<String>, rng: Arc<dyn RandomSource>) -> Self {
        Self {
            client,
            table: table.into(),
            rng,
            owner_index: None,
        }
    }

    /// Lists an owner's tasks with a `Query` on the global secondary index `index` (partition
    /// key `owner`) instead of a `Scan`.
    pub fn with_owner_index(mut self, index: impl Into<String>) -> Self {
        self.owner_index = Some(index.into());
        self
    }

    /// Creates a `todo` task for `owner` at version 1.
    pub async fn create(
        &self,
        owner: &str,
        title: &str,
        now: Timestamp,
    ) -> Result<Task, TaskStoreError> {
        let task = Task::new(TaskId::generate(self.rng.as_ref()), owner, title, now)?;
        let item = encode(&task);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.clone()))
            .condition_expression("attribute_not_exists(taskId)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            Ok(_) => Ok(task),
            Err(e) => match put_failure(e) {
                // Our own first attempt landed before the SDK retried.
                WriteFailure::Condition(Some(stored)) if stored == item => Ok(task),
                WriteFailure::Condition(_) => Err(PortError::Conflict.into()),
                WriteFailure::Other(e) => Err(e.into()),
            },
        }
    }

    /// The task, or `None`.
    pub async fn get(&self, id: &TaskId) -> Result<Option<Task>, PortError> {
        get_consistent(&self.client, &self.table, "taskId", id.as_str())
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }

    /// The tasks of `owner`, oldest first (by creation time, then id).
    pub async fn list_for_owner(&self, owner: &str) -> Result<Vec<Task>, PortError> {
        let mut tasks = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let (items, next) = match &self.owner_index {
                None => {
                    let out = self
                        .client
                        .scan()
                        .table_name(&self.table)
                        .filter_expression("#owner = :owner")
                        .expression_attribute_names("#owner", "owner")
                        .expression_attribute_values(":owner", s(owner))
                        .consistent_read(true)
                        .set_exclusive_start_key(start.take())
                        .send()
                        .await
                        .map_err(|e| port_error(&e))?;
                    (out.items.unwrap_or_default(), out.last_evaluated_key)
                }
                Some(index) => {
                    let out = self
                        .client
                        .query()
                        .table_name(&self.table)
                        .index_name(index)
                        .key_condition_expression("#owner = :owner")
                        .expression_attribute_names("#owner", "owner")
                        .expression_attribute_values(":owner", s(owner))
                        .set_exclusive_start_key(start.take())
                        .send()
                        .await
                        .map_err(|e| port_error(&e))?;
                    (out.items.unwrap_or_default(), out.last_evaluated_key)
                }
            };
            for item in &items {
                let task = decode(item)?;
                // A filtered scan or an index query returns only this owner's items; anything
                // else is a broken store.
                if task.owner != owner {
                    return Err(PortError::Integrity);
                }
                tasks.push(task);
            }
            match next {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        tasks.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(tasks)
    }

    /// Applies `change` if the stored version is still `expected`, and returns the new task.
    /// `Ok(None)` if there is no such task; [`PortError::Conflict`] (nothing changed) if the
    /// task changed since `expected`.
    pub async fn update(
        &self,
        id: &TaskId,
        expected: Version,
        change: &TaskChange,
        now: Timestamp,
    ) -> Result<Option<Task>, TaskStoreError> {
        let title = change.title.as_deref().map(normalize_title).transpose()?;
        let next = expected.0.checked_add(1).ok_or(PortError::Conflict)?;
        let mut set = vec!["#updatedAt = :now", "#version = :next"];
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("taskId", s(id.as_str()))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#updatedAt", "updatedAt")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":now", n(now.millis()))
            .expression_attribute_values(":next", n(next))
            .expression_attribute_values(":expected", n(expected.0))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if let Some(t) = &title {
            set.push("#title = :title");
            req = req
                .expression_attribute_names("#title", "title")
                .expression_attribute_values(":title", s(t.as_str()));
        }
        if let Some(st) = change.status {
            set.push("#status = :status");
            req = req
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(st.as_str()));
        }
        let out = req
            .update_expression(format!("SET {}", set.join(", ")))
            .send()
            .await;
        match out {
            Ok(out) => match out.attributes() {
                Some(item) => Ok(Some(decode(item)?)),
                None => Err(PortError::Integrity.into()),
            },
            Err(e) => match update_failure(e) {
                WriteFailure::Condition(None) => Ok(None),
                WriteFailure::Condition(Some(stored)) => {
                    let task = decode(&stored)?;
                    let ours = task.version == Version(next)
                        && task.updated_at == now
                        && title.as_ref().is_none_or(|t| *t == task.title)
                        && change.status.is_none_or(|st| st == task.status);
                    if ours {
                        // The SDK retried an update whose first attempt landed.
                        Ok(Some(task))
                    } else {
                        Err(PortError::Conflict.into())
                    }
                }
                WriteFailure::Other(e) => Err(e.into()),
            },
        }
    }

    /// Deletes the task if its version is still `expected`; returns whether it was deleted.
    /// `Ok(false)` if there is no such task (also when an SDK retry follows a delete that
    /// landed), [`PortError::Conflict`] if it changed.
    pub async fn delete(&self, id: &TaskId, expected: Version) -> Result<bool, PortError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("taskId", s(id.as_str()))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(expected.0))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) => match delete_failure(e) {
                WriteFailure::Condition(None) => Ok(false),
                WriteFailure::Condition(Some(_)) => Err(PortError::Conflict),
                WriteFailure::Other(e) => Err(e),
            },
        }
    }
}

fn encode(t: &Task) -> Item {
    [
        ("taskId", s(t.id.as_str())),
        ("owner", s(t.owner.as_str())),
        ("title", s(t.title.as_str())),
        ("status", s(t.status.as_str())),
        ("createdAt", n(t.created_at.millis())),
        ("updatedAt", n(t.updated_at.millis())),
        ("version", n(t.version.0)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn decode(item: &Item) -> Result<Task, PortError> {
    Ok(Task {
        id: TaskId::parse(get_s(item, "taskId")?).map_err(|_| PortError::Integrity)?,
        owner: get_s(item, "owner")?.to_owned(),
        title: get_s(item, "title")?.to_owned(),
        status: get_s(item, "status")?
            .parse::<TaskStatus>()
            .map_err(|_| PortError::Integrity)?,
        created_at: Timestamp::from_millis(get_n(item, "createdAt")?),
        updated_at: Timestamp::from_millis(get_n(item, "updatedAt")?),
        version: Version(get_n(item, "version")?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);

    fn task() -> Task {
        Task::new(TaskId::parse(&"c".repeat(32)).unwrap(), "alice", "plan", T0).unwrap()
    }

    #[test]
    fn a_task_item_round_trips() {
        let t = task();
        assert_eq!(decode(&encode(&t)), Ok(t));
    }

    #[test]
    fn a_broken_item_is_an_integrity_failure() {
        for (k, v) in [
            ("taskId", s("nope")),
            ("status", s("finished")),
            ("version", s("1")),
            ("createdAt", n("1.5")),
        ] {
            let mut item = encode(&task());
            item.insert(k.into(), v);
            assert_eq!(decode(&item), Err(PortError::Integrity), "{k}");
        }
    }

    #[test]
    fn only_port_failures_that_can_pass_are_retryable() {
        assert!(TaskStoreError::Port(PortError::Conflict).is_retryable());
        assert!(!TaskStoreError::Port(PortError::Integrity).is_retryable());
        let invalid = TaskStoreError::from(normalize_title("").unwrap_err());
        assert!(!invalid.is_retryable());
        assert_eq!(invalid.to_string(), "task title is empty");
    }

    proptest! {
        #[test]
        fn hostile_items_never_panic_the_decoder(
            id in ".{0,40}", status in ".{0,8}", version in ".{0,24}",
        ) {
            let mut item = encode(&task());
            item.insert("taskId".into(), s(id));
            item.insert("status".into(), s(status));
            item.insert("version".into(), aws_sdk_dynamodb::types::AttributeValue::N(version));
            let _ = decode(&item);
        }
    }
}
