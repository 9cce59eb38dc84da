//! Depth and cost limits, measured on the parsed document before the schema sees it.
//!
//! async-graphql's own limits count introspection like any query (graphql-js's standard
//! introspection query is 13 levels deep through its `ofType` chain, so GraphiQL and every
//! client generator were refused) and give a list the weight of a scalar (so one request
//! could alias hundreds of searches). Here:
//! - **depth** counts ordinary fields only, at most [`MAX_DEPTH`]; a `__schema` or `__type`
//!   subtree has its own bound, [`MAX_INTROSPECTION_DEPTH`] (introspection reads the
//!   in-memory schema, whose size bounds the answer);
//! - **cost** is one point a field plus [`LIST_COST`] for each field that returns a list of
//!   objects or takes a page size (`first`, `limit`), wherever it is in the query: each is a
//!   storage read of up to a page. Pages themselves are capped by their resolvers (100
//!   events, 1,000 feed entries), so a page is charged once, not per row;
//! - fragments are expanded (spreads included), with a budget of visited nodes, so a
//!   fragment that spreads another twice, and so on, cannot make measuring itself expensive.

use std::collections::HashMap;

use async_graphql::Positioned;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet, ServiceDocument,
    TypeDefinition, TypeKind,
};

/// Deepest accepted ordinary query (fields within fields).
pub const MAX_DEPTH: usize = 10;
/// Deepest accepted introspection subtree (graphql-js asks 13 levels with 7 `ofType`s; this
/// leaves room for tools that ask a few more).
pub const MAX_INTROSPECTION_DEPTH: usize = 20;
/// Largest accepted cost.
pub const MAX_COST: usize = 2_000;
/// What a list or a page costs on top of its fields.
pub const LIST_COST: usize = 20;

/// Nodes (fields and spreads) visited before measuring gives up.
const VISIT_BUDGET: usize = 50_000;

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Ordinary fields nested deeper than [`MAX_DEPTH`].
    #[error("the query is nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// An introspection subtree deeper than [`MAX_INTROSPECTION_DEPTH`].
    #[error("the introspection query is nested deeper than {MAX_INTROSPECTION_DEPTH} levels")]
    IntrospectionTooDeep,
    /// Costs more than [`MAX_COST`].
    #[error(
        "the query costs more than {MAX_COST} points (a field is 1, a list or page {LIST_COST})"
    )]
    TooCostly,
    /// `__schema` or `__type` while introspection is off.
    #[error("introspection is disabled on this server")]
    IntrospectionDisabled,
}

/// What measuring found in an accepted document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measure {
    /// Deepest ordinary field.
    pub depth: usize,
    /// Deepest introspection field.
    pub introspection_depth: usize,
    /// Total cost.
    pub cost: usize,
    /// Whether the document asks `__schema` or `__type`.
    pub introspects: bool,
}

impl Measure {
    /// Checks the limits (introspection only when `introspection` is allowed).
    pub fn check(&self, introspection: bool) -> Result<(), Refusal> {
        if self.introspects && !introspection {
            Err(Refusal::IntrospectionDisabled)
        } else if self.depth > MAX_DEPTH {
            Err(Refusal::TooDeep)
        } else if self.introspection_depth > MAX_INTROSPECTION_DEPTH {
            Err(Refusal::IntrospectionTooDeep)
        } else if self.cost > MAX_COST {
            Err(Refusal::TooCostly)
        } else {
            Ok(())
        }
    }
}

/// A field's shape, as the cost needs it.
#[derive(Debug, Clone)]
struct FieldShape {
    /// The named type it returns (lists and non-null stripped).
    returns: String,
    /// Whether it costs [`LIST_COST`].
    paged: bool,
}

/// The fields of every object and interface of the schema, introspection types included.
#[derive(Debug, Default)]
pub struct Shapes {
    types: HashMap<String, HashMap<String, FieldShape>>,
    composite: std::collections::HashSet<String>,
    query: String,
    mutation: String,
}

/// The introspection types as the GraphQL specification defines them (only what the cost
/// needs: fields, their types and whether they are lists).
const INTROSPECTION_SDL: &str = "
type __Schema { description: String types: [__Type!]! queryType: __Type! mutationType: __Type
  subscriptionType: __Type directives: [__Directive!]! }
type __Type { kind: __TypeKind! name: String description: String specifiedByURL: String
  fields(includeDeprecated: Boolean): [__Field!] interfaces: [__Type!]
  possibleTypes: [__Type!] enumValues(includeDeprecated: Boolean): [__EnumValue!]
  inputFields(includeDeprecated: Boolean): [__InputValue!] ofType: __Type isOneOf: Boolean }
type __Field { name: String! description: String args(includeDeprecated: Boolean): [__InputValue!]!
  type: __Type! isDeprecated: Boolean! deprecationReason: String }
type __InputValue { name: String! description: String type: __Type! defaultValue: String
  isDeprecated: Boolean! deprecationReason: String }
type __EnumValue { name: String! description: String isDeprecated: Boolean! deprecationReason: String }
type __Directive { name: String! description: String locations: [__DirectiveLocation!]!
  args(includeDeprecated: Boolean): [__InputValue!]! isRepeatable: Boolean! }
enum __TypeKind { SCALAR OBJECT INTERFACE UNION ENUM INPUT_OBJECT LIST NON_NULL }
enum __DirectiveLocation { QUERY }
";

impl Shapes {
    /// The shapes of the schema whose SDL is `sdl`.
    pub fn from_sdl(sdl: &str) -> Shapes {
        let mut shapes = Shapes {
            query: "Query".into(),
            mutation: "Mutation".into(),
            ..Shapes::default()
        };
        for text in [sdl, INTROSPECTION_SDL] {
            // The SDL is the server's own export and the constant above: both parse.
            if let Ok(doc) = async_graphql::parser::parse_schema(text) {
                shapes.add(&doc);
            }
        }
        shapes
    }

    fn add(&mut self, doc: &ServiceDocument) {
        let mut pending = Vec::new();
        for definition in &doc.definitions {
            let async_graphql::parser::types::TypeSystemDefinition::Type(t) = definition else {
                continue;
            };
            let TypeDefinition { name, kind, .. } = &t.node;
            let fields = match kind {
                TypeKind::Object(o) => &o.fields,
                TypeKind::Interface(i) => &i.fields,
                TypeKind::Union(_) => {
                    self.composite.insert(name.node.to_string());
                    continue;
                }
                _ => continue,
            };
            self.composite.insert(name.node.to_string());
            let mut map = HashMap::new();
            for field in fields {
                let field = &field.node;
                let ty = &field.ty.node;
                let list = matches!(ty.base, async_graphql::parser::types::BaseType::List(_));
                let returns = ty
                    .to_string()
                    .trim_matches(|c| c == '[' || c == ']' || c == '!')
                    .to_owned();
                let pages = field
                    .arguments
                    .iter()
                    .any(|a| matches!(a.node.name.node.as_str(), "first" | "limit"));
                map.insert(field.name.node.to_string(), (returns, list, pages));
            }
            pending.push((name.node.to_string(), map));
        }
        for (name, fields) in pending {
            let shaped = fields
                .into_iter()
                .map(|(field, (returns, list, pages))| {
                    let paged = pages || (list && self.composite.contains(&returns));
                    (field, FieldShape { returns, paged })
                })
                .collect();
            self.types.insert(name, shaped);
        }
    }

    /// Measures `doc` (every operation in it).
    pub fn measure(&self, doc: &ExecutableDocument) -> Measure {
        let mut walk = Walk {
            shapes: self,
            doc,
            visited: 0,
            measure: Measure::default(),
            spreads: Vec::new(),
        };
        let operations: Vec<_> = match &doc.operations {
            DocumentOperations::Single(op) => vec![op],
            DocumentOperations::Multiple(ops) => ops.values().collect(),
        };
        for op in operations {
            let root = match op.node.ty {
                async_graphql::parser::types::OperationType::Mutation => &self.mutation,
                _ => &self.query,
            };
            let cost = walk.selection_set(&op.node.selection_set, Some(root), 0, None);
            walk.measure.cost = walk.measure.cost.saturating_add(cost);
        }
        if walk.visited > VISIT_BUDGET {
            walk.measure.cost = walk.measure.cost.max(MAX_COST + 1);
        }
        walk.measure
    }
}

struct Walk<'a> {
    shapes: &'a Shapes,
    doc: &'a ExecutableDocument,
    visited: usize,
    measure: Measure,
    /// Fragments being expanded (a cycle is left to validation to report).
    spreads: Vec<&'a str>,
}

impl<'a> Walk<'a> {
    /// The cost of a selection set on `parent`, `depth` fields deep; `introspection` is the
    /// depth at which an introspection subtree began.
    fn selection_set(
        &mut self,
        set: &'a Positioned<SelectionSet>,
        parent: Option<&str>,
        depth: usize,
        introspection: Option<usize>,
    ) -> usize {
        let mut cost = 0usize;
        for selection in &set.node.items {
            self.visited += 1;
            if self.visited > VISIT_BUDGET || cost > MAX_COST {
                return cost.max(MAX_COST + 1);
            }
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    let shape = parent
                        .and_then(|p| self.shapes.types.get(p))
                        .and_then(|fields| fields.get(name));
                    let introspection = match introspection {
                        None if depth == 0 && matches!(name, "__schema" | "__type") => {
                            self.measure.introspects = true;
                            Some(depth)
                        }
                        other => other,
                    };
                    let level = depth + 1;
                    match introspection {
                        Some(start) => {
                            let inner = level - start;
                            self.measure.introspection_depth =
                                self.measure.introspection_depth.max(inner);
                        }
                        None => self.measure.depth = self.measure.depth.max(level),
                    }
                    let returns = match name {
                        "__schema" => Some("__Schema"),
                        "__type" => Some("__Type"),
                        _ => shape.map(|s| s.returns.as_str()),
                    };
                    let children = self.selection_set(
                        &field.node.selection_set,
                        returns,
                        level,
                        introspection,
                    );
                    let own = if shape.is_some_and(|s| s.paged) {
                        LIST_COST
                    } else {
                        1
                    };
                    cost = cost.saturating_add(own).saturating_add(children);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let Some(fragment) = self.doc.fragments.get(name) else {
                        continue;
                    };
                    if self.spreads.contains(&name) {
                        continue;
                    }
                    self.spreads.push(name);
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    let on = self.shapes.composite.contains(on).then_some(on).or(parent);
                    let inner =
                        self.selection_set(&fragment.node.selection_set, on, depth, introspection);
                    self.spreads.pop();
                    cost = cost.saturating_add(inner);
                }
                Selection::InlineFragment(inline) => {
                    let on = inline
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str())
                        .filter(|on| self.shapes.composite.contains(*on))
                        .or(parent);
                    let inner =
                        self.selection_set(&inline.node.selection_set, on, depth, introspection);
                    cost = cost.saturating_add(inner);
                }
            }
        }
        cost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure(query: &str) -> Measure {
        let shapes = Shapes::from_sdl(&crate::graphql::sdl());
        let doc = async_graphql::parser::parse_query(query).unwrap_or_else(|e| panic!("{e}"));
        shapes.measure(&doc)
    }

    #[test]
    fn lists_and_pages_cost_more_than_fields() {
        let m = measure("{ events(first: 5) { nodes { id title ticketTypes { name } } } }");
        // events (page) + nodes (list) + id + title + ticketTypes (list) + name.
        assert_eq!(m.cost, 20 + 20 + 1 + 1 + 20 + 1);
        assert_eq!(m.depth, 4);
        assert!(!m.introspects);
        assert_eq!(measure("{ me { id } }").cost, 2);
    }

    #[test]
    fn introspection_depth_is_measured_apart() {
        let m = measure(
            "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } }",
        );
        assert_eq!(m.depth, 0);
        assert_eq!(m.introspection_depth, 12);
        assert!(m.introspects);
        assert_eq!(m.check(true), Ok(()));
        assert_eq!(m.check(false), Err(Refusal::IntrospectionDisabled));
    }

    #[test]
    fn fragment_bombs_stop_at_the_budget() {
        let mut query = String::from("{ ...F0 }\n");
        for i in 0..40 {
            query.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
                i + 1,
                i + 1
            ));
        }
        query.push_str("fragment F40 on Query { me { id } }\n");
        let m = measure(&query);
        assert_eq!(m.check(true), Err(Refusal::TooCostly));
    }
}
