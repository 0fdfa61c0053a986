//! What `sspr-kiosk outbox …` and `sspr-kiosk audit …` print: plain text for a sysadmin at a
//! terminal. It goes through the outbox's public API only and sees no secret (an
//! [`OperationSummary`] carries none). Time is an argument; nothing here reads the clock.

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use crate::delivery::templates::format_utc;

use super::{AuditError, OperationSummary, Outbox, OutboxError, State};

/// The admin listing: one row per operation (as given, newest first from [`Outbox::list`]) and a
/// count per state. `now` (ms since the epoch) decides what is "due now".
pub fn operations(ops: &[OperationSummary], now: u64) -> String {
    if ops.is_empty() {
        return "the outbox holds no operations\n".to_owned();
    }
    let header = [
        "ID",
        "REFERENCE",
        "KIND",
        "STATE",
        "ATTEMPTS",
        "CREATED (UTC)",
        "NEXT ATTEMPT (UTC)",
        "DN",
        "LAST ERROR / OUTCOME",
    ]
    .map(str::to_owned);
    let rows: Vec<[String; 9]> = ops
        .iter()
        .map(|op| {
            [
                op.id.to_string(),
                cell(&op.reference),
                op.kind.as_str().to_owned(),
                op.state.as_str().to_owned(),
                op.attempts.to_string(),
                utc(op.created_at),
                next_attempt(op, now),
                cell(op.dn.as_str()),
                why(op),
            ]
        })
        .collect();
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, value) in widths.iter_mut().zip(row) {
            *width = (*width).max(value.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (value, width) in row.iter().zip(widths) {
            let _ = write!(line, "{value:<width$}  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let _ = writeln!(out, "{}", totals(ops));
    out
}

/// Makes pending operation `id` due now and says so.
pub fn retry(outbox: &Outbox, id: i64) -> Result<String, OutboxError> {
    outbox.retry(id)?;
    let op = outbox.operation(id)?.ok_or(OutboxError::NotFound(id))?;
    Ok(format!(
        "operation {} is due now: the agent's worker tries it at its next step (it still expires at \
         {} UTC)\n",
        describe(&op),
        utc(op.expires_at)
    ))
}

/// Purges operation `id` (pending, or stuck in `applying` past its lease) and says what follows.
pub fn purge(outbox: &Outbox, id: i64, now: u64) -> Result<String, OutboxError> {
    outbox.purge(id, now)?;
    let op = outbox.operation(id)?.ok_or(OutboxError::NotFound(id))?;
    let mut text = format!(
        "operation {} purged: it will not be applied, its secret is erased, and the person will \
         be notified that it did not happen\n",
        describe(&op)
    );
    if op.maybe_applied {
        text.push_str(
            "note: an earlier attempt may have reached the directory; check the account\n",
        );
    }
    Ok(text)
}

/// The outcome of `audit verify`: `intact` decides the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub intact: bool,
    pub text: String,
}

/// Re-hashes the audit chain. A broken link is a verdict, not an error; `Err` means the database
/// could not be read and nothing was checked.
pub fn verify(outbox: &Outbox) -> Result<Verdict, OutboxError> {
    match outbox.audit().verify() {
        Ok(head) => Ok(Verdict {
            intact: true,
            text: format!(
                "audit chain intact: {} records, last hash {}\n",
                head.records, head.last_hash
            ),
        }),
        Err(AuditError::BrokenLink(link)) => Ok(Verdict {
            intact: false,
            text: format!(
                "audit chain BROKEN at record {}: {}\nrecords from {} on cannot be trusted; keep \
                 the outbox database for investigation\n",
                link.seq, link.reason, link.seq
            ),
        }),
        Err(AuditError::Storage(e)) => Err(e),
    }
}

/// `3 (K7M-4QXP, unlock uid=…)`.
fn describe(op: &OperationSummary) -> String {
    format!(
        "{} ({}, {} {})",
        op.id,
        cell(&op.reference),
        op.kind.as_str(),
        cell(op.dn.as_str())
    )
}

fn next_attempt(op: &OperationSummary, now: u64) -> String {
    match op.state {
        State::Pending if op.next_attempt_at <= now => "due now".to_owned(),
        State::Pending => utc(op.next_attempt_at),
        State::Applying => "being applied".to_owned(),
        State::Applied | State::Rejected | State::Expired | State::Purged => "-".to_owned(),
    }
}

/// The outcome code and the last error (a directory diagnostic or why it ended), if any.
fn why(op: &OperationSummary) -> String {
    let mut text = match (&op.outcome_code, &op.last_error) {
        (Some(code), Some(error)) => format!("{code}: {error}"),
        (Some(text), None) | (None, Some(text)) => text.clone(),
        (None, None) => "-".to_owned(),
    };
    if op.maybe_applied {
        text.push_str(" (may have reached the directory)");
    }
    cell(&text)
}

fn totals(ops: &[OperationSummary]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for op in ops {
        let state = op.state.as_str();
        match counts.iter_mut().find(|(s, _)| *s == state) {
            Some((_, n)) => *n += 1,
            None => counts.push((state, 1)),
        }
    }
    let by_state: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    format!("{} operation(s): {}", ops.len(), by_state.join(", "))
}

/// Minutes are enough to match an operation with a receipt or a journal line.
fn utc(ms: u64) -> String {
    let text = format_utc(UNIX_EPOCH + Duration::from_millis(ms));
    text.trim_end_matches(" UTC").to_owned()
}

/// Directory texts may hold anything; a control character must not break the table or the terminal.
fn cell(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::Dn;
    use crate::outbox::Kind;

    fn op(id: i64, state: State) -> OperationSummary {
        OperationSummary {
            id,
            reference: format!("K7M-4QX{id}"),
            kind: Kind::Unlock,
            dn: Dn::new(format!("uid=user{id},ou=people,dc=example,dc=test")),
            user_key: String::new(),
            state,
            created_at: 1_741_944_413_000,
            expires_at: 1_742_030_813_000,
            next_attempt_at: 1_741_944_473_000,
            attempts: 2,
            maybe_applied: false,
            last_error: Some("unreachable:\nconnection refused".into()),
            outcome_code: None,
            holds_secret: false,
        }
    }

    #[test]
    fn the_table_aligns_columns_and_counts_states() {
        let mut rejected = op(3, State::Rejected);
        rejected.outcome_code = Some("PasswordHistory".into());
        rejected.last_error = None;
        let text = operations(&[rejected, op(2, State::Pending)], 1_741_944_413_000);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[0].starts_with("ID  REFERENCE  KIND    STATE"),
            "{text}"
        );
        assert!(lines[1].contains("rejected"), "{text}");
        assert!(lines[1].ends_with("PasswordHistory"), "{text}");
        assert!(lines[2].contains("2025-03-14 09:27"), "{text}");
        // The newline in the directory's diagnostic does not break the row.
        assert!(
            lines[2].ends_with("unreachable: connection refused"),
            "{text}"
        );
        let dn_column = lines[0].find("DN").unwrap();
        assert_eq!(lines[1].find("uid=").unwrap(), dn_column, "{text}");
        assert_eq!(lines[3], "2 operation(s): 1 rejected, 1 pending");
    }

    #[test]
    fn a_due_operation_says_so_and_an_empty_outbox_is_named() {
        let text = operations(&[op(1, State::Pending)], 1_741_944_473_000);
        assert!(text.contains("due now"), "{text}");
        assert_eq!(operations(&[], 0), "the outbox holds no operations\n");
    }
}
