//! Validates every resource of the three templates against its official CloudFormation resource
//! schema (the files in `stackgen/schemas/`, copied from the pinned cfn-lint). A small JSON
//! Schema validator: types, enums, required and unknown properties, lengths, patterns, ranges
//! and list sizes; an intrinsic function stands for a value of any type.

use std::collections::BTreeMap;
use std::path::PathBuf;

use regex::Regex;
use serde_json::Value;
use stackgen::stack::Env;

struct Validator<'a> {
    root: &'a Value,
    errors: Vec<String>,
    patterns: BTreeMap<String, Option<Regex>>,
}

fn is_intrinsic(v: &Value) -> bool {
    match v.as_object() {
        Some(m) if m.len() == 1 => m
            .keys()
            .next()
            .is_some_and(|k| k == "Ref" || k.starts_with("Fn::")),
        _ => false,
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    }
}

impl<'a> Validator<'a> {
    fn resolve(&self, s: &'a Value) -> &'a Value {
        match s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/definitions/"))
        {
            Some(name) => self.root["definitions"].get(name).unwrap_or(&Value::Null),
            None => s,
        }
    }

    fn errors_of(&mut self, v: &Value, s: &'a Value, path: &str) -> usize {
        let before = self.errors.len();
        self.validate(v, s, path);
        let n = self.errors.len() - before;
        self.errors.truncate(before);
        n
    }

    fn validate(&mut self, v: &Value, s: &'a Value, path: &str) {
        if is_intrinsic(v) {
            return;
        }
        let s = self.resolve(s);
        let types: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.is_empty() && !types.iter().any(|t| type_matches(t, v)) {
            self.errors.push(format!("{path}: not of type {types:?}"));
            return;
        }
        if let Some(values) = s.get("enum").and_then(Value::as_array) {
            if !values.contains(v) {
                self.errors
                    .push(format!("{path}: not one of the allowed values"));
            }
        }
        if let Some(c) = s.get("const") {
            if c != v {
                self.errors.push(format!("{path}: not the constant value"));
            }
        }
        for key in ["allOf"] {
            if let Some(subs) = s.get(key).and_then(Value::as_array) {
                for sub in subs {
                    self.validate(v, sub, path);
                }
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(subs) = s.get(key).and_then(Value::as_array) {
                let ok = subs.iter().any(|sub| self.errors_of(v, sub, path) == 0);
                if !ok {
                    self.errors.push(format!("{path}: matches none of {key}"));
                }
            }
        }
        match v {
            Value::String(text) => {
                let len = text.chars().count() as u64;
                if s.get("minLength")
                    .and_then(Value::as_u64)
                    .is_some_and(|m| len < m)
                {
                    self.errors.push(format!("{path}: too short"));
                }
                if s.get("maxLength")
                    .and_then(Value::as_u64)
                    .is_some_and(|m| len > m)
                {
                    self.errors.push(format!("{path}: too long"));
                }
                if let Some(p) = s.get("pattern").and_then(Value::as_str) {
                    let re = self
                        .patterns
                        .entry(p.to_string())
                        .or_insert_with(|| Regex::new(p).ok());
                    if re.as_ref().is_some_and(|re| !re.is_match(text)) {
                        self.errors.push(format!("{path}: does not match {p}"));
                    }
                }
            }
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(0.0);
                if s.get("minimum")
                    .and_then(Value::as_f64)
                    .is_some_and(|m| x < m)
                {
                    self.errors.push(format!("{path}: below minimum"));
                }
                if s.get("maximum")
                    .and_then(Value::as_f64)
                    .is_some_and(|m| x > m)
                {
                    self.errors.push(format!("{path}: above maximum"));
                }
            }
            Value::Array(items) => {
                let n = items.len() as u64;
                if s.get("minItems")
                    .and_then(Value::as_u64)
                    .is_some_and(|m| n < m)
                {
                    self.errors.push(format!("{path}: too few items"));
                }
                if s.get("maxItems")
                    .and_then(Value::as_u64)
                    .is_some_and(|m| n > m)
                {
                    self.errors.push(format!("{path}: too many items"));
                }
                if let Some(item_schema) = s.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.validate(item, item_schema, &format!("{path}[{i}]"));
                    }
                }
            }
            Value::Object(map) => {
                if let Some(req) = s.get("required").and_then(Value::as_array) {
                    for r in req.iter().filter_map(Value::as_str) {
                        if !map.contains_key(r) {
                            self.errors.push(format!("{path}: missing required {r}"));
                        }
                    }
                }
                let props = s.get("properties").and_then(Value::as_object);
                let pattern_props = s.get("patternProperties").and_then(Value::as_object);
                for (k, child) in map {
                    let here = format!("{path}.{k}");
                    if let Some(ps) = props.and_then(|p| p.get(k)) {
                        self.validate(child, ps, &here);
                        continue;
                    }
                    let by_pattern = pattern_props.and_then(|pp| {
                        pp.iter()
                            .find(|(p, _)| Regex::new(p).is_ok_and(|re| re.is_match(k)))
                            .map(|(_, sub)| sub)
                    });
                    match (by_pattern, s.get("additionalProperties")) {
                        (Some(sub), _) => self.validate(child, sub, &here),
                        (None, Some(Value::Bool(false))) => {
                            self.errors.push(format!("{here}: unknown property"))
                        }
                        (None, Some(sub)) if sub.is_object() => self.validate(child, sub, &here),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

fn schema_for(type_name: &str) -> Value {
    let file = format!("{}.json", type_name.to_lowercase().replace("::", "-"));
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no schema for {type_name} at {}: {e}", path.display()));
    serde_json::from_str(&text).expect("schema is JSON")
}

#[test]
fn every_resource_validates_against_its_cloudformation_schema() {
    let mut checked = 0;
    for env in Env::ALL {
        let t = super::template(env);
        for (id, r) in t["Resources"].as_object().expect("resources") {
            let type_name = r["Type"].as_str().expect("type");
            let schema = schema_for(type_name);
            let mut v = Validator {
                root: &schema,
                errors: Vec::new(),
                patterns: BTreeMap::new(),
            };
            let props = r
                .get("Properties")
                .cloned()
                .unwrap_or(Value::Object(Default::default()));
            v.validate(&props, &schema, &format!("{env}.{id}"));
            let read_only: Vec<&str> = schema["readOnlyProperties"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for ro in read_only {
                if let Some(name) = ro.strip_prefix("/properties/") {
                    if props.get(name).is_some() {
                        v.errors
                            .push(format!("{env}.{id}.{name}: read-only property set"));
                    }
                }
            }
            assert!(v.errors.is_empty(), "{:#?}", v.errors);
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} resources checked");
}

#[test]
fn the_validator_catches_a_bad_value() {
    let schema = schema_for("AWS::Lambda::Function");
    let mut v = Validator {
        root: &schema,
        errors: Vec::new(),
        patterns: BTreeMap::new(),
    };
    let props = serde_json::json!({
        "Code": {"S3Bucket": "bucket", "S3Key": "k"},
        "Role": "arn:aws:iam::123456789012:role/r",
        "MemorySize": 64,
        "Runtime": "provided.al2099",
        "Unknown": true
    });
    v.validate(&props, &schema, "f");
    assert_eq!(v.errors.len(), 3, "{:#?}", v.errors);
}
