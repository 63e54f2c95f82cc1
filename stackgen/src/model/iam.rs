//! Typed IAM policy documents: every action is named exactly (no `*`, no `service:*`, no
//! prefix wildcards in a grant), and a statement that applies to every resource carries the
//! reason its actions cannot be scoped.
//!
//! The one place a wildcard may appear is a `Deny` of a whole service (`s3:*` when a request is
//! not sent over TLS): denying everything is the safe direction, and it is built by its own
//! constructor, [`Statement::deny_service`], so it cannot be confused with a grant.

use super::node::Node;
use super::val::{Str, ToNode, Val};

/// Why a policy could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    /// An action is not of the form `service:Action` with letters and digits only.
    #[error("iam action is not an exact service:Action name")]
    InvalidAction,
    /// A service prefix is not lowercase letters, digits and dashes.
    #[error("iam service prefix is not valid")]
    InvalidService,
    /// An allow statement names no action or no resource.
    #[error("iam statement grants nothing")]
    EmptyStatement,
    /// An allow statement names every principal.
    #[error("iam allow statement names every principal")]
    AllowForEveryone,
}

fn valid_service(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// One exact IAM action, such as `s3:GetObject`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Action(String);

impl Action {
    /// Parses `service:Action`; wildcards are refused.
    pub fn parse(s: &str) -> Result<Self, IamError> {
        let (service, name) = s.split_once(':').ok_or(IamError::InvalidAction)?;
        if !valid_service(service) {
            return Err(IamError::InvalidAction);
        }
        if name.is_empty() || name.len() > 128 || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(IamError::InvalidAction);
        }
        Ok(Action(s.to_string()))
    }

    /// The action as written in the policy.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `Allow`.
    Allow,
    /// `Deny`.
    Deny,
}

/// Who a resource policy or trust policy applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// An AWS service, e.g. `lambda.amazonaws.com`.
    Service(Str),
    /// An account, role or user ARN.
    Aws(Str),
    /// Every principal (`"*"`): only in deny statements.
    Everyone,
}

impl Principal {
    /// An AWS service principal.
    pub fn service(name: &str) -> Self {
        Principal::Service(Str::from(name))
    }

    fn to_node(&self) -> Node {
        match self {
            Principal::Service(s) => Node::map([("Service", s.to_node())]),
            Principal::Aws(a) => Node::map([("AWS", a.to_node())]),
            Principal::Everyone => Node::str("*"),
        }
    }
}

/// What a statement's actions apply to.
#[derive(Debug, Clone, PartialEq)]
pub enum Resources {
    /// Specific ARNs.
    Arns(Vec<Str>),
    /// Every resource (`"*"`), with the reason the actions cannot be scoped.
    Any {
        /// Why no narrower resource is possible (kept in the code, next to the statement).
        reason: &'static str,
    },
}

/// The actions of a statement.
#[derive(Debug, Clone, PartialEq)]
enum Actions {
    Exact(Vec<Action>),
    /// Every action of one service: only built by [`Statement::deny_service`].
    WholeService(String),
}

/// One policy statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    principal: Option<Principal>,
    actions: Actions,
    resources: Resources,
    conditions: Vec<(String, String, Vec<Str>)>,
}

impl Statement {
    /// Allows exactly these actions; resources come next with [`Statement::on`] or
    /// [`Statement::on_any_resource`].
    pub fn allow<'a>(actions: impl IntoIterator<Item = &'a str>) -> Result<Self, IamError> {
        let mut parsed = actions
            .into_iter()
            .map(Action::parse)
            .collect::<Result<Vec<_>, _>>()?;
        parsed.sort();
        parsed.dedup();
        if parsed.is_empty() {
            return Err(IamError::EmptyStatement);
        }
        Ok(Statement {
            sid: None,
            effect: Effect::Allow,
            principal: None,
            actions: Actions::Exact(parsed),
            resources: Resources::Arns(Vec::new()),
            conditions: Vec::new(),
        })
    }

    /// Denies every action of `service` (e.g. `s3`) to every principal; narrow it with
    /// conditions (e.g. `aws:SecureTransport` is `false`).
    pub fn deny_service(service: &str) -> Result<Self, IamError> {
        if !valid_service(service) {
            return Err(IamError::InvalidService);
        }
        Ok(Statement {
            sid: None,
            effect: Effect::Deny,
            principal: Some(Principal::Everyone),
            actions: Actions::WholeService(service.to_string()),
            resources: Resources::Arns(Vec::new()),
            conditions: Vec::new(),
        })
    }

    /// Sets the statement id.
    pub fn sid(mut self, sid: &str) -> Self {
        self.sid = Some(sid.to_string());
        self
    }

    /// Sets the principal (resource and trust policies).
    pub fn principal(mut self, principal: Principal) -> Result<Self, IamError> {
        if self.effect == Effect::Allow && principal == Principal::Everyone {
            return Err(IamError::AllowForEveryone);
        }
        self.principal = Some(principal);
        Ok(self)
    }

    /// Applies the statement to these resources.
    pub fn on(mut self, resources: impl IntoIterator<Item = Str>) -> Self {
        self.resources = Resources::Arns(resources.into_iter().collect());
        self
    }

    /// Applies the statement to every resource; `reason` says why its actions cannot be scoped.
    pub fn on_any_resource(mut self, reason: &'static str) -> Self {
        self.resources = Resources::Any { reason };
        self
    }

    /// Adds a condition: `operator` (e.g. `StringEquals`), `key`, values.
    pub fn condition(
        mut self,
        operator: &str,
        key: &str,
        values: impl IntoIterator<Item = Str>,
    ) -> Self {
        self.conditions.push((
            operator.to_string(),
            key.to_string(),
            values.into_iter().collect(),
        ));
        self.conditions
            .sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        self
    }

    /// The effect.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// The exact actions (empty for a whole-service deny).
    pub fn actions(&self) -> &[Action] {
        match &self.actions {
            Actions::Exact(a) => a,
            Actions::WholeService(_) => &[],
        }
    }

    /// The resources.
    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    fn to_node(&self) -> Node {
        let mut m: Vec<(String, Node)> = Vec::new();
        if let Some(sid) = &self.sid {
            m.push(("Sid".into(), Node::str(sid.clone())));
        }
        m.push((
            "Effect".into(),
            Node::str(match self.effect {
                Effect::Allow => "Allow",
                Effect::Deny => "Deny",
            }),
        ));
        if let Some(p) = &self.principal {
            m.push(("Principal".into(), p.to_node()));
        }
        let actions = match &self.actions {
            Actions::Exact(a) => Node::List(a.iter().map(|x| Node::str(x.as_str())).collect()),
            Actions::WholeService(s) => Node::str(format!("{s}:*")),
        };
        m.push(("Action".into(), actions));
        // Trust policies (a principal and sts:AssumeRole) take no resource.
        let is_trust = self.principal.is_some()
            && matches!(&self.resources, Resources::Arns(r) if r.is_empty());
        if !is_trust {
            let resources = match &self.resources {
                Resources::Arns(r) => Node::List(r.iter().map(ToNode::to_node).collect()),
                Resources::Any { .. } => Node::str("*"),
            };
            m.push(("Resource".into(), resources));
        }
        if !self.conditions.is_empty() {
            let mut ops: Vec<(String, Node)> = Vec::new();
            for (op, key, values) in &self.conditions {
                let value = match values.as_slice() {
                    [one] => one.to_node(),
                    many => Node::List(many.iter().map(ToNode::to_node).collect()),
                };
                match ops.iter_mut().find(|(o, _)| o == op) {
                    Some((_, Node::Map(keys))) => keys.push((key.clone(), value)),
                    _ => ops.push((op.clone(), Node::map([(key.clone(), value)]))),
                }
            }
            m.push(("Condition".into(), Node::Map(ops)));
        }
        Node::Map(m)
    }
}

/// An IAM policy document (`Version` 2012-10-17).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    statements: Vec<Statement>,
}

impl PolicyDocument {
    /// A document from its statements; an allow statement must name at least one resource
    /// unless it is a trust statement (one with a principal).
    pub fn new(statements: impl IntoIterator<Item = Statement>) -> Result<Self, IamError> {
        let statements: Vec<Statement> = statements.into_iter().collect();
        for s in &statements {
            if s.effect == Effect::Allow
                && s.principal.is_none()
                && matches!(&s.resources, Resources::Arns(r) if r.is_empty())
            {
                return Err(IamError::EmptyStatement);
            }
        }
        if statements.is_empty() {
            return Err(IamError::EmptyStatement);
        }
        Ok(PolicyDocument { statements })
    }

    /// The trust policy that lets one AWS service assume a role.
    pub fn assume_role_by(service: &str) -> Result<Self, IamError> {
        Self::new([Statement::allow(["sts:AssumeRole"])?.principal(Principal::service(service))?])
    }

    /// The statements.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

impl ToNode for PolicyDocument {
    fn to_node(&self) -> Node {
        Node::map([
            ("Version", Node::str("2012-10-17")),
            (
                "Statement",
                Node::List(self.statements.iter().map(Statement::to_node).collect()),
            ),
        ])
    }
}

impl From<PolicyDocument> for Val<PolicyDocument> {
    fn from(p: PolicyDocument) -> Self {
        Val::Lit(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wildcard_actions_are_refused() {
        for bad in [
            "*",
            "s3:*",
            "s3:Get*",
            "s3:",
            ":GetObject",
            "S3:GetObject",
            "s3GetObject",
        ] {
            assert_eq!(Action::parse(bad), Err(IamError::InvalidAction), "{bad}");
        }
        assert!(Action::parse("s3:GetObject").is_ok());
    }

    #[test]
    fn an_allow_without_resources_is_refused() {
        let s = Statement::allow(["s3:GetObject"]).expect("valid action");
        assert_eq!(PolicyDocument::new([s]), Err(IamError::EmptyStatement));
    }

    #[test]
    fn an_allow_for_everyone_is_refused() {
        let s = Statement::allow(["s3:GetObject"]).expect("valid action");
        assert_eq!(
            s.principal(Principal::Everyone),
            Err(IamError::AllowForEveryone)
        );
    }

    #[test]
    fn a_tls_only_deny_renders_with_its_condition() {
        let s = Statement::deny_service("s3")
            .expect("valid service")
            .on([Str::from("arn:aws:s3:::b")])
            .condition("Bool", "aws:SecureTransport", [Str::from("false")]);
        let doc = PolicyDocument::new([s]).expect("valid document");
        assert_eq!(
            doc.to_node().to_compact_json(),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#
        );
    }

    #[test]
    fn a_trust_policy_has_no_resource() {
        let doc = PolicyDocument::assume_role_by("lambda.amazonaws.com").expect("valid");
        let json = doc.to_node().to_compact_json();
        assert!(!json.contains("Resource"), "{json}");
        assert!(json.contains("lambda.amazonaws.com"));
    }

    proptest! {
        #[test]
        fn parsed_actions_never_hold_a_wildcard(s in ".{0,40}") {
            if let Ok(a) = Action::parse(&s) {
                prop_assert!(!a.as_str().contains('*'));
            }
        }
    }
}
