//! The credential report's columns, by name: AWS's documented columns in AWS's order
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html>), and
//! the ones the engine reads.

use strum::{EnumCount, EnumIter, IntoStaticStr, VariantNames};

/// A documented column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumIter, EnumCount, VariantNames)]
#[strum(serialize_all = "snake_case")]
#[allow(missing_docs)] // each variant is the column of the same name
pub enum Column {
    User,
    Arn,
    UserCreationTime,
    PasswordEnabled,
    PasswordLastUsed,
    PasswordLastChanged,
    PasswordNextRotation,
    MfaActive,
    #[strum(serialize = "access_key_1_active")]
    AccessKey1Active,
    #[strum(serialize = "access_key_1_last_rotated")]
    AccessKey1LastRotated,
    #[strum(serialize = "access_key_1_last_used_date")]
    AccessKey1LastUsedDate,
    #[strum(serialize = "access_key_1_last_used_region")]
    AccessKey1LastUsedRegion,
    #[strum(serialize = "access_key_1_last_used_service")]
    AccessKey1LastUsedService,
    #[strum(serialize = "access_key_2_active")]
    AccessKey2Active,
    #[strum(serialize = "access_key_2_last_rotated")]
    AccessKey2LastRotated,
    #[strum(serialize = "access_key_2_last_used_date")]
    AccessKey2LastUsedDate,
    #[strum(serialize = "access_key_2_last_used_region")]
    AccessKey2LastUsedRegion,
    #[strum(serialize = "access_key_2_last_used_service")]
    AccessKey2LastUsedService,
    #[strum(serialize = "cert_1_active")]
    Cert1Active,
    #[strum(serialize = "cert_1_last_rotated")]
    Cert1LastRotated,
    #[strum(serialize = "cert_2_active")]
    Cert2Active,
    #[strum(serialize = "cert_2_last_rotated")]
    Cert2LastRotated,
}

/// The documented columns' names, in AWS's order.
pub const COLUMNS: &[&str] = Column::VARIANTS;

impl Column {
    /// The column's name in the header.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Whether the engine reads it: such a column is required, and strictly parsed; any other
    /// may be missing or hold anything.
    pub fn is_used(self) -> bool {
        use Column::*;
        matches!(
            self,
            User | Arn
                | UserCreationTime
                | PasswordEnabled
                | MfaActive
                | AccessKey1Active
                | AccessKey1LastUsedDate
                | AccessKey2Active
                | AccessKey2LastUsedDate
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::{EnumCount, IntoEnumIterator};

    #[test]
    fn the_names_are_aws_s_in_aws_s_order() {
        assert_eq!(Column::COUNT, 22);
        assert_eq!(COLUMNS.len(), 22);
        for (column, name) in Column::iter().zip(COLUMNS) {
            assert_eq!(column.name(), *name);
        }
        assert_eq!(
            COLUMNS.join(","),
            "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
        );
        let used: Vec<&str> = Column::iter()
            .filter(|c| c.is_used())
            .map(Column::name)
            .collect();
        assert_eq!(
            used,
            [
                "user",
                "arn",
                "user_creation_time",
                "password_enabled",
                "mfa_active",
                "access_key_1_active",
                "access_key_1_last_used_date",
                "access_key_2_active",
                "access_key_2_last_used_date"
            ]
        );
    }
}
