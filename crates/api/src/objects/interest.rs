//! `Interest`: an interest of the catalog.

use async_graphql::Object;
use sparkfeed_projections::rows::InterestRow;

/// An interest of the catalog.
#[derive(Clone)]
pub(crate) struct Interest(pub InterestRow);

/// An interest of the catalog (Fitness, Fashion, DIY, ...).
#[Object(serial)]
impl Interest {
    /// Its slug, the argument of `feed`.
    async fn slug(&self) -> &str {
        self.0.interest.as_str()
    }
    /// Its display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Days after which a consumable bought in it is shown again.
    async fn rebuy_window_days(&self) -> Option<u32> {
        self.0.rebuy_window_days
    }
}
