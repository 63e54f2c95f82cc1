//! CloudWatch: alarms on function errors, API errors and latency, the custom metrics
//! (`UploadErrors`, `LivenessFails`, `OCRLatency`, `SanctionsFlags`) and the failure queue, all
//! to the alarm topic; and one dashboard.

use super::api::{Apis, STAGE};
use super::functions::Functions;
use super::storage::Store;
use super::{EnvConfig, Features};
use crate::model::node::Node;
use crate::model::template::{ModelError, Template};
use crate::model::val::{sub, Str};
use crate::resources::cloudwatch;

struct AlarmSpec<'a> {
    id: String,
    name: String,
    description: String,
    namespace: String,
    metric: &'a str,
    dimensions: Vec<(&'a str, Str)>,
    statistic: Option<cloudwatch::alarm::Statistic>,
    percentile: Option<&'a str>,
    period: u32,
    threshold: u32,
}

fn alarm(t: &mut Template, store: &Store, a: AlarmSpec<'_>) -> Result<(), ModelError> {
    use cloudwatch::alarm::*;
    let mut alarm = cloudwatch::Alarm::new()
        .alarm_name(a.name)
        .alarm_description(a.description)
        .namespace(a.namespace)
        .metric_name(a.metric)
        .dimensions(a.dimensions.into_iter().map(|(k, v)| Dimension::new(k, v)))
        .period(a.period)
        .evaluation_periods(1u32)
        .threshold(a.threshold)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .treat_missing_data(TreatMissingData::NotBreaching)
        .alarm_actions([store.alarms_topic.to_ref()])
        .ok_actions([store.alarms_topic.to_ref()]);
    alarm = match (a.statistic, a.percentile) {
        (_, Some(p)) => alarm.extended_statistic(p),
        (Some(s), None) => alarm.statistic(s),
        (None, None) => alarm.statistic(Statistic::Sum),
    };
    t.add(&a.id, alarm).map(|_| ())
}

/// The alarms and the dashboard.
pub fn build(
    t: &mut Template,
    cfg: &EnvConfig,
    features: Features,
    store: &Store,
    fns: Option<&Functions>,
    apis: &Apis,
) -> Result<(), ModelError> {
    use cloudwatch::alarm::Statistic;
    let th = cfg.alarms;
    let ns = cfg.metrics_namespace();
    let api_name = cfg.name("api");
    let api_dims = || {
        vec![
            ("ApiName", Str::from(api_name.clone())),
            ("Stage", Str::from(STAGE)),
        ]
    };
    let _ = &apis.rest;
    if let Some(fns) = fns {
        for (h, _) in fns.all() {
            let fname = cfg.name(h.name());
            alarm(
                t,
                store,
                AlarmSpec {
                    id: format!("{}FunctionErrorsAlarm", super::api_segment(h.name())),
                    name: format!("{fname}-errors"),
                    description: format!(
                        "{fname} failed at least {} times in 5 minutes",
                        th.function_errors
                    ),
                    namespace: "AWS/Lambda".into(),
                    metric: "Errors",
                    dimensions: vec![("FunctionName", Str::from(fname.clone()))],
                    statistic: Some(Statistic::Sum),
                    percentile: None,
                    period: 300,
                    threshold: th.function_errors,
                },
            )?;
        }
    }
    let specs = [
        (
            "RestApi5xxAlarm",
            "api-5xx",
            "REST API 5xx responses",
            "AWS/ApiGateway",
            "5XXError",
            api_dims(),
            None,
            300,
            th.api_5xx,
        ),
        (
            "RestApiLatencyAlarm",
            "api-latency-p99",
            "REST API p99 latency (ms)",
            "AWS/ApiGateway",
            "Latency",
            api_dims(),
            Some("p99"),
            300,
            th.api_latency_p99_ms,
        ),
        (
            "UploadErrorsAlarm",
            "upload-errors",
            "Rejected or failed ID uploads",
            ns.as_str(),
            "UploadErrors",
            vec![],
            None,
            300,
            th.upload_errors,
        ),
        (
            "LivenessFailsAlarm",
            "liveness-fails",
            "Failed liveness checks",
            ns.as_str(),
            "LivenessFails",
            vec![],
            None,
            300,
            th.liveness_fails,
        ),
        (
            "OcrLatencyAlarm",
            "ocr-latency-p90",
            "Document reading p90 latency (ms)",
            ns.as_str(),
            "OCRLatency",
            vec![],
            Some("p90"),
            300,
            th.ocr_latency_p90_ms,
        ),
        (
            "SanctionsFlagsAlarm",
            "sanctions-flags",
            "Unusual number of sanctions matches in an hour",
            ns.as_str(),
            "SanctionsFlags",
            vec![],
            None,
            3600,
            th.sanctions_flags,
        ),
    ];
    for (id, name, desc, namespace, metric, dims, pct, period, threshold) in specs {
        alarm(
            t,
            store,
            AlarmSpec {
                id: id.into(),
                name: cfg.name(name),
                description: format!("{desc}: at least {threshold}"),
                namespace: namespace.into(),
                metric,
                dimensions: dims,
                statistic: None,
                percentile: pct,
                period,
                threshold,
            },
        )?;
    }
    alarm(
        t,
        store,
        AlarmSpec {
            id: "StreamFailuresAlarm".into(),
            name: cfg.name("stream-failures"),
            description: "Stream batches that failed every retry are waiting in the failure queue"
                .into(),
            namespace: "AWS/SQS".into(),
            metric: "ApproximateNumberOfMessagesVisible",
            dimensions: vec![("QueueName", Str::from(cfg.name("stream-failures")))],
            statistic: Some(Statistic::Maximum),
            percentile: None,
            period: 300,
            threshold: 1,
        },
    )?;

    if !features.dashboard {
        return Ok(());
    }
    // Dashboard body: CloudWatch wants a JSON string; the region comes from the stack.
    let metric_widget = |title: &str, metrics: Vec<Node>, stat: &str, x: i64, y: i64| {
        Node::map([
            ("type", Node::str("metric")),
            ("x", Node::Int(x)),
            ("y", Node::Int(y)),
            ("width", Node::Int(12)),
            ("height", Node::Int(6)),
            (
                "properties",
                Node::map([
                    ("title", Node::str(title)),
                    ("region", Node::str("${AWS::Region}")),
                    ("stat", Node::str(stat)),
                    ("period", Node::Int(300)),
                    ("metrics", Node::List(metrics)),
                ]),
            ),
        ])
    };
    let m = |parts: &[&str]| Node::List(parts.iter().map(|p| Node::str(*p)).collect());
    let widgets = vec![
        metric_widget(
            "Upload errors and liveness fails",
            vec![m(&[&ns, "UploadErrors"]), m(&[&ns, "LivenessFails"])],
            "Sum",
            0,
            0,
        ),
        metric_widget(
            "OCR latency (p90, ms)",
            vec![m(&[&ns, "OCRLatency"])],
            "p90",
            12,
            0,
        ),
        metric_widget(
            "Sanctions flags",
            vec![m(&[&ns, "SanctionsFlags"])],
            "Sum",
            0,
            6,
        ),
        metric_widget(
            "REST API latency (p99, ms)",
            vec![m(&[
                "AWS/ApiGateway",
                "Latency",
                "ApiName",
                &api_name,
                "Stage",
                STAGE,
            ])],
            "p99",
            12,
            6,
        ),
        metric_widget(
            "REST API 4xx and 5xx",
            vec![
                m(&[
                    "AWS/ApiGateway",
                    "4XXError",
                    "ApiName",
                    &api_name,
                    "Stage",
                    STAGE,
                ]),
                m(&[
                    "AWS/ApiGateway",
                    "5XXError",
                    "ApiName",
                    &api_name,
                    "Stage",
                    STAGE,
                ]),
            ],
            "Sum",
            0,
            12,
        ),
    ];
    let body = Node::map([("widgets", Node::List(widgets))]).to_compact_json();
    t.add(
        "Dashboard",
        cloudwatch::Dashboard::new(sub(&body, [])).dashboard_name(cfg.stack_name()),
    )?;
    Ok(())
}
