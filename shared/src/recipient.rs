//! Who a notice is addressed to: the user's recipient tag, when it holds an e-mail address.
//! Pure; depends on nothing else of the crate.
//!
//! Subscribers that mail users trust a notice's `recipient` attribute, and anyone who can tag a
//! user chooses its text: only a syntactically valid address ever becomes one (and, with
//! `RECIPIENT_DOMAINS`, only one of the listed domains: [`crate::settings`]).

/// The address in a recipient tag, when it is a syntactically valid e-mail address
/// (`local@domain.tld`, at most 254 characters, no spaces or control characters); `None`
/// otherwise.
pub fn email_address(tag_value: &str) -> Option<String> {
    let text = tag_value.trim();
    let (local, domain) = text.split_once('@')?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_alphabetic()));
    (text.len() <= 254 && local_ok && domain_ok).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_valid_email_address_is_ever_a_recipient() {
        for ok in [
            "carol@example.com",
            " carol.o'neil+mfa@mail.example.co.uk ",
            "a@b.io",
        ] {
            assert_eq!(email_address(ok).as_deref(), Some(ok.trim()), "{ok}");
        }
        for bad in [
            "",
            "carol",
            "carol@",
            "@example.com",
            "carol@example",
            "carol@@example.com",
            "carol@exa mple.com",
            "carol @example.com",
            "carol@example.com\nBcc: x@evil.com",
            "carol@-example.com",
            "carol@example.c0m",
            ".carol@example.com",
            "ca..rol@example.com",
            "<script>@example.com",
            "carol@example.com, mallory@example.com",
        ] {
            assert_eq!(email_address(bad), None, "{bad:?}");
        }
        assert_eq!(
            email_address(&format!("{}@example.com", "a".repeat(65))),
            None
        );
    }
}
