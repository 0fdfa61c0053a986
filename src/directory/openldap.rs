//! OpenLDAP ppolicy encodings — pure, no I/O. The password policy request control asks slapd to say
//! *why* a password or bind was refused; the response control carries the reason (draft-behera-ldap-
//! password-policy): `SEQUENCE { warning [0] … OPTIONAL, error [1] ENUMERATED OPTIONAL }`.

use super::ber;
use super::error::{BindFailure, DirectoryError, PasswordRejection};

pub const PPOLICY_OID: &str = "1.3.6.1.4.1.42.2.27.8.5.1";

/// `pwdAccountLockedTime` of an account an administrator locked for good (slapo-ppolicy(5): "may only be
/// unlocked by an administrator"), as opposed to a lockout from failed binds, which holds the lock time.
pub const ADMINISTRATIVE_LOCK: &str = "000001010000Z";

/// The `error` field of a ppolicy response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyError {
    PasswordExpired,
    AccountLocked,
    ChangeAfterReset,
    PasswordModNotAllowed,
    MustSupplyOldPassword,
    InsufficientQuality,
    TooShort,
    TooYoung,
    InHistory,
    TooLong,
    Unknown(u8),
}

impl PolicyError {
    fn from_code(code: u8) -> PolicyError {
        match code {
            0 => PolicyError::PasswordExpired,
            1 => PolicyError::AccountLocked,
            2 => PolicyError::ChangeAfterReset,
            3 => PolicyError::PasswordModNotAllowed,
            4 => PolicyError::MustSupplyOldPassword,
            5 => PolicyError::InsufficientQuality,
            6 => PolicyError::TooShort,
            7 => PolicyError::TooYoung,
            8 => PolicyError::InHistory,
            9 => PolicyError::TooLong,
            other => PolicyError::Unknown(other),
        }
    }
}

/// The `error` of a ppolicy response control value, if it has one.
pub fn parse_response(value: &[u8]) -> Option<PolicyError> {
    let (tag, mut content, _) = ber::read(value)?;
    if tag != 0x30 {
        return None;
    }
    while let Some((tag, field, rest)) = ber::read(content) {
        if tag == 0x81 {
            return field.last().copied().map(PolicyError::from_code);
        }
        content = rest;
    }
    None
}

/// Maps a failed password change or reset to an error that says what happens next.
pub fn password_error(
    rc: u32,
    diagnostic: &str,
    policy: Option<PolicyError>,
    dn: &str,
) -> DirectoryError {
    let diagnostic = diagnostic.trim().to_owned();
    let rejected = |reason| DirectoryError::PasswordRejected {
        reason,
        diagnostic: diagnostic.clone(),
    };
    match (policy, rc) {
        (Some(PolicyError::TooShort), _) => rejected(PasswordRejection::TooShort),
        (Some(PolicyError::TooLong), _) => rejected(PasswordRejection::TooLong),
        (Some(PolicyError::InsufficientQuality), _) => rejected(PasswordRejection::TooSimple),
        (Some(PolicyError::InHistory), _) => rejected(PasswordRejection::InHistory),
        (Some(PolicyError::TooYoung), _) => rejected(PasswordRejection::TooYoung),
        (Some(PolicyError::AccountLocked), _) => DirectoryError::UserBind {
            reason: BindFailure::Locked,
            diagnostic,
        },
        (_, 19) => rejected(PasswordRejection::PolicyViolation),
        (_, 49) => DirectoryError::UserBind {
            reason: BindFailure::WrongPassword,
            diagnostic,
        },
        (_, 50) => DirectoryError::InsufficientAccess {
            dn: dn.to_owned(),
            diagnostic,
        },
        (_, 32) => DirectoryError::NoSuchUser { dn: dn.to_owned() },
        _ => DirectoryError::Other { rc, diagnostic },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_errors_are_parsed() {
        assert_eq!(
            parse_response(&[0x30, 0x03, 0x81, 0x01, 0x08]),
            Some(PolicyError::InHistory)
        );
        assert_eq!(
            parse_response(&[0x30, 0x03, 0x81, 0x01, 0x01]),
            Some(PolicyError::AccountLocked)
        );
        assert_eq!(
            parse_response(&[0x30, 0x03, 0x81, 0x01, 0x06]),
            Some(PolicyError::TooShort)
        );
        // a warning (timeBeforeExpiration = 300) before the error
        let with_warning = [
            0x30, 0x09, 0xa0, 0x04, 0x80, 0x02, 0x01, 0x2c, 0x81, 0x01, 0x05,
        ];
        assert_eq!(
            parse_response(&with_warning),
            Some(PolicyError::InsufficientQuality)
        );
        // a warning only, and garbage
        assert_eq!(
            parse_response(&[0x30, 0x05, 0xa0, 0x03, 0x81, 0x01, 0x02]),
            None
        );
        assert_eq!(parse_response(&[0x30, 0x05, 0x81]), None);
        assert_eq!(parse_response(&[]), None);
    }

    #[test]
    fn password_errors_map_to_reasons() {
        let reason = |p| match password_error(
            19,
            "Password fails quality checking policy",
            Some(p),
            "uid=x",
        ) {
            DirectoryError::PasswordRejected { reason, .. } => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(reason(PolicyError::InHistory), PasswordRejection::InHistory);
        assert_eq!(reason(PolicyError::TooShort), PasswordRejection::TooShort);
        assert_eq!(
            reason(PolicyError::InsufficientQuality),
            PasswordRejection::TooSimple
        );
        assert!(matches!(
            password_error(49, "", Some(PolicyError::AccountLocked), "uid=x"),
            DirectoryError::UserBind {
                reason: BindFailure::Locked,
                ..
            }
        ));
        assert!(matches!(
            password_error(50, "", None, "uid=x"),
            DirectoryError::InsufficientAccess { .. }
        ));
    }
}
