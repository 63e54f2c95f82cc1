//! Walks every policy document in the three templates: no grant of `*` or `service:*` (or any
//! wildcard action), and `Resource: "*"` only in key policies (where it means the key itself)
//! or for actions that have no resource-level permissions.

use serde_json::Value;
use stackgen::stack::Env;

/// Actions that cannot be scoped to a resource (each reason is declared with the grant in
/// `stack/access.rs`).
const UNSCOPABLE: &[&str] = &[
    "rekognition:CompareFaces",
    "rekognition:DetectFaces",
    "textract:AnalyzeDocument",
    "textract:AnalyzeID",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
];

fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

struct Walk {
    policies: usize,
    statements: usize,
    problems: Vec<String>,
}

fn check_policy(path: &str, doc: &Value, is_key_policy: bool, w: &mut Walk) {
    w.policies += 1;
    for (i, st) in as_list(&doc["Statement"]).into_iter().enumerate() {
        w.statements += 1;
        let at = format!("{path}.Statement[{i}]");
        if st.get("NotAction").is_some() || st.get("NotResource").is_some() {
            w.problems.push(format!("{at}: NotAction/NotResource"));
        }
        let effect = st["Effect"].as_str().unwrap_or("");
        let actions: Vec<&str> = as_list(&st["Action"])
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        if actions.is_empty() {
            w.problems.push(format!("{at}: no literal action"));
        }
        for a in &actions {
            let whole_service = a.ends_with(":*") && !a[..a.len() - 2].contains('*');
            if *a == "*" || (a.contains('*') && !(effect == "Deny" && whole_service)) {
                w.problems
                    .push(format!("{at}: wildcard action {a} in {effect}"));
            }
            if effect == "Allow" && a.contains('*') {
                w.problems.push(format!("{at}: wildcard grant {a}"));
            }
        }
        let any_resource = as_list(&st["Resource"])
            .iter()
            .any(|r| r.as_str() == Some("*"));
        if effect == "Allow" && any_resource && !is_key_policy {
            for a in &actions {
                if !UNSCOPABLE.contains(a) {
                    w.problems.push(format!("{at}: {a} on every resource"));
                }
            }
        }
    }
}

fn walk(path: &str, v: &Value, w: &mut Walk) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let here = format!("{path}.{k}");
                let is_policy = matches!(
                    k.as_str(),
                    "PolicyDocument" | "AssumeRolePolicyDocument" | "KeyPolicy"
                );
                if is_policy && child.get("Statement").is_some() {
                    check_policy(&here, child, k == "KeyPolicy", w);
                } else {
                    walk(&here, child, w);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(&format!("{path}[{i}]"), child, w);
            }
        }
        _ => {}
    }
}

#[test]
fn no_policy_grants_a_wildcard_action_or_an_unjustified_wildcard_resource() {
    for env in Env::ALL {
        let t = super::template(env);
        let mut w = Walk {
            policies: 0,
            statements: 0,
            problems: Vec::new(),
        };
        walk("Resources", &t["Resources"], &mut w);
        assert!(w.problems.is_empty(), "{env}: {:#?}", w.problems);
        // 12 function roles with trust and permission policies, the API Gateway role, key and
        // bucket policies: the walk must have seen them all.
        assert!(
            w.policies >= 30,
            "{env}: only {} policies walked",
            w.policies
        );
        eprintln!(
            "{env}: {} policies, {} statements, no wildcard grant",
            w.policies, w.statements
        );
    }
}

#[test]
fn the_walk_catches_a_wildcard_grant() {
    let doc: Value = serde_json::json!({
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::b"]},
            {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*"}
        ]
    });
    let mut w = Walk {
        policies: 0,
        statements: 0,
        problems: Vec::new(),
    };
    check_policy("t", &doc, false, &mut w);
    assert_eq!(w.problems.len(), 4, "{:#?}", w.problems);
}
