//! CloudWatch metrics as Embedded Metric Format (EMF) log lines: a handler fills a
//! [`MetricBatch`] and writes it as one JSON line to standard output (or any
//! [`std::io::Write`]); CloudWatch Logs extracts the metrics from the Lambda's log group. No API
//! call, no latency, no `cloudwatch:PutMetricData` permission needed.
//!
//! # The line
//!
//! ```json
//! {"Handler":"verify","OCRLatency":1234.5,"UploadErrors":[1.0,1.0],
//!  "_aws":{"Timestamp":1779341048123,"CloudWatchMetrics":[{"Namespace":"KYC/dev",
//!          "Dimensions":[[],["Handler"]],
//!          "Metrics":[{"Name":"OCRLatency","Unit":"Milliseconds"},{"Name":"UploadErrors","Unit":"Count"}]}]}}
//! ```
//!
//! Every line has the empty dimension set `[]` first: the stack's alarms (`UploadErrors`,
//! `LivenessFails`, `OCRLatency`, `SanctionsFlags` in `KYC/<env>`) watch the metrics without
//! dimensions, and CloudWatch matches dimensions exactly. When dimensions are set, a second set
//! with all of them gives the per-handler (per-outcome…) breakdown.
//!
//! # What is checked (the EMF specification's limits and CloudWatch's rules)
//!
//! - the namespace ([`Namespace`], from `KYC_METRICS_NAMESPACE`): 1–255 characters of
//!   `A-Za-z0-9._-/#:`, not under `AWS/`;
//! - metric names ([`MetricName`]): 1–255 characters, a letter then `A-Za-z0-9._-`, and never
//!   a dimension's name (both are members of the same JSON object);
//! - dimensions come from a closed set ([`Dimension`], far fewer than EMF's 30 per set); their
//!   values are 1–255 characters of `A-Za-z0-9._-:/`, which keeps free text (and with it
//!   personal data) and unbounded cardinality out;
//! - at most 100 metrics per line and 100 values per metric; values must be finite (JSON has no
//!   NaN or infinity).

use std::borrow::Cow;
use std::fmt;
use std::io::Write;

use kyc_core::model::Timestamp;
use serde_json::{Map, Value};

/// The environment variable that holds the namespace (`KYC/<env>` in the stack).
pub const NAMESPACE_VARIABLE: &str = "KYC_METRICS_NAMESPACE";
/// The most metrics in one line (EMF: a directive holds at most 100 metric definitions).
pub const MAX_METRICS: usize = 100;
/// The most dimensions in one dimension set (EMF).
pub const MAX_DIMENSIONS: usize = 30;
/// The most values one metric carries in one line (EMF).
pub const MAX_VALUES: usize = 100;

const MAX_NAME_LEN: usize = 255;
const MAX_DIMENSION_VALUE_LEN: usize = 255;

/// Why a metric could not be recorded or written. Messages never echo the refused input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// `KYC_METRICS_NAMESPACE` is not set.
    #[error("{NAMESPACE_VARIABLE} is not set")]
    NoNamespace,
    /// The namespace breaks CloudWatch's rules.
    #[error("metrics namespace is invalid")]
    InvalidNamespace,
    /// The metric name breaks the rules (see [`MetricName::parse`]).
    #[error("metric name is invalid")]
    InvalidName,
    /// A dimension value breaks the rules.
    #[error("value of dimension {dimension} is invalid")]
    InvalidDimensionValue {
        /// The dimension's name.
        dimension: &'static str,
    },
    /// More than [`MAX_METRICS`] distinct metrics.
    #[error("a metrics line holds at most {max} metrics")]
    TooManyMetrics {
        /// The limit.
        max: usize,
    },
    /// More than [`MAX_VALUES`] values for one metric.
    #[error("a metric holds at most {max} values per line")]
    TooManyValues {
        /// The limit.
        max: usize,
    },
    /// NaN or an infinity.
    #[error("metric value is not a finite number")]
    NotFinite,
    /// The same metric was recorded with two units.
    #[error("metric was recorded with two different units")]
    UnitMismatch,
    /// The line could not be written.
    #[error("metrics line could not be written")]
    Io(#[source] std::io::Error),
}

/// A CloudWatch namespace for the kit's metrics.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Namespace(String);

impl Namespace {
    /// Checks `s`: 1–255 characters of `A-Za-z0-9._-/#:`, not starting with `AWS/`.
    ///
    /// ```
    /// use kyc_aws::metrics::Namespace;
    /// assert!(Namespace::parse("KYC/dev").is_ok());
    /// assert!(Namespace::parse("AWS/Lambda").is_err());
    /// assert!(Namespace::parse("").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, MetricsError> {
        let ok = (1..=MAX_NAME_LEN).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-/#:".contains(&b))
            && !s.starts_with("AWS/");
        ok.then(|| Self(s.to_owned()))
            .ok_or(MetricsError::InvalidNamespace)
    }

    /// The namespace in [`NAMESPACE_VARIABLE`].
    pub fn from_env() -> Result<Self, MetricsError> {
        let s = std::env::var(NAMESPACE_VARIABLE).map_err(|_| MetricsError::NoNamespace)?;
        Self::parse(&s)
    }

    /// The namespace.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The dimensions the kit's metrics may carry (a closed set: dimensions multiply CloudWatch
/// metrics, and each one is a decision).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// The handler (`upload-id`, `verify`, `ocr`…).
    Handler,
    /// An operation inside a handler (`CompareFaces`, `AnalyzeID`…).
    Operation,
    /// An outcome (`approved`, `rejected`, `review`, `error`).
    Outcome,
    /// A fixed reason code (`no-face`, `expired-document`…).
    Reason,
    /// The engine that served a call (`rekognition`, `textract`…).
    Engine,
    /// The kind of identity document (`passport`, `id-card`…).
    DocumentType,
}

impl Dimension {
    /// Every dimension.
    pub const ALL: [Self; 6] = [
        Self::Handler,
        Self::Operation,
        Self::Outcome,
        Self::Reason,
        Self::Engine,
        Self::DocumentType,
    ];

    /// The dimension's name in CloudWatch.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Handler => "Handler",
            Self::Operation => "Operation",
            Self::Outcome => "Outcome",
            Self::Reason => "Reason",
            Self::Engine => "Engine",
            Self::DocumentType => "DocumentType",
        }
    }
}

// The closed set always fits in one EMF dimension set.
const _: () = assert!(Dimension::ALL.len() <= MAX_DIMENSIONS);

/// A validated metric name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MetricName(Cow<'static, str>);

impl MetricName {
    /// Rejected or failed ID uploads (alarmed on in the stack).
    pub const UPLOAD_ERRORS: Self = Self(Cow::Borrowed("UploadErrors"));
    /// Failed liveness checks (alarmed on).
    pub const LIVENESS_FAILS: Self = Self(Cow::Borrowed("LivenessFails"));
    /// Document-reading latency in milliseconds (p90 alarmed on).
    pub const OCR_LATENCY: Self = Self(Cow::Borrowed("OCRLatency"));
    /// Sanctions matches (alarmed on per hour).
    pub const SANCTIONS_FLAGS: Self = Self(Cow::Borrowed("SanctionsFlags"));

    /// Checks `s`: 1–255 characters, an ASCII letter then `A-Za-z0-9._-`, and not the name of a
    /// [`Dimension`].
    ///
    /// ```
    /// use kyc_aws::metrics::MetricName;
    /// assert!(MetricName::parse("FaceMatchLatency").is_ok());
    /// assert!(MetricName::parse("_aws").is_err());
    /// assert!(MetricName::parse("Handler").is_err()); // a dimension's name
    /// ```
    pub fn parse(s: &str) -> Result<Self, MetricsError> {
        let ok = s.len() <= MAX_NAME_LEN
            && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            && !Dimension::ALL.iter().any(|d| d.name() == s);
        ok.then(|| Self(Cow::Owned(s.to_owned())))
            .ok_or(MetricsError::InvalidName)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// CloudWatch's units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each variant is the unit its name says
pub enum Unit {
    Seconds,
    Microseconds,
    Milliseconds,
    Bytes,
    Kilobytes,
    Megabytes,
    Gigabytes,
    Terabytes,
    Bits,
    Kilobits,
    Megabits,
    Gigabits,
    Terabits,
    Percent,
    Count,
    BytesPerSecond,
    KilobytesPerSecond,
    MegabytesPerSecond,
    GigabytesPerSecond,
    TerabytesPerSecond,
    BitsPerSecond,
    KilobitsPerSecond,
    MegabitsPerSecond,
    GigabitsPerSecond,
    TerabitsPerSecond,
    CountPerSecond,
    None,
}

impl Unit {
    /// The unit's name in CloudWatch.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Seconds => "Seconds",
            Self::Microseconds => "Microseconds",
            Self::Milliseconds => "Milliseconds",
            Self::Bytes => "Bytes",
            Self::Kilobytes => "Kilobytes",
            Self::Megabytes => "Megabytes",
            Self::Gigabytes => "Gigabytes",
            Self::Terabytes => "Terabytes",
            Self::Bits => "Bits",
            Self::Kilobits => "Kilobits",
            Self::Megabits => "Megabits",
            Self::Gigabits => "Gigabits",
            Self::Terabits => "Terabits",
            Self::Percent => "Percent",
            Self::Count => "Count",
            Self::BytesPerSecond => "Bytes/Second",
            Self::KilobytesPerSecond => "Kilobytes/Second",
            Self::MegabytesPerSecond => "Megabytes/Second",
            Self::GigabytesPerSecond => "Gigabytes/Second",
            Self::TerabytesPerSecond => "Terabytes/Second",
            Self::BitsPerSecond => "Bits/Second",
            Self::KilobitsPerSecond => "Kilobits/Second",
            Self::MegabitsPerSecond => "Megabits/Second",
            Self::GigabitsPerSecond => "Gigabits/Second",
            Self::TerabitsPerSecond => "Terabits/Second",
            Self::CountPerSecond => "Count/Second",
            Self::None => "None",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Recorded {
    name: MetricName,
    unit: Unit,
    values: Vec<f64>,
}

/// Metrics and dimensions for one EMF line.
///
/// ```
/// use kyc_aws::metrics::{Dimension, MetricBatch, MetricName, Namespace, Unit};
/// use kyc_core::model::Timestamp;
///
/// let mut batch = MetricBatch::new(Namespace::parse("KYC/dev").unwrap());
/// batch.dimension(Dimension::Handler, "ocr").unwrap();
/// batch.put(&MetricName::OCR_LATENCY, 812.0, Unit::Milliseconds).unwrap();
/// let mut out = Vec::new();
/// batch.write_to(&mut out, Timestamp::from_secs(1_779_341_048)).unwrap();
/// let line: serde_json::Value = serde_json::from_slice(&out).unwrap();
/// assert_eq!(line["OCRLatency"], 812.0);
/// assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "KYC/dev");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MetricBatch {
    namespace: Namespace,
    dimensions: Vec<(Dimension, String)>,
    metrics: Vec<Recorded>,
}

impl MetricBatch {
    /// An empty batch in `namespace`.
    pub fn new(namespace: Namespace) -> Self {
        Self {
            namespace,
            dimensions: Vec::new(),
            metrics: Vec::new(),
        }
    }

    /// Sets `dimension` to `value` (replacing an earlier value) for every metric of the line.
    pub fn dimension(
        &mut self,
        dimension: Dimension,
        value: &str,
    ) -> Result<&mut Self, MetricsError> {
        let ok = (1..=MAX_DIMENSION_VALUE_LEN).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-:/".contains(&b));
        if !ok {
            return Err(MetricsError::InvalidDimensionValue {
                dimension: dimension.name(),
            });
        }
        match self.dimensions.iter_mut().find(|(d, _)| *d == dimension) {
            Some((_, v)) => *v = value.to_owned(),
            None => self.dimensions.push((dimension, value.to_owned())),
        }
        Ok(self)
    }

    /// Records `value` for `name` in `unit`. Recording the same name again adds a value (EMF
    /// sends them as an array, each one a sample for statistics).
    pub fn put(
        &mut self,
        name: &MetricName,
        value: f64,
        unit: Unit,
    ) -> Result<&mut Self, MetricsError> {
        if !value.is_finite() {
            return Err(MetricsError::NotFinite);
        }
        let count = self.metrics.len();
        match self.metrics.iter_mut().find(|m| m.name == *name) {
            Some(m) if m.unit != unit => return Err(MetricsError::UnitMismatch),
            Some(m) if m.values.len() >= MAX_VALUES => {
                return Err(MetricsError::TooManyValues { max: MAX_VALUES })
            }
            Some(m) => m.values.push(value),
            None if count >= MAX_METRICS => {
                return Err(MetricsError::TooManyMetrics { max: MAX_METRICS })
            }
            None => self.metrics.push(Recorded {
                name: name.clone(),
                unit,
                values: vec![value],
            }),
        }
        Ok(self)
    }

    /// Whether no metric was recorded.
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty()
    }

    /// Forgets the recorded metrics (keeps the namespace and dimensions).
    pub fn clear(&mut self) {
        self.metrics.clear();
    }

    /// The EMF document stamped `at`, or `None` when no metric was recorded.
    pub fn to_json(&self, at: Timestamp) -> Option<Value> {
        if self.metrics.is_empty() {
            return None;
        }
        let mut root = Map::new();
        let mut sets = vec![Value::Array(Vec::new())];
        if !self.dimensions.is_empty() {
            sets.push(Value::Array(
                self.dimensions
                    .iter()
                    .map(|(d, _)| Value::from(d.name()))
                    .collect(),
            ));
        }
        for (d, v) in &self.dimensions {
            root.insert(d.name().to_owned(), Value::from(v.as_str()));
        }
        let mut definitions = Vec::with_capacity(self.metrics.len());
        for m in &self.metrics {
            let mut values: Vec<Value> = m
                .values
                .iter()
                .filter_map(|v| serde_json::Number::from_f64(*v).map(Value::Number))
                .collect();
            let value = if values.len() == 1 {
                values.pop().unwrap_or(Value::Null)
            } else {
                Value::Array(values)
            };
            root.insert(m.name.as_str().to_owned(), value);
            let mut def = Map::new();
            def.insert("Name".into(), Value::from(m.name.as_str()));
            def.insert("Unit".into(), Value::from(m.unit.as_str()));
            definitions.push(Value::Object(def));
        }
        let mut directive = Map::new();
        directive.insert("Namespace".into(), Value::from(self.namespace.as_str()));
        directive.insert("Dimensions".into(), Value::Array(sets));
        directive.insert("Metrics".into(), Value::Array(definitions));
        let mut aws = Map::new();
        aws.insert("Timestamp".into(), Value::from(at.millis()));
        aws.insert(
            "CloudWatchMetrics".into(),
            Value::Array(vec![Value::Object(directive)]),
        );
        root.insert("_aws".into(), Value::Object(aws));
        Some(Value::Object(root))
    }

    /// Writes the line (JSON and a newline, in one write) stamped `at`; writes nothing when no
    /// metric was recorded.
    pub fn write_to(&self, out: &mut impl Write, at: Timestamp) -> Result<(), MetricsError> {
        let Some(doc) = self.to_json(at) else {
            return Ok(());
        };
        let mut line = doc.to_string();
        line.push('\n');
        out.write_all(line.as_bytes()).map_err(MetricsError::Io)?;
        out.flush().map_err(MetricsError::Io)
    }

    /// Writes the line to standard output (a Lambda's log), stamped `at`.
    pub fn emit(&self, at: Timestamp) -> Result<(), MetricsError> {
        self.write_to(&mut std::io::stdout().lock(), at)
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for MetricName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const AT: Timestamp = Timestamp::from_millis(1_779_341_048_123);

    fn ns() -> Namespace {
        Namespace::parse("KYC/dev").unwrap()
    }

    fn line(batch: &MetricBatch) -> String {
        let mut out = Vec::new();
        batch.write_to(&mut out, AT).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Checks a written line against the EMF structure and returns the parsed document.
    fn check_structure(line: &str) -> Value {
        assert!(
            line.ends_with('\n') && line.matches('\n').count() == 1,
            "one line"
        );
        let doc: Value = serde_json::from_str(line).expect("valid JSON");
        let root = doc.as_object().expect("an object");
        let aws = &root["_aws"];
        assert!(aws["Timestamp"].is_i64());
        let directives = aws["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1);
        let d = &directives[0];
        assert!(d["Namespace"].as_str().is_some_and(|s| !s.is_empty()));
        let sets = d["Dimensions"].as_array().unwrap();
        assert_eq!(
            sets[0],
            Value::Array(vec![]),
            "the alarms' dimensionless set"
        );
        for set in sets {
            let set = set.as_array().unwrap();
            assert!(set.len() <= MAX_DIMENSIONS);
            for key in set {
                assert!(root[key.as_str().unwrap()].is_string(), "dimension member");
            }
        }
        let metrics = d["Metrics"].as_array().unwrap();
        assert!(!metrics.is_empty() && metrics.len() <= MAX_METRICS);
        for m in metrics {
            let name = m["Name"].as_str().unwrap();
            assert!(m["Unit"].is_string());
            match &root[name] {
                Value::Number(_) => {}
                Value::Array(vs) => {
                    assert!(vs.len() <= MAX_VALUES && vs.iter().all(Value::is_number))
                }
                other => panic!("metric member {name} is {other}"),
            }
        }
        doc
    }

    #[test]
    fn a_typical_line_has_the_emf_shape() {
        let mut b = MetricBatch::new(ns());
        b.dimension(Dimension::Handler, "verify").unwrap();
        b.dimension(Dimension::Outcome, "approved").unwrap();
        b.put(&MetricName::OCR_LATENCY, 1234.5, Unit::Milliseconds)
            .unwrap();
        b.put(&MetricName::UPLOAD_ERRORS, 1.0, Unit::Count).unwrap();
        b.put(&MetricName::UPLOAD_ERRORS, 1.0, Unit::Count).unwrap();
        let l = line(&b);
        check_structure(&l);
        insta::assert_snapshot!(l);
    }

    #[test]
    fn without_dimensions_only_the_empty_set_is_declared() {
        let mut b = MetricBatch::new(ns());
        b.put(&MetricName::SANCTIONS_FLAGS, 2.0, Unit::Count)
            .unwrap();
        let doc = check_structure(&line(&b));
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([[]])
        );
        insta::assert_json_snapshot!(doc);
    }

    #[test]
    fn an_empty_batch_writes_nothing() {
        let b = MetricBatch::new(ns());
        assert!(b.is_empty());
        assert_eq!(line(&b), "");
        assert_eq!(b.to_json(AT), None);
    }

    #[test]
    fn a_dimension_set_twice_keeps_the_last_value() {
        let mut b = MetricBatch::new(ns());
        b.dimension(Dimension::Engine, "rekognition").unwrap();
        b.dimension(Dimension::Engine, "dlib").unwrap();
        b.put(&MetricName::LIVENESS_FAILS, 1.0, Unit::Count)
            .unwrap();
        let doc = check_structure(&line(&b));
        assert_eq!(doc["Engine"], "dlib");
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([[], ["Engine"]])
        );
    }

    #[test]
    fn the_limits_of_the_specification_are_enforced() {
        let mut b = MetricBatch::new(ns());
        for i in 0..MAX_METRICS {
            let name = MetricName::parse(&format!("M{i}")).unwrap();
            b.put(&name, 1.0, Unit::Count).unwrap();
        }
        let extra = MetricName::parse("OneTooMany").unwrap();
        assert!(matches!(
            b.put(&extra, 1.0, Unit::Count),
            Err(MetricsError::TooManyMetrics { max: 100 })
        ));
        let m0 = MetricName::parse("M0").unwrap();
        for _ in 1..MAX_VALUES {
            b.put(&m0, 2.0, Unit::Count).unwrap();
        }
        assert!(matches!(
            b.put(&m0, 3.0, Unit::Count),
            Err(MetricsError::TooManyValues { max: 100 })
        ));
        assert!(matches!(
            b.put(&m0, 3.0, Unit::Seconds),
            Err(MetricsError::UnitMismatch)
        ));
        check_structure(&line(&b));
    }

    #[test]
    fn bad_input_is_refused_without_being_echoed() {
        let mut b = MetricBatch::new(ns());
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(matches!(
                b.put(&MetricName::OCR_LATENCY, v, Unit::Milliseconds),
                Err(MetricsError::NotFinite)
            ));
        }
        let err = b
            .dimension(Dimension::Reason, "Jane Doe, 1990-01-01")
            .unwrap_err();
        assert_eq!(err.to_string(), "value of dimension Reason is invalid");
        assert!(b.dimension(Dimension::Reason, "").is_err());
        assert!(b.dimension(Dimension::Reason, &"a".repeat(256)).is_err());
        for bad in [
            "",
            "1abc",
            "_aws",
            "Outcome",
            "has space",
            "é",
            &"a".repeat(256),
        ] {
            assert!(MetricName::parse(bad).is_err(), "{bad:?}");
        }
        for bad in ["", "AWS/Lambda", "KYC dev", "KYC/dév", &"a".repeat(256)] {
            assert!(Namespace::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_alarmed_metric_names_are_valid_names() {
        for n in [
            MetricName::UPLOAD_ERRORS,
            MetricName::LIVENESS_FAILS,
            MetricName::OCR_LATENCY,
            MetricName::SANCTIONS_FLAGS,
        ] {
            assert_eq!(MetricName::parse(n.as_str()).unwrap(), n);
        }
    }

    #[test]
    fn a_failing_writer_is_an_error_not_a_panic() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("closed"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut b = MetricBatch::new(ns());
        b.put(&MetricName::UPLOAD_ERRORS, 1.0, Unit::Count).unwrap();
        assert!(matches!(
            b.write_to(&mut Broken, AT),
            Err(MetricsError::Io(_))
        ));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Dim(usize, String),
        Put(String, f64, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..Dimension::ALL.len(), any::<String>()).prop_map(|(d, v)| Op::Dim(d, v)),
            (0..Dimension::ALL.len(), "[A-Za-z0-9._-]{1,12}").prop_map(|(d, v)| Op::Dim(d, v)),
            (any::<String>(), any::<f64>(), 0..3usize).prop_map(|(n, v, u)| Op::Put(n, v, u)),
            ("[A-Za-z][A-Za-z0-9._-]{0,5}", any::<f64>(), 0..3usize)
                .prop_map(|(n, v, u)| Op::Put(n, v, u)),
        ]
    }

    proptest! {
        #[test]
        fn no_input_panics_or_yields_an_invalid_line(
            namespace in any::<String>(),
            ops in proptest::collection::vec(op(), 0..300),
            at in any::<i64>(),
        ) {
            let ns = Namespace::parse(&namespace).unwrap_or_else(|_| ns());
            let mut b = MetricBatch::new(ns);
            let units = [Unit::Count, Unit::Milliseconds, Unit::BytesPerSecond];
            for op in ops {
                match op {
                    Op::Dim(d, v) => { let _ = b.dimension(Dimension::ALL[d], &v); }
                    Op::Put(n, v, u) => {
                        if let Ok(name) = MetricName::parse(&n) {
                            let _ = b.put(&name, v, units[u]);
                        }
                    }
                }
            }
            let mut out = Vec::new();
            b.write_to(&mut out, Timestamp::from_millis(at)).unwrap();
            if b.is_empty() {
                prop_assert!(out.is_empty());
            } else {
                check_structure(std::str::from_utf8(&out).unwrap());
            }
        }

        #[test]
        fn parsers_never_panic_and_accepted_names_round_trip(s in any::<String>()) {
            if let Ok(n) = MetricName::parse(&s) { prop_assert_eq!(n.as_str(), s.as_str()); }
            if let Ok(n) = Namespace::parse(&s) { prop_assert_eq!(n.as_str(), s.as_str()); }
        }
    }
}
