//! Direct resolution of post cards: a feed page's `Post` objects, with their authors,
//! media, tags, products, prices and disclosures, resolved by walking the selection set
//! once, without async-graphql's per-field machinery.
//!
//! This module is the walk only ([`Walker`]): each object of a card answers its fields in
//! its own file under `objects/`, with the same field functions its executor
//! methods call, so a value is computed in one place whichever path asks for it.
//!
//! async-graphql resolves every field of every object through a boxed future of about a
//! kilobyte, an `IndexMap` insert with SipHash and a context clone; a page of 20 full cards
//! is about 1,100 such fields, and that machinery was over half of a feed page's CPU
//! (`perf record` under `sparkfeed bench api`). Every field of a card is a synchronous read
//! from the request's [`Reads`](crate::loaders::Reads), so nothing is lost by resolving them directly.
//!
//! The contract, enforced here and tested against the general executor
//! (`tests/e2e/api/direct.rs` runs the same queries through both and compares the answers):
//! - the answer is exactly what the executor would give, field
//!   for field and in the same order: response keys honour aliases, fragments (named and
//!   inline) are expanded in place, a response key selected twice is merged the way
//!   async-graphql merges it, `__typename` names the type;
//! - whatever this resolver does not cover, it declines (`None`) and the whole card goes
//!   to the general executor: a field with arguments (`comments`, `posts`, `saved`,
//!   `orders`), a directive other than `@skip`/`@include` (skipped selections are removed
//!   before execution, so the ones left say "keep"), a fragment on another type, and any
//!   error, so that errors are reported by the executor with their paths exactly as before;
//! - the schema has no execution extension (none would see these fields resolved):
//!   `schema.rs` registers none, and says so where the schema is built.

use std::collections::HashMap;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Directive, Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{ContextSelectionSet, Name, Positioned, Value};
use sparkfeed_projections::View;

use crate::ctx::Env;

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

/// What resolving a card directly needs from the request.
pub(crate) struct Walker<'a> {
    /// What field values are computed from.
    pub env: Env<'a>,
    /// The feeds projection, taken once per card.
    pub feeds: View,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
}

type Object = IndexMap<Name, Value>;

impl<'a> Walker<'a> {
    /// A walker over the selection of `ctx`, or `None` when the general executor must
    /// resolve it (the schema asks for it, or the request lacks what a card reads).
    pub fn of(ctx: &ContextSelectionSet<'a>) -> Option<Self> {
        if ctx.data_opt::<Resolution>() == Some(&Resolution::FieldByField) {
            return None;
        }
        let env = Env::of(ctx)?;
        Some(Self {
            feeds: env.feeds().ok()?,
            env,
            fragments: &ctx.query_env.fragments,
        })
    }

    /// Builds one object of type `type_name` from `set`, asking `field` for each field;
    /// `None` as soon as `field` declines one.
    pub fn object(
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

    /// A list of objects, each resolved by `item`; `None` when any declines.
    pub fn list<T>(
        &self,
        items: impl IntoIterator<Item = T>,
        mut item: impl FnMut(T) -> Option<Value>,
    ) -> Option<Value> {
        Some(Value::List(
            items.into_iter().map(&mut item).collect::<Option<_>>()?,
        ))
    }
}

/// A field's value as a directly resolved object holds it.
pub(crate) fn value<T: async_graphql::ScalarType>(v: T) -> Value {
    v.to_value()
}

/// An optional object: `null`, or what `resolve` makes of it.
pub(crate) fn nullable<T>(
    found: Option<T>,
    resolve: impl FnOnce(T) -> Option<Value>,
) -> Option<Value> {
    match found {
        None => Some(Value::Null),
        Some(row) => resolve(row),
    }
}

/// An optional text.
pub(crate) fn opt_text(text: Option<String>) -> Value {
    text.map_or(Value::Null, Value::String)
}

/// A text.
pub(crate) fn text(s: &str) -> Value {
    Value::String(s.to_owned())
}

/// A list of texts.
pub(crate) fn strings<'s>(items: impl Iterator<Item = &'s str>) -> Value {
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
