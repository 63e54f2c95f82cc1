//! The `ocr` Lambda function: S3 ObjectCreated on the uploads bucket → document reading
//! (`handlers::lambda::ocr`). Only wiring: logs, the AWS platform, the service, the runtime.

use std::sync::Arc;

use handlers::aws::{AwsPlatform, Function};
use handlers::lambda::{init_tracing, ocr};
use handlers::service::Service;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_tracing();
    let platform = AwsPlatform::from_env(Function::Ocr).await?;
    let config = platform.service_config()?;
    let service = Service::new(Arc::new(platform), config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let service = service.clone();
        async move {
            ocr::handle_json(&service, event.payload)
                .await
                .map(|_| ())
                .map_err(Error::from)
        }
    }))
    .await
}
