//! The dev stack on LocalStack running on the host: create (CREATE_COMPLETE), an update
//! through a change set, a no-op deploy, and deletion. Resource types LocalStack cannot run on
//! the host are left out by the `localstack` target and named here with the reason
//! ([`stackgen::stack::LOCALSTACK_EXCLUSIONS`]); everything else is deployed for real.
//!
//! The endpoint comes from `KYC_LOCALSTACK_ENDPOINT` (set by `cargo xtask ci`, which starts
//! LocalStack once). Without it the test starts LocalStack itself through
//! `localstack/launch.sh` and stops it afterwards; if that fails, the test fails.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use stackgen::deploy::{self, Clients, Options, Outcome};
use stackgen::stack::{Env, LOCALSTACK_EXCLUSIONS};
use stackgen::synth::{render, Format, Target};

struct LocalStack {
    endpoint: String,
    log: Option<PathBuf>,
    started_here: bool,
}

fn launcher() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../localstack/launch.sh")
}

impl LocalStack {
    fn get() -> LocalStack {
        if let Ok(endpoint) = std::env::var("KYC_LOCALSTACK_ENDPOINT") {
            return LocalStack {
                endpoint,
                log: std::env::var("KYC_LOCALSTACK_LOG").ok().map(PathBuf::from),
                started_here: false,
            };
        }
        let already = Command::new(launcher())
            .arg("status")
            .output()
            .is_ok_and(|o| o.status.success());
        eprintln!(
            "KYC_LOCALSTACK_ENDPOINT is not set: starting LocalStack through localstack/launch.sh"
        );
        let out = Command::new(launcher())
            .arg("up")
            .output()
            .expect("localstack/launch.sh could not be run");
        assert!(
            out.status.success(),
            "LocalStack did not start; the dev stack cannot be deployed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let endpoint = String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string();
        assert!(
            endpoint.starts_with("http://127.0.0.1:"),
            "unexpected endpoint {endpoint:?}"
        );
        let cache = std::env::var("KYC_CACHE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.kyc-cache"));
        LocalStack {
            endpoint,
            log: Some(cache.join("localstack/localstack.log")),
            started_here: !already,
        }
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        if self.started_here {
            let _ = Command::new(launcher()).arg("down").status();
        }
    }
}

fn log_len(ls: &LocalStack) -> usize {
    ls.log
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map_or(0, |s| s.len())
}

#[test]
fn the_dev_stack_deploys_to_localstack_updates_through_a_change_set_and_deletes() {
    let ls = LocalStack::get();
    eprintln!("LocalStack at {}; left out on the host:", ls.endpoint);
    for (what, why) in LOCALSTACK_EXCLUSIONS {
        eprintln!("  - {what}: {why}");
    }
    let log_start = log_len(&ls);
    let mut o = Options::new(Env::Dev);
    o.target = Target::LocalStack;
    o.endpoint_url = Some(ls.endpoint.clone());
    o.region = "us-east-1".into();
    o.poll = Duration::from_millis(500);
    o.timeout = Duration::from_secs(600);

    let template: serde_json::Value = serde_json::from_str(
        &render(Env::Dev, Target::LocalStack.features(), Format::Json).expect("template"),
    )
    .expect("json");
    // Conditional resources (the alarm e-mail subscription) are off with the default parameters.
    let expected: BTreeSet<String> = template["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r.get("Condition").is_none())
        .map(|(id, _)| id.clone())
        .collect();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let c = Clients::for_emulator(&o).await;
        // A stack left by an interrupted run is removed first.
        deploy::delete(&c, &o, &mut |_| {})
            .await
            .expect("leftover stack deleted");

        let mut events = Vec::new();
        let outcome = deploy::deploy(&c, &o, &mut |_| {}, &mut |e| events.push(e.clone()))
            .await
            .expect("dev stack deploys");
        let Outcome::Deployed { status, changes } = outcome else {
            panic!("first deploy reported no changes");
        };
        assert_eq!(status, "CREATE_COMPLETE");
        assert_eq!(changes.len(), expected.len(), "one Add per resource");
        assert!(events
            .iter()
            .any(|e| e.status == "CREATE_COMPLETE" && e.logical_id == "kyc-dev"));

        // Every resource of the template exists and is complete.
        let listed = c
            .cloudformation()
            .list_stack_resources()
            .stack_name(&o.stack_name)
            .send()
            .await
            .expect("list stack resources");
        let mut created = BTreeSet::new();
        for r in listed.stack_resource_summaries() {
            let id = r.logical_resource_id().unwrap_or_default().to_string();
            let st = r
                .resource_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            assert_eq!(st, "CREATE_COMPLETE", "{id}");
            created.insert(id);
        }
        assert_eq!(created, expected);

        // Spot check: the uploads bucket is a real bucket.
        let uploads = c
            .cloudformation()
            .describe_stack_resource()
            .stack_name(&o.stack_name)
            .logical_resource_id("IdUploadsBucket")
            .send()
            .await
            .expect("describe uploads bucket");
        let bucket = uploads
            .stack_resource_detail()
            .and_then(|d| d.physical_resource_id())
            .unwrap_or_default()
            .to_string();
        assert!(bucket.starts_with("kyc-dev-id-uploads-"), "{bucket}");
        c.s3()
            .head_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("uploads bucket exists");

        // Update through a change set: an alarm address turns the conditional subscription on.
        let mut update = o.clone();
        update
            .parameters
            .push(("AlarmEmail".into(), "ops@example.com".into()));
        let outcome = deploy::deploy(&c, &update, &mut |_| {}, &mut |_| {})
            .await
            .expect("update deploys");
        let Outcome::Deployed { status, changes } = outcome else {
            panic!("the update reported no changes");
        };
        assert_eq!(status, "UPDATE_COMPLETE");
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].action, "Add");
        assert_eq!(changes[0].logical_id, "AlarmEmailSubscription");

        // The same template and parameters again: nothing to do.
        let again = deploy::deploy(&c, &update, &mut |_| {}, &mut |_| {})
            .await
            .expect("no-op deploy");
        assert_eq!(again, Outcome::NoChanges);

        deploy::delete(&c, &o, &mut |_| {})
            .await
            .expect("stack deletes");
        assert_eq!(deploy::status(&c, &o).await.expect("status"), None);
        assert!(
            c.s3().head_bucket().bucket(&bucket).send().await.is_err(),
            "the uploads bucket is gone with the stack"
        );
    });

    // LocalStack fakes resource types it does not implement (and logs it): none may be faked.
    if let Some(path) = &ls.log {
        let log = std::fs::read_to_string(path).unwrap_or_default();
        let ours = log.get(log_start..).unwrap_or("");
        let faked: Vec<&str> = ours
            .lines()
            .filter(|l| l.contains("will fail in upcoming LocalStack releases"))
            .collect();
        assert!(
            faked.is_empty(),
            "resource types LocalStack only pretended to create: {faked:#?}"
        );
    }
}
