//! Snapshots of the three templates, and byte-identical output across runs.

use std::time::Instant;

use stackgen::stack::{Env, Features};
use stackgen::synth::{render, Format};

#[test]
fn every_template_matches_its_reviewed_snapshot() {
    for env in Env::ALL {
        let yaml = render(env, Features::ALL, Format::Yaml).expect("template renders");
        insta::assert_snapshot!(format!("kyc-{env}.yaml"), yaml);
    }
}

#[test]
fn synthesis_is_deterministic() {
    for env in Env::ALL {
        for format in [Format::Yaml, Format::Json] {
            let a = render(env, Features::ALL, format).expect("first run");
            let b = render(env, Features::ALL, format).expect("second run");
            assert!(a == b, "{env} {format:?}: two runs differ");
        }
    }
}

#[test]
fn prod_retains_data_and_dev_does_not() {
    let prod = super::template(Env::Prod);
    let dev = super::template(Env::Dev);
    for (id, r) in prod["Resources"].as_object().expect("resources") {
        if r["Type"] == "AWS::DynamoDB::Table" || r["Type"] == "AWS::S3::Bucket" {
            assert_eq!(r["DeletionPolicy"], "Retain", "prod {id}");
            assert_eq!(r["UpdateReplacePolicy"], "Retain", "prod {id}");
        }
    }
    for (id, r) in dev["Resources"].as_object().expect("resources") {
        if r["Type"] == "AWS::DynamoDB::Table" {
            assert_eq!(r["DeletionPolicy"], "Delete", "dev {id}");
        }
    }
}

#[test]
fn prod_throttles_the_rest_api_at_100_rps() {
    let prod = super::template(Env::Prod);
    let settings = &prod["Resources"]["RestApiProdStage"]["Properties"]["MethodSettings"][0];
    assert_eq!(settings["ThrottlingRateLimit"], 100.0);
    let plan = &prod["Resources"]["RestApiUsagePlan"]["Properties"]["Throttle"];
    assert_eq!(plan["RateLimit"], 100.0);
}

#[test]
fn the_audit_and_ocr_tables_expire_items_on_expires_at_and_ocr_streams_new_images() {
    let t = super::template(Env::Stage);
    let audit = &t["Resources"]["AuditLogTable"]["Properties"];
    assert_eq!(audit["TableName"], "kyc-stage-KycAuditLog");
    assert_eq!(
        audit["TimeToLiveSpecification"]["AttributeName"],
        "expiresAt"
    );
    let ocr = &t["Resources"]["OcrDataTable"]["Properties"];
    assert_eq!(ocr["StreamSpecification"]["StreamViewType"], "NEW_IMAGE");
    assert_eq!(
        ocr["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
}

#[test]
fn every_function_runs_on_arm64_provided_al2023_with_tracing_and_a_dead_letter_queue() {
    let t = super::template(Env::Dev);
    let mut count = 0;
    for (id, r) in t["Resources"].as_object().expect("resources") {
        if r["Type"] != "AWS::Lambda::Function" {
            continue;
        }
        count += 1;
        let p = &r["Properties"];
        assert_eq!(p["Runtime"], "provided.al2023", "{id}");
        assert_eq!(p["Architectures"][0], "arm64", "{id}");
        assert_eq!(p["TracingConfig"]["Mode"], "Active", "{id}");
        assert!(p["DeadLetterConfig"]["TargetArn"].is_object(), "{id}");
        assert!(p["ReservedConcurrentExecutions"].is_i64(), "{id}");
    }
    assert_eq!(count, 12);
}

#[test]
fn synthesising_all_three_environments_takes_well_under_a_second() {
    // Debug build; the release figure is printed by `cargo xtask bench synth`.
    let start = Instant::now();
    for env in Env::ALL {
        render(env, Features::ALL, Format::Yaml).expect("template renders");
    }
    let elapsed = start.elapsed();
    eprintln!("synthesised dev, stage and prod in {elapsed:?} (debug build)");
    assert!(elapsed.as_secs_f64() < 5.0, "{elapsed:?}");
}

#[test]
fn api_resources_hang_from_their_parent_path() {
    let t = super::template(Env::Dev);
    let v1 = &t["Resources"]["ApiV1"]["Properties"];
    assert_eq!(v1["PathPart"], "v1");
    assert_eq!(v1["ParentId"]["Fn::GetAtt"][1], "RootResourceId");
    let by_id = &t["Resources"]["ApiV1VerifyByVerificationId"]["Properties"];
    assert_eq!(by_id["PathPart"], "{verificationId}");
    assert_eq!(by_id["ParentId"]["Ref"], "ApiV1Verify");
}

#[test]
fn positional_constructor_arguments_landed_in_the_right_properties() {
    // Generated constructors take required properties in name order; these checks catch a
    // swapped pair of same-typed arguments.
    for env in Env::ALL {
        let t = super::template(env);
        for (id, r) in t["Resources"].as_object().expect("resources") {
            let p = &r["Properties"];
            match r["Type"].as_str().unwrap_or_default() {
                "AWS::Lambda::Permission" => {
                    assert_eq!(p["Action"], "lambda:InvokeFunction", "{id}");
                    let principal = p["Principal"].as_str().unwrap_or_default();
                    assert!(principal.ends_with(".amazonaws.com"), "{id}: {principal}");
                }
                "AWS::KMS::Alias" => {
                    assert!(
                        p["AliasName"]
                            .as_str()
                            .is_some_and(|a| a.starts_with("alias/")),
                        "{id}"
                    );
                }
                "AWS::ApiGateway::UsagePlanKey" => assert_eq!(p["KeyType"], "API_KEY", "{id}"),
                "AWS::ApiGateway::Method" => {
                    let m = p["HttpMethod"].as_str().unwrap_or_default();
                    assert!(
                        ["GET", "POST", "PUT", "DELETE", "OPTIONS"].contains(&m),
                        "{id}"
                    );
                    assert!(p["ResourceId"]["Ref"].is_string(), "{id}");
                }
                "AWS::ApiGateway::Authorizer" => assert_eq!(p["Type"], "TOKEN", "{id}"),
                "AWS::ApiGatewayV2::Authorizer" => {
                    assert_eq!(p["AuthorizerType"], "REQUEST", "{id}")
                }
                "AWS::SNS::Subscription" => {
                    assert!(
                        ["email", "lambda"].contains(&p["Protocol"].as_str().unwrap_or_default()),
                        "{id}"
                    );
                }
                _ => {}
            }
        }
    }
}

/// API Gateway answers the CORS preflight itself, but the functions' own answers carry the
/// CORS headers only when `KYC_CORS_ORIGINS` names the origin: each API function must name the
/// very origin the preflight allows, and no worker needs it.
#[test]
fn the_api_functions_allow_the_origin_the_preflight_allows() {
    for env in Env::ALL {
        let t = super::template(env);
        let resources = t["Resources"].as_object().expect("resources");
        let mut preflight = Vec::new();
        for (id, r) in resources {
            if r["Type"] == "AWS::ApiGateway::Method" && r["Properties"]["HttpMethod"] == "OPTIONS"
            {
                for answer in r["Properties"]["Integration"]["IntegrationResponses"]
                    .as_array()
                    .expect("integration responses")
                {
                    let origin = answer["ResponseParameters"]
                        ["method.response.header.Access-Control-Allow-Origin"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{env} {id}: no allowed origin"));
                    preflight.push(origin.trim_matches('\'').to_owned());
                }
            }
        }
        preflight.sort();
        preflight.dedup();
        assert_eq!(
            preflight.len(),
            1,
            "{env}: one front-end origin, {preflight:?}"
        );
        let mut with_cors = Vec::new();
        for r in resources.values() {
            if r["Type"] != "AWS::Lambda::Function" {
                continue;
            }
            let p = &r["Properties"];
            let name = p["FunctionName"].as_str().expect("function name");
            let short = name
                .strip_prefix(&format!("kyc-{env}-"))
                .expect("kyc-<env>- prefix");
            if let Some(v) = p["Environment"]["Variables"].get("KYC_CORS_ORIGINS") {
                assert_eq!(v.as_str(), Some(preflight[0].as_str()), "{name}");
                with_cors.push(short.to_owned());
            }
        }
        with_cors.sort();
        assert_eq!(
            with_cors,
            ["erasure", "jwks", "liveness", "upload-id", "verify"],
            "{env}: the functions of the api binary"
        );
    }
}
