//! The kiosk's own checks on a new password, run on every keystroke for the live checklist and once
//! more before the directory write: length (in Unicode scalar values), confirmation, the shipped
//! common list, zxcvbn strength with the user's names as inputs, and no username or name part
//! inside. Results are message codes per rule, never sentences. The directory's own policy
//! (history…) comes after.

use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use super::common_passwords::{self, Lookup};
use crate::config::kiosk::PasswordSection;
use crate::secret::Secret;

/// Name parts shorter than this are not searched for (Windows AD uses the same threshold).
pub const MIN_NAME_PART_CHARS: usize = 3;

/// One rule of the checklist, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    MinLength,
    MaxLength,
    Confirmation,
    NotCommon,
    Strength,
    NoPersonalInfo,
}

impl Rule {
    /// Message code for the UI (shown with a tick when met, a cross when not).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::MinLength => "password.too_short",
            Rule::MaxLength => "password.too_long",
            Rule::Confirmation => "password.mismatch",
            Rule::NotCommon => "password.common",
            Rule::Strength => "password.weak",
            Rule::NoPersonalInfo => "password.contains_name",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Met,
    Unmet,
    /// Not decidable yet (nothing typed, confirmation empty, or too short for the common list):
    /// shown neutral, and does not count as met.
    Pending,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleResult {
    pub rule: Rule,
    pub status: Status,
    /// The number the message needs: the minimum or maximum length, or the minimum strength score.
    pub limit: Option<u32>,
}

impl RuleResult {
    pub fn code(&self) -> &'static str {
        self.rule.as_str()
    }
}

/// Every enabled rule's result, in display order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReport {
    pub rules: Vec<RuleResult>,
    /// zxcvbn score 0–4 for a strength meter (None when not computed).
    pub score: Option<u8>,
}

impl PasswordReport {
    /// True when every rule is met: the password may go to the directory.
    pub fn acceptable(&self) -> bool {
        self.rules.iter().all(|r| r.status == Status::Met)
    }

    /// Codes of the rules not met (unmet or pending), in display order.
    pub fn unmet_codes(&self) -> Vec<&'static str> {
        self.rules
            .iter()
            .filter(|r| r.status != Status::Met)
            .map(RuleResult::code)
            .collect()
    }

    pub fn status(&self, rule: Rule) -> Option<Status> {
        self.rules.iter().find(|r| r.rule == rule).map(|r| r.status)
    }
}

/// The words a password must not contain: the username (and, for `user@domain`, the part before
/// `@`) and each part of the username and the person's names, split at anything not a letter or
/// digit; NFKC-normalised, lowercase, at least [`MIN_NAME_PART_CHARS`] long. Build once per
/// session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserWords {
    words: Vec<String>,
}

impl UserWords {
    /// `names`: display name, given name, surname… as the directory has them.
    pub fn new(username: &str, names: &[&str]) -> UserWords {
        let mut words: Vec<String> = Vec::new();
        let mut add = |word: &str| {
            let word = normalise(word);
            if word.chars().count() >= MIN_NAME_PART_CHARS && !words.contains(&*word) {
                words.push(word.to_string());
            }
        };
        let login = username.split('@').next().unwrap_or(username);
        add(username);
        add(login);
        for text in std::iter::once(login).chain(names.iter().copied()) {
            for part in text.split(|c: char| !c.is_alphanumeric()) {
                add(part);
            }
        }
        UserWords { words }
    }

    pub fn words(&self) -> &[String] {
        &self.words
    }
}

fn normalise(text: &str) -> Zeroizing<String> {
    Zeroizing::new(text.nfkc().collect::<String>().to_lowercase())
}

/// Checks `password` (and its `confirmation`) against the enabled rules of `cfg`.
pub fn check(
    password: &Secret,
    confirmation: &Secret,
    user: &UserWords,
    cfg: &PasswordSection,
) -> PasswordReport {
    let pw = password.expose();
    let chars = pw.chars().count();
    let empty = pw.is_empty();
    let too_long = chars > cfg.max_length as usize;
    let met = |ok: bool| if ok { Status::Met } else { Status::Unmet };
    let mut rules = vec![
        RuleResult {
            rule: Rule::MinLength,
            status: met(chars >= cfg.min_length as usize),
            limit: Some(cfg.min_length),
        },
        RuleResult {
            rule: Rule::MaxLength,
            status: met(!too_long),
            limit: Some(cfg.max_length),
        },
        RuleResult {
            rule: Rule::Confirmation,
            status: if confirmation.is_empty() {
                Status::Pending
            } else {
                met(confirmation.ct_eq(password))
            },
            limit: None,
        },
    ];
    if cfg.reject_common {
        let status = match (empty, common_passwords::lookup(pw)) {
            (true, _) | (_, Lookup::TooShort) => Status::Pending,
            (false, Lookup::Listed) => Status::Unmet,
            (false, Lookup::NotListed) => Status::Met,
        };
        rules.push(RuleResult {
            rule: Rule::NotCommon,
            status,
            limit: None,
        });
    }
    let mut score = None;
    if cfg.min_strength > 0 {
        // zxcvbn's cost grows with length; past the maximum the length rule has already failed.
        let status = if empty || too_long {
            Status::Pending
        } else {
            let inputs: Vec<&str> = user.words().iter().map(String::as_str).collect();
            let value = u8::from(zxcvbn::zxcvbn(pw, &inputs).score());
            score = Some(value);
            met(u32::from(value) >= cfg.min_strength)
        };
        rules.push(RuleResult {
            rule: Rule::Strength,
            status,
            limit: Some(cfg.min_strength),
        });
    }
    if cfg.reject_name_parts {
        let status = if empty {
            Status::Pending
        } else {
            let lower = normalise(pw);
            met(!user.words().iter().any(|w| lower.contains(w.as_str())))
        };
        rules.push(RuleResult {
            rule: Rule::NoPersonalInfo,
            status,
            limit: None,
        });
    }
    PasswordReport { rules, score }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anna() -> UserWords {
        UserWords::new("anna.mueller@corp.example", &["Anna-Lena Müller", "Jo"])
    }

    fn run(password: &str, confirmation: &str) -> PasswordReport {
        check(
            &Secret::new(password),
            &Secret::new(confirmation),
            &anna(),
            &PasswordSection::default(),
        )
    }

    fn statuses(report: &PasswordReport) -> Vec<(&'static str, Status)> {
        report.rules.iter().map(|r| (r.code(), r.status)).collect()
    }

    #[test]
    fn user_words_split_names_and_skip_short_parts() {
        assert_eq!(
            anna().words(),
            [
                "anna.mueller@corp.example",
                "anna.mueller",
                "anna",
                "mueller",
                "lena",
                "müller"
            ]
        );
    }

    #[test]
    fn a_good_password_meets_every_rule() {
        let pw = "Tangerine-Orbit-Velvet-42";
        let report = run(pw, pw);
        use Status::Met;
        assert_eq!(
            statuses(&report),
            [
                ("password.too_short", Met),
                ("password.too_long", Met),
                ("password.mismatch", Met),
                ("password.common", Met),
                ("password.weak", Met),
                ("password.contains_name", Met),
            ]
        );
        assert!(report.acceptable());
        assert!(report.unmet_codes().is_empty());
        assert_eq!(report.rules[0].limit, Some(12));
        assert!(report.score.is_some_and(|s| s >= 3));
    }

    #[test]
    fn empty_fields_are_pending_not_met() {
        let report = run("", "");
        use Status::{Pending, Unmet};
        assert_eq!(report.status(Rule::MinLength), Some(Unmet));
        assert_eq!(report.status(Rule::MaxLength), Some(Status::Met));
        for rule in [
            Rule::Confirmation,
            Rule::NotCommon,
            Rule::Strength,
            Rule::NoPersonalInfo,
        ] {
            assert_eq!(report.status(rule), Some(Pending), "{rule:?}");
        }
        assert!(!report.acceptable());
    }

    #[test]
    fn length_counts_unicode_scalar_values() {
        // 12 characters, 24 bytes.
        let pw = "ÄÖÜßäöüéèêëï";
        assert_eq!(run(pw, pw).status(Rule::MinLength), Some(Status::Met));
        let eleven: String = pw.chars().take(11).collect();
        assert_eq!(
            run(&eleven, "").status(Rule::MinLength),
            Some(Status::Unmet)
        );
        let long = "Tangerine-Orbit-".repeat(17);
        let report = run(&long, &long);
        assert_eq!(report.status(Rule::MaxLength), Some(Status::Unmet));
        assert_eq!(report.status(Rule::Strength), Some(Status::Pending));
    }

    #[test]
    fn confirmation_must_match_exactly() {
        let report = run("Tangerine-Orbit-Velvet-42", "tangerine-orbit-velvet-42");
        assert_eq!(report.status(Rule::Confirmation), Some(Status::Unmet));
        assert_eq!(report.unmet_codes(), ["password.mismatch"]);
    }

    #[test]
    fn common_passwords_are_rejected_whatever_their_case() {
        let report = run("Qwertyuiop123", "Qwertyuiop123");
        assert_eq!(report.status(Rule::NotCommon), Some(Status::Unmet));
        assert!(report.unmet_codes().contains(&"password.common"));
        // Below the list's 8 characters the rule cannot say; the length rule fails anyway.
        assert_eq!(
            run("abc", "").status(Rule::NotCommon),
            Some(Status::Pending)
        );
    }

    #[test]
    fn weak_passwords_fail_strength() {
        let report = run("aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa");
        assert_eq!(report.status(Rule::Strength), Some(Status::Unmet));
        assert_eq!(
            report
                .rules
                .iter()
                .find(|r| r.rule == Rule::Strength)
                .unwrap()
                .limit,
            Some(3)
        );
        assert!(report.score.is_some_and(|s| s < 3));
    }

    #[test]
    fn names_are_rejected_case_insensitively() {
        for pw in [
            "Xylophone-MUELLER-93!",
            "Xylophone-Lena-93!quartz",
            "Xylophone-müller-93!",
            "Xylophone-MÜLLER-93!",
        ] {
            assert_eq!(
                run(pw, pw).status(Rule::NoPersonalInfo),
                Some(Status::Unmet),
                "{pw}"
            );
        }
        // "Jo" is shorter than 3 characters: not a forbidden part.
        let pw = "Xylophone-Jo-93!quartz";
        assert_eq!(run(pw, pw).status(Rule::NoPersonalInfo), Some(Status::Met));
    }

    #[test]
    fn disabled_rules_are_left_out() {
        let cfg = PasswordSection {
            reject_common: false,
            reject_name_parts: false,
            min_strength: 0,
            ..PasswordSection::default()
        };
        let pw = Secret::new("password1234");
        let report = check(&pw, &pw, &anna(), &cfg);
        assert_eq!(report.rules.len(), 3);
        assert!(report.acceptable());
        assert_eq!(report.score, None);
    }
}
