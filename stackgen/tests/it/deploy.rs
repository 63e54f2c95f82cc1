//! The dev stack against LocalStack (see `localstack/`): placeholder until the launcher lands.
