//! Property values: a literal of the property's type, or an intrinsic function that CloudFormation
//! evaluates at deploy time (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::If`, …).

use std::collections::BTreeMap;

use super::node::Node;

/// A property value of type `T`: a literal, or an intrinsic function that yields a `T`.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<T> {
    /// A literal value, checked against the property's schema when the resource is added.
    Lit(T),
    /// An intrinsic function, evaluated by CloudFormation.
    Fn(Intrinsic),
}

/// A string-valued property.
pub type Str = Val<String>;

/// Free-form JSON for the few properties whose schema gives no structure.
pub type Json = Node;

/// A map of string keys to values, rendered with its keys sorted.
pub type Map<T> = BTreeMap<String, T>;

/// The intrinsic functions the model writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Intrinsic {
    /// `Ref` to a resource, parameter or pseudo parameter.
    Ref(String),
    /// `Fn::GetAtt` of a resource attribute.
    GetAtt(String, String),
    /// `Fn::Sub` with a template string and explicit variables (sorted by name).
    Sub(String, Vec<(String, Node)>),
    /// `Fn::Join` with a separator.
    Join(String, Vec<Node>),
    /// `Fn::If` on a named condition.
    If(String, Box<Node>, Box<Node>),
    /// `Fn::Select` of one element of a list.
    Select(u32, Box<Node>),
    /// `Fn::GetAZs` for the current region.
    GetAzs,
    /// `Fn::ImportValue` of another stack's export.
    ImportValue(Box<Node>),
    /// `Ref: AWS::NoValue`: the property is removed.
    NoValue,
}

impl Intrinsic {
    /// The rendered form.
    pub fn to_node(&self) -> Node {
        match self {
            Intrinsic::Ref(id) => Node::map([("Ref", Node::str(id.clone()))]),
            Intrinsic::GetAtt(id, attr) => Node::map([(
                "Fn::GetAtt",
                Node::List(vec![Node::str(id.clone()), Node::str(attr.clone())]),
            )]),
            Intrinsic::Sub(template, vars) if vars.is_empty() => {
                Node::map([("Fn::Sub", Node::str(template.clone()))])
            }
            Intrinsic::Sub(template, vars) => Node::map([(
                "Fn::Sub",
                Node::List(vec![Node::str(template.clone()), Node::Map(vars.clone())]),
            )]),
            Intrinsic::Join(sep, parts) => Node::map([(
                "Fn::Join",
                Node::List(vec![Node::str(sep.clone()), Node::List(parts.clone())]),
            )]),
            Intrinsic::If(cond, a, b) => Node::map([(
                "Fn::If",
                Node::List(vec![Node::str(cond.clone()), (**a).clone(), (**b).clone()]),
            )]),
            Intrinsic::Select(i, list) => Node::map([(
                "Fn::Select",
                Node::List(vec![Node::Int(i64::from(*i)), (**list).clone()]),
            )]),
            Intrinsic::GetAzs => Node::map([("Fn::GetAZs", Node::str(""))]),
            Intrinsic::ImportValue(v) => Node::map([("Fn::ImportValue", (**v).clone())]),
            Intrinsic::NoValue => Node::map([("Ref", Node::str("AWS::NoValue"))]),
        }
    }
}

/// Turns a typed value into its rendered form.
pub trait ToNode {
    /// The rendered form.
    fn to_node(&self) -> Node;
}

impl<T: ToNode> ToNode for Val<T> {
    fn to_node(&self) -> Node {
        match self {
            Val::Lit(v) => v.to_node(),
            Val::Fn(f) => f.to_node(),
        }
    }
}

impl ToNode for String {
    fn to_node(&self) -> Node {
        Node::Str(self.clone())
    }
}

impl ToNode for i64 {
    fn to_node(&self) -> Node {
        Node::Int(*self)
    }
}

impl ToNode for f64 {
    fn to_node(&self) -> Node {
        Node::Float(*self)
    }
}

impl ToNode for bool {
    fn to_node(&self) -> Node {
        Node::Bool(*self)
    }
}

impl ToNode for Node {
    fn to_node(&self) -> Node {
        self.clone()
    }
}

impl<T: ToNode> ToNode for Box<T> {
    fn to_node(&self) -> Node {
        (**self).to_node()
    }
}

impl<T: ToNode> ToNode for Vec<T> {
    fn to_node(&self) -> Node {
        Node::List(self.iter().map(ToNode::to_node).collect())
    }
}

impl<T: ToNode> ToNode for BTreeMap<String, T> {
    fn to_node(&self) -> Node {
        Node::Map(self.iter().map(|(k, v)| (k.clone(), v.to_node())).collect())
    }
}

impl From<&str> for Val<String> {
    fn from(s: &str) -> Self {
        Val::Lit(s.to_string())
    }
}

impl From<String> for Val<String> {
    fn from(s: String) -> Self {
        Val::Lit(s)
    }
}

impl From<&String> for Val<String> {
    fn from(s: &String) -> Self {
        Val::Lit(s.clone())
    }
}

impl From<i64> for Val<i64> {
    fn from(v: i64) -> Self {
        Val::Lit(v)
    }
}

impl From<u32> for Val<i64> {
    fn from(v: u32) -> Self {
        Val::Lit(i64::from(v))
    }
}

impl From<f64> for Val<f64> {
    fn from(v: f64) -> Self {
        Val::Lit(v)
    }
}

impl From<u32> for Val<f64> {
    fn from(v: u32) -> Self {
        Val::Lit(f64::from(v))
    }
}

impl From<bool> for Val<bool> {
    fn from(v: bool) -> Self {
        Val::Lit(v)
    }
}

impl<T> From<Intrinsic> for Val<T> {
    fn from(f: Intrinsic) -> Self {
        Val::Fn(f)
    }
}

impl<T: ToNode> Val<T> {
    /// `Fn::If`: `when_true` if the condition holds, else `when_false`.
    pub fn if_(
        condition: &super::template::ConditionHandle,
        when_true: Val<T>,
        when_false: Val<T>,
    ) -> Self {
        Val::Fn(Intrinsic::If(
            condition.name().to_string(),
            Box::new(when_true.to_node()),
            Box::new(when_false.to_node()),
        ))
    }

    /// `Fn::If` with `AWS::NoValue`: the property is set only when the condition holds.
    pub fn only_if(condition: &super::template::ConditionHandle, value: Val<T>) -> Self {
        Val::Fn(Intrinsic::If(
            condition.name().to_string(),
            Box::new(value.to_node()),
            Box::new(Intrinsic::NoValue.to_node()),
        ))
    }
}

/// `Fn::Sub` with explicit variables. `${AWS::Region}`-style pseudo parameters need no variable;
/// every other `${Name}` must be given in `vars` (checked when the template is finished).
pub fn sub<'a>(template: &str, vars: impl IntoIterator<Item = (&'a str, Str)>) -> Str {
    let mut vars: Vec<(String, Node)> = vars
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_node()))
        .collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    Val::Fn(Intrinsic::Sub(template.to_string(), vars))
}

/// `Fn::Join` of string parts.
pub fn join(separator: &str, parts: impl IntoIterator<Item = Str>) -> Str {
    Val::Fn(Intrinsic::Join(
        separator.to_string(),
        parts.into_iter().map(|p| p.to_node()).collect(),
    ))
}

/// `Fn::Select` of the `index`th availability zone of the region (`Fn::GetAZs`).
pub fn availability_zone(index: u32) -> Str {
    Val::Fn(Intrinsic::Select(
        index,
        Box::new(Intrinsic::GetAzs.to_node()),
    ))
}

/// `Fn::ImportValue` of an export of another stack.
pub fn import_value(export_name: Str) -> Str {
    Val::Fn(Intrinsic::ImportValue(Box::new(export_name.to_node())))
}

/// The pseudo parameters CloudFormation defines.
pub mod pseudo {
    use super::{Intrinsic, Str, Val};

    fn r(name: &str) -> Str {
        Val::Fn(Intrinsic::Ref(name.to_string()))
    }

    /// `AWS::AccountId`.
    pub fn account_id() -> Str {
        r("AWS::AccountId")
    }
    /// `AWS::Region`.
    pub fn region() -> Str {
        r("AWS::Region")
    }
    /// `AWS::Partition`.
    pub fn partition() -> Str {
        r("AWS::Partition")
    }
    /// `AWS::StackName`.
    pub fn stack_name() -> Str {
        r("AWS::StackName")
    }
    /// `AWS::StackId`.
    pub fn stack_id() -> Str {
        r("AWS::StackId")
    }
    /// `AWS::URLSuffix`.
    pub fn url_suffix() -> Str {
        r("AWS::URLSuffix")
    }

    /// Every pseudo parameter name, for reference checks.
    pub const NAMES: &[&str] = &[
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_variables_render_sorted_by_name() {
        let v = sub("${B}-${A}", [("B", Str::from("b")), ("A", Str::from("a"))]);
        let json = v.to_node().to_compact_json();
        assert_eq!(json, r#"{"Fn::Sub":["${B}-${A}",{"A":"a","B":"b"}]}"#);
    }

    #[test]
    fn sub_without_variables_is_a_plain_string() {
        let v = sub("arn:${AWS::Partition}:s3:::x", []);
        assert_eq!(
            v.to_node().to_compact_json(),
            r#"{"Fn::Sub":"arn:${AWS::Partition}:s3:::x"}"#
        );
    }

    #[test]
    fn join_and_select_render_in_cloudformation_shape() {
        let v = join(",", [Str::from("a"), pseudo::region()]);
        assert_eq!(
            v.to_node().to_compact_json(),
            r#"{"Fn::Join":[",",["a",{"Ref":"AWS::Region"}]]}"#
        );
        assert_eq!(
            availability_zone(1).to_node().to_compact_json(),
            r#"{"Fn::Select":[1,{"Fn::GetAZs":""}]}"#
        );
    }
}
