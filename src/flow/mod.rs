//! The session flow core — PURE: `step(session, event, ctx, config) -> (session, effects)`.
//! No I/O, no clock, no randomness of its own (time and entropy arrive in [`Context`]); no tokio,
//! slint, rusqlite, ldap3 or serialport. This is where the security rules live: which screen comes
//! next, whether a gate passed, whether a write may be applied. Design note: `docs/flow.md`.
//!
//! ```text
//!            ┌──────────── change-password ───────────► Change: Entering → LookingUp → Applying ─┐
//!            │                                                                                    │
//!  Attract ──┴─ start / badge ─► Identify ─► LookingUp ─┬─ blocked ─► Blocked ──────────────────┐ │
//!     ▲                                                 ├─ unavailable ─► OutOfService ────────┐ │ │
//!     │                                                 ▼                                      │ │ │
//!     │                    ┌────────────────────► ChoosingMethod ◄──── failed, not blocked ─┐  │ │ │
//!     │                    │ need another method        │ choose                            │  │ │ │
//!     │                    │                            ▼                                   │  │ │ │
//!     │                    └──────────── passed ── Verifying (one gate) ────────────────────┘  │ │ │
//!     │                                                 │ required methods passed              │ │ │
//!     │  ════ identity verified: the account may be changed from here on ════                  │ │ │
//!     │                                                 ▼                                      │ │ │
//!     │                  ChoosingAction (unlock only when locked) ─► ChoosingPassword          │ │ │
//!     │                                  │ unlock                        │ acceptable          │ │ │
//!     │                                  └──────────► Applying ◄─────────┘ (◄ rejected: back)  │ │ │
//!     │                                                 ▼                                      │ │ │
//!     └──── done / timeout ───────────────────────── Receipt ◄─────────────────────────────────┴─┴─┘
//! ```
//! Any state: `cancel`, the idle timeout and the session cap end the session (audited, zeroized).

mod change;
pub mod config;
pub mod decoy;
pub mod effect;
pub mod event;
mod finish;
mod identify;
pub mod input;
pub mod register;
pub mod registration;
pub mod session;
mod verify;
pub mod view;

pub use config::FlowConfig;
pub use effect::{AccountRef, Action, AuditOutcome, AuditRecord, Claim, Effect};
pub use event::{ApplyOutcome, Context, Event, LookupAnswer};
pub use session::{Session, State};

/// Advances a session by one event. Never fails: an event that does not fit the current state is
/// ignored (the session is returned unchanged, with no effects).
pub fn step(
    session: Session,
    event: Event,
    ctx: &Context,
    config: &FlowConfig,
) -> (Session, Vec<Effect>) {
    let mut session = session;
    let mut effects = Vec::new();
    if !matches!(
        event,
        Event::Tick
            | Event::UserLookedUp(_)
            | Event::DeliveryAnswered { .. }
            | Event::CallEnded { .. }
            | Event::DirectoryAnswered(_)
    ) {
        session.last_activity = ctx.now;
    }
    match event {
        Event::Tick => return finish::on_tick(session, ctx, config),
        Event::Activity => {}
        Event::LanguageChosen(code) => {
            if config.languages.contains(&code) {
                session.language = code;
            }
        }
        Event::Chosen(id) if id == "cancel" && !matches!(session.state, State::Attract) => {
            return finish::end(session, AuditOutcome::Abandoned, ctx, config);
        }
        event => {
            let state = std::mem::replace(&mut session.state, State::Attract);
            let (next, more) = dispatch(&mut session, state, event, ctx, config);
            session.state = next;
            effects.extend(more);
            if matches!(session.state, State::Attract) && session.is_attempt() {
                // A path that ended the session (e.g. "done" on a receipt) starts a fresh one.
                return finish::end(session, AuditOutcome::Abandoned, ctx, config);
            }
        }
    }
    (session, effects)
}

fn dispatch(
    session: &mut Session,
    state: State,
    event: Event,
    ctx: &Context,
    config: &FlowConfig,
) -> (State, Vec<Effect>) {
    match state {
        State::Attract | State::Identify { .. } | State::LookingUp => {
            identify::on_event(session, state, event, ctx, config)
        }
        State::ChoosingMethod { .. } | State::Verifying(_) => {
            verify::on_event(session, state, event, ctx, config)
        }
        State::ChoosingAction
        | State::ChoosingPassword { .. }
        | State::Applying { .. }
        | State::Receipt { .. } => finish::on_event(session, state, event, ctx, config),
        State::Change(change) => change::on_event(session, change, event, ctx, config),
        State::Register(step) => register::on_event(session, step, event, ctx, config),
        State::Blocked { .. } | State::OutOfService { .. } => match event {
            Event::Chosen(id) if id == "done" => (State::Attract, Vec::new()),
            _ => (state, vec![Effect::Ignored]),
        },
    }
}

#[cfg(test)]
mod tests;
