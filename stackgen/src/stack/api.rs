//! The REST API (prod stage, usage plan, API key, throttling, CORS, authorizer, access logs),
//! the task board's WebSocket API, and the WAF web ACL on the REST API.

use sha2::{Digest, Sha256};

use super::functions::{Functions, Handler};
use super::storage::Store;
use super::{arn, data_retention, EnvConfig, Features};
use crate::model::iam::{PolicyDocument, Statement};
use crate::model::node::Node;
use crate::model::template::{Attributes, Handle, ModelError, Template};
use crate::model::val::{pseudo, sub, Map, Str, ToNode, Val};
use crate::resources::{apigateway, apigatewayv2, iam, lambda, logs, wafv2};

/// The APIs, for the parameters, outputs and alarms.
pub struct Apis {
    /// The REST API.
    pub rest: Handle<apigateway::RestApi>,
    /// Its `prod` stage.
    pub stage: Handle<apigateway::Stage>,
    /// `https://{api}.execute-api.{region}.{suffix}/prod`.
    pub rest_url: Str,
    /// `wss://…/prod` when the WebSocket API is deployed.
    pub websocket_url: Option<Str>,
}

/// The stage name every API uses.
pub const STAGE: &str = "prod";

const ACCESS_LOG_FORMAT: &str = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","routeKey":"$context.routeKey","resourcePath":"$context.resourcePath","status":"$context.status","responseLength":"$context.responseLength","integrationLatency":"$context.integrationLatency","errorMessage":"$context.error.message"}"#;

const WS_ACCESS_LOG_FORMAT: &str = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","eventType":"$context.eventType","routeKey":"$context.routeKey","status":"$context.status","connectionId":"$context.connectionId","errorMessage":"$context.error.message"}"#;

fn invoke_uri(function: &Handle<lambda::Function>) -> Str {
    arn(
        "apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Function}/invocations",
        [("Function", function.arn())],
    )
}

/// The WebSocket API itself (created before the functions: the push function's role names it).
pub fn websocket_api(
    t: &mut Template,
    cfg: &EnvConfig,
) -> Result<Handle<apigatewayv2::Api>, ModelError> {
    t.add(
        "TaskBoardWebSocketApi",
        apigatewayv2::Api::new()
            .name(cfg.name("task-board-ws"))
            .description("Task board: live task changes for connected clients")
            .protocol_type("WEBSOCKET")
            .route_selection_expression("$request.body.action"),
    )
}

fn log_group(
    t: &mut Template,
    cfg: &EnvConfig,
    store: &Store,
    id: &str,
    name: &str,
) -> Result<Handle<logs::LogGroup>, ModelError> {
    t.add_with(
        id,
        logs::LogGroup::new()
            .log_group_name(format!("/kyc/{}/{name}", cfg.env))
            .retention_in_days(cfg.log_retention_days)
            .kms_key_id(store.key.arn()),
        data_retention(cfg),
    )
}

/// One route of the REST API.
struct Route {
    path: &'static [&'static str],
    method: &'static str,
    handler: Handler,
    access: Access,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// An API key (the front end's).
    ApiKey,
    /// A verification token, checked by the authorizer, plus the API key.
    Token,
    /// Public: the token-verification key set.
    Public,
}

const ROUTES: &[Route] = &[
    Route {
        path: &["v1", "upload-id"],
        method: "POST",
        handler: Handler::UploadId,
        access: Access::ApiKey,
    },
    Route {
        path: &["v1", "start-liveness"],
        method: "POST",
        handler: Handler::Liveness,
        access: Access::ApiKey,
    },
    Route {
        path: &["v1", "submit-frame"],
        method: "POST",
        handler: Handler::Liveness,
        access: Access::ApiKey,
    },
    Route {
        path: &["v1", "verify", "{verificationId}"],
        method: "GET",
        handler: Handler::Verify,
        access: Access::ApiKey,
    },
    Route {
        path: &["v1", "ips"],
        method: "POST",
        handler: Handler::Verify,
        access: Access::ApiKey,
    },
    Route {
        path: &["v1", "verifications", "{verificationId}"],
        method: "DELETE",
        handler: Handler::Erasure,
        access: Access::ApiKey,
    },
    Route {
        path: &[".well-known", "jwks.json"],
        method: "GET",
        handler: Handler::Jwks,
        access: Access::Public,
    },
    Route {
        path: &["v1", "tasks"],
        method: "GET",
        handler: Handler::Tasks,
        access: Access::Token,
    },
    Route {
        path: &["v1", "tasks"],
        method: "POST",
        handler: Handler::Tasks,
        access: Access::Token,
    },
    Route {
        path: &["v1", "tasks", "{taskId}"],
        method: "GET",
        handler: Handler::Tasks,
        access: Access::Token,
    },
    Route {
        path: &["v1", "tasks", "{taskId}"],
        method: "PUT",
        handler: Handler::Tasks,
        access: Access::Token,
    },
    Route {
        path: &["v1", "tasks", "{taskId}"],
        method: "DELETE",
        handler: Handler::Tasks,
        access: Access::Token,
    },
];

/// `upload-id` → `UploadId`, `{taskId}` → `ByTaskId`, `.well-known` → `WellKnown`.
pub(crate) fn segment_id(segment: &str) -> String {
    let (prefix, body) = match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        Some(inner) => ("By", inner),
        None => ("", segment),
    };
    let mut out = prefix.to_string();
    for word in body
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(f) = chars.next() {
            out.push(f.to_ascii_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

fn title(method: &str) -> String {
    let lower = method.to_ascii_lowercase();
    let mut c = lower.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The REST API, the WebSocket API's routes and stage, the WAF, and the invoke permissions.
pub fn build(
    t: &mut Template,
    cfg: &EnvConfig,
    features: Features,
    store: &Store,
    fns: Option<&Functions>,
    ws_api: Option<&Handle<apigatewayv2::Api>>,
) -> Result<Apis, ModelError> {
    use apigateway::method::*;
    let rest = t.add(
        "RestApi",
        apigateway::RestApi::new()
            .name(cfg.name("api"))
            .description("KYC kit HTTP API")
            .api_key_source_type("HEADER")
            .binary_media_types([Str::from("image/jpeg"), Str::from("image/png")])
            .endpoint_configuration(
                apigateway::rest_api::EndpointConfiguration::new().types([Str::from("REGIONAL")]),
            ),
    )?;
    let authorizer = match fns.and_then(|f| f.get(Handler::Authorizer)) {
        Some(f) => {
            let a = t.add(
                "RestTokenAuthorizer",
                apigateway::Authorizer::new(cfg.name("token-authorizer"), rest.to_ref(), "TOKEN")
                    .authorizer_uri(invoke_uri(f))
                    .identity_source("method.request.header.Authorization")
                    .authorizer_result_ttl_in_seconds(300u32),
            )?;
            t.add(
                "RestTokenAuthorizerPermission",
                lambda::Permission::new(
                    "lambda:InvokeFunction",
                    f.arn(),
                    "apigateway.amazonaws.com",
                )
                .source_arn(arn(
                    "execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/authorizers/${Authorizer}",
                    [("Api", rest.to_ref()), ("Authorizer", a.to_ref())],
                )),
            )?;
            Some(a)
        }
        None => None,
    };

    // Resources: one per path prefix, in a deterministic order.
    let mut resources: Vec<(Vec<&str>, String)> = Vec::new();
    let mut resource_refs: std::collections::BTreeMap<Vec<&str>, (String, Str)> =
        Default::default();
    for r in ROUTES {
        for depth in 1..=r.path.len() {
            let prefix: Vec<&str> = r.path[..depth].to_vec();
            if resource_refs.contains_key(&prefix) {
                continue;
            }
            let id = format!(
                "Api{}",
                prefix.iter().map(|s| segment_id(s)).collect::<String>()
            );
            let parent = if depth == 1 {
                rest.root_resource_id()
            } else {
                resource_refs
                    .get(&prefix[..depth - 1])
                    .map(|(_, r)| r.clone())
                    .unwrap_or_else(|| rest.root_resource_id())
            };
            let h = t.add(
                &id,
                apigateway::Resource::new(parent, prefix[depth - 1], rest.to_ref()),
            )?;
            resource_refs.insert(prefix.clone(), (id.clone(), h.to_ref()));
            resources.push((prefix, id));
        }
    }

    // Methods, then a deployment whose id changes whenever a method does.
    let mut method_nodes: Vec<Node> = Vec::new();
    let mut method_ids: Vec<String> = Vec::new();
    let mut add_method = |t: &mut Template,
                          id: String,
                          m: apigateway::Method,
                          attrs: Attributes|
     -> Result<(), ModelError> {
        method_nodes.push(m.to_node());
        t.add_with(&id, m, attrs)?;
        method_ids.push(id);
        Ok(())
    };
    for r in ROUTES {
        let Some((rid, rref)) = resource_refs.get(r.path).cloned() else {
            continue;
        };
        let integration = match fns.and_then(|f| f.get(r.handler)) {
            Some(f) => Integration::new(Type::AwsProxy)
                .integration_http_method("POST")
                .uri(invoke_uri(f)),
            None => Integration::new(Type::Mock)
                .request_templates([(
                    "application/json".to_string(),
                    Str::from(r#"{"statusCode": 200}"#),
                )])
                .integration_responses([IntegrationResponse::new("200")]),
        };
        let mut m = apigateway::Method::new(r.method, rref, rest.to_ref())
            .integration(integration)
            .method_responses([MethodResponse::new("200")])
            .api_key_required(r.access != Access::Public);
        let mut attrs = Attributes::new();
        match (r.access, &authorizer) {
            (Access::Token, Some(a)) => {
                m = m.authorization_type("CUSTOM").authorizer_id(a.to_ref());
            }
            (Access::Public, _) => {
                m = m.authorization_type("NONE");
                attrs = attrs.checkov_skip("CKV_AWS_59", "the token-verification key set (JWKS) is public by design: every relying app must fetch it without credentials");
            }
            _ => {
                m = m.authorization_type("NONE");
            }
        }
        add_method(t, format!("{rid}{}", title(r.method)), m, attrs)?;
    }
    // CORS preflight for every resource with methods.
    let mut with_methods: Vec<&Vec<&str>> = Vec::new();
    for r in ROUTES {
        let p = resources
            .iter()
            .map(|(p, _)| p)
            .find(|p| p.as_slice() == r.path);
        if let Some(p) = p {
            if !with_methods.contains(&p) {
                with_methods.push(p);
            }
        }
    }
    for p in with_methods {
        let Some((rid, rref)) = resource_refs.get(p).cloned() else {
            continue;
        };
        let methods: Vec<&str> = ROUTES
            .iter()
            .filter(|r| r.path == p.as_slice())
            .map(|r| r.method)
            .collect();
        let header = |h: &str| format!("method.response.header.{h}");
        let values: Map<Str> = [
            (
                header("Access-Control-Allow-Headers"),
                Str::from("'content-type,x-api-key,authorization,idempotency-key,x-request-id'"),
            ),
            (
                header("Access-Control-Allow-Methods"),
                Str::from(format!("'{},OPTIONS'", methods.join(","))),
            ),
            (
                header("Access-Control-Allow-Origin"),
                Str::from(format!("'{}'", cfg.frontend_origin)),
            ),
        ]
        .into_iter()
        .collect();
        let declared: Map<Val<bool>> = values.keys().map(|k| (k.clone(), Val::Lit(true))).collect();
        let m = apigateway::Method::new("OPTIONS", rref, rest.to_ref())
            .authorization_type("NONE")
            .integration(
                Integration::new(Type::Mock)
                    .request_templates([(
                        "application/json".to_string(),
                        Str::from(r#"{"statusCode": 204}"#),
                    )])
                    .integration_responses([
                        IntegrationResponse::new("204").response_parameters(values)
                    ]),
            )
            .method_responses([MethodResponse::new("204").response_parameters(declared)]);
        add_method(t, format!("{rid}Options"), m, Attributes::new())?;
    }
    let mut hasher = Sha256::new();
    for n in &method_nodes {
        hasher.update(n.to_compact_json().as_bytes());
    }
    let digest = hex::encode(hasher.finalize());
    let mut deploy_attrs = Attributes::new();
    let mut sorted_methods = method_ids.clone();
    sorted_methods.sort();
    for id in &sorted_methods {
        deploy_attrs = deploy_attrs.depends_on_id(id);
    }
    let deployment = t.add_with(
        &format!("RestApiDeployment{}", digest.get(..10).unwrap_or("0")),
        apigateway::Deployment::new(rest.to_ref()).description("Deployment of the current methods"),
        deploy_attrs,
    )?;

    // API Gateway writes access logs through the account's CloudWatch role.
    let cw_role = t.add(
        "ApiGatewayCloudWatchRole",
        iam::Role::new(PolicyDocument::assume_role_by("apigateway.amazonaws.com")?)
            .description("Lets API Gateway write access logs to CloudWatch Logs")
            .policies([iam::role::Policy::new(
                PolicyDocument::new([Statement::allow([
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogGroups",
                    "logs:DescribeLogStreams",
                    "logs:FilterLogEvents",
                    "logs:GetLogEvents",
                    "logs:PutLogEvents",
                ])?
                .on([arn("logs:${AWS::Region}:${AWS::AccountId}:log-group:*", [])])])?,
                "push-to-cloudwatch-logs",
            )]),
    )?;
    let account = t.add(
        "ApiGatewayAccount",
        apigateway::Account::new().cloud_watch_role_arn(cw_role.arn()),
    )?;
    let access_logs = log_group(t, cfg, store, "RestApiAccessLogGroup", "api-access")?;
    let stage = {
        use apigateway::stage::*;
        t.add_with(
            "RestApiProdStage",
            apigateway::Stage::new(rest.to_ref())
                .stage_name(STAGE)
                .deployment_id(deployment.to_ref())
                .description("The only stage: each environment is its own stack")
                .tracing_enabled(true)
                .access_log_setting(
                    AccessLogSetting::new()
                        .destination_arn(access_logs.arn())
                        .format(ACCESS_LOG_FORMAT),
                )
                .method_settings([MethodSetting::new()
                    .resource_path("/*")
                    .http_method("*")
                    .metrics_enabled(true)
                    .data_trace_enabled(false)
                    .throttling_rate_limit(cfg.api_rate_limit)
                    .throttling_burst_limit(cfg.api_burst_limit)]),
            Attributes::new().depends_on(&account).checkov_skip(
                "CKV_AWS_120",
                "responses carry one person's verification data; caching them at the edge of the API would serve them to other callers",
            ),
        )?
    };
    {
        use apigateway::usage_plan::*;
        let plan = t.add(
            "RestApiUsagePlan",
            apigateway::UsagePlan::new()
                .usage_plan_name(cfg.name("frontend-plan"))
                .description("Front-end usage: throttled, with a daily quota")
                .api_stages([ApiStage::new().api_id(rest.to_ref()).stage(stage.to_ref())])
                .throttle(
                    ThrottleSettings::new()
                        .rate_limit(cfg.api_rate_limit)
                        .burst_limit(cfg.api_burst_limit),
                )
                .quota(
                    QuotaSettings::new()
                        .limit(cfg.api_daily_quota)
                        .period("DAY"),
                ),
        )?;
        let key = t.add(
            "FrontendApiKey",
            apigateway::ApiKey::new()
                .name(cfg.name("frontend-key"))
                .description("API key of the front end (the <kyc-verify> component)")
                .enabled(true),
        )?;
        t.add(
            "FrontendApiKeyInPlan",
            apigateway::UsagePlanKey::new(
                key.to_ref(),
                apigateway::usage_plan_key::KeyType::ApiKey,
                plan.to_ref(),
            ),
        )?;
    }
    if let Some(fns) = fns {
        let mut seen = Vec::new();
        for r in ROUTES {
            if seen.contains(&r.handler) {
                continue;
            }
            seen.push(r.handler);
            if let Some(f) = fns.get(r.handler) {
                t.add(
                    &format!("{}FunctionApiPermission", segment_id(r.handler.name())),
                    lambda::Permission::new(
                        "lambda:InvokeFunction",
                        f.arn(),
                        "apigateway.amazonaws.com",
                    )
                    .source_arn(arn(
                        "execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*",
                        [("Api", rest.to_ref())],
                    )),
                )?;
            }
        }
    }

    let rest_url = sub(
        &format!("https://${{Api}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{STAGE}"),
        [("Api", rest.to_ref())],
    );

    let websocket_url = match (ws_api, fns, features.websocket) {
        (Some(ws), Some(fns), true) => Some(websocket(t, cfg, store, ws, fns)?),
        _ => None,
    };
    if features.waf {
        waf(t, cfg, &rest, &stage)?;
    }
    let _ = pseudo::region;
    Ok(Apis {
        rest,
        stage,
        rest_url,
        websocket_url,
    })
}

fn websocket(
    t: &mut Template,
    cfg: &EnvConfig,
    store: &Store,
    ws: &Handle<apigatewayv2::Api>,
    fns: &Functions,
) -> Result<Str, ModelError> {
    let missing = || ModelError::DanglingReference {
        from: "websocket".into(),
        target: "a handler function".into(),
    };
    let conn = fns.get(Handler::WsConnection).ok_or_else(missing)?;
    let auth_fn = fns.get(Handler::Authorizer).ok_or_else(missing)?;
    let integration = t.add(
        "TaskBoardWsIntegration",
        apigatewayv2::Integration::new(ws.to_ref(), "AWS_PROXY").integration_uri(invoke_uri(conn)),
    )?;
    let authorizer = t.add(
        "TaskBoardWsAuthorizer",
        apigatewayv2::Authorizer::new(ws.to_ref(), "REQUEST", cfg.name("ws-token-authorizer"))
            .authorizer_uri(invoke_uri(auth_fn))
            .identity_source([Str::from("route.request.querystring.token")]),
    )?;
    let target = sub(
        "integrations/${Integration}",
        [("Integration", integration.to_ref())],
    );
    let mut routes = Vec::new();
    for (id, key) in [
        ("TaskBoardWsConnectRoute", "$connect"),
        ("TaskBoardWsDisconnectRoute", "$disconnect"),
        ("TaskBoardWsDefaultRoute", "$default"),
    ] {
        let mut route = apigatewayv2::Route::new(ws.to_ref(), key).target(target.clone());
        // Authorizers run on $connect only; later messages travel on the connection it authorised.
        if key == "$connect" {
            route = route
                .authorization_type("CUSTOM")
                .authorizer_id(authorizer.to_ref());
        } else {
            route = route.authorization_type("NONE");
        }
        routes.push(t.add(id, route)?);
    }
    let access_logs = log_group(t, cfg, store, "TaskBoardWsAccessLogGroup", "ws-access")?;
    {
        use apigatewayv2::stage::*;
        let mut attrs = Attributes::new();
        for r in &routes {
            attrs = attrs.depends_on(r);
        }
        t.add_with(
            "TaskBoardWsStage",
            apigatewayv2::Stage::new(ws.to_ref(), STAGE)
                .auto_deploy(true)
                .access_log_settings(
                    AccessLogSettings::new()
                        .destination_arn(access_logs.arn())
                        .format(WS_ACCESS_LOG_FORMAT),
                )
                .default_route_settings(
                    RouteSettings::new()
                        .throttling_rate_limit(cfg.api_rate_limit)
                        .throttling_burst_limit(cfg.api_burst_limit),
                ),
            attrs,
        )?;
    }
    for (id, f) in [
        ("TaskBoardWsConnectionPermission", conn),
        ("TaskBoardWsAuthorizerPermission", auth_fn),
    ] {
        t.add(
            id,
            lambda::Permission::new("lambda:InvokeFunction", f.arn(), "apigateway.amazonaws.com")
                .source_arn(arn(
                    "execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*",
                    [("Api", ws.to_ref())],
                )),
        )?;
    }
    Ok(sub(
        &format!("wss://${{Api}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{STAGE}"),
        [("Api", ws.to_ref())],
    ))
}

fn waf(
    t: &mut Template,
    cfg: &EnvConfig,
    rest: &Handle<apigateway::RestApi>,
    stage: &Handle<apigateway::Stage>,
) -> Result<(), ModelError> {
    use wafv2::web_acl::*;
    let visibility =
        |name: &str| VisibilityConfig::new(true, format!("{}-{name}", cfg.name("waf")), true);
    let managed = |priority: u32, name: &str| {
        Rule::new(
            name,
            priority,
            Statement::new()
                .managed_rule_group_statement(ManagedRuleGroupStatement::new(name, "AWS")),
            visibility(name),
        )
        .override_action(OverrideAction::new().none(Node::Map(vec![])))
    };
    let rules = vec![
        managed(0, "AWSManagedRulesAmazonIpReputationList"),
        managed(1, "AWSManagedRulesCommonRuleSet"),
        managed(2, "AWSManagedRulesKnownBadInputsRuleSet"),
        Rule::new(
            "rate-limit-per-ip",
            3u32,
            Statement::new().rate_based_statement(RateBasedStatement::new(
                AggregateKeyType::Ip,
                cfg.waf_rate_limit,
            )),
            visibility("rate-limit-per-ip"),
        )
        .action(RuleAction::new().block(BlockAction::new())),
    ];
    let acl = t.add(
        "RestApiWebAcl",
        wafv2::WebACL::new(
            DefaultAction::new().allow(AllowAction::new()),
            Scope::Regional,
            visibility("web-acl"),
        )
        .name(cfg.name("api-acl"))
        .description("Managed rule groups and a per-IP rate limit in front of the REST API")
        .rules(rules),
    )?;
    t.add(
        "RestApiWebAclAssociation",
        wafv2::WebACLAssociation::new(
            arn(
                "apigateway:${AWS::Region}::/restapis/${Api}/stages/${Stage}",
                [("Api", rest.to_ref()), ("Stage", stage.to_ref())],
            ),
            acl.arn(),
        ),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_become_logical_id_parts() {
        assert_eq!(segment_id("upload-id"), "UploadId");
        assert_eq!(segment_id("{verificationId}"), "ByVerificationId");
        assert_eq!(segment_id(".well-known"), "WellKnown");
        assert_eq!(segment_id("jwks.json"), "JwksJson");
    }
}
