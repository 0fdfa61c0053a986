//! Active Directory / Samba AD encodings and error parsing — pure, no I/O.
//!
//! - `unicodePwd` is written as UTF-16LE of the password in double quotes (MS-ADTS 3.1.1.3.1.5).
//! - LDAP_SERVER_POLICY_HINTS makes a reset obey history and minimum age on Windows AD.
//! - Errors carry an 8-hex-digit Win32 code at the start of the diagnostic text (`0000052D: …`), and
//!   failed binds a `data XXX` sub-code.

use super::ber;
use super::error::{BindFailure, DirectoryError, PasswordRejection};

/// LDAP_SERVER_POLICY_HINTS_OID (Windows Server 2012+; …2066 is the 2008 R2 "deprecated" OID).
pub const POLICY_HINTS_OID: &str = "1.2.840.113556.1.4.2239";
pub const POLICY_HINTS_DEPRECATED_OID: &str = "1.2.840.113556.1.4.2066";

/// `lockoutTime` value that unlocks an account.
pub const UNLOCKED: &str = "0";

/// `msDS-User-Account-Control-Computed` bit UF_LOCKOUT.
pub const UF_LOCKOUT: u32 = 0x10;

/// The `unicodePwd` value for `password`: `"password"` in UTF-16LE.
pub fn unicode_pwd(password: &str) -> Vec<u8> {
    format!("\"{password}\"")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// The policy hints control value: `PolicyHintsRequestValue ::= SEQUENCE { Flags INTEGER }` with
/// flags = 1 (enforce password history and minimum age on this reset).
pub fn policy_hints_value() -> Vec<u8> {
    ber::tlv(0x30, &ber::integer(1))
}

/// Whether the rootDSE's `supportedControl` values announce policy hints.
pub fn supports_policy_hints<S: AsRef<str>>(supported_controls: &[S]) -> bool {
    supported_controls
        .iter()
        .any(|c| matches!(c.as_ref(), POLICY_HINTS_OID | POLICY_HINTS_DEPRECATED_OID))
}

/// Lock state from `msDS-User-Account-Control-Computed` (preferred: the DC applies the lockout
/// window) or, if that is absent, from a non-zero `lockoutTime`.
pub fn is_locked(uac_computed: Option<&str>, lockout_time: Option<&str>) -> bool {
    if let Some(flags) = uac_computed.and_then(|v| v.trim().parse::<i64>().ok()) {
        return flags & i64::from(UF_LOCKOUT) != 0;
    }
    lockout_time
        .and_then(|v| v.trim().parse::<i64>().ok())
        .is_some_and(|t| t > 0)
}

/// The Win32 error code at the start of an AD diagnostic (`0000052D: Constraint violation…`).
pub fn extended_code(diagnostic: &str) -> Option<u32> {
    let head = diagnostic.get(..8)?;
    if diagnostic.as_bytes().get(8) != Some(&b':') {
        return None;
    }
    u32::from_str_radix(head, 16).ok()
}

/// The `data XXX` sub-code of a failed bind (`…AcceptSecurityContext error, data 775, v1db1`).
pub fn bind_data_code(diagnostic: &str) -> Option<u32> {
    let rest = &diagnostic[diagnostic.find("data ")? + 5..];
    let hex: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
    u32::from_str_radix(&hex, 16).ok()
}

/// What a failed bind as a user means.
pub fn bind_failure(diagnostic: &str) -> BindFailure {
    match bind_data_code(diagnostic) {
        Some(0x775) => BindFailure::Locked,
        Some(0x533) => BindFailure::Disabled,
        Some(0x532 | 0x701) => BindFailure::Expired,
        Some(0x773) => BindFailure::MustChange,
        _ => BindFailure::WrongPassword,
    }
}

/// Which password rule was broken: Samba names it in the text, Windows only says `0000052D`.
fn rejection_reason(diagnostic: &str) -> PasswordRejection {
    let text = diagnostic.to_ascii_lowercase();
    if text.contains("too short") {
        PasswordRejection::TooShort
    } else if text.contains("too long") {
        PasswordRejection::TooLong
    } else if text.contains("complexity") {
        PasswordRejection::TooSimple
    } else if text.contains("history") || text.contains("already used") {
        // Samba says "already used (in history)", or "(previous password)" for the current one.
        PasswordRejection::InHistory
    } else if text.contains("too young")
        || text.contains("too recently")
        || text.contains("minimum password age")
    {
        PasswordRejection::TooYoung
    } else {
        PasswordRejection::PolicyViolation
    }
}

/// Maps a failed modify on `dn` to an error that says what happens next.
pub fn modify_error(rc: u32, diagnostic: &str, dn: &str, admin_count: bool) -> DirectoryError {
    let code = extended_code(diagnostic);
    let diagnostic = diagnostic.trim().to_owned();
    match (rc, code) {
        (_, Some(0x52D)) => DirectoryError::PasswordRejected {
            reason: rejection_reason(&diagnostic),
            diagnostic,
        },
        (19, Some(0x56)) => DirectoryError::UserBind {
            reason: BindFailure::WrongPassword,
            diagnostic,
        },
        (19, _) if diagnostic.to_ascii_lowercase().contains("password") => {
            DirectoryError::PasswordRejected {
                reason: rejection_reason(&diagnostic),
                diagnostic,
            }
        }
        (50, _) | (_, Some(0x5)) if admin_count => DirectoryError::ProtectedAccount {
            dn: dn.to_owned(),
            diagnostic,
        },
        (50, _) | (_, Some(0x5)) => DirectoryError::InsufficientAccess {
            dn: dn.to_owned(),
            diagnostic,
        },
        (32, _) => DirectoryError::NoSuchUser { dn: dn.to_owned() },
        _ => DirectoryError::Other { rc, diagnostic },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_pwd_is_quoted_utf16le() {
        assert_eq!(unicode_pwd("ab"), [0x22, 0, b'a', 0, b'b', 0, 0x22, 0]);
        // Non-ASCII: € is U+20AC; 😀 is a surrogate pair D83D DE00.
        assert_eq!(unicode_pwd("€"), [0x22, 0, 0xac, 0x20, 0x22, 0]);
        assert_eq!(
            unicode_pwd("😀"),
            [0x22, 0, 0x3d, 0xd8, 0x00, 0xde, 0x22, 0]
        );
    }

    /// MS-ADTS 3.1.1.3.4.1.42: the value is the BER encoding of SEQUENCE { Flags INTEGER } with
    /// Flags = 0x1 — `30 03 02 01 01`.
    #[test]
    fn policy_hints_value_matches_the_published_definition() {
        assert_eq!(policy_hints_value(), [0x30, 0x03, 0x02, 0x01, 0x01]);
    }

    #[test]
    fn policy_hints_support_is_read_from_supported_controls() {
        assert!(supports_policy_hints(&[
            "1.2.840.113556.1.4.319",
            POLICY_HINTS_OID
        ]));
        assert!(supports_policy_hints(&[POLICY_HINTS_DEPRECATED_OID]));
        assert!(!supports_policy_hints(&[
            "1.2.840.113556.1.4.319",
            "1.2.840.113556.1.4.801"
        ]));
        assert!(!supports_policy_hints::<&str>(&[]));
    }

    #[test]
    fn lock_state() {
        assert!(is_locked(Some("16"), None));
        assert!(
            !is_locked(Some("0"), Some("133000000000000000")),
            "computed wins: window expired"
        );
        assert!(is_locked(None, Some("133000000000000000")));
        assert!(!is_locked(None, Some("0")));
        assert!(!is_locked(None, None));
    }

    #[test]
    fn extended_codes_and_bind_data() {
        assert_eq!(
            extended_code("0000052D: Constraint violation - check_password_restrictions"),
            Some(0x52D)
        );
        assert_eq!(
            extended_code("00000005: SecErr: DSID-03152E29, problem 4003"),
            Some(5)
        );
        assert_eq!(extended_code("no code here"), None);
        let bind = "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 775, v1db1";
        assert_eq!(bind_data_code(bind), Some(0x775));
        assert_eq!(bind_failure(bind), BindFailure::Locked);
        assert_eq!(
            bind_failure("… data 52e, v1db1"),
            BindFailure::WrongPassword
        );
        assert_eq!(bind_failure("… data 533, v1db1"), BindFailure::Disabled);
        assert_eq!(bind_failure("… data 773, v1db1"), BindFailure::MustChange);
    }

    #[test]
    fn modify_errors_say_what_to_change() {
        let samba = |rule: &str| {
            format!("0000052D: Constraint violation - check_password_restrictions: {rule}")
        };
        let reason = |text: &str| match modify_error(19, text, "cn=x", false) {
            DirectoryError::PasswordRejected { reason, .. } => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            reason(&samba(
                "the password is too short. It should be equal or longer than 7 characters!"
            )),
            PasswordRejection::TooShort
        );
        assert_eq!(
            reason(&samba(
                "the password does not meet the complexity criteria!"
            )),
            PasswordRejection::TooSimple
        );
        assert_eq!(
            reason(&samba("the password was already used (in history)!")),
            PasswordRejection::InHistory
        );
        assert_eq!(
            reason(&samba("the password was already used (previous password)!")),
            PasswordRejection::InHistory
        );
        assert_eq!(
            reason(&samba("the password is too young to change!")),
            PasswordRejection::TooYoung
        );
        assert_eq!(
            reason("0000052D: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM), data 0"),
            PasswordRejection::PolicyViolation
        );
        assert!(matches!(
            modify_error(
                50,
                "00000005: SecErr: DSID-03152E29, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0",
                "cn=x",
                true
            ),
            DirectoryError::ProtectedAccount { .. }
        ));
        assert!(matches!(
            modify_error(
                50,
                "00000005: SecErr: problem 4003 (INSUFF_ACCESS_RIGHTS)",
                "cn=x",
                false
            ),
            DirectoryError::InsufficientAccess { .. }
        ));
        assert!(matches!(
            modify_error(
                19,
                "00000056: Constraint violation - check_password_restrictions",
                "cn=x",
                false
            ),
            DirectoryError::UserBind {
                reason: BindFailure::WrongPassword,
                ..
            }
        ));
        assert!(matches!(
            modify_error(32, "0000208D: NameErr", "cn=x", false),
            DirectoryError::NoSuchUser { .. }
        ));
    }
}
