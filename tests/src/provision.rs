//! DynamoDB tables for the tests, created the way `stackgen` defines them
//! (`stackgen/src/stack/storage.rs`): the same keys and key types, on-demand billing, the
//! `expiresAt` TTL and the same stream views. What the emulator cannot show (SSE with the
//! stack's KMS key, point-in-time recovery, deletion protection) is left out.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus,
    TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use kyc_aws::dynamo::TTL_ATTRIBUTE;

/// A DynamoDB client for the shared LocalStack (default retries and timeouts).
pub async fn client() -> Client {
    kyc_aws::dynamo::client(&crate::localstack().sdk_config().await)
}

/// One table's definition.
#[derive(Clone, Debug)]
pub struct TableSpec {
    /// The table name.
    pub name: String,
    /// The partition key (type S).
    pub hash_key: &'static str,
    /// The sort key and its type.
    pub range_key: Option<(&'static str, ScalarAttributeType)>,
    /// Whether TTL is enabled on `expiresAt`.
    pub ttl: bool,
    /// The stream view, if the table has a stream.
    pub stream: Option<StreamViewType>,
    /// A global secondary index: its name and its partition key (type S), all attributes
    /// projected.
    pub index: Option<(&'static str, &'static str)>,
}

impl TableSpec {
    /// `sessions`: key `verificationId`, TTL.
    pub fn sessions(name: impl Into<String>) -> Self {
        Self::base(name, "verificationId", true, None)
    }

    /// `KycOcrData`: key `verificationId`, TTL, stream `NEW_IMAGE`.
    pub fn ocr_data(name: impl Into<String>) -> Self {
        Self::base(name, "verificationId", true, Some(StreamViewType::NewImage))
    }

    /// `KycAuditLog`: keys `verificationId` and `seq` (N), TTL.
    pub fn audit_log(name: impl Into<String>) -> Self {
        Self {
            range_key: Some(("seq", ScalarAttributeType::N)),
            ..Self::base(name, "verificationId", true, None)
        }
    }

    /// `tasks`: key `taskId`, stream `NEW_AND_OLD_IMAGES`, no TTL.
    pub fn tasks(name: impl Into<String>) -> Self {
        Self::base(name, "taskId", false, Some(StreamViewType::NewAndOldImages))
    }

    /// The same table with a global secondary index `index` on `key`.
    pub fn with_index(mut self, index: &'static str, key: &'static str) -> Self {
        self.index = Some((index, key));
        self
    }

    fn base(
        name: impl Into<String>,
        hash_key: &'static str,
        ttl: bool,
        stream: Option<StreamViewType>,
    ) -> Self {
        Self {
            name: name.into(),
            hash_key,
            range_key: None,
            ttl,
            stream,
            index: None,
        }
    }
}

/// A created table.
#[derive(Clone, Debug)]
pub struct Table {
    /// Its name.
    pub name: String,
    /// Its latest stream's ARN, if it has a stream.
    pub stream_arn: Option<String>,
}

fn key(name: &str, ty: KeyType) -> anyhow::Result<KeySchemaElement> {
    Ok(KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(ty)
        .build()?)
}

fn attr(name: &str, ty: ScalarAttributeType) -> anyhow::Result<AttributeDefinition> {
    Ok(AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ty)
        .build()?)
}

/// Creates the table, waits until it is active and enables its TTL.
pub async fn create(client: &Client, spec: &TableSpec) -> anyhow::Result<Table> {
    let mut req = client
        .create_table()
        .table_name(&spec.name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(spec.hash_key, KeyType::Hash)?)
        .attribute_definitions(attr(spec.hash_key, ScalarAttributeType::S)?);
    if let Some((range, ty)) = &spec.range_key {
        req = req
            .key_schema(key(range, KeyType::Range)?)
            .attribute_definitions(attr(range, ty.clone())?);
    }
    if let Some(view) = &spec.stream {
        req = req.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(view.clone())
                .build()?,
        );
    }
    if let Some((index, owner)) = spec.index {
        req = req
            .attribute_definitions(attr(owner, ScalarAttributeType::S)?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(index)
                    .key_schema(key(owner, KeyType::Hash)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()?,
            );
    }
    req.send()
        .await
        .with_context(|| format!("CreateTable {}", spec.name))?;
    let stream_arn = wait_active(client, &spec.name).await?;
    if spec.ttl {
        client
            .update_time_to_live()
            .table_name(&spec.name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(TTL_ATTRIBUTE)
                    .build()?,
            )
            .send()
            .await
            .with_context(|| format!("UpdateTimeToLive {}", spec.name))?;
    }
    Ok(Table {
        name: spec.name.clone(),
        stream_arn,
    })
}

/// Waits (up to 60 s) until the table is active; returns its latest stream ARN.
async fn wait_active(client: &Client, name: &str) -> anyhow::Result<Option<String>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .with_context(|| format!("DescribeTable {name}"))?;
        if let Some(t) = out.table() {
            if t.table_status() == Some(&TableStatus::Active) {
                return Ok(t.latest_stream_arn().map(str::to_owned));
            }
        }
        if Instant::now() > deadline {
            bail!("table {name} did not become active within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The TTL attribute DynamoDB reports as enabled on the table, if any.
pub async fn ttl_attribute(client: &Client, name: &str) -> anyhow::Result<Option<String>> {
    let out = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .with_context(|| format!("DescribeTimeToLive {name}"))?;
    Ok(out.time_to_live_description().and_then(|d| {
        (d.time_to_live_status() == Some(&aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled))
            .then(|| d.attribute_name().map(str::to_owned))
            .flatten()
    }))
}

/// Deletes the table (end of a test; a missing table is fine).
pub async fn delete(client: &Client, name: &str) -> anyhow::Result<()> {
    match client.delete_table().table_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("DeleteTable {name}"))),
    }
}
