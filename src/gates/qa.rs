//! Security questions: answer normalisation (NFKC, lowercase, collapsed whitespace), Argon2id
//! hashing with a caller-supplied salt, constant-time verification, the registration rules (enough
//! answers from the catalogue, no duplicates, no answer equal to its question or shorter than 3
//! characters) and choosing which registered questions to ask from caller-supplied entropy. Pure:
//! no RNG, no clock.

use argon2::{ARGON2ID_IDENT, Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use super::entropy::{Entropy, EntropyExhausted};
use crate::config::kiosk::QaSection;
use crate::secret::Secret;

/// Bytes of salt per answer (RFC 9106 recommends 128 bits).
pub const SALT_LEN: usize = 16;
pub const MIN_ANSWER_CHARS: usize = 3;
/// Longer answers are refused at registration: nobody types a paragraph on a kiosk keyboard.
pub const MAX_ANSWER_CHARS: usize = 128;

/// Argon2id cost parameters for new hashes. Verification reads the parameters stored in each hash,
/// so raising these later only affects answers registered afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl HashParams {
    /// OWASP's Argon2id configuration (19 MiB, 2 passes, 1 lane; also argon2's own default): about
    /// 20 ms per answer on an x86 build machine (`cargo bench --bench password_policy`), several
    /// times that on a Raspberry Pi 4 (estimated, not measured), so checking three answers stays
    /// well under a second on the slowest kiosk. Answers are low-entropy, so the hash is a second
    /// line of defence only: the registration blob is also encrypted with the fleet key.
    pub const RECOMMENDED: HashParams = HashParams {
        m_cost_kib: 19 * 1024,
        t_cost: 2,
        p_cost: 1,
    };

    /// The cheapest parameters argon2 accepts (8 KiB, 1 pass). For tests only: a hash made with
    /// them is trivially brute-forced.
    #[doc(hidden)]
    pub const INSECURE_FOR_TESTS: HashParams = HashParams {
        m_cost_kib: 8,
        t_cost: 1,
        p_cost: 1,
    };
}

/// One registered answer as stored in the (encrypted) registration blob.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnswer {
    /// Key of the question in `gates.qa.questions`.
    pub question_id: String,
    /// `$argon2id$v=19$m=…,t=…,p=…$salt$hash` of the normalised answer.
    pub phc_hash: String,
}

impl std::fmt::Debug for StoredAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash of a low-entropy answer is brute-forceable: keep it out of logs.
        f.debug_struct("StoredAnswer")
            .field("question_id", &self.question_id)
            .finish_non_exhaustive()
    }
}

/// An answer the user typed for a question.
#[derive(Debug, Clone)]
pub struct GivenAnswer {
    pub question_id: String,
    pub answer: Secret,
}

impl GivenAnswer {
    pub fn new(question_id: impl Into<String>, answer: impl Into<String>) -> GivenAnswer {
        GivenAnswer {
            question_id: question_id.into(),
            answer: Secret::new(answer),
        }
    }
}

/// Something is wrong with a registration; shown next to the question it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QaProblem {
    TooFewAnswers {
        need: u32,
    },
    UnknownQuestion {
        question_id: String,
    },
    DuplicateQuestion {
        question_id: String,
    },
    /// Same answer (after normalisation) as an earlier question.
    DuplicateAnswer {
        question_id: String,
    },
    AnswerIsQuestion {
        question_id: String,
    },
    AnswerTooShort {
        question_id: String,
    },
    AnswerTooLong {
        question_id: String,
    },
}

impl QaProblem {
    /// Message code for the UI.
    pub fn as_str(&self) -> &'static str {
        match self {
            QaProblem::TooFewAnswers { .. } => "qa.too_few_answers",
            QaProblem::UnknownQuestion { .. } => "qa.unknown_question",
            QaProblem::DuplicateQuestion { .. } => "qa.duplicate_question",
            QaProblem::DuplicateAnswer { .. } => "qa.duplicate_answer",
            QaProblem::AnswerIsQuestion { .. } => "qa.answer_is_question",
            QaProblem::AnswerTooShort { .. } => "qa.answer_too_short",
            QaProblem::AnswerTooLong { .. } => "qa.answer_too_long",
        }
    }

    pub fn question_id(&self) -> Option<&str> {
        match self {
            QaProblem::TooFewAnswers { .. } => None,
            QaProblem::UnknownQuestion { question_id }
            | QaProblem::DuplicateQuestion { question_id }
            | QaProblem::DuplicateAnswer { question_id }
            | QaProblem::AnswerIsQuestion { question_id }
            | QaProblem::AnswerTooShort { question_id }
            | QaProblem::AnswerTooLong { question_id } => Some(question_id),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QaError {
    /// The registration breaks the rules: nothing is stored; show the problems.
    #[error("the answers break {} registration rule(s)", .0.len())]
    Invalid(Vec<QaProblem>),
    /// Fewer salts than answers, or a salt of the wrong size: a bug in the caller; nothing is
    /// stored.
    #[error("one {SALT_LEN}-byte salt per answer is required")]
    MissingSalt,
    /// Argon2 refused the parameters: a bug in [`HashParams`]; nothing is stored.
    #[error("argon2 failed: {0}")]
    Hash(String),
    /// A stored hash cannot be parsed or is not Argon2id: the user must register again.
    #[error("a stored answer hash is corrupt or not argon2id")]
    CorruptHash,
    /// The user has fewer usable registered answers than the policy asks: QA is not available to
    /// them.
    #[error("{usable} usable answers are registered but {ask} must be asked")]
    NotEnoughRegistered { usable: usize, ask: usize },
    /// Too few entropy bytes to choose questions: retry with more.
    #[error(transparent)]
    Entropy(#[from] EntropyExhausted),
}

/// NFKC, lowercase, whitespace runs collapsed to one space, trimmed. "  Müller   Straße " and
/// "müller straße" give the same answer; so do full-width and ASCII letters.
pub fn normalise_answer(answer: &str) -> Secret {
    let composed = Zeroizing::new(answer.nfkc().collect::<String>());
    let lower = Zeroizing::new(composed.to_lowercase());
    // Lowercasing can produce sequences NFKC would rewrite; normalise once more.
    let recomposed = Zeroizing::new(lower.nfkc().collect::<String>());
    let mut out = String::with_capacity(recomposed.len());
    for word in recomposed.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Secret::new(out)
}

/// The PHC string of the normalised answer, hashed with Argon2id and `salt` (at least 8 bytes,
/// [`SALT_LEN`] recommended).
pub fn hash_answer(answer: &Secret, salt: &[u8], params: &HashParams) -> Result<String, QaError> {
    let normalised = normalise_answer(answer.expose());
    let argon_params = argon2::Params::new(params.m_cost_kib, params.t_cost, params.p_cost, None)
        .map_err(|e| QaError::Hash(e.to_string()))?;
    let hasher = Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let hash = hasher
        .hash_password_with_salt(normalised.expose().as_bytes(), salt)
        .map_err(|e| QaError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Whether `answer` (as typed) matches the stored hash. The comparison of hash outputs is constant
/// time; the cost is the stored Argon2id parameters'.
pub fn verify_answer(answer: &Secret, stored: &StoredAnswer) -> Result<bool, QaError> {
    let hash = PasswordHash::new(&stored.phc_hash).map_err(|_| QaError::CorruptHash)?;
    if hash.algorithm != ARGON2ID_IDENT {
        return Err(QaError::CorruptHash);
    }
    let normalised = normalise_answer(answer.expose());
    match Argon2::default().verify_password(normalised.expose().as_bytes(), &hash) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(_) => Err(QaError::CorruptHash),
    }
}

/// Every rule a registration breaks (empty: it may be stored). Rules: at least `cfg.register`
/// answers, each for a catalogue question, one answer per question, answers distinct after
/// normalisation, no answer equal to its question's text, 3–128 characters after normalisation.
pub fn check_registration(answers: &[GivenAnswer], cfg: &QaSection) -> Vec<QaProblem> {
    let mut problems = Vec::new();
    if answers.len() < cfg.register as usize {
        problems.push(QaProblem::TooFewAnswers { need: cfg.register });
    }
    let mut seen_questions: Vec<&str> = Vec::new();
    let mut seen_answers: Vec<Secret> = Vec::new();
    for given in answers {
        let id = given.question_id.as_str();
        let question_id = id.to_owned();
        let Some(question) = cfg.questions.get(id) else {
            problems.push(QaProblem::UnknownQuestion { question_id });
            continue;
        };
        if seen_questions.contains(&id) {
            problems.push(QaProblem::DuplicateQuestion { question_id });
            continue;
        }
        seen_questions.push(id);
        let answer = normalise_answer(given.answer.expose());
        let chars = answer.expose().chars().count();
        if chars < MIN_ANSWER_CHARS {
            problems.push(QaProblem::AnswerTooShort { question_id });
        } else if chars > MAX_ANSWER_CHARS {
            problems.push(QaProblem::AnswerTooLong { question_id });
        } else if answer.ct_eq(&normalise_answer(question)) {
            problems.push(QaProblem::AnswerIsQuestion { question_id });
        } else if seen_answers.iter().any(|seen| seen.ct_eq(&answer)) {
            problems.push(QaProblem::DuplicateAnswer { question_id });
        }
        seen_answers.push(answer);
    }
    problems
}

/// Checks the rules, then hashes each answer with its own salt (`salts[i]` for `answers[i]`, fresh
/// random bytes from the agent).
pub fn register(
    answers: &[GivenAnswer],
    cfg: &QaSection,
    salts: &[[u8; SALT_LEN]],
    params: &HashParams,
) -> Result<Vec<StoredAnswer>, QaError> {
    let problems = check_registration(answers, cfg);
    if !problems.is_empty() {
        return Err(QaError::Invalid(problems));
    }
    if salts.len() < answers.len() {
        return Err(QaError::MissingSalt);
    }
    answers
        .iter()
        .zip(salts)
        .map(|(given, salt)| {
            Ok(StoredAnswer {
                question_id: given.question_id.clone(),
                phc_hash: hash_answer(&given.answer, salt, params)?,
            })
        })
        .collect()
}

/// Picks `cfg.ask` of the registered questions still in the catalogue, uniformly at random from
/// `entropy` (partial Fisher–Yates), in the order to ask them.
pub fn choose_questions<'a>(
    registered: &'a [StoredAnswer],
    cfg: &QaSection,
    entropy: &[u8],
) -> Result<Vec<&'a StoredAnswer>, QaError> {
    let mut usable: Vec<&StoredAnswer> = registered
        .iter()
        .filter(|s| cfg.questions.contains_key(&s.question_id))
        .collect();
    let ask = cfg.ask as usize;
    if usable.len() < ask || ask == 0 {
        return Err(QaError::NotEnoughRegistered {
            usable: usable.len(),
            ask,
        });
    }
    let mut entropy = Entropy::new(entropy);
    for i in 0..ask {
        let remaining = (usable.len() - i) as u64;
        let j = i + entropy.below(remaining)? as usize;
        usable.swap(i, j);
    }
    usable.truncate(ask);
    Ok(usable)
}

/// The outcome of answering the asked questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QaVerdict {
    Passed,
    /// At least one answer was wrong or missing (which ones is not said: that would help guessing).
    Failed,
}

/// Checks the answers to the `asked` questions. Every asked question is hashed even after a wrong
/// one, so the time taken does not tell how many were right; a missing answer is a wrong one.
pub fn verify_answers(
    given: &[GivenAnswer],
    asked: &[&StoredAnswer],
) -> Result<QaVerdict, QaError> {
    let mut all_right = !asked.is_empty();
    let empty = Secret::new("");
    for stored in asked {
        let answer = given
            .iter()
            .find(|g| g.question_id == stored.question_id)
            .map_or(&empty, |g| &g.answer);
        all_right &= verify_answer(answer, stored)?;
    }
    Ok(if all_right {
        QaVerdict::Passed
    } else {
        QaVerdict::Failed
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashParams = HashParams::INSECURE_FOR_TESTS;

    fn catalogue() -> QaSection {
        let questions = [
            ("pet", "Name of your first pet?"),
            ("street", "Street you grew up on?"),
            ("teacher", "Your favourite teacher?"),
            ("city", "City where your parents met?"),
            ("car", "Your first car?"),
        ];
        QaSection {
            questions: questions
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            register: 3,
            ask: 3,
        }
    }

    fn salts(n: usize) -> Vec<[u8; SALT_LEN]> {
        (0..n).map(|i| [i as u8 + 1; SALT_LEN]).collect()
    }

    fn good_answers() -> Vec<GivenAnswer> {
        vec![
            GivenAnswer::new("pet", "Rex"),
            GivenAnswer::new("street", "Elm  Street"),
            GivenAnswer::new("teacher", "Mrs. Müller"),
        ]
    }

    #[test]
    fn normalisation_folds_case_width_and_whitespace() {
        assert_eq!(
            normalise_answer("  Müller \t  STRASSE\n").expose(),
            "müller strasse"
        );
        // Full-width letters and the "ﬁ" ligature are compatibility characters: NFKC maps them.
        assert_eq!(normalise_answer("ＲＥＸ").expose(), "rex");
        assert_eq!(normalise_answer("Oﬁce").expose(), "ofice");
        // Composed and decomposed ü are the same answer.
        assert_eq!(
            normalise_answer("Mu\u{308}ller").expose(),
            normalise_answer("Müller").expose()
        );
        assert_eq!(normalise_answer(" \t ").expose(), "");
    }

    #[test]
    fn hash_verifies_normalised_variants_only() {
        let stored = StoredAnswer {
            question_id: "pet".into(),
            phc_hash: hash_answer(&Secret::new("Mr  Rex"), &[9; SALT_LEN], &CHEAP).unwrap(),
        };
        assert!(
            stored.phc_hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$"),
            "{}",
            stored.phc_hash
        );
        assert!(verify_answer(&Secret::new(" mr rex "), &stored).unwrap());
        assert!(verify_answer(&Secret::new("MR REX"), &stored).unwrap());
        assert!(!verify_answer(&Secret::new("mr rex2"), &stored).unwrap());
        assert!(!verify_answer(&Secret::new(""), &stored).unwrap());
    }

    #[test]
    fn recommended_params_are_accepted_by_argon2() {
        let phc = hash_answer(
            &Secret::new("rex"),
            &[1; SALT_LEN],
            &HashParams::RECOMMENDED,
        )
        .unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    }

    #[test]
    fn same_answer_different_salt_different_hash() {
        let a = hash_answer(&Secret::new("rex"), &[1; SALT_LEN], &CHEAP).unwrap();
        let b = hash_answer(&Secret::new("rex"), &[2; SALT_LEN], &CHEAP).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn corrupt_or_foreign_hashes_are_errors() {
        let corrupt = StoredAnswer {
            question_id: "pet".into(),
            phc_hash: "not a hash".into(),
        };
        assert_eq!(
            verify_answer(&Secret::new("rex"), &corrupt),
            Err(QaError::CorruptHash)
        );
        let argon2i = StoredAnswer {
            question_id: "pet".into(),
            phc_hash: "$argon2i$v=19$m=8,t=1,p=1$AQEBAQEBAQEBAQEBAQEBAQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                .into(),
        };
        assert_eq!(
            verify_answer(&Secret::new("rex"), &argon2i),
            Err(QaError::CorruptHash)
        );
    }

    #[test]
    fn registration_rules() {
        let cfg = catalogue();
        assert_eq!(check_registration(&good_answers(), &cfg), vec![]);

        let problems = check_registration(
            &[
                GivenAnswer::new("pet", "Rex"),
                GivenAnswer::new("street", " REX "),
                GivenAnswer::new("teacher", "Mr"),
                GivenAnswer::new("pet", "Fido"),
                GivenAnswer::new("shoe", "forty two"),
                GivenAnswer::new("car", "your FIRST  car?"),
                GivenAnswer::new("city", "x".repeat(129)),
            ],
            &cfg,
        );
        let codes: Vec<(&str, Option<&str>)> = problems
            .iter()
            .map(|p| (p.as_str(), p.question_id()))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("qa.duplicate_answer", Some("street")),
                ("qa.answer_too_short", Some("teacher")),
                ("qa.duplicate_question", Some("pet")),
                ("qa.unknown_question", Some("shoe")),
                ("qa.answer_is_question", Some("car")),
                ("qa.answer_too_long", Some("city")),
            ]
        );
        let two = &good_answers()[..2];
        assert_eq!(
            check_registration(two, &cfg),
            vec![QaProblem::TooFewAnswers { need: 3 }]
        );
    }

    #[test]
    fn register_hashes_each_answer_with_its_own_salt() {
        let cfg = catalogue();
        let stored = register(&good_answers(), &cfg, &salts(3), &CHEAP).unwrap();
        let ids: Vec<&str> = stored.iter().map(|s| s.question_id.as_str()).collect();
        assert_eq!(ids, ["pet", "street", "teacher"]);
        assert!(verify_answer(&Secret::new("elm street"), &stored[1]).unwrap());
        assert!(verify_answer(&Secret::new("MRS. MÜLLER"), &stored[2]).unwrap());
        assert_eq!(
            register(&good_answers(), &cfg, &salts(2), &CHEAP),
            Err(QaError::MissingSalt)
        );
        assert!(matches!(
            register(&good_answers()[..1], &cfg, &salts(3), &CHEAP),
            Err(QaError::Invalid(_))
        ));
    }

    #[test]
    fn stored_form_is_serde_and_never_debug_prints_the_hash() {
        let stored = register(&good_answers(), &catalogue(), &salts(3), &CHEAP).unwrap();
        let json = serde_json::to_string(&stored[0]).unwrap();
        assert!(
            json.starts_with("{\"question_id\":\"pet\",\"phc_hash\":\"$argon2id$"),
            "{json}"
        );
        assert_eq!(
            serde_json::from_str::<StoredAnswer>(&json).unwrap(),
            stored[0]
        );
        assert!(!format!("{:?}", stored[0]).contains("argon2"));
    }

    #[test]
    fn questions_are_chosen_uniformly_from_usable_registrations() {
        let mut cfg = catalogue();
        let registered: Vec<StoredAnswer> = ["pet", "street", "teacher", "city", "car", "retired"]
            .iter()
            .map(|id| StoredAnswer {
                question_id: id.to_string(),
                phc_hash: String::new(),
            })
            .collect();
        cfg.ask = 2;
        let mut first_counts = std::collections::BTreeMap::new();
        for seed in 0u64..5_000 {
            let mut bytes = Vec::new();
            for k in 0..4u64 {
                let x = (seed * 4 + k).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                bytes.extend_from_slice(&(x ^ (x >> 29)).to_le_bytes());
            }
            let chosen = choose_questions(&registered, &cfg, &bytes).unwrap();
            assert_eq!(chosen.len(), 2);
            assert_ne!(chosen[0].question_id, chosen[1].question_id);
            assert!(
                chosen.iter().all(|s| s.question_id != "retired"),
                "not in the catalogue any more"
            );
            *first_counts
                .entry(chosen[0].question_id.clone())
                .or_insert(0u32) += 1;
        }
        assert_eq!(first_counts.len(), 5);
        assert!(
            first_counts.values().all(|&c| (850..1150).contains(&c)),
            "{first_counts:?}"
        );

        cfg.ask = 6;
        assert_eq!(
            choose_questions(&registered, &cfg, &[0; 64]),
            Err(QaError::NotEnoughRegistered { usable: 5, ask: 6 })
        );
        cfg.ask = 3;
        assert_eq!(
            choose_questions(&registered, &cfg, &[0; 8]),
            Err(QaError::Entropy(EntropyExhausted))
        );
    }

    #[test]
    fn all_asked_answers_must_be_right() {
        let cfg = catalogue();
        let stored = register(&good_answers(), &cfg, &salts(3), &CHEAP).unwrap();
        let asked: Vec<&StoredAnswer> = stored.iter().collect();
        assert_eq!(
            verify_answers(&good_answers(), &asked),
            Ok(QaVerdict::Passed)
        );
        let mut one_wrong = good_answers();
        one_wrong[0] = GivenAnswer::new("pet", "Fido");
        assert_eq!(verify_answers(&one_wrong, &asked), Ok(QaVerdict::Failed));
        assert_eq!(
            verify_answers(&good_answers()[1..], &asked),
            Ok(QaVerdict::Failed),
            "missing answer"
        );
        assert_eq!(
            verify_answers(&good_answers(), &[]),
            Ok(QaVerdict::Failed),
            "nothing asked"
        );
    }
}
