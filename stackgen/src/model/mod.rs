//! The typed CloudFormation model: values and intrinsics ([`val`]), schema constraints
//! ([`check`]), IAM policy documents ([`iam`]), templates and handles ([`template`]) and the
//! rendered tree with its JSON and YAML text ([`node`]).

pub mod check;
pub mod iam;
pub mod node;
pub mod template;
pub mod val;

/// What the generated resource types and the stack code use.
pub mod prelude {
    pub use super::check::{Check, Constraint, Validator};
    pub use super::iam::PolicyDocument;
    pub use super::node::Node;
    pub use super::template::{Handle, Resource};
    pub use super::val::{Json, Map, Str, ToNode, Val};
}

use std::collections::BTreeMap;

use node::Node;
use val::ToNode;

/// A list or map property, left out of the template when empty.
pub trait Many: ToNode {
    /// Whether there is nothing to render.
    fn is_empty(&self) -> bool;
}

impl<T: ToNode> Many for Vec<T> {
    fn is_empty(&self) -> bool {
        Vec::is_empty(self)
    }
}

impl<T: ToNode> Many for BTreeMap<String, T> {
    fn is_empty(&self) -> bool {
        BTreeMap::is_empty(self)
    }
}

/// Renders a required property (generated code).
pub fn put<T: ToNode>(m: &mut Vec<(String, Node)>, key: &str, value: &T) {
    m.push((key.to_string(), value.to_node()));
}

/// Renders an optional property when it is set (generated code).
pub fn put_opt<T: ToNode>(m: &mut Vec<(String, Node)>, key: &str, value: &Option<T>) {
    if let Some(v) = value {
        m.push((key.to_string(), v.to_node()));
    }
}

/// Renders a list or map property when it is not empty (generated code).
pub fn put_many<T: Many>(m: &mut Vec<(String, Node)>, key: &str, value: &T) {
    if !value.is_empty() {
        m.push((key.to_string(), value.to_node()));
    }
}
