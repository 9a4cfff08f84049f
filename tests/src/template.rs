//! infra/template.yaml read as JSON, and what each role grants.

use crate::workspace_root;
use serde_json::Value;
use std::collections::BTreeSet;

/// The SAM template, parsed.
pub fn load() -> Value {
    let text = std::fs::read_to_string(workspace_root().join("infra/template.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// A resource of the template; panics naming it when there is none.
pub fn resource<'a>(t: &'a Value, name: &str) -> &'a Value {
    let r = &t["Resources"][name];
    assert!(r.is_object(), "no resource {name}");
    r
}

/// Every statement of a role's inline policies; a statement under `Fn::If` counts (its
/// condition may hold in some deployment).
pub fn statements(t: &Value, role: &str) -> Vec<Value> {
    resource(t, role)["Properties"]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap().clone())
        .map(|s| match s.get("Fn::If") {
            Some(branches) => branches[1].clone(),
            None => s,
        })
        .collect()
}

/// A string or a list of strings, as a list.
pub fn list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().unwrap().to_string())
            .collect(),
        other => panic!("expected a string or a list, got {other}"),
    }
}

/// Every action a role's policies allow (they only allow).
pub fn granted(t: &Value, role: &str) -> BTreeSet<String> {
    statements(t, role)
        .iter()
        .inspect(|s| assert_eq!(s["Effect"], "Allow", "{s}"))
        .flat_map(|s| list(&s["Action"]))
        .collect()
}
