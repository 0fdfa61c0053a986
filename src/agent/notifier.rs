//! Tells people what happened to their account: every applied unlock or reset, and what became of a
//! change that was queued during an outage (applied, refused, expired). It works from the outbox's
//! events, so a notification is sent once per outcome and retried while the mail relay is away; a
//! failed notification never undoes or blocks the change itself.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::delivery::{Change, Notification};
use crate::directory::Directory;
use crate::outbox::{Kind, OutboxEvent, Outcome};

use super::Agent;

const PAUSE: Duration = Duration::from_secs(3);

pub async fn run(agent: Arc<Agent>) {
    if agent.email.is_none() || !agent.settings.notifications.notify_user {
        log::info!("notifications to people are off (no [delivery.email] or notify_user = false)");
        return;
    }
    loop {
        match agent.outbox.pending_events() {
            Ok(events) => {
                for event in events {
                    agent.notify(&event).await;
                }
            }
            Err(e) => log::error!("notifier: cannot read outbox events: {e}"),
        }
        tokio::time::sleep(PAUSE).await;
    }
}

impl Agent {
    /// Sends the notification for one outbox event and marks it delivered, unless every address
    /// failed for a reason that may pass (then it is tried again later).
    async fn notify(&self, event: &OutboxEvent) {
        let Some(email) = &self.email else { return };
        let queued = self
            .outbox
            .operation(event.operation_id)
            .ok()
            .flatten()
            .is_some_and(|op| op.attempts > 1);
        let Some(notification) = notification_for(event, queued) else {
            self.delivered(event);
            return;
        };
        let addresses = match self.directory.contacts(&event.dn).await {
            Ok(addresses) => addresses,
            Err(e) => {
                log::warn!(
                    "notifier: cannot read the addresses of {}: {e}; will try again",
                    event.dn
                );
                return;
            }
        };
        let language = self.settings.languages.default.clone();
        let mut retry = false;
        for address in &addresses {
            if let Err(e) = email.notify(address, &notification, &language).await {
                log::warn!("notifier: ref={} not sent: {e}", event.reference);
                retry |= e.is_retryable();
            }
        }
        if !retry {
            self.delivered(event);
        }
    }

    fn delivered(&self, event: &OutboxEvent) {
        if let Err(e) = self.outbox.mark_delivered(event.id) {
            log::error!("notifier: cannot mark event {} delivered: {e}", event.id);
        }
    }
}

/// What to tell the person. A refusal they saw on the screen (not queued) needs no email.
fn notification_for(event: &OutboxEvent, queued: bool) -> Option<Notification> {
    let change = match event.kind {
        Kind::Unlock => Change::Unlock,
        Kind::Reset => Change::Reset,
        Kind::ResetAndUnlock => Change::ResetAndUnlock,
        Kind::Registration => return None,
    };
    let reference = event.reference.clone();
    let at = UNIX_EPOCH + Duration::from_millis(event.at);
    let at: SystemTime = at;
    Some(match (&event.outcome, queued) {
        (Outcome::Applied, true) => Notification::QueuedApplied {
            change,
            reference,
            at,
        },
        (Outcome::Applied, false) => match change {
            Change::Unlock => Notification::AccountUnlocked { reference, at },
            Change::Reset => Notification::PasswordReset { reference, at },
            Change::ResetAndUnlock => Notification::ResetAndUnlocked { reference, at },
        },
        (Outcome::Rejected { .. }, true) => Notification::QueuedRejected {
            change,
            reference,
            at,
        },
        (Outcome::Rejected { .. }, false) => return None,
        (Outcome::Expired { .. } | Outcome::Purged { .. }, _) => Notification::QueuedExpired {
            change,
            reference,
            at,
        },
    })
}
