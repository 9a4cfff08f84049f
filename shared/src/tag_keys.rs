//! Every tag key the enforcer itself defines, in one place: the SCP protects them, the event
//! classifier watches them, the engine reads and writes them. (The exemption tag and the
//! recipient tag are settings: `EXEMPT_TAG_KEY`, `RECIPIENT_TAG_KEY`.)

/// On a user: the tag that puts an end date on an exemption (`YYYY-MM-DD` or an RFC 3339
/// timestamp). Written by people; read by the enforcer.
pub const EXEMPT_UNTIL_TAG: &str = "mfa-enforcer:exempt-until";

/// On a user: the status they were last told about. Written by the enforcer.
pub const NOTIFIED_STATUS_TAG: &str = "mfa-enforcer:notified-status";

/// On a user: when they were last told (RFC 3339). Written by the enforcer.
pub const NOTIFIED_AT_TAG: &str = "mfa-enforcer:notified-at";

/// On the deny policy: a digest of the exemptions (who, until when) that the last run summary
/// listed. A whole-account run sends its summary when they changed since, so a stack without
/// the event function still shows every new exemption once, and a quiet account is not told
/// the same list every run. Exempt users themselves are never written to. Written by the
/// scheduled function only.
pub const EXEMPT_DIGEST_TAG: &str = "mfa-enforcer:exempt-digest";
