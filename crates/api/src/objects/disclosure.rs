//! `Disclosure`: `Paid partnership with <brand>`, shown with a sponsored post in every
//! view. [`label`] is the one place the label is spelled.

use async_graphql::parser::types::SelectionSet;
use async_graphql::{Context, ID, Object, Value};
use sparkfeed_domain::events::Disclosure as DisclosureRow;

use super::nodes::{User, load_user};
use super::user;
use crate::ctx::Gql;
use crate::direct::{Walker, text, value};

/// `Paid partnership with <brand>`: shown with a sponsored post in every view.
pub(crate) struct Disclosure(pub DisclosureRow);

/// The label a sponsored post shows, exactly.
pub(crate) fn label(d: &DisclosureRow) -> String {
    format!("Paid partnership with {}", d.brand_name)
}

mod field {
    use super::*;

    pub fn brand_name(d: &DisclosureRow) -> &str {
        &d.brand_name
    }
    pub fn contract_id(d: &DisclosureRow) -> ID {
        ID(d.contract.to_string())
    }
}

/// "Paid partnership with <brand>": shown with a sponsored post in every view.
#[Object(serial)]
impl Disclosure {
    /// The label to show, exactly.
    async fn label(&self) -> String {
        label(&self.0)
    }
    /// The sponsoring brand's name.
    async fn brand_name(&self) -> &str {
        field::brand_name(&self.0)
    }
    /// The sponsorship contract.
    async fn contract_id(&self) -> ID {
        field::contract_id(&self.0)
    }
    /// The sponsoring brand's account.
    async fn brand(&self, ctx: &Context<'_>) -> Gql<Option<User>> {
        Ok(load_user(ctx, &self.0.brand)?)
    }
}

/// The disclosure `d` as the selection `set` asks for it.
pub(crate) fn direct(w: &Walker<'_>, set: &SelectionSet, d: &DisclosureRow) -> Option<Value> {
    w.object(set, "Disclosure", &mut |f| {
        Some(match f.name.node.as_str() {
            "label" => Value::String(label(d)),
            "brandName" => text(field::brand_name(d)),
            "contractId" => value(field::contract_id(d)),
            "brand" => user::direct_by_id(w, &f.selection_set.node, &d.brand)?,
            _ => return None,
        })
    })
}
