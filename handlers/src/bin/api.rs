//! The `api` Lambda function (deployed as `upload-id`, `liveness`, `verify`, `erasure` and
//! `jwks`): the HTTP application behind `lambda_http` (`handlers::lambda::api`). Only wiring:
//! logs, the AWS platform, the service, the router, the runtime.

use std::sync::Arc;

use handlers::aws::{AwsPlatform, Function};
use handlers::lambda::{api, init_tracing};
use handlers::service::Service;
use lambda_http::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_tracing();
    let platform = AwsPlatform::from_env(Function::Api).await?;
    let config = platform.service_config()?;
    let service = Service::new(Arc::new(platform), config);
    let settings = api::settings(std::env::var(api::CORS_VARIABLE).ok().as_deref());
    lambda_http::run(api::service(api::router(service, &settings))).await
}
