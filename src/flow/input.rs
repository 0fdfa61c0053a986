//! Turns a protocol [`Input`] from the UI into a flow [`Event`], wrapping every typed secret in a
//! `Secret` on arrival. A UI can only produce these events: it can never claim a badge, a delivery or
//! a directory answer.

use crate::protocol::Input;
use crate::secret::Secret;

use super::event::Event;

/// `None` for inputs that are not events (`Hello`) or fields the flow does not know.
pub fn event_from(input: Input) -> Option<Event> {
    Some(match input {
        Input::Hello { .. } => return None,
        Input::Choose { id } => Event::Chosen(id),
        Input::Submit { field, value } => match field.as_str() {
            "identifier" => Event::IdentifierSubmitted(value),
            "code" => Event::CodeSubmitted(Secret::new(value)),
            "totp" => Event::TotpSubmitted(Secret::new(value)),
            "current-password" => Event::CurrentPasswordSubmitted(Secret::new(value)),
            "contact" => Event::ContactSubmitted(value),
            _ => return None,
        },
        Input::Answers { values } => {
            Event::AnswersSubmitted(values.into_iter().map(Secret::new).collect())
        }
        Input::RegisterAnswers { answers } => Event::QaRegistered(
            answers
                .into_iter()
                .map(|a| (a.question, Secret::new(a.answer)))
                .collect(),
        ),
        Input::Password {
            new,
            confirm,
            draft,
        } => Event::PasswordTyped {
            new: Secret::new(new),
            confirm: Secret::new(confirm),
            draft,
        },
        Input::Activity => Event::Activity,
        Input::Language { code } => Event::LanguageChosen(code),
    })
}
