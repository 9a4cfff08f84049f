//! An IAM policy document read by its grammar: statements, principals, actions, resources and
//! conditions, in our own types. Pure.
//!
//! The grammar is AWS's
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html>):
//! `Statement` is one statement or a list; `Principal` is `"*"` or a map of `AWS`, `Service`,
//! `Federated`, `CanonicalUser` to one value or a list; `Action`, `NotAction`, `Resource`,
//! `NotResource` are one value or a list; `Condition` maps an operator (with an optional
//! `ForAllValues:`/`ForAnyValue:` qualifier and `IfExists` suffix) to keys, each with one value
//! or a list. Condition key names are case-insensitive
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html>),
//! so keys are kept in lowercase. Values are kept as text: `true` and `"true"` are the same.

use serde_json::Value;

/// A policy document, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Its statements, in order.
    pub statements: Vec<Statement>,
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `"Allow"`.
    Allow,
    /// `"Deny"`.
    Deny,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `Effect`.
    pub effect: Effect,
    /// `Principal` (or `NotPrincipal`, with `principals_negated`); `None` in identity policies.
    pub principals: Option<Principals>,
    /// Whether the principals came from `NotPrincipal`: everyone *but* them.
    pub principals_negated: bool,
    /// `Action` or `NotAction`.
    pub actions: Patterns,
    /// `Resource` or `NotResource`; `None` in trust policies, which have neither.
    pub resources: Option<Patterns>,
    /// Every condition, all of which must hold.
    pub conditions: Vec<Condition>,
}

/// The principals a statement names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `"Principal": "*"`: anyone.
    Anyone,
    /// A map of principal types to values.
    Listed(Vec<Principal>),
}

/// One principal of a `Principal` map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Its type.
    pub kind: PrincipalKind,
    /// The value as written: an account ID, an ARN, `*`, a service or provider name.
    pub value: String,
}

/// The types of principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// `AWS`: an account, a user, a role, a session, or `*`.
    Aws,
    /// `Service`: an AWS service.
    Service,
    /// `Federated`: a SAML or OIDC provider, or a web identity provider.
    Federated,
    /// `CanonicalUser`: an S3 canonical user.
    CanonicalUser,
}

/// `Action`/`Resource` patterns, or `NotAction`/`NotResource` ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patterns {
    /// The patterns as written (`*` and `?` are wildcards).
    pub patterns: Vec<String>,
    /// From `NotAction`/`NotResource`: the statement covers everything they do not match.
    pub negated: bool,
}

impl Patterns {
    /// Whether the statement covers `name` (an action, `service:Action`, matched ignoring
    /// case as IAM does, or a resource ARN).
    pub fn covers(&self, name: &str) -> bool {
        self.patterns.iter().any(|p| wildcard_match(p, name)) != self.negated
    }
}

/// One condition: an operator, a key, and the values any of which may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The operator.
    pub operator: Operator,
    /// The context key, in lowercase (`aws:multifactorauthpresent`).
    pub key: String,
    /// The values, as text.
    pub values: Vec<String>,
}

/// A condition operator: its base name, `IfExists`, and a set qualifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// The base name in lowercase, without qualifier or suffix (`bool`, `numericlessthan`).
    pub base: String,
    /// Written with the `IfExists` suffix: true when the key is absent.
    pub if_exists: bool,
    /// `ForAllValues:` or `ForAnyValue:`.
    pub qualifier: Option<SetQualifier>,
}

/// The set operators' qualifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    /// `ForAllValues:`: true when the key is absent or every value matches.
    ForAllValues,
    /// `ForAnyValue:`: true when some value matches; false when the key is absent.
    ForAnyValue,
}

impl Operator {
    /// Parses an operator's name as written in a policy.
    pub fn parse(name: &str) -> Operator {
        let lower = name.to_ascii_lowercase();
        let (qualifier, rest) = if let Some(rest) = lower.strip_prefix("forallvalues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else if let Some(rest) = lower.strip_prefix("foranyvalue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else {
            (None, lower.as_str())
        };
        let (base, if_exists) = match rest.strip_suffix("ifexists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        Operator {
            base: base.to_string(),
            if_exists,
            qualifier,
        }
    }

    /// Whether the operator asks that the key *not* match (`StringNotEquals`, `NumericNotEquals`,
    /// `ArnNotLike`, `NotIpAddress`...).
    pub fn negated(&self) -> bool {
        self.base.contains("not")
    }

    /// Whether the condition holds when its key is absent from the request: `IfExists` and
    /// `ForAllValues:` ones do, `ForAnyValue:` ones do not, a negated operator does ("if the
    /// policy condition requires that the key is not matched [...] and the right key is not
    /// present, the condition is true",
    /// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>),
    /// `Null` decides by its value, and every other one does not.
    pub fn holds_when_absent(&self) -> bool {
        self.if_exists
            || match self.qualifier {
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => false,
                None => self.negated(),
            }
    }
}

/// Why a document could not be read.
pub type GrammarError = String;

impl Document {
    /// Parses a policy document's JSON text (strict: a key written twice is refused, as
    /// [`crate::policy::parse_document`] does).
    pub fn parse(text: &str) -> Result<Document, GrammarError> {
        Document::from_value(&crate::policy::parse_document(text)?)
    }

    /// Reads a parsed JSON value as a policy document.
    pub fn from_value(value: &Value) -> Result<Document, GrammarError> {
        let object = value
            .as_object()
            .ok_or("a policy document is a JSON object")?;
        let statements = match object.get("Statement") {
            Some(Value::Array(list)) => list.iter().map(statement).collect::<Result<_, _>>()?,
            Some(one @ Value::Object(_)) => vec![statement(one)?],
            Some(_) => return Err("Statement is neither an object nor a list".into()),
            None => Vec::new(),
        };
        Ok(Document { statements })
    }
}

fn statement(value: &Value) -> Result<Statement, GrammarError> {
    let object = value.as_object().ok_or("a statement is not an object")?;
    let effect = match object.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        other => return Err(format!("a statement's Effect is {other:?}")),
    };
    let (principals, principals_negated) =
        match (object.get("Principal"), object.get("NotPrincipal")) {
            (Some(p), None) => (Some(principals(p)?), false),
            (None, Some(p)) => (Some(principals(p)?), true),
            (None, None) => (None, false),
            (Some(_), Some(_)) => {
                return Err("a statement has both Principal and NotPrincipal".into())
            }
        };
    let actions = patterns(object, "Action", "NotAction")?
        .ok_or("a statement has neither Action nor NotAction")?;
    let resources = patterns(object, "Resource", "NotResource")?;
    let conditions = match object.get("Condition") {
        Some(c) => conditions(c)?,
        None => Vec::new(),
    };
    Ok(Statement {
        effect,
        principals,
        principals_negated,
        actions,
        resources,
        conditions,
    })
}

fn principals(value: &Value) -> Result<Principals, GrammarError> {
    match value {
        Value::String(s) if s == "*" => Ok(Principals::Anyone),
        Value::Object(map) => {
            let mut listed = Vec::new();
            for (kind, values) in map {
                let kind = match kind.as_str() {
                    "AWS" => PrincipalKind::Aws,
                    "Service" => PrincipalKind::Service,
                    "Federated" => PrincipalKind::Federated,
                    "CanonicalUser" => PrincipalKind::CanonicalUser,
                    other => return Err(format!("unknown principal type {other:?}")),
                };
                for value in texts(values)? {
                    listed.push(Principal { kind, value });
                }
            }
            Ok(Principals::Listed(listed))
        }
        other => Err(format!("a principal is {other}")),
    }
}

fn patterns(
    object: &serde_json::Map<String, Value>,
    name: &str,
    not_name: &str,
) -> Result<Option<Patterns>, GrammarError> {
    match (object.get(name), object.get(not_name)) {
        (Some(v), None) => Ok(Some(Patterns {
            patterns: texts(v)?,
            negated: false,
        })),
        (None, Some(v)) => Ok(Some(Patterns {
            patterns: texts(v)?,
            negated: true,
        })),
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(format!("a statement has both {name} and {not_name}")),
    }
}

fn conditions(value: &Value) -> Result<Vec<Condition>, GrammarError> {
    let blocks = value.as_object().ok_or("Condition is not an object")?;
    let mut conditions = Vec::new();
    for (operator, keys) in blocks {
        let keys = keys
            .as_object()
            .ok_or_else(|| format!("the {operator} condition is not an object"))?;
        for (key, values) in keys {
            conditions.push(Condition {
                operator: Operator::parse(operator),
                key: key.to_ascii_lowercase(),
                values: texts(values)?,
            });
        }
    }
    Ok(conditions)
}

/// One value or a list of them, as text (`true`, `3600` and `"3600"` alike).
fn texts(value: &Value) -> Result<Vec<String>, GrammarError> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("a value is {other}")),
    };
    match value {
        Value::Array(list) => list.iter().map(one).collect(),
        v => Ok(vec![one(v)?]),
    }
}

/// IAM's wildcard match: `*` any run of characters, `?` any one, letters compared ignoring
/// case (action names are case-insensitive; resource patterns in the policies this crate reads
/// are `*` or ARNs without case variants).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (
        pattern.to_lowercase().chars().collect(),
        text.to_lowercase().chars().collect(),
    );
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_values_and_lists_read_alike() {
        let one = Document::parse(
            r#"{"Statement": {"Effect": "Allow", "Principal": {"AWS": "111122223333"},
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": true}}}}"#,
        )
        .unwrap();
        let list = Document::parse(
            r#"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["111122223333"]},
                "Action": ["sts:AssumeRole"],
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": ["true"]}}}]}"#,
        )
        .unwrap();
        assert_eq!(one, list);
        let c = &one.statements[0].conditions[0];
        assert_eq!(c.key, "aws:multifactorauthpresent");
        assert_eq!(c.values, ["true"]);
        assert_eq!(c.operator.base, "bool");
    }

    #[test]
    fn operators_keep_their_qualifier_and_suffix() {
        let op = Operator::parse("ForAllValues:StringLikeIfExists");
        assert_eq!(op.base, "stringlike");
        assert!(op.if_exists && op.qualifier == Some(SetQualifier::ForAllValues));
        assert!(op.holds_when_absent());
        let op = Operator::parse("BoolIfExists");
        assert!(op.if_exists && op.base == "bool");
        let op = Operator::parse("ForAnyValue:StringEquals");
        assert!(!op.holds_when_absent());
        assert!(!Operator::parse("NumericLessThan").holds_when_absent());
        for negated in [
            "StringNotEquals",
            "StringNotEqualsIgnoreCase",
            "StringNotLike",
            "NumericNotEquals",
            "ArnNotLike",
            "NotIpAddress",
        ] {
            assert!(Operator::parse(negated).holds_when_absent(), "{negated}");
        }
        assert!(!Operator::parse("ForAnyValue:StringNotLike").holds_when_absent());
    }

    #[test]
    fn principals_not_principals_and_not_actions() {
        let d = Document::parse(
            r#"{"Statement": [
                {"Effect": "Allow", "Principal": "*", "NotAction": "iam:*", "Resource": "*"},
                {"Effect": "Deny", "NotPrincipal": {"Service": ["ec2.amazonaws.com"], "AWS": "*"},
                 "Action": "*"}]}"#,
        )
        .unwrap();
        assert_eq!(d.statements[0].principals, Some(Principals::Anyone));
        assert!(d.statements[0].actions.covers("sts:AssumeRole"));
        assert!(!d.statements[0].actions.covers("IAM:CreateUser"));
        assert!(d.statements[1].principals_negated);
        let Some(Principals::Listed(listed)) = &d.statements[1].principals else {
            panic!("listed principals expected");
        };
        assert_eq!(listed.len(), 2);
    }

    #[test]
    fn malformed_documents_are_refused_naming_the_part() {
        for (text, needle) in [
            (r#"[]"#, "JSON object"),
            (r#"{"Statement": 3}"#, "neither an object nor a list"),
            (
                r#"{"Statement": {"Effect": "allow", "Action": "*"}}"#,
                "Effect",
            ),
            (r#"{"Statement": {"Effect": "Allow"}}"#, "neither Action"),
            (
                r#"{"Statement": {"Effect": "Allow", "Action": "*", "Principal": {"Foo": "x"}}}"#,
                "principal type",
            ),
            (
                r#"{"Statement": {"Effect": "Allow", "Action": "*", "Action": "*"}}"#,
                "Action",
            ),
        ] {
            let err = Document::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn wildcards_match_as_iam_does() {
        assert!(wildcard_match("sts:*", "sts:AssumeRole"));
        assert!(wildcard_match("*", "sts:AssumeRole"));
        assert!(wildcard_match("STS:assume*", "sts:AssumeRole"));
        assert!(wildcard_match("sts:AssumeRol?", "sts:AssumeRole"));
        assert!(!wildcard_match("sts:AssumeRoleWith*", "sts:AssumeRole"));
        assert!(!wildcard_match("sts:AssumeRole", "sts:AssumeRoleWithSAML"));
        assert!(wildcard_match("iam:*", "iam:*"));
        assert!(!wildcard_match("iam:Get*", "iam:*"));
        assert!(wildcard_match("*a*b*", "xxaxxbxx"));
        assert!(!wildcard_match("", "x"));
    }
}
