//! The agent ↔ UI protocol: JSON lines over a Unix socket, versioned. The agent sends [`View`]s (what
//! to show), the UI sends [`Input`]s (what the person did). Pure data: serde only, no I/O.
//! Documented for humans in `docs/protocol.md`; change both together and bump [`VERSION`].

use serde::{Deserialize, Serialize};

/// Protocol version; the UI's `Hello` must match.
pub const VERSION: u32 = 1;

/// Which screen to show. The UI has one screen per id and decides nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScreenId {
    Attract,
    Identify,
    ChooseMethod,
    Qa,
    EnterCode,
    VoiceCall,
    Totp,
    Badge,
    ChooseAction,
    NewPassword,
    Working,
    Receipt,
    ChangePassword,
    /// Registration: username and current password.
    RegisterAuth,
    /// Registration menu: what is registered, what to add, finish.
    RegisterStart,
    RegisterQa,
    RegisterContact,
    RegisterTotp,
    Blocked,
    OutOfService,
}

/// A choice the person can tap: the UI shows `label` (a translatable code) and `detail` (masked
/// destination, question text) and sends back `Input::Choose { id }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One line of the live password checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleStatus {
    pub rule: String,
    pub ok: bool,
}

/// How a session ended, for the receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReceiptKind {
    Done,
    /// Recorded and waiting for the directory: not active yet.
    Queued,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub kind: ReceiptKind,
    /// What was done or attempted (`unlock`, `reset`, `reset-unlock`, `change`, `register`).
    pub action: String,
    /// Short reference the person can quote to the helpdesk.
    pub reference: String,
    pub kiosk_id: String,
    /// Seconds since the Unix epoch; the UI formats it in the person's language.
    pub time: u64,
    pub helpdesk: String,
    /// Text for the QR code: the reference and kiosk, never a secret.
    pub qr: String,
}

/// Everything the UI needs to draw the current screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub screen: ScreenId,
    /// Message codes to show (translated by the UI), e.g. `code.wrong`, `password.in_history`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    /// Seconds before the session ends for inactivity, present in the last 10 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub countdown: Option<u32>,
    /// Attempts left on the current gate, when it limits them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// Seconds until "send again" is allowed (code screens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend_in: Option<u32>,
    /// Number of digits expected (code and TOTP screens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digits: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
    /// An `otpauth://` URI to show as a QR code (TOTP enrolment only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr: Option<String>,
    /// The person's display name once identified (never for decoys: they see the typed name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    pub language: String,
}

impl View {
    pub fn new(screen: ScreenId, language: &str) -> View {
        View {
            screen,
            messages: Vec::new(),
            choices: Vec::new(),
            countdown: None,
            attempts_left: None,
            resend_in: None,
            digits: None,
            rules: Vec::new(),
            receipt: None,
            qr: None,
            greeting: None,
            language: language.to_owned(),
        }
    }
}

/// What the person did. Text fields carry secrets (codes, answers, passwords); the agent wraps them in
/// `Secret` on arrival and never logs an `Input`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Input {
    /// First message on a connection.
    Hello {
        version: u32,
    },
    /// A tap on a choice or a button (`start`, `change-password`, `register`, `cancel`, `back`,
    /// `resend`, `done`, a choice id).
    Choose {
        id: String,
    },
    /// A submitted field: `identifier`, `code`, `totp`, `current-password`, `contact`.
    Submit {
        field: String,
        value: String,
    },
    /// Security answers, in the order the questions were shown.
    Answers {
        values: Vec<String>,
    },
    /// Registration: the questions the person picked and their answers.
    RegisterAnswers {
        answers: Vec<QaAnswer>,
    },
    /// New password typed twice; sent on submit, and (with `draft`) while typing for the live checklist.
    Password {
        new: String,
        confirm: String,
        #[serde(default)]
        draft: bool,
    },
    /// The person touched the screen: resets the idle timer.
    Activity,
    Language {
        code: String,
    },
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::Hello { version } => write!(f, "Hello {{ version: {version} }}"),
            Input::Choose { id } => write!(f, "Choose {{ id: {id:?} }}"),
            Input::Submit { field, .. } => write!(f, "Submit {{ field: {field:?}, value: *** }}"),
            Input::Answers { values } => write!(f, "Answers {{ {} values: *** }}", values.len()),
            Input::RegisterAnswers { answers } => {
                write!(f, "RegisterAnswers {{ {} answers: *** }}", answers.len())
            }
            Input::Password { draft, .. } => write!(f, "Password {{ draft: {draft}, *** }}"),
            Input::Activity => f.write_str("Activity"),
            Input::Language { code } => write!(f, "Language {{ code: {code:?} }}"),
        }
    }
}

/// One security answer being registered.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QaAnswer {
    pub question: String,
    pub answer: String,
}

impl std::fmt::Debug for QaAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "QaAnswer {{ question: {:?}, answer: *** }}",
            self.question
        )
    }
}

/// Messages from the agent to the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum AgentMessage {
    Welcome {
        version: u32,
        kiosk_id: String,
    },
    View {
        view: Box<View>,
    },
    /// The input was malformed or not allowed now; the session is unchanged.
    Refused {
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_json_lines_and_never_debug_secrets() {
        let input: Input =
            serde_json::from_str(r#"{"type":"submit","field":"code","value":"123456"}"#).unwrap();
        assert_eq!(
            input,
            Input::Submit {
                field: "code".into(),
                value: "123456".into()
            }
        );
        assert!(!format!("{input:?}").contains("123456"));
        let pw = Input::Password {
            new: "Secret-1".into(),
            confirm: "Secret-1".into(),
            draft: true,
        };
        assert!(!format!("{pw:?}").contains("Secret-1"));
        let json = serde_json::to_string(&Input::Choose {
            id: "email:0".into(),
        })
        .unwrap();
        assert_eq!(json, r#"{"type":"choose","id":"email:0"}"#);
    }

    #[test]
    fn views_serialize_compactly() {
        let view = View::new(ScreenId::ChooseMethod, "de");
        let json = serde_json::to_string(&AgentMessage::View {
            view: Box::new(view),
        })
        .unwrap();
        assert_eq!(
            json,
            r#"{"type":"view","view":{"screen":"choose-method","language":"de"}}"#
        );
    }
}
