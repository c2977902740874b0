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
pub struct Coded {
    schema: SparkSchema,
    /// The schema's recursion depth limit ([`recursive_depth`]), which the introspection
    /// count stops at too.
    recursive_depth: usize,
}

impl Coded {
    fn classified(mut response: Response) -> Response {
        response.errors.iter_mut().for_each(crate::error::classify);
        response
    }
}

/// The most introspection fields (`__schema`, `__type`) one document may hold. The
/// complexity limit counts each as one field, so without this a 20 KB document of aliased
/// `__schema`s costs seconds of CPU and megabytes of answer. GraphiQL needs one.
pub const MAX_INTROSPECTION_FIELDS: usize = 4;

/// The most selections one document may expand to, each fragment expanded at every spread
/// (the executor's own checks walk it so, without remembering a fragment). The complexity
/// limit lets a few thousand fields through; without this, 31 fragments each spreading the
/// next twice (a few hundred bytes) would make those checks walk 2^31 selections and hold
/// a tokio worker for minutes.
pub const MAX_EXPANDED_SELECTIONS: usize = 50_000;

/// `QUERY_TOO_COMPLEX` when `request`'s document resolves more than
/// [`MAX_INTROSPECTION_FIELDS`] introspection fields or expands to more than
/// [`MAX_EXPANDED_SELECTIONS`] selections, counting a fragment at every spread (a document
/// that does not parse is left to the executor, which answers its error). Each fragment is
/// counted once and remembered, so this walk is as long as the document.
///
/// It runs before the executor checks anything, so it counts no deeper than the schema's
/// `recursive_depth`, measured as the executor measures it (a field's selection, a
/// fragment spread and an inline fragment each go one level down): a document that goes
/// deeper is refused by the executor, and a chain of thousands of fragments would
/// otherwise overflow the stack here and abort the server.
fn over_limits(request: &mut async_graphql::Request, recursive_depth: usize) -> Option<Response> {
    use std::collections::{HashMap, HashSet};

    use async_graphql::Name;
    use async_graphql::parser::Positioned;
    use async_graphql::parser::types::{FragmentDefinition, Selection, SelectionSet};

    /// What a selection set expands to, fragments expanded at every spread.
    #[derive(Clone, Copy, Default)]
    struct Tally {
        /// Introspection fields (`__schema`, `__type`).
        introspection: usize,
        /// Selections: fields, spreads and inline fragments.
        selections: usize,
    }

    impl Tally {
        fn plus(self, other: Tally) -> Tally {
            Tally {
                introspection: self.introspection.saturating_add(other.introspection),
                selections: self.selections.saturating_add(other.selections),
            }
        }
    }

    /// Each fragment counted once and remembered; a cycle counts nothing (validation refuses
    /// it). A fragment counted deeper than `deepest` may be remembered short, which only a
    /// document the executor refuses for its depth can tell.
    struct Counter<'a> {
        fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
        counted: HashMap<&'a str, Tally>,
        open: HashSet<&'a str>,
        deepest: usize,
    }

    impl<'a> Counter<'a> {
        fn count(&mut self, set: &'a SelectionSet, depth: usize) -> Tally {
            if depth > self.deepest {
                return Tally::default();
            }
            let below = depth.saturating_add(1);
            set.items.iter().fold(Tally::default(), |sum, item| {
                let inner = match &item.node {
                    Selection::Field(field) => {
                        let name = field.node.name.node.as_str();
                        let here = Tally {
                            introspection: usize::from(name == "__schema" || name == "__type"),
                            selections: 0,
                        };
                        here.plus(self.count(&field.node.selection_set.node, below))
                    }
                    Selection::InlineFragment(fragment) => {
                        self.count(&fragment.node.selection_set.node, below)
                    }
                    Selection::FragmentSpread(spread) => {
                        let name = spread.node.fragment_name.node.as_str();
                        if let Some(tally) = self.counted.get(name) {
                            *tally
                        } else if !self.open.insert(name) {
                            Tally::default()
                        } else {
                            let tally = self
                                .fragments
                                .get_key_value(name)
                                .map_or(Tally::default(), |(_, f)| {
                                    self.count(&f.node.selection_set.node, below)
                                });
                            self.open.remove(name);
                            self.counted.insert(name, tally);
                            tally
                        }
                    }
                };
                let one = Tally {
                    introspection: 0,
                    selections: 1,
                };
                sum.plus(one).plus(inner)
            })
        }
    }

    let document = request.parsed_query().ok()?;
    let mut counter = Counter {
        fragments: &document.fragments,
        counted: HashMap::new(),
        open: HashSet::new(),
        deepest: recursive_depth,
    };
    let found = document
        .operations
        .iter()
        .fold(Tally::default(), |sum, (_, op)| {
            sum.plus(counter.count(&op.node.selection_set.node, 0))
        });
    let refusal = if found.introspection > MAX_INTROSPECTION_FIELDS {
        format!(
            "Query is too complex: at most {MAX_INTROSPECTION_FIELDS} introspection fields \
             (__schema, __type) per document, found {}",
            found.introspection
        )
    } else if found.selections > MAX_EXPANDED_SELECTIONS {
        format!(
            "Query is too complex: at most {MAX_EXPANDED_SELECTIONS} selections per document \
             with its fragments expanded, found {}",
            found.selections
        )
    } else {
        return None;
    };
    let mut error = async_graphql::ServerError::new(refusal, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", crate::error::QUERY_TOO_COMPLEX);
    Some(Response::from_errors(vec![error]))
}

impl async_graphql::Executor for Coded {
    async fn execute(&self, mut request: async_graphql::Request) -> Response {
        if let Some(refused) = over_limits(&mut request, self.recursive_depth) {
            return refused;
        }
        Self::classified(self.schema.execute(request).await)
    }

    fn execute_stream(
        &self,
        mut request: async_graphql::Request,
        session_data: Option<Arc<async_graphql::Data>>,
    ) -> BoxStream<'static, Response> {
        if let Some(refused) = over_limits(&mut request, self.recursive_depth) {
            return futures_util::stream::once(async move { refused }).boxed();
        }
        async_graphql::Executor::execute_stream(&self.schema, request, session_data)
            .map(Self::classified)
            .boxed()
    }
}

/// The schema with its limits. It registers no execution extension: besides the cost of a
/// hook on every field, post cards are resolved directly ([`crate::direct`]), where no
/// extension would see their fields.
fn builder(limits: &Limits) -> async_graphql::SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query, Mutation::default(), Subscription)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(recursive_depth(limits))
}

/// How deep the executor lets a document's selections and fragments nest.
fn recursive_depth(limits: &Limits) -> usize {
    limits.max_depth.max(32)
}

/// The schema over `api`, as served.
pub fn build_schema(api: Arc<Api>) -> Coded {
    build_schema_with(api, Resolution::Direct)
}

/// The schema over `api`, resolving post cards as `resolution` says.
pub fn build_schema_with(api: Arc<Api>, resolution: Resolution) -> Coded {
    let limits = api.limits.clone();
    Coded {
        schema: builder(&limits).data(api).data(resolution).finish(),
        recursive_depth: recursive_depth(&limits),
    }
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
