//! AFL++ target: any bytes as a credential report, through the full rows and the users'
//! facts a run keeps. Either gives rows or an error; a panic or a hang is a finding.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let rows = mfa_enforcer::report::parse(data);
        let users = mfa_enforcer::snapshot::report_users(data);
        // The two views of one report agree on whether it can be read, and on its users.
        assert_eq!(rows.is_ok(), users.is_ok());
        if let (Ok(rows), Ok(users)) = (rows, users) {
            assert_eq!(rows.len(), users.len());
        }
    });
}
