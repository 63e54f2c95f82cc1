//! A CloudFormation template: parameters, conditions, resources and outputs, with typed handles
//! for references between them, rendered deterministically.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;

use super::check::{Validator, Violation};
use super::node::Node;
use super::val::{pseudo, Intrinsic, Str, ToNode, Val};

/// Why a template could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// A logical id is empty, too long, or not alphanumeric.
    #[error("logical id is not 1-255 ASCII letters and digits")]
    InvalidLogicalId,
    /// Two entries share a logical id.
    #[error("logical id {0} is used twice")]
    DuplicateLogicalId(String),
    /// A property value breaks its schema.
    #[error("{resource}: {} violation(s), first: {} {}", violations.len(), violations.first().map(|v| v.path.as_str()).unwrap_or(""), violations.first().map(|v| v.rule.as_str()).unwrap_or(""))]
    InvalidProperties {
        /// The resource's logical id.
        resource: String,
        /// What was wrong, and where.
        violations: Vec<Violation>,
    },
    /// A reference names nothing in the template.
    #[error("{from} refers to {target}, which is not in the template")]
    DanglingReference {
        /// Where the reference is.
        from: String,
        /// What it names.
        target: String,
    },
    /// A policy document could not be built.
    #[error("iam policy: {0}")]
    Iam(#[from] super::iam::IamError),
    /// A resource or output names a condition that is not defined.
    #[error("{from} uses condition {condition}, which is not defined")]
    UnknownCondition {
        /// Where the condition is used.
        from: String,
        /// The condition's name.
        condition: String,
    },
}

/// A logical id: 1–255 ASCII letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogicalId(String);

impl LogicalId {
    /// Parses a logical id.
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        if s.is_empty() || s.len() > 255 || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ModelError::InvalidLogicalId);
        }
        Ok(LogicalId(s.to_string()))
    }

    /// The id as written in the template.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A resource type of the model (implemented by every generated type).
pub trait Resource: ToNode + Clone {
    /// The CloudFormation type name, e.g. `AWS::S3::Bucket`.
    const TYPE_NAME: &'static str;
    /// Checks every literal property against its schema constraints.
    fn validate(&self, v: &mut Validator);
}

/// A typed reference to a resource in a template.
#[derive(Debug)]
pub struct Handle<R> {
    id: LogicalId,
    _type: PhantomData<fn() -> R>,
}

impl<R> Clone for Handle<R> {
    fn clone(&self) -> Self {
        Handle {
            id: self.id.clone(),
            _type: PhantomData,
        }
    }
}

impl<R> Handle<R> {
    /// The logical id.
    pub fn logical_id(&self) -> &LogicalId {
        &self.id
    }

    /// `Ref` to the resource (what it yields depends on the type: a name, an id, an ARN or a URL).
    pub fn to_ref(&self) -> Str {
        Val::Fn(Intrinsic::Ref(self.id.0.clone()))
    }

    /// `Fn::GetAtt` of an attribute; the generated types offer one method per attribute.
    pub fn get_att<T>(&self, attribute: &str) -> Val<T> {
        Val::Fn(Intrinsic::GetAtt(self.id.0.clone(), attribute.to_string()))
    }
}

/// `DeletionPolicy` / `UpdateReplacePolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Delete the resource.
    Delete,
    /// Keep the resource.
    Retain,
    /// Keep a snapshot (only for types that support it).
    Snapshot,
}

impl Policy {
    fn as_str(self) -> &'static str {
        match self {
            Policy::Delete => "Delete",
            Policy::Retain => "Retain",
            Policy::Snapshot => "Snapshot",
        }
    }
}

/// A checkov check skipped for one resource, with the reason written next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckovSkip {
    /// The check id, e.g. `CKV_AWS_117`.
    pub id: &'static str,
    /// Why the check does not apply here.
    pub reason: &'static str,
}

/// The resource attributes beside `Properties`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes {
    depends_on: BTreeSet<String>,
    condition: Option<String>,
    deletion: Option<Policy>,
    update_replace: Option<Policy>,
    checkov_skips: Vec<CheckovSkip>,
}

impl Attributes {
    /// No attributes.
    pub fn new() -> Self {
        Self::default()
    }

    /// `DependsOn` another resource.
    pub fn depends_on<R>(mut self, other: &Handle<R>) -> Self {
        self.depends_on.insert(other.id.0.clone());
        self
    }

    /// `DependsOn` a resource named by its logical id (checked when the template is finished).
    pub fn depends_on_id(mut self, id: &str) -> Self {
        self.depends_on.insert(id.to_string());
        self
    }

    /// Creates the resource only when `condition` holds.
    pub fn condition(mut self, condition: &ConditionHandle) -> Self {
        self.condition = Some(condition.0.clone());
        self
    }

    /// `DeletionPolicy` and `UpdateReplacePolicy` both set to `policy`.
    pub fn retention(mut self, policy: Policy) -> Self {
        self.deletion = Some(policy);
        self.update_replace = Some(policy);
        self
    }

    /// Skips one checkov check on this resource, for the reason given.
    pub fn checkov_skip(mut self, id: &'static str, reason: &'static str) -> Self {
        self.checkov_skips.push(CheckovSkip { id, reason });
        self
    }

    /// The checkov checks skipped on this resource.
    pub fn checkov_skips(&self) -> &[CheckovSkip] {
        &self.checkov_skips
    }
}

#[derive(Debug, Clone)]
struct Entry {
    type_name: &'static str,
    properties: Node,
    attributes: Attributes,
}

/// A template parameter's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterType {
    /// `String`.
    String,
    /// `Number`.
    Number,
}

/// A template parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    kind: ParameterType,
    description: String,
    default: Option<String>,
    allowed_pattern: Option<String>,
    no_echo: bool,
}

impl Parameter {
    /// A string parameter.
    pub fn string(description: &str) -> Self {
        Parameter {
            kind: ParameterType::String,
            description: description.to_string(),
            default: None,
            allowed_pattern: None,
            no_echo: false,
        }
    }

    /// Sets the default value.
    pub fn default_value(mut self, v: &str) -> Self {
        self.default = Some(v.to_string());
        self
    }

    /// Restricts values to a pattern.
    pub fn allowed_pattern(mut self, p: &str) -> Self {
        self.allowed_pattern = Some(p.to_string());
        self
    }

    fn to_node(&self) -> Node {
        let mut m = vec![(
            "Type".to_string(),
            Node::str(match self.kind {
                ParameterType::String => "String",
                ParameterType::Number => "Number",
            }),
        )];
        if let Some(p) = &self.allowed_pattern {
            m.push(("AllowedPattern".into(), Node::str(p.clone())));
        }
        if let Some(d) = &self.default {
            m.push(("Default".into(), Node::str(d.clone())));
        }
        m.push(("Description".into(), Node::str(self.description.clone())));
        if self.no_echo {
            m.push(("NoEcho".into(), Node::Bool(true)));
        }
        Node::Map(m)
    }
}

/// A typed reference to a parameter.
#[derive(Debug, Clone)]
pub struct ParameterHandle(String);

impl ParameterHandle {
    /// `Ref` to the parameter's value.
    pub fn to_ref(&self) -> Str {
        Val::Fn(Intrinsic::Ref(self.0.clone()))
    }
}

/// A condition expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `Fn::Equals`.
    Equals(Str, Str),
    /// `Fn::Not`.
    Not(Box<Condition>),
    /// `Fn::And`.
    And(Vec<Condition>),
    /// `Fn::Or`.
    Or(Vec<Condition>),
}

impl Condition {
    fn to_node(&self) -> Node {
        match self {
            Condition::Equals(a, b) => {
                Node::map([("Fn::Equals", Node::List(vec![a.to_node(), b.to_node()]))])
            }
            Condition::Not(c) => Node::map([("Fn::Not", Node::List(vec![c.to_node()]))]),
            Condition::And(cs) => Node::map([(
                "Fn::And",
                Node::List(cs.iter().map(Condition::to_node).collect()),
            )]),
            Condition::Or(cs) => Node::map([(
                "Fn::Or",
                Node::List(cs.iter().map(Condition::to_node).collect()),
            )]),
        }
    }
}

/// A typed reference to a condition.
#[derive(Debug, Clone)]
pub struct ConditionHandle(String);

impl ConditionHandle {
    /// The condition's name.
    pub fn name(&self) -> &str {
        &self.0
    }
}

/// A template output.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    value: Str,
    description: String,
    export: Option<Str>,
}

impl Output {
    /// An output with its value and description.
    pub fn new(value: Str, description: &str) -> Self {
        Output {
            value,
            description: description.to_string(),
            export: None,
        }
    }

    /// Exports the value under `name` for other stacks (only where asked).
    pub fn export(mut self, name: Str) -> Self {
        self.export = Some(name);
        self
    }

    fn to_node(&self) -> Node {
        let mut m = vec![(
            "Description".to_string(),
            Node::str(self.description.clone()),
        )];
        if let Some(e) = &self.export {
            m.push(("Export".into(), Node::map([("Name", e.to_node())])));
        }
        m.push(("Value".into(), self.value.to_node()));
        Node::Map(m)
    }
}

/// A CloudFormation template under construction.
#[derive(Debug, Clone, Default)]
pub struct Template {
    description: String,
    parameters: BTreeMap<String, Parameter>,
    conditions: BTreeMap<String, Condition>,
    resources: BTreeMap<String, Entry>,
    outputs: BTreeMap<String, Output>,
}

impl Template {
    /// An empty template.
    pub fn new(description: &str) -> Self {
        Template {
            description: description.to_string(),
            ..Self::default()
        }
    }

    fn claim(&self, id: &str) -> Result<LogicalId, ModelError> {
        let id = LogicalId::parse(id)?;
        if self.parameters.contains_key(&id.0)
            || self.conditions.contains_key(&id.0)
            || self.resources.contains_key(&id.0)
        {
            return Err(ModelError::DuplicateLogicalId(id.0));
        }
        Ok(id)
    }

    /// Adds a resource; its literal properties are checked against the schema now.
    pub fn add<R: Resource>(&mut self, id: &str, resource: R) -> Result<Handle<R>, ModelError> {
        self.add_with(id, resource, Attributes::new())
    }

    /// Adds a resource with attributes (policies, dependencies, condition, checkov skips).
    pub fn add_with<R: Resource>(
        &mut self,
        id: &str,
        resource: R,
        attributes: Attributes,
    ) -> Result<Handle<R>, ModelError> {
        let id = self.claim(id)?;
        let mut v = Validator::new();
        resource.validate(&mut v);
        let violations = v.into_violations();
        if !violations.is_empty() {
            return Err(ModelError::InvalidProperties {
                resource: id.0,
                violations,
            });
        }
        self.resources.insert(
            id.0.clone(),
            Entry {
                type_name: R::TYPE_NAME,
                properties: resource.to_node(),
                attributes,
            },
        );
        Ok(Handle {
            id,
            _type: PhantomData,
        })
    }

    /// Adds a parameter.
    pub fn add_parameter(
        &mut self,
        id: &str,
        parameter: Parameter,
    ) -> Result<ParameterHandle, ModelError> {
        let id = self.claim(id)?;
        self.parameters.insert(id.0.clone(), parameter);
        Ok(ParameterHandle(id.0))
    }

    /// Adds a condition.
    pub fn add_condition(
        &mut self,
        id: &str,
        condition: Condition,
    ) -> Result<ConditionHandle, ModelError> {
        let id = self.claim(id)?;
        self.conditions.insert(id.0.clone(), condition);
        Ok(ConditionHandle(id.0))
    }

    /// Adds an output.
    pub fn add_output(&mut self, id: &str, output: Output) -> Result<(), ModelError> {
        let id = LogicalId::parse(id)?;
        if self.outputs.insert(id.0.clone(), output).is_some() {
            return Err(ModelError::DuplicateLogicalId(id.0));
        }
        Ok(())
    }

    /// The number of resources.
    pub fn resource_count(&self) -> usize {
        self.resources.len()
    }

    /// `(logical id, type name)` of every resource, sorted by id.
    pub fn resource_types(&self) -> impl Iterator<Item = (&str, &'static str)> {
        self.resources
            .iter()
            .map(|(k, e)| (k.as_str(), e.type_name))
    }

    /// `(logical id, checkov skips)` of every resource that skips a check.
    pub fn checkov_skips(&self) -> impl Iterator<Item = (&str, &[CheckovSkip])> {
        self.resources
            .iter()
            .filter(|(_, e)| !e.attributes.checkov_skips.is_empty())
            .map(|(k, e)| (k.as_str(), e.attributes.checkov_skips.as_slice()))
    }

    /// Checks that every reference, dependency and condition names something in the template.
    pub fn check(&self) -> Result<(), ModelError> {
        let known = |name: &str| {
            self.resources.contains_key(name)
                || self.parameters.contains_key(name)
                || pseudo::NAMES.contains(&name)
        };
        for (id, e) in &self.resources {
            check_refs(id, &e.properties, &known, &|c| {
                self.conditions.contains_key(c)
            })?;
            for d in &e.attributes.depends_on {
                if !self.resources.contains_key(d) {
                    return Err(ModelError::DanglingReference {
                        from: id.clone(),
                        target: d.clone(),
                    });
                }
            }
            if let Some(c) = &e.attributes.condition {
                if !self.conditions.contains_key(c) {
                    return Err(ModelError::UnknownCondition {
                        from: id.clone(),
                        condition: c.clone(),
                    });
                }
            }
        }
        for (id, o) in &self.outputs {
            check_refs(id, &o.to_node(), &known, &|c| {
                self.conditions.contains_key(c)
            })?;
        }
        for (id, c) in &self.conditions {
            check_refs(id, &c.to_node(), &known, &|c| {
                self.conditions.contains_key(c)
            })?;
        }
        Ok(())
    }

    /// The rendered template: `AWSTemplateFormatVersion`, `Description`, `Parameters`,
    /// `Conditions`, `Resources` (sorted by logical id), `Outputs`.
    pub fn to_node(&self) -> Node {
        let mut top = vec![
            (
                "AWSTemplateFormatVersion".to_string(),
                Node::str("2010-09-09"),
            ),
            (
                "Description".to_string(),
                Node::str(self.description.clone()),
            ),
        ];
        if !self.parameters.is_empty() {
            top.push((
                "Parameters".into(),
                Node::Map(
                    self.parameters
                        .iter()
                        .map(|(k, p)| (k.clone(), p.to_node()))
                        .collect(),
                ),
            ));
        }
        if !self.conditions.is_empty() {
            top.push((
                "Conditions".into(),
                Node::Map(
                    self.conditions
                        .iter()
                        .map(|(k, c)| (k.clone(), c.to_node()))
                        .collect(),
                ),
            ));
        }
        let resources = self
            .resources
            .iter()
            .map(|(k, e)| (k.clone(), entry_node(e)))
            .collect();
        top.push(("Resources".into(), Node::Map(resources)));
        if !self.outputs.is_empty() {
            top.push((
                "Outputs".into(),
                Node::Map(
                    self.outputs
                        .iter()
                        .map(|(k, o)| (k.clone(), o.to_node()))
                        .collect(),
                ),
            ));
        }
        Node::Map(top)
    }
}

fn entry_node(e: &Entry) -> Node {
    let mut m = vec![("Type".to_string(), Node::str(e.type_name))];
    let a = &e.attributes;
    if let Some(c) = &a.condition {
        m.push(("Condition".into(), Node::str(c.clone())));
    }
    if !a.depends_on.is_empty() {
        m.push((
            "DependsOn".into(),
            Node::List(a.depends_on.iter().map(|d| Node::str(d.clone())).collect()),
        ));
    }
    if !a.checkov_skips.is_empty() {
        let skips = a
            .checkov_skips
            .iter()
            .map(|s| Node::map([("comment", Node::str(s.reason)), ("id", Node::str(s.id))]))
            .collect();
        m.push((
            "Metadata".into(),
            Node::map([("checkov", Node::map([("skip", Node::List(skips))]))]),
        ));
    }
    if !matches!(&e.properties, Node::Map(p) if p.is_empty()) {
        m.push(("Properties".into(), e.properties.clone()));
    }
    if let Some(p) = a.deletion {
        m.push(("DeletionPolicy".into(), Node::str(p.as_str())));
    }
    if let Some(p) = a.update_replace {
        m.push(("UpdateReplacePolicy".into(), Node::str(p.as_str())));
    }
    Node::Map(m)
}

/// Names a `Fn::Sub` template refers to: `${Name}` and `${Name.Attr}`, not `${!Literal}`.
fn sub_names(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.starts_with('!') {
            names.push(name);
        }
        rest = &after[end + 1..];
    }
    names
}

fn check_refs(
    from: &str,
    node: &Node,
    known: &dyn Fn(&str) -> bool,
    condition_known: &dyn Fn(&str) -> bool,
) -> Result<(), ModelError> {
    let dangling = |target: &str| ModelError::DanglingReference {
        from: from.to_string(),
        target: target.to_string(),
    };
    match node {
        Node::Map(entries) => {
            if let [(k, v)] = entries.as_slice() {
                match (k.as_str(), v) {
                    ("Ref", Node::Str(target)) if !known(target) => return Err(dangling(target)),
                    ("Fn::GetAtt", Node::List(parts)) => {
                        if let Some(Node::Str(target)) = parts.first() {
                            if !known(target) {
                                return Err(dangling(target));
                            }
                        }
                    }
                    ("Fn::Sub", sub) => {
                        let (template, vars) = match sub {
                            Node::Str(t) => (t.as_str(), None),
                            Node::List(l) => match l.as_slice() {
                                [Node::Str(t), Node::Map(vars)] => (t.as_str(), Some(vars)),
                                _ => ("", None),
                            },
                            _ => ("", None),
                        };
                        for name in sub_names(template) {
                            let given = vars.is_some_and(|v| v.iter().any(|(k, _)| k == name));
                            if !given && !pseudo::NAMES.contains(&name) {
                                // Implicit references are not allowed: every variable is explicit.
                                return Err(dangling(name));
                            }
                        }
                    }
                    ("Fn::If", Node::List(parts)) => {
                        if let Some(Node::Str(c)) = parts.first() {
                            if !condition_known(c) {
                                return Err(ModelError::UnknownCondition {
                                    from: from.to_string(),
                                    condition: c.clone(),
                                });
                            }
                        }
                    }
                    _ => {}
                }
            }
            for (_, v) in entries {
                check_refs(from, v, known, condition_known)?;
            }
            Ok(())
        }
        Node::List(items) => {
            for v in items {
                check_refs(from, v, known, condition_known)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ids_are_alphanumeric() {
        assert!(LogicalId::parse("IdUploadsBucket").is_ok());
        for bad in ["", "a-b", "a b", "ä", &"a".repeat(256)] {
            assert_eq!(LogicalId::parse(bad), Err(ModelError::InvalidLogicalId));
        }
    }

    #[test]
    fn sub_names_skip_escaped_literals() {
        assert_eq!(
            sub_names("${A}-${!Literal}-${B.Arn}-${AWS::Region}"),
            vec!["A", "B.Arn", "AWS::Region"]
        );
    }

    #[test]
    fn a_dangling_ref_is_reported() {
        let node = Node::map([("X", Node::map([("Ref", Node::str("Missing"))]))]);
        let err = check_refs("R", &node, &|_| false, &|_| true);
        assert_eq!(
            err,
            Err(ModelError::DanglingReference {
                from: "R".into(),
                target: "Missing".into()
            })
        );
    }

    #[test]
    fn conditions_and_if_render_and_are_checked() {
        let mut t = Template::new("t");
        let p = t
            .add_parameter("Email", Parameter::string("address").default_value(""))
            .expect("parameter");
        let c = t
            .add_condition(
                "HasEmail",
                Condition::Not(Box::new(Condition::Equals(p.to_ref(), Str::from("")))),
            )
            .expect("condition");
        let v: Str = Val::if_(&c, p.to_ref(), Str::from("none"));
        assert_eq!(
            v.to_node().to_compact_json(),
            r#"{"Fn::If":["HasEmail",{"Ref":"Email"},"none"]}"#
        );
        let only: Str = Val::only_if(&c, Str::from("x"));
        assert!(only.to_node().to_compact_json().contains("AWS::NoValue"));
        t.add_output("Out", Output::new(v, "if").export(Str::from("kyc-out")))
            .expect("output");
        t.check().expect("references resolve");
        let json = t.to_node().to_compact_json();
        assert!(json.contains(r#""Export":{"Name":"kyc-out"}"#), "{json}");
    }

    #[test]
    fn an_if_on_an_unknown_condition_is_reported() {
        let node = Node::map([(
            "Fn::If",
            Node::List(vec![Node::str("Nope"), Node::str("a"), Node::str("b")]),
        )]);
        assert!(matches!(
            check_refs("R", &node, &|_| true, &|_| false),
            Err(ModelError::UnknownCondition { .. })
        ));
    }

    #[test]
    fn a_logical_id_cannot_be_used_twice() {
        let mut t = Template::new("t");
        t.add_parameter("A", Parameter::string("a")).expect("first");
        assert!(matches!(
            t.add_parameter("A", Parameter::string("a")),
            Err(ModelError::DuplicateLogicalId(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn logical_id_parsing_never_panics_and_accepts_only_alphanumerics(s in "\\PC{0,300}") {
            if let Ok(id) = LogicalId::parse(&s) {
                proptest::prop_assert!(id.as_str().chars().all(|c| c.is_ascii_alphanumeric()));
            }
        }

        #[test]
        fn sub_name_scanning_never_panics(s in "\\PC{0,200}") {
            let _ = sub_names(&s);
        }
    }

    #[test]
    fn an_implicit_sub_reference_is_refused() {
        let node = Node::map([("Fn::Sub", Node::str("${SomeBucket}"))]);
        assert!(check_refs("R", &node, &|_| true, &|_| true).is_err());
    }
}
