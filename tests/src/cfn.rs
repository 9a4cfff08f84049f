//! A small resolver of the CloudFormation intrinsics the project's templates use (`Ref`,
//! `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::Split`, `Fn::If`, `AWS::NoValue`), so that tests can
//! hand the policies of `infra/` to a real IAM policy evaluator as they would be deployed.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What a deployment would know: parameter values, conditions, and each resource's `Ref` and
/// `Arn`.
#[derive(Debug, Clone, Default)]
pub struct Deployment {
    /// Parameter and pseudo-parameter values (`AWS::AccountId`...), by name.
    pub refs: BTreeMap<String, Value>,
    /// `Fn::GetAtt` values, by `Resource.Attribute`.
    pub attributes: BTreeMap<String, String>,
    /// Condition values, by name.
    pub conditions: BTreeMap<String, bool>,
}

impl Deployment {
    /// Resolves every intrinsic in `value`; `None` when it resolves to `AWS::NoValue`.
    ///
    /// Panics on an intrinsic it does not know or a name it was not given: a test should fail
    /// loudly rather than evaluate a half-resolved policy.
    pub fn resolve(&self, value: &Value) -> Option<Value> {
        match value {
            Value::Array(items) => Some(Value::Array(
                items.iter().filter_map(|v| self.resolve(v)).collect(),
            )),
            Value::Object(map) if map.len() == 1 => {
                let (key, arg) = map.iter().next().unwrap();
                match key.as_str() {
                    "Ref" => self.reference(arg.as_str().unwrap()),
                    "Fn::GetAtt" => {
                        let parts: Vec<&str> = arg
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|p| p.as_str().unwrap())
                            .collect();
                        Some(Value::String(self.attribute(&parts.join("."))))
                    }
                    "Fn::Sub" => Some(Value::String(self.sub(arg))),
                    "Fn::Join" => {
                        let args = arg.as_array().unwrap();
                        let sep = args[0].as_str().unwrap();
                        let items = self.resolve(&args[1]).unwrap();
                        let texts: Vec<String> =
                            items.as_array().unwrap().iter().map(text).collect();
                        Some(Value::String(texts.join(sep)))
                    }
                    "Fn::Split" => {
                        let args = arg.as_array().unwrap();
                        let sep = args[0].as_str().unwrap();
                        let whole = text(&self.resolve(&args[1]).unwrap());
                        Some(Value::Array(
                            whole
                                .split(sep)
                                .map(|s| Value::String(s.to_string()))
                                .collect(),
                        ))
                    }
                    "Fn::If" => {
                        let args = arg.as_array().unwrap();
                        let name = args[0].as_str().unwrap();
                        let holds = *self
                            .conditions
                            .get(name)
                            .unwrap_or_else(|| panic!("condition {name} not given"));
                        self.resolve(&args[if holds { 1 } else { 2 }])
                    }
                    k if k.starts_with("Fn::") => panic!("intrinsic {k} not supported"),
                    _ => Some(Value::Object(self.object(map))),
                }
            }
            Value::Object(map) => Some(Value::Object(self.object(map))),
            other => Some(other.clone()),
        }
    }

    fn object(&self, map: &Map<String, Value>) -> Map<String, Value> {
        map.iter()
            .filter_map(|(k, v)| self.resolve(v).map(|v| (k.clone(), v)))
            .collect()
    }

    fn reference(&self, name: &str) -> Option<Value> {
        if name == "AWS::NoValue" {
            return None;
        }
        Some(
            self.refs
                .get(name)
                .unwrap_or_else(|| panic!("Ref {name} not given"))
                .clone(),
        )
    }

    fn attribute(&self, name: &str) -> String {
        self.attributes
            .get(name)
            .unwrap_or_else(|| panic!("GetAtt {name} not given"))
            .clone()
    }

    fn sub(&self, arg: &Value) -> String {
        let (template, vars) = match arg {
            Value::String(s) => (s.as_str(), Map::new()),
            Value::Array(a) => (a[0].as_str().unwrap(), a[1].as_object().unwrap().clone()),
            other => panic!("Fn::Sub of {other}"),
        };
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').unwrap() + start;
            let name = &rest[start + 2..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(v) = vars.get(name) {
                out.push_str(&text(&self.resolve(v).unwrap()));
            } else if name.contains('.') {
                out.push_str(&self.attribute(name));
            } else {
                out.push_str(&text(&self.reference(name).unwrap()));
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves_the_intrinsics_the_templates_use() {
        let d = Deployment {
            refs: BTreeMap::from([
                ("AWS::AccountId".into(), json!("123456789012")),
                ("Ops".into(), json!(["arn:a", "arn:b"])),
                ("Empty".into(), json!([""])),
            ]),
            attributes: BTreeMap::from([("Role.Arn".into(), "arn:role".into())]),
            conditions: BTreeMap::from([("Yes".into(), true)]),
        };
        let v = json!({
            "A": {"Fn::Sub": "x:${AWS::AccountId}:${Role.Arn}:${!aws:username}"},
            "B": {"Fn::Split": [",", {"Fn::Join": [",", [{"Fn::GetAtt": ["Role", "Arn"]}, {"Fn::Join": [",", {"Ref": "Ops"}]}]]}]},
            "C": {"Fn::If": ["Yes", {"Ref": "AWS::NoValue"}, "no"]},
            "D": {"Fn::Sub": ["/${N}-x", {"N": {"Fn::If": ["Yes", "p", "q"]}}]},
            "E": {"Fn::Split": [",", {"Fn::Join": [",", [{"Fn::Join": [",", {"Ref": "Empty"}]}]]}]},
        });
        assert_eq!(
            d.resolve(&v).unwrap(),
            json!({
                "A": "x:123456789012:arn:role:${aws:username}",
                "B": ["arn:role", "arn:a", "arn:b"],
                "D": "/p-x",
                "E": [""],
            })
        );
    }
}
