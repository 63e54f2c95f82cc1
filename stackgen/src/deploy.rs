//! Deploy, diff and delete through CloudFormation change sets (aws-sdk-cloudformation), with a
//! live display of stack events and a clear report of failures and rollbacks.
//!
//! The template and the Lambda artefacts go to an artefacts bucket first (the template is too
//! large to be sent inline). Against an emulator, pass its endpoint URL; S3 is then addressed
//! path-style.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_cloudformation::error::DisplayErrorContext;
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter as CfnParameter};
use aws_sdk_cloudformation::Client as CfnClient;
use aws_sdk_s3::Client as S3Client;
use sha2::{Digest, Sha256};

use crate::model::template::ModelError;
use crate::stack::functions::Handler;
use crate::stack::Env;
use crate::synth::{render, Format, Target};

/// Why a deployment did not finish.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The template could not be built.
    #[error("the template could not be built: {0}")]
    Template(#[from] ModelError),
    /// An AWS call failed.
    #[error("{operation} failed: {message}")]
    Aws {
        /// The API operation.
        operation: &'static str,
        /// What the service or the client said.
        message: String,
    },
    /// The change set could not be created.
    #[error("change set {name} failed: {reason}")]
    ChangeSetFailed {
        /// The change set's name.
        name: String,
        /// CloudFormation's reason.
        reason: String,
    },
    /// The stack ended in a failed or rolled-back state.
    #[error("stack {stack} ended in {status}; {} resource(s) failed: {}", failures.len(), failures.iter().map(|f| format!("{} ({}): {}", f.logical_id, f.resource_type, f.reason)).collect::<Vec<_>>().join("; "))]
    StackFailed {
        /// The stack's name.
        stack: String,
        /// The final status, e.g. `ROLLBACK_COMPLETE`.
        status: String,
        /// Each resource that failed, with CloudFormation's reason.
        failures: Vec<ResourceFailure>,
    },
    /// The stack is in a state no change set can start from.
    #[error("stack {stack} is in {status}; delete it first (stackgen delete)")]
    Unrecoverable {
        /// The stack's name.
        stack: String,
        /// Its status.
        status: String,
    },
    /// A wait ran out of time.
    #[error("timed out after {seconds} s waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        seconds: u64,
    },
    /// The Lambda artefacts are missing.
    #[error("lambda artefact {0} is missing; run `cargo xtask dist` first")]
    MissingArtifact(PathBuf),
    /// Reading an artefact failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

fn aws<E: std::error::Error>(operation: &'static str) -> impl FnOnce(E) -> DeployError {
    move |e| DeployError::Aws {
        operation,
        message: DisplayErrorContext(&e).to_string(),
    }
}

/// One failed resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceFailure {
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// CloudFormation's reason.
    pub reason: String,
}

/// One stack event, as shown in the live display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When it happened (ISO 8601).
    pub timestamp: String,
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// Status, e.g. `CREATE_IN_PROGRESS`.
    pub status: String,
    /// The reason, when CloudFormation gives one.
    pub reason: Option<String>,
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}  {:<28} {:<40} {}",
            self.timestamp, self.status, self.resource_type, self.logical_id
        )?;
        if let Some(r) = &self.reason {
            write!(f, "  ({r})")?;
        }
        Ok(())
    }
}

/// One change of a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `Add`, `Modify`, `Remove`, …
    pub action: String,
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// `True`, `False` or `Conditional` for modifications.
    pub replacement: Option<String>,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<8} {:<40} {}",
            self.action, self.resource_type, self.logical_id
        )?;
        if let Some(r) = &self.replacement {
            write!(f, "  (replacement: {r})")?;
        }
        Ok(())
    }
}

/// What a deployment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The stack was created or updated; its final status.
    Deployed {
        /// `CREATE_COMPLETE` or `UPDATE_COMPLETE`.
        status: String,
        /// The changes applied.
        changes: Vec<Change>,
    },
    /// The template and parameters match the stack.
    NoChanges,
}

/// Where and how to deploy.
#[derive(Debug, Clone)]
pub struct Options {
    /// The environment.
    pub env: Env,
    /// AWS or LocalStack (which resource types are built).
    pub target: Target,
    /// The stack name (default `kyc-<env>`).
    pub stack_name: String,
    /// The region.
    pub region: String,
    /// An endpoint URL for every service (an emulator).
    pub endpoint_url: Option<String>,
    /// The artefacts bucket (default `kyc-<env>-artifacts-<account>-<region>`).
    pub artifacts_bucket: Option<String>,
    /// The directory holding `<handler>.zip` files (`cargo xtask dist`).
    pub dist_dir: PathBuf,
    /// Extra template parameters.
    pub parameters: Vec<(String, String)>,
    /// How often to poll.
    pub poll: Duration,
    /// How long to wait for any one operation.
    pub timeout: Duration,
}

impl Options {
    /// Defaults for an environment.
    pub fn new(env: Env) -> Self {
        Options {
            env,
            target: Target::Aws,
            stack_name: format!("kyc-{env}"),
            region: std::env::var("AWS_REGION")
                .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|_| "us-east-1".to_string()),
            endpoint_url: None,
            artifacts_bucket: None,
            dist_dir: PathBuf::from("target/dist"),
            parameters: Vec::new(),
            poll: Duration::from_secs(5),
            timeout: Duration::from_secs(3600),
        }
    }
}

/// The AWS clients of a deployment.
#[derive(Debug, Clone)]
pub struct Clients {
    cfn: CfnClient,
    s3: S3Client,
    sts: aws_sdk_sts::Client,
}

impl Clients {
    /// Clients from the default credential chain, for `options.region` and its endpoint.
    pub async fn new(options: &Options) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(options.region.clone()));
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url.clone());
        }
        let config = loader.load().await;
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(options.endpoint_url.is_some())
            .build();
        Clients {
            cfn: CfnClient::new(&config),
            s3: S3Client::from_conf(s3_config),
            sts: aws_sdk_sts::Client::new(&config),
        }
    }

    /// Clients for an emulator (`options.endpoint_url`) with its static `test` credentials.
    pub async fn for_emulator(options: &Options) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(options.region.clone()))
            .credentials_provider(aws_sdk_cloudformation::config::Credentials::new(
                "test", "test", None, None, "emulator",
            ));
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url.clone());
        }
        let config = loader.load().await;
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build();
        Clients {
            cfn: CfnClient::new(&config),
            s3: S3Client::from_conf(s3_config),
            sts: aws_sdk_sts::Client::new(&config),
        }
    }

    /// The CloudFormation client.
    pub fn cloudformation(&self) -> &CfnClient {
        &self.cfn
    }

    /// The S3 client.
    pub fn s3(&self) -> &S3Client {
        &self.s3
    }
}

fn short_hash(bytes: &[u8]) -> String {
    let digest = hex::encode(Sha256::digest(bytes));
    digest.get(..16).unwrap_or(&digest).to_string()
}

async fn artifacts_bucket(c: &Clients, o: &Options) -> Result<String, DeployError> {
    let name = match &o.artifacts_bucket {
        Some(b) => b.clone(),
        None => {
            let who = c
                .sts
                .get_caller_identity()
                .send()
                .await
                .map_err(aws("GetCallerIdentity"))?;
            let account = who.account().unwrap_or("unknown");
            format!("kyc-{}-artifacts-{account}-{}", o.env, o.region)
        }
    };
    if c.s3.head_bucket().bucket(&name).send().await.is_ok() {
        return Ok(name);
    }
    let mut create = c.s3.create_bucket().bucket(&name);
    if o.region != "us-east-1" {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    o.region.as_str(),
                ))
                .build(),
        );
    }
    create.send().await.map_err(aws("CreateBucket"))?;
    c.s3.put_public_access_block()
        .bucket(&name)
        .public_access_block_configuration(
            aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .block_public_policy(true)
                .ignore_public_acls(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(aws("PutPublicAccessBlock"))?;
    c.s3.put_bucket_versioning()
        .bucket(&name)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(aws("PutBucketVersioning"))?;
    Ok(name)
}

async fn put(c: &Clients, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), DeployError> {
    c.s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(aws_sdk_s3::primitives::ByteStream::from(body))
        .send()
        .await
        .map_err(aws("PutObject"))?;
    Ok(())
}

/// Uploads the Lambda zips (when the target runs Lambda) and returns the key prefix.
async fn upload_artifacts(c: &Clients, o: &Options, bucket: &str) -> Result<String, DeployError> {
    if !o.target.features().lambda {
        return Ok("none".to_string());
    }
    let mut zips = Vec::new();
    for h in Handler::ALL {
        let path = o.dist_dir.join(format!("{}.zip", h.name()));
        if !path.is_file() {
            return Err(DeployError::MissingArtifact(path));
        }
        let bytes = std::fs::read(&path).map_err(|source| DeployError::Io {
            path: path.clone(),
            source,
        })?;
        zips.push((h, bytes));
    }
    let mut all = Vec::new();
    for (_, b) in &zips {
        all.extend_from_slice(&Sha256::digest(b));
    }
    let prefix = format!("lambda/{}", short_hash(&all));
    for (h, bytes) in zips {
        put(c, bucket, &format!("{prefix}/{}.zip", h.name()), bytes).await?;
    }
    Ok(prefix)
}

async fn stack_status(c: &Clients, stack: &str) -> Result<Option<String>, DeployError> {
    match c.cfn.describe_stacks().stack_name(stack).send().await {
        Ok(out) => Ok(out
            .stacks()
            .first()
            .and_then(|s| s.stack_status())
            .map(|s| s.as_str().to_string())),
        Err(e) => {
            let text = DisplayErrorContext(&e).to_string();
            if text.contains("does not exist") {
                Ok(None)
            } else {
                Err(DeployError::Aws {
                    operation: "DescribeStacks",
                    message: text,
                })
            }
        }
    }
}

/// Everything a change set needs: the uploaded template and the parameters.
struct Prepared {
    template_url: String,
    template_hash: String,
    parameters: Vec<(String, String)>,
}

async fn prepare(c: &Clients, o: &Options) -> Result<Prepared, DeployError> {
    let body = render(o.env, o.target.features(), Format::Json)?;
    let bucket = artifacts_bucket(c, o).await?;
    let prefix = upload_artifacts(c, o, &bucket).await?;
    let hash = short_hash(body.as_bytes());
    let key = format!("templates/{}-{hash}.json", o.stack_name);
    put(c, &bucket, &key, body.into_bytes()).await?;
    let template_url = match &o.endpoint_url {
        Some(url) => format!("{}/{bucket}/{key}", url.trim_end_matches('/')),
        None => format!("https://{bucket}.s3.{}.amazonaws.com/{key}", o.region),
    };
    let mut parameters = vec![
        ("ArtifactsBucket".to_string(), bucket),
        ("ArtifactsPrefix".to_string(), prefix),
    ];
    for (k, v) in &o.parameters {
        parameters.retain(|(x, _)| x != k);
        parameters.push((k.clone(), v.clone()));
    }
    parameters.sort();
    Ok(Prepared {
        template_url,
        template_hash: hash,
        parameters,
    })
}

/// Creates a change set and waits for it. `Ok(None)` when it holds no changes.
async fn change_set(
    c: &Clients,
    o: &Options,
    p: &Prepared,
    kind: ChangeSetType,
) -> Result<Option<(String, Vec<Change>)>, DeployError> {
    let mut params_hash = Vec::new();
    for (k, v) in &p.parameters {
        params_hash.extend_from_slice(k.as_bytes());
        params_hash.push(0);
        params_hash.extend_from_slice(v.as_bytes());
        params_hash.push(0);
    }
    let name = format!(
        "stackgen-{}-{}",
        p.template_hash,
        short_hash(&params_hash).get(..8).unwrap_or("0")
    );
    // A change set of the same name from an earlier, interrupted run is replaced.
    let _ = c
        .cfn
        .delete_change_set()
        .stack_name(&o.stack_name)
        .change_set_name(&name)
        .send()
        .await;
    let mut req = c
        .cfn
        .create_change_set()
        .stack_name(&o.stack_name)
        .change_set_name(&name)
        .change_set_type(kind)
        .template_url(&p.template_url)
        .capabilities(Capability::CapabilityIam)
        .description("created by stackgen");
    for (k, v) in &p.parameters {
        req = req.parameters(
            CfnParameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build(),
        );
    }
    req.send().await.map_err(aws("CreateChangeSet"))?;
    let start = Instant::now();
    loop {
        let d = c
            .cfn
            .describe_change_set()
            .stack_name(&o.stack_name)
            .change_set_name(&name)
            .send()
            .await
            .map_err(aws("DescribeChangeSet"))?;
        let status = d
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        match status.as_str() {
            "CREATE_COMPLETE" => {
                let changes = d
                    .changes()
                    .iter()
                    .filter_map(|ch| ch.resource_change())
                    .map(|rc| Change {
                        action: rc
                            .action()
                            .map(|a| a.as_str().to_string())
                            .unwrap_or_default(),
                        logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
                        resource_type: rc.resource_type().unwrap_or_default().to_string(),
                        replacement: rc.replacement().map(|r| r.as_str().to_string()),
                    })
                    .collect();
                return Ok(Some((name, changes)));
            }
            "FAILED" => {
                let reason = d.status_reason().unwrap_or_default().to_string();
                let _ = c
                    .cfn
                    .delete_change_set()
                    .stack_name(&o.stack_name)
                    .change_set_name(&name)
                    .send()
                    .await;
                if reason.contains("didn't contain changes") || reason.contains("No updates") {
                    return Ok(None);
                }
                return Err(DeployError::ChangeSetFailed { name, reason });
            }
            _ => {}
        }
        if start.elapsed() > o.timeout {
            return Err(DeployError::Timeout {
                what: format!("change set {name}"),
                seconds: o.timeout.as_secs(),
            });
        }
        tokio::time::sleep(o.poll).await;
    }
}

/// Polls stack events, showing each new one, until the stack reaches a final status.
async fn follow(
    c: &Clients,
    o: &Options,
    seen: &mut HashSet<String>,
    show: &mut dyn FnMut(&Event),
) -> Result<(String, Vec<ResourceFailure>), DeployError> {
    let start = Instant::now();
    let mut failures = Vec::new();
    loop {
        let status = stack_status(c, &o.stack_name).await?;
        // Show events that arrived since the last poll, oldest first.
        if let Ok(out) = c
            .cfn
            .describe_stack_events()
            .stack_name(&o.stack_name)
            .send()
            .await
        {
            let mut fresh = Vec::new();
            for e in out.stack_events() {
                let id = e.event_id().unwrap_or_default().to_string();
                if seen.insert(id) {
                    let ev = Event {
                        timestamp: e
                            .timestamp()
                            .and_then(|t| {
                                t.fmt(aws_sdk_cloudformation::primitives::DateTimeFormat::DateTime)
                                    .ok()
                            })
                            .unwrap_or_default(),
                        logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
                        resource_type: e.resource_type().unwrap_or_default().to_string(),
                        status: e
                            .resource_status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                        reason: e.resource_status_reason().map(str::to_string),
                    };
                    fresh.push(ev);
                }
            }
            for ev in fresh.into_iter().rev() {
                // The stack's own event only repeats that something failed; the resources say what.
                if ev.status.ends_with("_FAILED") && ev.logical_id != o.stack_name {
                    failures.push(ResourceFailure {
                        logical_id: ev.logical_id.clone(),
                        resource_type: ev.resource_type.clone(),
                        reason: ev.reason.clone().unwrap_or_default(),
                    });
                }
                show(&ev);
            }
        }
        match status {
            None => return Ok(("DELETE_COMPLETE".to_string(), failures)),
            Some(s) if s.ends_with("_COMPLETE") || s.ends_with("_FAILED") => {
                return Ok((s, failures));
            }
            Some(_) => {}
        }
        if start.elapsed() > o.timeout {
            return Err(DeployError::Timeout {
                what: format!("stack {}", o.stack_name),
                seconds: o.timeout.as_secs(),
            });
        }
        tokio::time::sleep(o.poll).await;
    }
}

async fn existing_events(c: &Clients, stack: &str) -> HashSet<String> {
    match c.cfn.describe_stack_events().stack_name(stack).send().await {
        Ok(out) => out
            .stack_events()
            .iter()
            .filter_map(|e| e.event_id().map(str::to_string))
            .collect(),
        Err(_) => HashSet::new(),
    }
}

/// Creates or updates the stack through a change set; `show` receives every stack event as it
/// arrives, `changes` the change set before it is executed.
pub async fn deploy(
    c: &Clients,
    o: &Options,
    changes_shown: &mut dyn FnMut(&[Change]),
    show: &mut dyn FnMut(&Event),
) -> Result<Outcome, DeployError> {
    let current = stack_status(c, &o.stack_name).await?;
    let kind = match current.as_deref() {
        None | Some("REVIEW_IN_PROGRESS") => ChangeSetType::Create,
        Some(s @ ("ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "DELETE_FAILED")) => {
            return Err(DeployError::Unrecoverable {
                stack: o.stack_name.clone(),
                status: s.to_string(),
            })
        }
        Some(_) => ChangeSetType::Update,
    };
    let p = prepare(c, o).await?;
    let Some((name, changes)) = change_set(c, o, &p, kind).await? else {
        return Ok(Outcome::NoChanges);
    };
    changes_shown(&changes);
    let mut seen = existing_events(c, &o.stack_name).await;
    c.cfn
        .execute_change_set()
        .stack_name(&o.stack_name)
        .change_set_name(&name)
        .send()
        .await
        .map_err(aws("ExecuteChangeSet"))?;
    let (status, failures) = follow(c, o, &mut seen, show).await?;
    if status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE" {
        Ok(Outcome::Deployed { status, changes })
    } else {
        Err(DeployError::StackFailed {
            stack: o.stack_name.clone(),
            status,
            failures,
        })
    }
}

/// The changes a deployment would make, without making them.
pub async fn diff(c: &Clients, o: &Options) -> Result<Vec<Change>, DeployError> {
    let current = stack_status(c, &o.stack_name).await?;
    let kind = if current.is_none() {
        ChangeSetType::Create
    } else {
        ChangeSetType::Update
    };
    let p = prepare(c, o).await?;
    let Some((name, changes)) = change_set(c, o, &p, kind).await? else {
        return Ok(Vec::new());
    };
    let _ = c
        .cfn
        .delete_change_set()
        .stack_name(&o.stack_name)
        .change_set_name(&name)
        .send()
        .await;
    if current.is_none() {
        // A CREATE change set leaves an empty stack in REVIEW_IN_PROGRESS behind.
        let _ = c.cfn.delete_stack().stack_name(&o.stack_name).send().await;
    }
    Ok(changes)
}

/// Deletes the stack and waits until it is gone.
pub async fn delete(
    c: &Clients,
    o: &Options,
    show: &mut dyn FnMut(&Event),
) -> Result<(), DeployError> {
    if stack_status(c, &o.stack_name).await?.is_none() {
        return Ok(());
    }
    let mut seen = existing_events(c, &o.stack_name).await;
    c.cfn
        .delete_stack()
        .stack_name(&o.stack_name)
        .send()
        .await
        .map_err(aws("DeleteStack"))?;
    let (status, failures) = follow(c, o, &mut seen, show).await?;
    if status == "DELETE_COMPLETE" {
        Ok(())
    } else {
        Err(DeployError::StackFailed {
            stack: o.stack_name.clone(),
            status,
            failures,
        })
    }
}

/// The status of the stack, `None` when it does not exist.
pub async fn status(c: &Clients, o: &Options) -> Result<Option<String>, DeployError> {
    stack_status(c, &o.stack_name).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_report_names_each_failed_resource_and_its_reason() {
        let e = DeployError::StackFailed {
            stack: "kyc-dev".into(),
            status: "ROLLBACK_COMPLETE".into(),
            failures: vec![ResourceFailure {
                logical_id: "IdUploadsBucket".into(),
                resource_type: "AWS::S3::Bucket".into(),
                reason: "bucket already exists".into(),
            }],
        };
        let text = e.to_string();
        assert!(text.contains("ROLLBACK_COMPLETE"), "{text}");
        assert!(
            text.contains("IdUploadsBucket (AWS::S3::Bucket): bucket already exists"),
            "{text}"
        );
    }

    #[test]
    fn events_render_on_one_line() {
        let ev = Event {
            timestamp: "2026-01-01T00:00:00Z".into(),
            logical_id: "DataKey".into(),
            resource_type: "AWS::KMS::Key".into(),
            status: "CREATE_COMPLETE".into(),
            reason: None,
        };
        assert!(!ev.to_string().contains('\n'));
        assert!(ev.to_string().contains("DataKey"));
    }
}
