//! The verification service of one booth: the pure rules wired to the trust folder,
//! the SQLite store and the clock. The CLI's `verify` and the kiosk both go through
//! here, so a verdict means the same thing wherever it is shown.

use std::path::{Path, PathBuf};

use time::{Date, OffsetDateTime};

use crate::issue::KZ_OFFSET;
use crate::rules::{self, Checkpoint, Decision, Direction, History, Movement, Verdict};
use crate::store::{AuditEvent, NewMovement, Store, StoreError};
use crate::trust::{TrustError, TrustStore};

/// The checkpoint date: today in Kazakhstan time (UTC+5), spec §4.
pub fn kazakhstan_today() -> Date {
    OffsetDateTime::now_utc().to_offset(KZ_OFFSET).date()
}

/// Current time in Kazakhstan as RFC 3339, for record timestamps.
pub fn kazakhstan_now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .to_offset(KZ_OFFSET)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[derive(Debug, thiserror::Error)]
pub enum TerminalError {
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("recording needs a database (--db FILE)")]
    NoDatabase,
    #[error("only an ACCEPT can be recorded as a crossing (this verdict is {0})")]
    NotAccepted(&'static str),
}

/// A booth's verifier: a trust store and, when recording, a database.
pub struct Terminal {
    pub trust: TrustStore,
    pub trust_dir: PathBuf,
    pub store: Option<Store>,
}

impl Terminal {
    pub fn open(trust_dir: &Path, db: Option<&Path>) -> Result<Self, TerminalError> {
        let trust = TrustStore::load_dir(trust_dir)?;
        let store = db.map(Store::open).transpose()?;
        Ok(Terminal {
            trust,
            trust_dir: trust_dir.to_path_buf(),
            store,
        })
    }

    /// Runs every rule of spec §4. Reads history from the database when one is open;
    /// without one, the visa has no recorded crossings.
    pub fn verify(&self, qr: &str, mrz: &str, at: &Checkpoint) -> Result<Decision, TerminalError> {
        let scanned = rules::read_visa(qr, &self.trust);
        let history = match (&self.store, &scanned.claims) {
            (Some(store), Some(c)) => store.history(&c.visa.number)?,
            _ => History::default(),
        };
        Ok(rules::decide(&scanned, mrz, &history, at))
    }

    /// Appends a verdict to the audit log, without recording a crossing.
    pub fn audit_verdict(
        &mut self,
        decision: &Decision,
        at: &Checkpoint,
        officer: Option<&str>,
        terminal_id: Option<&str>,
    ) -> Result<i64, TerminalError> {
        let store = self.store.as_mut().ok_or(TerminalError::NoDatabase)?;
        let details = verdict_details(decision, at);
        Ok(store.append_audit(&AuditEvent {
            kind: "verdict",
            officer,
            terminal: terminal_id,
            at: &kazakhstan_now_rfc3339(),
            details: &details,
        })?)
    }

    /// Records an accepted crossing with its audit event, atomically; durable when
    /// this returns.
    pub fn record(
        &mut self,
        decision: &Decision,
        at: &Checkpoint,
        officer: Option<&str>,
        terminal_id: Option<&str>,
    ) -> Result<i64, TerminalError> {
        let (Verdict::Accept, Some(visa), Some(passport)) =
            (decision.verdict, &decision.visa, &decision.passport)
        else {
            return Err(TerminalError::NotAccepted(decision.verdict.as_str()));
        };
        let store = self.store.as_mut().ok_or(TerminalError::NoDatabase)?;
        let movement = Movement {
            direction: at.direction,
            date: at.date,
            checkpoint: at.code.clone(),
        };
        let now = kazakhstan_now_rfc3339();
        let details = verdict_details(decision, at);
        Ok(store.record_crossing(
            &NewMovement {
                visa_number: &visa.number,
                movement: &movement,
                document_number: &passport.document_number,
                officer,
                terminal: terminal_id,
                recorded_at: &now,
            },
            &AuditEvent {
                kind: "crossing",
                officer,
                terminal: terminal_id,
                at: &now,
                details: &details,
            },
        )?)
    }
}

/// What the audit log keeps of a verdict: enough to reconstruct the decision, without
/// the raw QR (it is re-derivable from the visa number by the issuer).
pub fn verdict_details(d: &Decision, at: &Checkpoint) -> serde_json::Value {
    serde_json::json!({
        "verdict": d.verdict.as_str(),
        "codes": d.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        "visa": d.visa.as_ref().map(|v| v.number.clone()),
        "document": d.passport.as_ref().map(|p| format!("{} {}", p.issuing_state, p.document_number)),
        "checkpoint": at.code,
        "date": at.date.to_string(),
        "direction": at.direction.as_str(),
    })
}

/// Convenience for callers that build a checkpoint from settings.
pub fn checkpoint(date: Date, code: &str, direction: Direction) -> Checkpoint {
    Checkpoint {
        date,
        code: code.to_string(),
        direction,
    }
}
