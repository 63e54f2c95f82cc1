//! The LocalStack suite, one binary (one link, one LocalStack warm-up): each module tests one
//! adapter family or fixture.

mod common;
mod dynamo_audit;
mod dynamo_faults;
mod dynamo_stores;
mod dynamo_streams;
mod fixture;
mod kms;
mod params;
mod s3;
mod s3_faults;
mod s3_post;
mod sns;
