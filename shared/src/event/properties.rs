//! Malformed events, randomized from the real-format fixtures: any field missing, any value
//! of any type, any source: a clear error or an answer, never a panic.
use super::*;
use proptest::prelude::*;

fn fixtures() -> Vec<Value> {
    [
        include_str!(
            "../../../tests/fixtures/events/cloudtrail/add-user-to-group-by-enforcer.json"
        ),
        include_str!("../../../tests/fixtures/events/cloudtrail/add-user-to-group.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/create-access-key.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/create-login-profile-failed.json"),
        include_str!(
            "../../../tests/fixtures/events/cloudtrail/create-login-profile-other-account.json"
        ),
        include_str!("../../../tests/fixtures/events/cloudtrail/create-login-profile.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/create-policy-version.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/create-user.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/deactivate-mfa-device.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/delete-group.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/delete-policy-version.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/delete-virtual-mfa-device.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/detach-group-policy.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/detach-user-policy.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/enable-mfa-device.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/remove-user-from-group.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/set-default-policy-version.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/tag-user-exempt.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/untag-user.json"),
        include_str!("../../../tests/fixtures/events/cloudtrail/update-login-profile.json"),
    ]
    .iter()
    .map(|text| serde_json::from_str(text).unwrap_or(Value::Null))
    .collect()
}

/// Every path to a value in `value`, as a list of keys and indexes.
fn paths(value: &Value, prefix: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                prefix.push(Value::String(k.clone()));
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                prefix.push(Value::from(i));
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(value: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, key| match key {
        Value::String(k) => v.get_mut(k.as_str()),
        Value::Number(i) => v.get_mut(i.as_u64().unwrap_or(0) as usize),
        _ => None,
    })
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::from),
        Just(Value::from("aws.iam")),
        Just(Value::from("AWS API Call via CloudTrail")),
        Just(Value::from(
            "arn:aws:iam::123456789012:policy/DenyWithoutMFA"
        )),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            proptest::collection::btree_map(".{0,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn context() -> Context {
    Context {
        account_id: Some("123456789012".into()),
        own_role_arns: vec!["arn:aws:iam::123456789012:role/mfa-enforcer".into()],
        deny_policy_arn: "arn:aws:iam::123456789012:policy/DenyWithoutMFA".into(),
        exempt_tag_key: "mfa-enforcer:exempt".into(),
        enforcement_group: Some("MFAEnforced".into()),
    }
}

proptest! {
    #[test]
    fn mutated_fixtures_give_an_answer_or_a_clear_error(
        fixture in 0usize..20,
        mutations in proptest::collection::vec((any::<proptest::sample::Index>(), any::<bool>(), any_json()), 1..4),
    ) {
        let mut event = fixtures()[fixture].clone();
        for (index, remove, replacement) in mutations {
            let mut all = Vec::new();
            paths(&event, &mut Vec::new(), &mut all);
            let path = all[index.index(all.len())].clone();
            match (remove, path.split_last()) {
                (true, Some((Value::String(key), parent))) => {
                    if let Some(Value::Object(map)) = at(&mut event, parent) {
                        map.remove(key.as_str());
                    }
                }
                _ => {
                    if let Some(slot) = at(&mut event, &path) {
                        *slot = replacement;
                    }
                }
            }
        }
        // Either it is read (and judged: a target, an ignore reason, or an error naming the
        // event and what it lacks), or it is refused saying what it is not.
        match parse(&event) {
            Err(EventError::NotCloudTrailIam(why)) => prop_assert!(!why.is_empty()),
            Err(EventError::Malformed { problem, .. }) => prop_assert!(!problem.is_empty()),
            Ok(parsed) => {
                if let Err(EventError::Malformed { event, problem }) = target(&parsed, &context()) {
                    prop_assert_eq!(event, parsed.name.clone());
                    prop_assert!(!problem.is_empty());
                }
            }
        }
    }

    #[test]
    fn any_json_at_all_gives_an_answer_or_a_clear_error(payload in any_json()) {
        if let Ok(parsed) = parse(&payload) {
            let _ = target(&parsed, &context());
        }
    }
}

#[test]
fn every_fixture_is_read() {
    assert_eq!(fixtures().len(), 20);
    assert!(fixtures().iter().all(|f| parse(f).is_ok()));
}
