//! The outbox worker: applies queued directory writes one at a time, with the outbox's own backoff,
//! for as long as the agent runs. What it applies, rejects or expires is logged for admins (and kept
//! as outbox events for the notifier).

use std::sync::Arc;
use std::time::Duration;

use crate::outbox::{Outcome, SyncOutcome};

use super::Agent;

/// How often the worker looks for due work when the queue is idle.
const IDLE: Duration = Duration::from_secs(2);

pub async fn run(agent: Arc<Agent>) {
    loop {
        match agent
            .outbox
            .sync_once(&agent.directory, super::now_ms())
            .await
        {
            Ok(Some(applied)) => {
                match &applied.outcome {
                    SyncOutcome::Finished(Outcome::Applied) => {
                        log::info!(
                            "outbox: {} ref={} applied to {}",
                            applied.kind.as_str(),
                            applied.reference,
                            applied.dn
                        );
                    }
                    SyncOutcome::Finished(outcome) => {
                        log::warn!(
                            "outbox: {} ref={} for {} ended: {outcome:?}",
                            applied.kind.as_str(),
                            applied.reference,
                            applied.dn
                        );
                    }
                    SyncOutcome::Retrying { attempts, .. } => {
                        log::info!(
                            "outbox: ref={} waits for the directory (attempt {attempts})",
                            applied.reference
                        );
                        tokio::time::sleep(IDLE).await;
                    }
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => log::error!("outbox: {e}"),
        }
        tokio::time::sleep(IDLE).await;
    }
}
