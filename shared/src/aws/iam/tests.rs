use super::*;
use crate::ports::AccountReader;
use aws_sdk_iam::types::ReportStateType;
use chrono::Duration;

#[test]
fn policy_documents_are_decoded_when_url_encoded() {
    let json = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Resource":"*"}]}"#;
    assert_eq!(decode_policy_document(json), json);
    let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Deny%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
    assert_eq!(decode_policy_document(encoded), json);
    // A stray percent sign is kept, not an error.
    assert_eq!(decode_policy_document("100%25 %zz"), "100% %zz");
}

/// The report states moto never produces, answered by aws-smithy-mocks to the real
/// adapter: the SDK's error shapes must map to the protocol's states.
mod report_states {
    use super::*;
    use crate::aws::MAX_ATTEMPTS;
    use aws_config::retry::RetryConfig;
    use aws_sdk_iam::config::{Credentials, Region};
    use aws_sdk_iam::operation::generate_credential_report::{
        GenerateCredentialReportError, GenerateCredentialReportOutput,
    };
    use aws_sdk_iam::operation::get_credential_report::{
        GetCredentialReportError, GetCredentialReportOutput,
    };
    use aws_sdk_iam::types::error::{
        CredentialReportExpiredException, CredentialReportNotPresentException,
        CredentialReportNotReadyException, LimitExceededException,
    };
    use aws_sdk_iam::types::ReportFormatType;
    use aws_smithy_mocks::{
        create_mock_http_client, mock, MockResponseInterceptor, Rule, RuleMode,
    };
    use aws_smithy_types::Blob;

    const CSV: &str = "user,arn\n";

    fn client(rules: &[&Rule]) -> Client {
        let interceptor = rules.iter().fold(
            MockResponseInterceptor::new().rule_mode(RuleMode::Sequential),
            |i, r| i.with_rule(r),
        );
        let config = aws_sdk_iam::Config::builder()
            .behavior_version_latest()
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("k", "s", None, None, "mocks"))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(MAX_ATTEMPTS)
                    .with_initial_backoff(std::time::Duration::from_millis(1)),
            )
            .http_client(create_mock_http_client())
            .interceptor(interceptor)
            .build();
        Client::from_conf(config)
    }

    fn fast(client: Client) -> IamReader {
        IamReader::new(client).with_poll_limits(PollLimits {
            first_delay: std::time::Duration::from_millis(1),
            max_delay: std::time::Duration::from_millis(4),
            max_wait: std::time::Duration::from_millis(200),
        })
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default()
    }

    fn report(minutes_old: i64) -> Rule {
        let at = now() - Duration::minutes(minutes_old);
        mock!(Client::get_credential_report).then_output(move || {
            GetCredentialReportOutput::builder()
                .content(Blob::new(CSV))
                .report_format(ReportFormatType::TextCsv)
                .generated_time(aws_smithy_types::DateTime::from_secs(at.timestamp()))
                .build()
        })
    }

    fn get_error(make: fn() -> GetCredentialReportError) -> Rule {
        mock!(Client::get_credential_report).then_error(make)
    }

    fn generate(state: ReportStateType) -> Rule {
        mock!(Client::generate_credential_report).then_output(move || {
            GenerateCredentialReportOutput::builder()
                .state(state.clone())
                .build()
        })
    }

    fn limit_exceeded() -> Rule {
        mock!(Client::generate_credential_report).then_error(|| {
            GenerateCredentialReportError::LimitExceededException(
                LimitExceededException::builder()
                    .message("slow down")
                    .build(),
            )
        })
    }

    fn expired() -> GetCredentialReportError {
        GetCredentialReportError::CredentialReportExpiredException(
            CredentialReportExpiredException::builder()
                .message("old")
                .build(),
        )
    }

    fn in_progress() -> GetCredentialReportError {
        GetCredentialReportError::CredentialReportNotReadyException(
            CredentialReportNotReadyException::builder()
                .message("busy")
                .build(),
        )
    }

    fn not_present() -> GetCredentialReportError {
        GetCredentialReportError::CredentialReportNotPresentException(
            CredentialReportNotPresentException::builder()
                .message("none")
                .build(),
        )
    }

    #[tokio::test]
    async fn expired_then_limit_exceeded_then_in_progress_ends_with_a_fresh_report() {
        let rules = [
            get_error(expired),
            limit_exceeded(),
            generate(ReportStateType::Started),
            generate(ReportStateType::Inprogress),
            generate(ReportStateType::Complete),
            get_error(in_progress),
            report(0),
        ];
        let reader = fast(client(&rules.iter().collect::<Vec<_>>()));
        let fetched = reader
            .credential_report(Duration::minutes(240), now())
            .await
            .unwrap();
        assert!(fetched.generated_by_this_run);
        assert_eq!(fetched.content, CSV.as_bytes());
        for rule in &rules {
            assert_eq!(rule.num_calls(), 1, "every state answered exactly once");
        }
    }

    #[tokio::test]
    async fn a_stale_report_aws_will_not_regenerate_is_used_as_it_is() {
        let rules = [report(300), generate(ReportStateType::Complete)];
        let reader = fast(client(&rules.iter().collect::<Vec<_>>()));
        let fetched = reader
            .credential_report(Duration::minutes(240), now())
            .await
            .unwrap();
        assert!(!fetched.generated_by_this_run);
        assert_eq!(fetched.age(now()), Duration::minutes(300));
    }

    #[tokio::test]
    async fn a_report_that_never_becomes_ready_gives_a_retryable_error_that_says_so() {
        let rules = [
            get_error(not_present),
            generate(ReportStateType::Started),
            mock!(Client::generate_credential_report)
                .sequence()
                .output(|| {
                    GenerateCredentialReportOutput::builder()
                        .state(ReportStateType::Inprogress)
                        .build()
                })
                .repeatedly()
                .build(),
        ];
        let reader = fast(client(&rules.iter().collect::<Vec<_>>()));
        let err = reader
            .credential_report(Duration::minutes(240), now())
            .await
            .unwrap_err();
        assert_eq!(err.code.as_deref(), Some("ReportNotReady"));
        assert!(err.retryable);
        assert!(
            err.message.contains("last state: INPROGRESS"),
            "{}",
            err.message
        );
    }

    #[tokio::test]
    async fn throttling_is_retried_by_the_sdk_and_access_denied_is_not() {
        let throttled = mock!(Client::get_credential_report)
            .sequence()
            .http_status(400, Some(throttling_body()))
            .times(2)
            .output(|| {
                GetCredentialReportOutput::builder()
                    .content(Blob::new(CSV))
                    .generated_time(aws_smithy_types::DateTime::from_secs(now().timestamp()))
                    .build()
            })
            .build();
        let reader = fast(client(&[&throttled]));
        let fetched = reader
            .credential_report(Duration::minutes(240), now())
            .await
            .unwrap();
        assert_eq!(fetched.content, CSV.as_bytes());
        assert_eq!(throttled.num_calls(), 3);

        let always = mock!(Client::get_credential_report)
            .sequence()
            .http_status(400, Some(throttling_body()))
            .repeatedly()
            .build();
        let err = fast(client(&[&always]))
            .credential_report(Duration::minutes(240), now())
            .await
            .unwrap_err();
        assert_eq!(err.code.as_deref(), Some("Throttling"));
        assert!(err.retryable, "a throttled run is worth running again");
        assert_eq!(always.num_calls(), MAX_ATTEMPTS as usize);

        let denied = mock!(Client::get_credential_report)
            .sequence()
            .http_status(403, Some(error_body("AccessDenied", "no")))
            .repeatedly()
            .build();
        let err = fast(client(&[&denied]))
            .credential_report(Duration::minutes(240), now())
            .await
            .unwrap_err();
        assert_eq!(err.code.as_deref(), Some("AccessDenied"));
        assert!(!err.retryable);
        assert_eq!(denied.num_calls(), 1, "access denied is not retried");
    }

    fn error_body(code: &str, message: &str) -> String {
        format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
             <Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        )
    }

    fn throttling_body() -> String {
        error_body("Throttling", "Rate exceeded")
    }

    /// Roles and customer managed policies come in the users' pages (moto returns one page
    /// whatever MaxItems says, so the pages are mocked): every page is read, the trust policy
    /// and documents decoded, only the default version kept.
    #[tokio::test]
    async fn roles_and_their_policies_come_in_the_same_pages() {
        use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
        use aws_sdk_iam::types::{
            AttachedPolicy, EntityType, ManagedPolicyDetail, PolicyDetail, PolicyVersion,
            RoleDetail, UserDetail,
        };
        let trust = "%7B%22Statement%22%3A%5B%5D%7D";
        let first = mock!(Client::get_account_authorization_details)
            .match_requests(|r| {
                r.marker().is_none()
                    && r.filter().len() == 4
                    && r.filter().contains(&EntityType::Role)
                    && r.filter().contains(&EntityType::LocalManagedPolicy)
            })
            .then_output(|| {
                GetAccountAuthorizationDetailsOutput::builder()
                    .user_detail_list(UserDetail::builder().user_name("ann").build())
                    .is_truncated(true)
                    .marker("page-2")
                    .build()
            });
        let second = mock!(Client::get_account_authorization_details)
            .match_requests(|r| r.marker() == Some("page-2"))
            .then_output(move || {
                GetAccountAuthorizationDetailsOutput::builder()
                    .role_detail_list(
                        RoleDetail::builder()
                            .role_name("admin")
                            .role_id("AROAEXAMPLE")
                            .path("/")
                            .assume_role_policy_document(trust)
                            .attached_managed_policies(
                                AttachedPolicy::builder()
                                    .policy_arn("arn:aws:iam::1:policy/p")
                                    .build(),
                            )
                            .role_policy_list(
                                PolicyDetail::builder()
                                    .policy_name("inline")
                                    .policy_document("%7B%7D")
                                    .build(),
                            )
                            .build(),
                    )
                    .policies(
                        ManagedPolicyDetail::builder()
                            .arn("arn:aws:iam::1:policy/p")
                            .policy_version_list(
                                PolicyVersion::builder()
                                    .version_id("v1")
                                    .document("%7B%22old%22%3A1%7D")
                                    .is_default_version(false)
                                    .build(),
                            )
                            .policy_version_list(
                                PolicyVersion::builder()
                                    .version_id("v2")
                                    .document("%7B%22new%22%3A2%7D")
                                    .is_default_version(true)
                                    .build(),
                            )
                            .build(),
                    )
                    .is_truncated(false)
                    .build()
            });
        let details = fast(client(&[&first, &second]))
            .authorization_details()
            .await
            .unwrap();
        assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
        assert_eq!(details.users.len(), 1);
        let role = &details.roles[0];
        assert_eq!(
            (
                role.name.as_str(),
                role.id.as_str(),
                role.trust_policy.as_str()
            ),
            ("admin", "AROAEXAMPLE", r#"{"Statement":[]}"#)
        );
        assert_eq!(role.attached_policy_arns, ["arn:aws:iam::1:policy/p"]);
        assert_eq!(
            role.inline_policies,
            [("inline".to_string(), "{}".to_string())]
        );
        assert_eq!(details.policies[0].document, r#"{"new":2}"#);
    }
}
