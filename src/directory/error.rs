//! What can go wrong talking to the directory, said as what happens next. Each error carries a
//! [`MessageCode`] the UI translates for the person at the kiosk; the raw diagnostic is for the journal
//! only and never reaches the screen.

use std::fmt;

/// Why the directory refused a new password: the person picks another one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordRejection {
    TooShort,
    TooLong,
    /// Complexity (AD) or quality (ppolicy) rules.
    TooSimple,
    InHistory,
    /// Minimum password age not reached.
    TooYoung,
    /// The directory refused without saying which rule (Windows AD's `0000052D`).
    PolicyViolation,
}

/// Why binding as a user failed (Active Directory's `data XXX`, ppolicy's response control).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindFailure {
    WrongPassword,
    Locked,
    Disabled,
    Expired,
    MustChange,
}

/// A stable code the UI turns into a translated sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageCode {
    PasswordTooShort,
    PasswordTooLong,
    PasswordTooSimple,
    PasswordInHistory,
    PasswordTooYoung,
    PasswordPolicy,
    WrongPassword,
    /// The password is right but expired or must be changed: the person should use "change password".
    PasswordExpired,
    AccountLocked,
    AccountDisabled,
    AccountProtected,
    NotPossibleHere,
    DirectoryUnavailable,
}

impl MessageCode {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageCode::PasswordTooShort => "password.too_short",
            MessageCode::PasswordTooLong => "password.too_long",
            MessageCode::PasswordTooSimple => "password.too_simple",
            MessageCode::PasswordInHistory => "password.in_history",
            MessageCode::PasswordTooYoung => "password.too_young",
            MessageCode::PasswordPolicy => "password.policy",
            MessageCode::WrongPassword => "account.wrong_password",
            MessageCode::PasswordExpired => "account.password_expired",
            MessageCode::AccountLocked => "account.locked",
            MessageCode::AccountDisabled => "account.disabled",
            MessageCode::AccountProtected => "account.protected",
            MessageCode::NotPossibleHere => "service.not_possible_here",
            MessageCode::DirectoryUnavailable => "service.directory_unavailable",
        }
    }
}

impl fmt::Display for MessageCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The directory's password policy refused the new password: the person chooses another.
    #[error("the directory refused the new password ({reason:?}): {diagnostic}")]
    PasswordRejected {
        reason: PasswordRejection,
        diagnostic: String,
    },
    /// Binding as the user failed (change password, registration): nothing was changed.
    #[error("binding as the user failed ({reason:?}): {diagnostic}")]
    UserBind {
        reason: BindFailure,
        diagnostic: String,
    },
    /// A protected account (`adminCount=1`, privileged groups): the kiosk may not change it; helpdesk.
    #[error("protected account {dn}: the service account may not change it ({diagnostic})")]
    ProtectedAccount { dn: String, diagnostic: String },
    /// The service account lacks a right it needs: an admin must fix the delegation.
    #[error("the service account lacks the right to change {dn}: {diagnostic}")]
    InsufficientAccess { dn: String, diagnostic: String },
    /// The entry vanished between lookup and write: the session ends without a change.
    #[error("no such entry: {dn}")]
    NoSuchUser { dn: String },
    /// Resets are refused: this directory cannot enforce history on a reset and the configuration
    /// says `history_on_reset = "require"`. Unlock keeps working.
    #[error(
        "password resets are refused: {url} does not support LDAP_SERVER_POLICY_HINTS \
         (1.2.840.113556.1.4.2239), so password history would not be enforced on a reset. \
         Use a Windows Server 2008 R2+ domain controller, or set history_on_reset = \"best-effort\""
    )]
    HistoryNotEnforceable { url: String },
    /// No configured directory answered: the operation stays in the outbox and is retried.
    #[error("no directory server reachable: {}", summarize(.attempts))]
    Unreachable { attempts: Vec<(String, String)> },
    /// TLS failed (certificate not from the configured CA, wrong host name): an admin must fix it.
    #[error(
        "TLS to {url} failed: {detail}. Check [trust] directory_ca and the server's certificate"
    )]
    Tls { url: String, detail: String },
    /// The operation did not finish within its timeout: treated like an unreachable directory.
    #[error("the directory did not answer `{operation}` within {seconds} s")]
    Timeout {
        operation: &'static str,
        seconds: u64,
    },
    /// The service account could not bind: wrong bind DN or password; an admin must fix it.
    #[error("the service account {bind_dn} cannot bind to {url}: {diagnostic}")]
    ServiceBind {
        url: String,
        bind_dn: String,
        diagnostic: String,
    },
    /// Anything else the directory answered; the raw result is for the journal.
    #[error("the directory answered rc={rc}: {diagnostic}")]
    Other { rc: u32, diagnostic: String },
}

fn summarize(attempts: &[(String, String)]) -> String {
    attempts
        .iter()
        .map(|(url, why)| format!("{url}: {why}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl DirectoryError {
    /// What the person at the kiosk is told.
    pub fn code(&self) -> MessageCode {
        match self {
            DirectoryError::PasswordRejected { reason, .. } => match reason {
                PasswordRejection::TooShort => MessageCode::PasswordTooShort,
                PasswordRejection::TooLong => MessageCode::PasswordTooLong,
                PasswordRejection::TooSimple => MessageCode::PasswordTooSimple,
                PasswordRejection::InHistory => MessageCode::PasswordInHistory,
                PasswordRejection::TooYoung => MessageCode::PasswordTooYoung,
                PasswordRejection::PolicyViolation => MessageCode::PasswordPolicy,
            },
            DirectoryError::UserBind { reason, .. } => match reason {
                BindFailure::WrongPassword => MessageCode::WrongPassword,
                BindFailure::MustChange | BindFailure::Expired => MessageCode::PasswordExpired,
                BindFailure::Locked => MessageCode::AccountLocked,
                BindFailure::Disabled => MessageCode::AccountDisabled,
            },
            DirectoryError::ProtectedAccount { .. } => MessageCode::AccountProtected,
            DirectoryError::InsufficientAccess { .. }
            | DirectoryError::NoSuchUser { .. }
            | DirectoryError::HistoryNotEnforceable { .. }
            | DirectoryError::Tls { .. }
            | DirectoryError::ServiceBind { .. }
            | DirectoryError::Other { .. } => MessageCode::NotPossibleHere,
            DirectoryError::Unreachable { .. } | DirectoryError::Timeout { .. } => {
                MessageCode::DirectoryUnavailable
            }
        }
    }

    /// True when trying again later may succeed (the outbox keeps the operation).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            DirectoryError::Unreachable { .. } | DirectoryError::Timeout { .. }
        )
    }
}
