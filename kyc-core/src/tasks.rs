//! The SecureTask board's model (the reference app that accepts only verification tokens):
//! [`TaskId`], [`TaskStatus`], [`Task`], [`TaskChange`], the validation rules every store
//! applies ([`check_owner`], [`normalize_title`]), and the [`TaskEvent`] pushed to connected
//! clients when a task changes.
//!
//! The stores live in the adapters (`SqliteTaskStore` in kyc-local, `DynamoTaskStore` in
//! kyc-aws); both hold tasks to the same rules: a task is created `todo` at version 1, every
//! change adds one to its version, and updates and deletes name the version they expect
//! (optimistic concurrency).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::{Timestamp, ValueError};
use crate::ports::{RandomSource, Version};

/// The longest task title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest owner subject, in bytes.
pub const MAX_OWNER_LEN: usize = 128;

/// A task's identifier: 32 lowercase hex digits (16 random bytes).
///
/// ```
/// use kyc_core::tasks::TaskId;
/// let id = TaskId::parse("0123456789abcdef0123456789abcdef").unwrap();
/// assert_eq!(id.as_str().len(), 32);
/// assert!(TaskId::parse("../etc/passwd").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TaskId(String);

impl TaskId {
    /// A fresh identifier from 16 bytes of `rng`.
    pub fn generate(rng: &dyn RandomSource) -> Self {
        let mut b = [0u8; 16];
        rng.fill_bytes(&mut b);
        Self(hex::encode(b))
    }

    /// Parses an identifier (from a URL path or a stored item); anything but 32 lowercase hex
    /// digits is refused.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "task id";
        if s.len() != 32 {
            return Err(ValueError::Malformed {
                what: WHAT,
                expected: "32 lowercase hex digits",
            });
        }
        if !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ValueError::InvalidCharacter { what: WHAT });
        }
        Ok(Self(s.to_owned()))
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TaskId {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<TaskId> for String {
    fn from(id: TaskId) -> Self {
        id.0
    }
}

/// Where a task stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    /// Not started.
    Todo,
    /// In progress.
    Doing,
    /// Finished.
    Done,
}

impl TaskStatus {
    /// The stored and serialised name: `todo`, `doing` or `done`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Todo => "todo",
            Self::Doing => "doing",
            Self::Done => "done",
        }
    }
}

/// Why a status name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("task status must be one of todo, doing, done")]
pub struct UnknownStatus;

impl FromStr for TaskStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "todo" => Ok(Self::Todo),
            "doing" => Ok(Self::Doing),
            "done" => Ok(Self::Done),
            _ => Err(UnknownStatus),
        }
    }
}

/// One task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// Its identifier.
    pub id: TaskId,
    /// The subject that owns it (a verified token's `sub`).
    pub owner: String,
    /// Its title.
    pub title: String,
    /// Where it stands.
    pub status: TaskStatus,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Its version for conditional updates: 1 at creation, one more per change.
    #[serde(serialize_with = "version_number")]
    pub version: Version,
}

fn version_number<S: serde::Serializer>(v: &Version, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(v.0)
}

impl Task {
    /// A new `todo` task at version 1, after checking the owner and normalising the title
    /// ([`check_owner`], [`normalize_title`]).
    pub fn new(id: TaskId, owner: &str, title: &str, now: Timestamp) -> Result<Self, ValueError> {
        check_owner(owner)?;
        let title = normalize_title(title)?;
        Ok(Self {
            id,
            owner: owner.to_owned(),
            title,
            status: TaskStatus::Todo,
            created_at: now,
            updated_at: now,
            version: Version(1),
        })
    }
}

/// What an update changes (`None` keeps the current value).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskChange {
    /// A new title.
    pub title: Option<String>,
    /// A new status.
    pub status: Option<TaskStatus>,
}

/// Checks an owner subject: 1 to [`MAX_OWNER_LEN`] printable ASCII characters, no spaces.
pub fn check_owner(owner: &str) -> Result<(), ValueError> {
    const WHAT: &str = "task owner";
    if owner.is_empty() {
        return Err(ValueError::Empty { what: WHAT });
    }
    if owner.len() > MAX_OWNER_LEN {
        return Err(ValueError::TooLong {
            what: WHAT,
            max: MAX_OWNER_LEN,
        });
    }
    if !owner.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ValueError::InvalidCharacter { what: WHAT });
    }
    Ok(())
}

/// The title as stored: trimmed, 1 to [`MAX_TITLE_CHARS`] characters, no control characters.
///
/// ```
/// use kyc_core::tasks::normalize_title;
/// assert_eq!(normalize_title("  write the report ").unwrap(), "write the report");
/// assert!(normalize_title("   ").is_err());
/// ```
pub fn normalize_title(title: &str) -> Result<String, ValueError> {
    const WHAT: &str = "task title";
    let t = title.trim();
    if t.is_empty() {
        return Err(ValueError::Empty { what: WHAT });
    }
    if t.chars().count() > MAX_TITLE_CHARS {
        return Err(ValueError::TooLong {
            what: WHAT,
            max: MAX_TITLE_CHARS,
        });
    }
    if t.chars().any(char::is_control) {
        return Err(ValueError::InvalidCharacter { what: WHAT });
    }
    Ok(t.to_owned())
}

/// What happened to a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TaskEventKind {
    /// The task was created.
    Created,
    /// The task's title or status changed.
    Updated,
    /// The task was deleted.
    Deleted,
}

/// A change of the task board, pushed to the owner's connected clients (AWS: the tasks table's
/// stream → SNS → WebSocket API; locally: in-process).
///
/// It names the task, its owner (the subject the change is routed to), its version and status,
/// never its title: titles are free text a user typed, so clients fetch the task itself
/// through the authenticated API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskEvent {
    /// What happened.
    pub kind: TaskEventKind,
    /// Which task.
    pub task_id: TaskId,
    /// The subject that owns it.
    pub owner: String,
    /// The task's version after the change (before it, for a deletion).
    pub version: u64,
    /// The task's status after the change; `None` for a deletion.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<TaskStatus>,
    /// When the change happened.
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::fakes::SeededRandom;
    use proptest::prelude::*;

    const T0: Timestamp = Timestamp::from_secs(1_779_341_048);

    #[test]
    fn generated_ids_parse_back_and_differ() {
        let rng = SeededRandom::new(1);
        let (a, b) = (TaskId::generate(&rng), TaskId::generate(&rng));
        assert_ne!(a, b);
        assert_eq!(TaskId::parse(a.as_str()), Ok(a));
    }

    #[test]
    fn a_new_task_is_todo_at_version_one_with_a_trimmed_title() {
        let t = Task::new(
            TaskId::parse(&"a".repeat(32)).unwrap(),
            "alice",
            " plan ",
            T0,
        )
        .unwrap();
        assert_eq!(
            (t.status, t.version, t.title.as_str()),
            (TaskStatus::Todo, Version(1), "plan")
        );
        assert_eq!(t.created_at, t.updated_at);
    }

    #[test]
    fn bad_titles_and_owners_are_refused_without_echoing_them() {
        for title in ["", "   ", "a\u{0}b", &"x".repeat(MAX_TITLE_CHARS + 1)] {
            let e = normalize_title(title).unwrap_err();
            assert!(e.to_string().starts_with("task title"), "{e}");
        }
        assert!(normalize_title(&"é".repeat(MAX_TITLE_CHARS)).is_ok());
        for owner in ["", "a b", &"o".repeat(MAX_OWNER_LEN + 1)] {
            assert!(check_owner(owner).is_err());
        }
        let e = check_owner("secret owner").unwrap_err().to_string();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn statuses_round_trip_and_unknown_names_list_the_allowed_ones() {
        for st in [TaskStatus::Todo, TaskStatus::Doing, TaskStatus::Done] {
            assert_eq!(st.as_str().parse::<TaskStatus>(), Ok(st));
            let json = serde_json::to_string(&st).unwrap();
            assert_eq!(json, format!("\"{}\"", st.as_str()));
        }
        let e = "finished".parse::<TaskStatus>().unwrap_err().to_string();
        assert!(e.contains("todo, doing, done"));
    }

    #[test]
    fn a_task_event_serialises_without_a_title() {
        let e = TaskEvent {
            kind: TaskEventKind::Updated,
            task_id: TaskId::parse(&"b".repeat(32)).unwrap(),
            owner: "alice".into(),
            version: 2,
            status: Some(TaskStatus::Done),
            at: T0,
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["kind"], "updated");
        assert_eq!(json["status"], "done");
        assert!(json.get("title").is_none());
        assert_eq!(serde_json::from_value::<TaskEvent>(json).unwrap(), e);
    }

    proptest! {
        #[test]
        fn task_id_parsing_never_panics_and_accepts_only_its_own_shape(s in ".{0,40}") {
            if let Ok(id) = TaskId::parse(&s) {
                prop_assert_eq!(id.as_str(), s.as_str());
                prop_assert_eq!(s.len(), 32);
            }
        }

        #[test]
        fn a_normalised_title_is_a_fixed_point(s in ".{0,250}") {
            if let Ok(t) = normalize_title(&s) {
                prop_assert_eq!(normalize_title(&t), Ok(t.clone()));
            }
        }
    }
}
