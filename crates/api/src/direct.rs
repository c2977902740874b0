//! Direct resolution of post cards: a feed page's `Post` objects, with their authors,
//! media, tags, products, prices and disclosures, resolved by walking the selection set
//! once, without async-graphql's per-field machinery.
//!
//! async-graphql resolves every field of every object through a boxed future of about a
//! kilobyte, an `IndexMap` insert with SipHash and a context clone; a page of 20 full cards
//! is about 1,100 such fields, and that machinery was over half of a feed page's CPU
//! (`perf record` under `sparkfeed bench api`). Every field of a card is a synchronous read
//! from the request's [`Reads`], so nothing is lost by resolving them directly.
//!
//! The contract, enforced here and tested against the general executor
//! (`tests/e2e/api/direct.rs` runs the same queries through both and compares the answers):
//! - the answer is exactly what [`PostObject`](crate::types::PostObject) would give, field
//!   for field and in the same order: response keys honour aliases, fragments (named and
//!   inline) are expanded in place, a response key selected twice is merged the way
//!   async-graphql merges it, `__typename` names the type;
//! - whatever this resolver does not cover, it declines (`None`) and the whole card goes
//!   to the general executor: a field with arguments (`comments`, `posts`, `saved`,
//!   `orders`), a directive other than `@skip`/`@include` (skipped selections are removed
//!   before execution, so the ones left say "keep"), a fragment on another type, and any
//!   error, so that errors are reported by the executor with their paths exactly as before;
//! - the schema has no execution extension (none would see these fields resolved):
//!   [`crate::schema`] registers none, and says so where the schema is built.

use std::collections::HashMap;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Directive, Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::resolver_utils::enum_value;
use async_graphql::{ContextSelectionSet, ID, Name, Positioned, ScalarType, Value};
use sparkfeed_domain::events::{AccountKind as DomainAccountKind, MediaKind as DomainMediaKind};
use sparkfeed_domain::{Asin, Money as DomainMoney, Sealed, UserId};
use sparkfeed_projections::rows::{MemberRow, PostCardRow, ProductRow};
use sparkfeed_projections::{View, read};

use crate::Api;
use crate::auth::Identity;
use crate::loaders::Reads;
use crate::types::{AccountKind, MediaKind, Role};

/// How `Post` objects are resolved. Schema data; [`Resolution::Direct`] unless a schema is
/// built otherwise.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Resolution {
    /// Directly, falling back to the general executor for what it does not cover.
    #[default]
    Direct,
    /// Field by field through async-graphql's executor: the reference the direct resolver
    /// is tested against.
    FieldByField,
}

/// What resolving a card needs from the request.
struct Scope<'a> {
    api: &'a Api,
    /// The feeds projection, taken once per card.
    feeds: View,
    reads: &'a Reads,
    viewer: Option<&'a UserId>,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
}

type Object = IndexMap<Name, Value>;

/// The card `card` as the selection set of `ctx` asks for it, or `None` when the general
/// executor must resolve it.
pub(crate) fn post(ctx: &ContextSelectionSet<'_>, card: &PostCardRow) -> Option<Value> {
    if ctx.data_opt::<Resolution>() == Some(&Resolution::FieldByField) {
        return None;
    }
    let reads = ctx.data_opt::<Reads>()?;
    let scope = Scope {
        api: ctx.data_opt::<std::sync::Arc<Api>>()?,
        feeds: reads.tree().ok()?,
        reads,
        viewer: ctx.data_opt::<Identity>().and_then(|i| i.user.as_ref()),
        fragments: &ctx.query_env.fragments,
    };
    scope.post(&ctx.item.node, card)
}

impl Scope<'_> {
    /// Builds one object of type `type_name` from `set`, asking `field` for each field.
    fn object(
        &self,
        set: &SelectionSet,
        type_name: &str,
        field: &mut dyn FnMut(&Field) -> Option<Value>,
    ) -> Option<Value> {
        let mut out = Object::with_capacity(set.items.len());
        self.collect(set, type_name, &mut out, field)?;
        // As async-graphql answers an object of which nothing was selected.
        Some(if out.is_empty() {
            Value::Null
        } else {
            Value::Object(out)
        })
    }

    fn collect(
        &self,
        set: &SelectionSet,
        type_name: &str,
        out: &mut Object,
        field: &mut dyn FnMut(&Field) -> Option<Value>,
    ) -> Option<()> {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(f) => {
                    if !keeps(&f.node.directives) || !f.node.arguments.is_empty() {
                        return None;
                    }
                    let value = if f.node.name.node == "__typename" {
                        Value::String(type_name.to_owned())
                    } else {
                        field(&f.node)?
                    };
                    insert_value(out, f.node.response_key().node.clone(), value);
                }
                Selection::FragmentSpread(spread) => {
                    if !keeps(&spread.node.directives) {
                        return None;
                    }
                    let fragment = self.fragments.get(&spread.node.fragment_name.node)?;
                    if fragment.node.type_condition.node.on.node != type_name {
                        return None;
                    }
                    self.collect(&fragment.node.selection_set.node, type_name, out, field)?;
                }
                Selection::InlineFragment(inline) => {
                    if !keeps(&inline.node.directives)
                        || inline
                            .node
                            .type_condition
                            .as_ref()
                            .is_some_and(|c| c.node.on.node != type_name)
                    {
                        return None;
                    }
                    self.collect(&inline.node.selection_set.node, type_name, out, field)?;
                }
            }
        }
        Some(())
    }

    fn post(&self, set: &SelectionSet, card: &PostCardRow) -> Option<Value> {
        let body = &card.body;
        let stats = &card.stats;
        self.object(set, "Post", &mut |f| {
            let sub = &f.selection_set.node;
            Some(match f.name.node.as_str() {
                "id" => ID(body.post.to_string()).to_value(),
                "author" => self.user_by_id(sub, &body.author)?,
                "caption" => self.unsealed(&body.caption)?,
                "media" => Value::List(
                    body.media
                        .iter()
                        .map(|m| {
                            self.object(sub, "Media", &mut |f| {
                                Some(match f.name.node.as_str() {
                                    "kind" => enum_value(match m.kind {
                                        DomainMediaKind::Image => MediaKind::Image,
                                        DomainMediaKind::Video => MediaKind::Video,
                                    }),
                                    "url" => self.unsealed(&m.url)?,
                                    "width" => m.width.to_value(),
                                    "height" => m.height.to_value(),
                                    "alt" => self.unsealed(&m.alt)?,
                                    _ => return None,
                                })
                            })
                        })
                        .collect::<Option<_>>()?,
                ),
                "interests" => strings(body.interests.iter().map(|i| i.as_str())),
                "tags" => {
                    let verified = read::verified_purchaser(&self.feeds, card).ok()?;
                    Value::List(
                        body.tags
                            .iter()
                            .zip(verified)
                            .map(|(tag, verified)| {
                                self.object(sub, "ProductTag", &mut |f| {
                                    Some(match f.name.node.as_str() {
                                        "product" => {
                                            self.product_by_asin(&f.selection_set.node, &tag.asin)?
                                        }
                                        "asin" => text(tag.asin.as_str()),
                                        "mediaIndex" => tag.media_index.to_value(),
                                        "x" => tag.x.to_value(),
                                        "y" => tag.y.to_value(),
                                        "verifiedPurchaser" => verified.to_value(),
                                        _ => return None,
                                    })
                                })
                            })
                            .collect::<Option<_>>()?,
                    )
                }
                "sponsored" => body.disclosure.is_some().to_value(),
                "disclosure" => match &body.disclosure {
                    None => Value::Null,
                    Some(d) => self.object(sub, "Disclosure", &mut |f| {
                        Some(match f.name.node.as_str() {
                            "label" => {
                                Value::String(format!("Paid partnership with {}", d.brand_name))
                            }
                            "brandName" => text(&d.brand_name),
                            "contractId" => ID(d.contract.to_string()).to_value(),
                            "brand" => self.user_by_id(&f.selection_set.node, &d.brand)?,
                            _ => return None,
                        })
                    })?,
                },
                "smileCount" => stats.smiles.to_value(),
                "saveCount" => stats.saves.to_value(),
                "shareCount" => stats.shares.to_value(),
                "commentCount" => stats.comments.to_value(),
                "purchaseCount" => stats.purchases.to_value(),
                "viewerHasSmiled" => match self.viewer {
                    None => false.to_value(),
                    Some(user) => read::smiles(&self.feeds, &body.post, user).ok()?.to_value(),
                },
                "viewerHasSaved" => match self.viewer {
                    None => false.to_value(),
                    Some(user) => read::saved(&self.feeds, &body.post, user).ok()?.to_value(),
                },
                "publishedAt" => Value::String(crate::time::format(body.recorded_at)),
                "position" => body.published_at.0.to_value(),
                "removed" => body.removed.to_value(),
                _ => return None,
            })
        })
    }

    fn user_by_id(&self, set: &SelectionSet, user: &UserId) -> Option<Value> {
        match self.reads.member(user).ok()? {
            None => Some(Value::Null),
            Some(row) => self.user(set, &row),
        }
    }

    fn user(&self, set: &SelectionSet, row: &MemberRow) -> Option<Value> {
        self.object(set, "User", &mut |f| {
            Some(match f.name.node.as_str() {
                "id" => ID(row.user.to_string()).to_value(),
                "handle" => self.unsealed(&row.handle)?,
                "displayName" => self.unsealed(&row.display_name)?,
                "kind" => enum_value(match row.kind {
                    DomainAccountKind::Member => AccountKind::Member,
                    DomainAccountKind::Brand => AccountKind::Brand,
                }),
                "brandName" => match &row.brand_name {
                    None => Value::Null,
                    Some(name) => text(name),
                },
                "prime" => row.prime.to_value(),
                "roles" => Value::List(
                    row.roles
                        .iter()
                        .map(|r| enum_value(Role::from(*r)))
                        .collect(),
                ),
                "interests" => strings(row.interests.iter().map(|i| i.as_str())),
                "postCount" => row.posts.to_value(),
                _ => return None,
            })
        })
    }

    fn product_by_asin(&self, set: &SelectionSet, asin: &Asin) -> Option<Value> {
        match self.reads.product(asin).ok()? {
            None => Some(Value::Null),
            Some(row) => self.product(set, &row),
        }
    }

    fn product(&self, set: &SelectionSet, row: &ProductRow) -> Option<Value> {
        self.object(set, "Product", &mut |f| {
            Some(match f.name.node.as_str() {
                "asin" => text(row.asin.as_str()),
                "title" => text(&row.title),
                "price" => self.money(&f.selection_set.node, row.price)?,
                "imageUrl" => text(&row.image_url),
                "interests" => strings(row.interests.iter().map(|i| i.as_str())),
                "consumable" => row.consumable.to_value(),
                "delisted" => row.delisted.to_value(),
                "purchaseCount" => row.purchases.to_value(),
                _ => return None,
            })
        })
    }

    fn money(&self, set: &SelectionSet, money: DomainMoney) -> Option<Value> {
        self.object(set, "Money", &mut |f| {
            Some(match f.name.node.as_str() {
                "cents" => money.cents.to_value(),
                "currency" => Value::String(money.currency.to_string()),
                "formatted" => Value::String(money.to_string()),
                _ => return None,
            })
        })
    }

    /// A sealed text, `null` once its owner was forgotten; `None` when it does not open.
    fn unsealed(&self, sealed: &Sealed) -> Option<Value> {
        Some(match self.api.domain.keys().unseal(sealed).ok()? {
            None => Value::Null,
            Some(text) => Value::String(text),
        })
    }
}

fn text(s: &str) -> Value {
    Value::String(s.to_owned())
}

fn strings<'s>(items: impl Iterator<Item = &'s str>) -> Value {
    Value::List(items.map(text).collect())
}

/// Whether every directive left on a selection only says to keep it: `@skip` and `@include`
/// selections that are skipped were removed before execution.
fn keeps(directives: &[Positioned<Directive>]) -> bool {
    directives
        .iter()
        .all(|d| matches!(d.node.name.node.as_str(), "skip" | "include"))
}

/// Inserts `value` under `name`, merging it into what an earlier selection of the same
/// response key put there, as async-graphql's executor does (`resolver_utils::container`).
fn insert_value(target: &mut Object, name: Name, value: Value) {
    if let Some(previous) = target.get_mut(&name) {
        match (previous, value) {
            (Value::Object(into), Value::Object(from)) => {
                for (key, value) in from {
                    insert_value(into, key, value);
                }
            }
            (Value::List(into), Value::List(from)) => {
                for (index, value) in from.into_iter().enumerate() {
                    if let (Some(Value::Object(into)), Value::Object(from)) =
                        (into.get_mut(index), value)
                    {
                        for (key, value) in from {
                            insert_value(into, key, value);
                        }
                    }
                }
            }
            _ => {}
        }
    } else {
        target.insert(name, value);
    }
}
