//! The two wire pieces the slapd tests need by hand: the Password Modify extended operation (RFC 3062)
//! request value, and the error in the password policy response control
//! (draft-behera-ldap-password-policy). BER is encoded and read here, independent of the kiosk's code.

use ldap3::controls::RawControl;
use ldap3::exop::Exop;
use ldap3::{LdapConn, LdapResult};

pub const PASSWORD_MODIFY_OID: &str = "1.3.6.1.4.1.4203.1.11.1";
pub const PPOLICY_CONTROL_OID: &str = "1.3.6.1.4.1.42.2.27.8.5.1";

/// `PasswordPolicyResponseValue.error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PpolicyError {
    PasswordExpired,
    AccountLocked,
    ChangeAfterReset,
    PasswordModNotAllowed,
    MustSupplyOldPassword,
    InsufficientPasswordQuality,
    PasswordTooShort,
    PasswordTooYoung,
    PasswordInHistory,
    Other(u8),
}

impl From<u8> for PpolicyError {
    fn from(code: u8) -> PpolicyError {
        use PpolicyError::*;
        match code {
            0 => PasswordExpired,
            1 => AccountLocked,
            2 => ChangeAfterReset,
            3 => PasswordModNotAllowed,
            4 => MustSupplyOldPassword,
            5 => InsufficientPasswordQuality,
            6 => PasswordTooShort,
            7 => PasswordTooYoung,
            8 => PasswordInHistory,
            other => Other(other),
        }
    }
}

/// The (empty, non-critical) request control that asks slapd to explain policy failures.
pub fn ppolicy_request_control() -> RawControl {
    RawControl {
        ctype: PPOLICY_CONTROL_OID.to_owned(),
        crit: false,
        val: None,
    }
}

/// `PasswdModifyRequestValue ::= SEQUENCE { userIdentity [0] OCTET STRING, newPasswd [2] OCTET STRING }`
/// (oldPasswd [1] is left out: an administrative reset).
pub fn password_modify_request(user_dn: &str, new_password: &str) -> Vec<u8> {
    let mut content = tlv(0x80, user_dn.as_bytes());
    content.extend(tlv(0x82, new_password.as_bytes()));
    tlv(0x30, &content)
}

/// Sends a Password Modify reset of `user_dn` with the ppolicy request control; returns the result
/// whatever its code (read `rc` and `ppolicy_error`).
pub fn password_modify(conn: &mut LdapConn, user_dn: &str, new_password: &str) -> LdapResult {
    let exop = Exop {
        name: Some(PASSWORD_MODIFY_OID.to_owned()),
        val: Some(password_modify_request(user_dn, new_password)),
    };
    conn.with_controls(ppolicy_request_control())
        .extended(exop)
        .unwrap_or_else(|e| panic!("password modify request for {user_dn} failed to run: {e}"))
        .1
}

/// The `error` field of the ppolicy response control in `result`, if slapd sent one.
pub fn ppolicy_error(result: &LdapResult) -> Option<PpolicyError> {
    let control = result
        .ctrls
        .iter()
        .find(|c| c.1.ctype == PPOLICY_CONTROL_OID)?;
    let value = control.1.val.as_deref()?;
    let (tag, mut rest, _) = read_tlv(value)?;
    if tag != 0x30 {
        return None;
    }
    while !rest.is_empty() {
        let (tag, content, after) = read_tlv(rest)?;
        if tag == 0x81 && content.len() == 1 {
            return Some(PpolicyError::from(content[0]));
        }
        rest = after;
    }
    None
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// One BER element: (tag, content, what follows). Single-byte tags only, definite lengths only.
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (len_bytes, after) = rest.split_at(count);
        rest = after;
        len_bytes
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | usize::from(b))
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_modify_request_is_the_rfc_3062_sequence() {
        let value = password_modify_request("uid=a", "secret");
        assert_eq!(value, b"\x30\x0f\x80\x05uid=a\x82\x06secret");
    }

    #[test]
    fn long_values_use_the_long_length_form() {
        let dn = "x".repeat(200);
        let value = password_modify_request(&dn, "p");
        assert_eq!(&value[..6], &[0x30, 0x81, 206, 0x80, 0x81, 200]);
        assert_eq!(
            read_tlv(&value).map(|(t, c, r)| (t, c.len(), r.len())),
            Some((0x30, 206, 0))
        );
    }
}
