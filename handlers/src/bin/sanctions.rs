//! The `sanctions` Lambda function: the `KycOcrData` stream → sanctions screening with partial
//! batch failures (`handlers::lambda::sanctions`). Only wiring: logs, the AWS platform (its
//! lists loaded before the first batch), the service, the runtime.

use std::sync::Arc;

use handlers::aws::{AwsPlatform, Function};
use handlers::lambda::{init_tracing, sanctions};
use handlers::service::{Platform as _, Service};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_tracing();
    let platform = AwsPlatform::from_env(Function::Sanctions).await?;
    platform.screener().preload().await?;
    let config = platform.service_config()?;
    let service = Service::new(Arc::new(platform), config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let service = service.clone();
        async move {
            let report = sanctions::handle(&service, event.payload).await;
            Ok::<_, Error>(report.response)
        }
    }))
    .await
}
