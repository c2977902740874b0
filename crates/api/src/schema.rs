//! The schema: queries, mutations and subscriptions, with the depth and complexity limits
//! and the executor that gives every error its code.

use std::sync::Arc;

use async_graphql::futures_util::stream::BoxStream;
use async_graphql::{Response, Schema};
use futures_util::StreamExt;

use crate::auth::Identity;
pub use crate::direct::Resolution;
use crate::loaders::Reads;
pub use crate::mutation::Mutation;
pub use crate::query::Query;
pub use crate::subscription::Subscription;
use crate::{Api, ApiResult, Limits};

/// The schema sparkfeed serves.
pub type SparkSchema = Schema<Query, Mutation, Subscription>;

/// The schema as it is served: every error of every response gets its `extensions.code`
/// ([`crate::error::classify`]). Done around the executor rather than as an async-graphql
/// extension, because any extension puts a hook on every field resolved (6% of a feed page).
#[derive(Clone)]
pub struct Coded(pub SparkSchema);

impl Coded {
    fn classified(mut response: Response) -> Response {
        response.errors.iter_mut().for_each(crate::error::classify);
        response
    }
}

impl async_graphql::Executor for Coded {
    async fn execute(&self, request: async_graphql::Request) -> Response {
        Self::classified(self.0.execute(request).await)
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<Arc<async_graphql::Data>>,
    ) -> BoxStream<'static, Response> {
        async_graphql::Executor::execute_stream(&self.0, request, session_data)
            .map(Self::classified)
            .boxed()
    }
}

/// The schema with its limits. It registers no execution extension: besides the cost of a
/// hook on every field, post cards are resolved directly ([`crate::direct`]), where no
/// extension would see their fields.
fn builder(limits: &Limits) -> async_graphql::SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query, Mutation, Subscription)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(limits.max_depth.max(32))
}

/// The schema over `api`, as served.
pub fn build_schema(api: Arc<Api>) -> Coded {
    build_schema_with(api, Resolution::Direct)
}

/// The schema over `api`, resolving post cards as `resolution` says.
pub fn build_schema_with(api: Arc<Api>, resolution: Resolution) -> Coded {
    let limits = api.limits.clone();
    Coded(builder(&limits).data(api).data(resolution).finish())
}

/// `request` as `identity` makes it, with the reads of one request: what the server
/// executes for a query or mutation over HTTP.
pub fn request_as(
    api: &Arc<Api>,
    identity: Identity,
    request: async_graphql::Request,
) -> ApiResult<async_graphql::Request> {
    let reads = Reads::for_request(Arc::clone(api))?;
    Ok(request.data(identity).data(reads))
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
