//! AFL++ target: any bytes as an EventBridge payload: parsed, then judged (the users it names,
//! the deny policy, or a reason to ignore it). A clear error is fine; a panic is a finding.

use mfa_enforcer::event::{self, Context};

fn main() {
    let context = Context {
        account_id: Some("123456789012".into()),
        own_role_arns: vec!["arn:aws:iam::123456789012:role/mfa-enforcer".into()],
        deny_policy_arn: "arn:aws:iam::123456789012:policy/DenyWithoutMFA".into(),
        exempt_tag_key: "mfa-enforcer:exempt".into(),
    };
    afl::fuzz!(|data: &[u8]| {
        if let Ok(payload) = serde_json::from_slice::<serde_json::Value>(data) {
            if let Ok(parsed) = event::parse(&payload) {
                let _ = event::target(&parsed, &context);
            }
        }
    });
}
