//! The schema: queries, mutations and subscriptions, with the depth and complexity limits
//! and the extension that gives every error its code.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe,
};
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::{Response, Schema};
use futures_util::StreamExt;

pub use crate::mutation::Mutation;
pub use crate::query::Query;
pub use crate::subscription::Subscription;
use crate::{Api, Limits};

/// The schema sparkfeed serves.
pub type SparkSchema = Schema<Query, Mutation, Subscription>;

/// Gives every error of every response its `extensions.code` ([`crate::error::classify`]).
struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        response.errors.iter_mut().for_each(crate::error::classify);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream)
            .map(|mut response| {
                response.errors.iter_mut().for_each(crate::error::classify);
                response
            })
            .boxed()
    }
}

fn builder(limits: &Limits) -> async_graphql::SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query, Mutation, Subscription)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(limits.max_depth.max(32))
        .extension(ErrorCodes)
}

/// The schema over `api`.
pub fn build_schema(api: Arc<Api>) -> SparkSchema {
    let limits = api.limits.clone();
    builder(&limits).data(api).finish()
}

/// The schema in SDL, as `schema.graphql` holds it.
pub fn sdl() -> String {
    builder(&Limits::default()).finish().sdl()
}

#[cfg(test)]
mod tests {
    /// `schema.graphql` at the top of the repository is what the server serves; regenerate
    /// it with `cargo run -- schema > schema.graphql`.
    #[test]
    fn schema_graphql_is_what_the_server_prints() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema.graphql");
        let committed = std::fs::read_to_string(path).expect("schema.graphql at the top level");
        let served = super::sdl();
        if committed != served {
            let line = committed
                .lines()
                .zip(served.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| committed.lines().count().min(served.lines().count()));
            panic!(
                "schema.graphql is stale from line {}: run `cargo run -- schema > schema.graphql`",
                line + 1
            );
        }
    }
}
