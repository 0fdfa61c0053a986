//! Who may use the kiosk at all, and who counts as privileged (DESIGN "Policy"): configured privileged
//! groups or `adminCount=1`; allowed and denied groups; disabled accounts. Pure.

use crate::config::kiosk::{PolicySection, PrivilegedMode};
use crate::directory::UserRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eligibility {
    /// May proceed; privileged accounts need the stronger policy.
    Eligible {
        privileged: bool,
    },
    Denied(DenyReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    /// `allowed_groups` is set and the person is in none of them.
    NotInAllowedGroup,
    InDeniedGroup,
    /// Privileged and the policy says `privileged = "refuse"`.
    PrivilegedRefused,
    /// The account is disabled: neither unlock nor reset would let the person log on.
    Disabled,
}

pub fn is_privileged(user: &UserRecord, policy: &PolicySection) -> bool {
    user.admin_count
        || policy
            .privileged_groups
            .iter()
            .any(|g| user.is_member_of(g))
}

pub fn eligibility(user: &UserRecord, policy: &PolicySection) -> Eligibility {
    if user.disabled {
        return Eligibility::Denied(DenyReason::Disabled);
    }
    if policy.denied_groups.iter().any(|g| user.is_member_of(g)) {
        return Eligibility::Denied(DenyReason::InDeniedGroup);
    }
    if !policy.allowed_groups.is_empty()
        && !policy.allowed_groups.iter().any(|g| user.is_member_of(g))
    {
        return Eligibility::Denied(DenyReason::NotInAllowedGroup);
    }
    let privileged = is_privileged(user, policy);
    if privileged && policy.privileged == PrivilegedMode::Refuse {
        return Eligibility::Denied(DenyReason::PrivilegedRefused);
    }
    Eligibility::Eligible { privileged }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::Dn;

    fn user(groups: &[&str], admin_count: bool) -> UserRecord {
        UserRecord {
            dn: Dn::new("uid=x,ou=people,dc=example,dc=org"),
            login: "x".into(),
            display_name: "X".into(),
            locked: false,
            disabled: false,
            groups: groups.iter().map(|g| Dn::new(*g)).collect(),
            admin_count,
            emails: vec![],
            mobiles: vec![],
            badges: vec![],
            registration: None,
        }
    }

    const ADMINS: &str = "cn=admins,ou=groups,dc=example,dc=org";
    const STAFF: &str = "cn=staff,ou=groups,dc=example,dc=org";

    #[test]
    fn privileged_by_group_or_admin_count() {
        let policy = PolicySection {
            privileged_groups: vec![ADMINS.into()],
            ..PolicySection::default()
        };
        assert_eq!(
            eligibility(&user(&[], false), &policy),
            Eligibility::Eligible { privileged: false }
        );
        assert_eq!(
            eligibility(
                &user(&["CN=Admins,OU=Groups,DC=example,DC=org"], false),
                &policy
            ),
            Eligibility::Eligible { privileged: true }
        );
        assert_eq!(
            eligibility(&user(&[], true), &policy),
            Eligibility::Eligible { privileged: true }
        );
        let refuse = PolicySection {
            privileged: PrivilegedMode::Refuse,
            ..policy
        };
        assert_eq!(
            eligibility(&user(&[], true), &refuse),
            Eligibility::Denied(DenyReason::PrivilegedRefused)
        );
    }

    #[test]
    fn allowed_and_denied_groups() {
        let policy = PolicySection {
            allowed_groups: vec![STAFF.into()],
            denied_groups: vec![ADMINS.into()],
            ..PolicySection::default()
        };
        assert_eq!(
            eligibility(&user(&[], false), &policy),
            Eligibility::Denied(DenyReason::NotInAllowedGroup)
        );
        assert_eq!(
            eligibility(&user(&[STAFF], false), &policy),
            Eligibility::Eligible { privileged: false }
        );
        assert_eq!(
            eligibility(&user(&[STAFF, ADMINS], false), &policy),
            Eligibility::Denied(DenyReason::InDeniedGroup)
        );
        let mut disabled = user(&[STAFF], false);
        disabled.disabled = true;
        assert_eq!(
            eligibility(&disabled, &policy),
            Eligibility::Denied(DenyReason::Disabled)
        );
    }
}
