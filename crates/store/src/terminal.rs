//! The verification service of one booth: the pure rules wired to the trust folder,
//! the SQLite store and the clock. The CLI's `verify` and the kiosk both go through
//! here, so a verdict means the same thing wherever it is shown.
//!
//! Recording is decided where it is written: the visa's history is read, the rules
//! run and the crossing (or the REJECT) is audited inside one `BEGIN IMMEDIATE`
//! transaction, so booths recording the same single-entry visa at once admit it once,
//! and the decision returned (and shown) is the one that was recorded.

use crate::audit::AuditKind;
use std::path::{Path, PathBuf};

use time::{Date, OffsetDateTime};

use crate::fleet::{ClaimOutcome, FleetHook, FleetMovement, OutboxEntry};
use crate::store::{AuditEvent, NewMovement, Store, StoreError};
use evisa_core::dates::KZ_OFFSET;
use evisa_core::detail::Detail;
use evisa_core::payload::Claims;
use evisa_core::rules::{
    self, Checkpoint, Decision, Direction, History, Movement, Reason, ReasonCode, ScannedVisa,
    Verdict,
};
use evisa_core::trust::{TrustError, TrustStore};

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

/// A decision as it was written to the database: the one to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Made on the history read inside the recording transaction. A REJECT here after
    /// an ACCEPT was shown means another booth recorded the visa in between.
    pub decision: Decision,
    /// The crossing's movement id when the decision was an ACCEPT and was recorded.
    pub movement_id: Option<i64>,
    /// Decided while the fleet's server was unreachable: the entry's claim is made
    /// when the link returns (a lost claim becomes a conflict).
    pub provisional: bool,
    /// An exit of a visa with no entry known here or at any booth of the fleet.
    pub no_entry_anywhere: bool,
}

/// A booth's verifier: a trust store and, when recording, a database.
pub struct Terminal {
    pub trust: TrustStore,
    pub trust_dir: PathBuf,
    pub store: Option<Store>,
    /// The fleet's server, when the booth is part of one (`[fleet]`).
    pub fleet: Option<Box<dyn FleetHook>>,
}

impl Terminal {
    pub fn open(trust_dir: &Path, db: Option<&Path>) -> Result<Self, TerminalError> {
        let trust = crate::trustdir::load_dir(trust_dir)?;
        let store = db.map(Store::open).transpose()?;
        Ok(Terminal {
            trust,
            trust_dir: trust_dir.to_path_buf(),
            store,
            fleet: None,
        })
    }

    /// Runs every rule of spec §4. Reads history from the database when one is open;
    /// without one, the visa has no recorded crossings.
    pub fn verify(&self, qr: &str, mrz: &str, at: &Checkpoint) -> Result<Decision, TerminalError> {
        let scanned = rules::read_visa(qr, &self.trust);
        let mut history = match (&self.store, &scanned.claims) {
            (Some(store), Some(c)) => store.history(&c.visa.number)?,
            _ => History::default(),
        };
        // A fleet booth's preview also counts the fleet's crossings pulled so far (the
        // record asks the server itself).
        if let (Some(_), Some(store), Some(c)) = (&self.fleet, &self.store, &scanned.claims) {
            history.movements.extend(
                store
                    .pulled_movements(&c.visa.number)?
                    .into_iter()
                    .map(|m| m.movement),
            );
            history.movements.sort_by_key(|m| m.date);
        }
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
            kind: AuditKind::Verdict,
            officer,
            terminal: terminal_id,
            at: &kazakhstan_now_rfc3339(),
            details: &details,
        })?)
    }

    /// Verifies and records in one transaction: an ACCEPT becomes a crossing with its
    /// audit row, a REJECT an audited verdict. The returned decision is the recorded
    /// one; durable when this returns.
    pub fn verify_and_record(
        &mut self,
        qr: &str,
        mrz: &str,
        at: &Checkpoint,
        officer: Option<&str>,
        terminal_id: Option<&str>,
    ) -> Result<Recorded, TerminalError> {
        let scanned = rules::read_visa(qr, &self.trust);
        self.decide_and_write(&scanned, mrz, at, officer, terminal_id, None)
    }

    /// Records an ACCEPT shown earlier (the kiosk's F5), with the officer's checklist
    /// confirmation (`checklist_confirm` details) when given, all in one transaction.
    /// The rules run again on the history read inside it: when another booth recorded
    /// the visa since (or it was revoked), the result is that REJECT, audited as a
    /// verdict, and no crossing. Durable when this returns.
    pub fn record(
        &mut self,
        decision: &Decision,
        at: &Checkpoint,
        officer: Option<&str>,
        terminal_id: Option<&str>,
        confirmation: Option<&serde_json::Value>,
    ) -> Result<Recorded, TerminalError> {
        let (Verdict::Accept, Some(visa), Some(passport)) =
            (decision.verdict, &decision.visa, &decision.passport)
        else {
            return Err(TerminalError::NotAccepted(decision.verdict.as_str()));
        };
        // An ACCEPT was decided on an authentic code with no failing reason, and the
        // rules read only the visa, the reasons and the signer of a scan, so the scan
        // is rebuilt from the decision; the passport's own MRZ lines are parsed again.
        let scanned = ScannedVisa {
            claims: Some(Claims {
                issuer: String::new(),
                issued_at: 0,
                expires_at: 0,
                visa: visa.clone(),
            }),
            authentic: true,
            reasons: Vec::new(),
            signer: decision.signer.clone(),
            foreign: false,
        };
        let mrz = passport.lines.join("\n");
        self.decide_and_write(&scanned, &mrz, at, officer, terminal_id, confirmation)
    }

    fn decide_and_write(
        &mut self,
        scanned: &ScannedVisa,
        mrz: &str,
        at: &Checkpoint,
        officer: Option<&str>,
        terminal_id: Option<&str>,
        confirmation: Option<&serde_json::Value>,
    ) -> Result<Recorded, TerminalError> {
        let visa_number = scanned.claims.as_ref().map(|c| c.visa.number.clone());
        let fleet_mode = self.fleet.is_some();
        let terminal_id = match &self.fleet {
            Some(f) => Some(f.terminal_id().to_string()),
            None => terminal_id.map(str::to_string),
        };
        let terminal_id = terminal_id.as_deref();
        // What the other booths know of this visa, fresh when the server answers;
        // otherwise what was last pulled (read inside the transaction below).
        let mut fresh: Option<Vec<FleetMovement>> = None;
        let mut fleet_error: Option<String> = None;
        if let (Some(f), Some(v)) = (self.fleet.as_mut(), &visa_number) {
            match f.lookup(v) {
                Ok(list) => fresh = Some(list),
                Err(e) => {
                    tracing::warn!("{e}: deciding provisionally");
                    fleet_error = Some(e.to_string());
                }
            }
        }
        let mut online = fresh.is_some();
        // Entries other booths won while this one tried to claim.
        let mut lost_to: Vec<FleetMovement> = Vec::new();
        // The claim this booth holds (or may hold, when the answer timed out).
        let mut claim: Option<(i64, i64)> = None;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let store = self.store.as_mut().ok_or(TerminalError::NoDatabase)?;
            let tx = store.write()?;
            let mut history = match &visa_number {
                Some(v) => tx.history(v)?,
                None => History::default(),
            };
            let mut fleet_moves = match (&fresh, &visa_number) {
                _ if !fleet_mode => Vec::new(),
                (Some(k), _) => k.clone(),
                (None, Some(v)) => tx.pulled_movements(v)?,
                (None, None) => Vec::new(),
            };
            fleet_moves.extend(lost_to.iter().cloned());
            history
                .movements
                .extend(fleet_moves.iter().map(|m| m.movement.clone()));
            // Oldest first (stable: a booth's own order is kept within a day).
            history.movements.sort_by_key(|m| m.date);
            let mut decision = rules::decide(scanned, mrz, &history, at);
            name_the_winner(&mut decision, &fleet_moves);
            let entry_accept =
                decision.verdict == Verdict::Accept && at.direction == Direction::Entry;
            if let (true, true, None, Some(v)) = (entry_accept, online, claim, &visa_number) {
                if attempts > 8 {
                    online = false;
                    continue;
                }
                // The intent is durable before the claim is made: a crash between the
                // two leaves an intent, and the sync releases its claim.
                let ordinal = decision.entries_used as i64 + 1;
                let now = kazakhstan_now_rfc3339();
                let id = tx.add_claim_intent(v, ordinal, &now)?;
                tx.commit()?;
                let fleet = self.fleet.as_mut().expect("online implies a fleet");
                match fleet.claim_entry(v, ordinal, id, at) {
                    Ok(ClaimOutcome::Won) => claim = Some((id, ordinal)),
                    Ok(ClaimOutcome::Lost(winner)) => {
                        lost_to.push(winner);
                        let store = self.store.as_mut().ok_or(TerminalError::NoDatabase)?;
                        let tx = store.write()?;
                        tx.drop_claim_intent(id)?;
                        tx.commit()?;
                    }
                    Err(e) => {
                        // The claim may have landed: the push claims with the same key.
                        tracing::warn!("{e}: recording provisionally");
                        fleet_error = Some(e.to_string());
                        online = false;
                        claim = Some((id, ordinal));
                    }
                }
                continue;
            }
            let now = kazakhstan_now_rfc3339();
            let event = |kind, details| AuditEvent {
                kind,
                officer,
                terminal: terminal_id,
                at: &now,
                details,
            };
            if let Some(details) = confirmation {
                tx.append_audit(&event(AuditKind::ChecklistConfirm, details))?;
            }
            let provisional = fleet_mode && !online;
            let no_entry_anywhere = at.direction == Direction::Exit
                && decision.visa.is_some()
                && !history
                    .movements
                    .iter()
                    .any(|m| m.direction == Direction::Entry);
            let mut details = verdict_details(&decision, at);
            if fleet_mode && let Some(obj) = details.as_object_mut() {
                obj.insert("provisional".into(), provisional.into());
            }
            let movement_id = match (decision.verdict, &decision.visa, &decision.passport) {
                (Verdict::Accept, Some(visa), Some(passport)) => {
                    let movement = Movement {
                        direction: at.direction,
                        date: at.date,
                        checkpoint: at.code.clone(),
                    };
                    let id = tx.record_crossing(
                        &NewMovement {
                            visa_number: &visa.number,
                            movement: &movement,
                            document_number: &passport.document_number,
                            officer,
                            terminal: terminal_id,
                            recorded_at: &now,
                        },
                        &event(AuditKind::Crossing, &details),
                    )?;
                    if fleet_mode {
                        let (claim_id, ordinal) = match (at.direction, claim) {
                            (Direction::Exit, _) => (None, None),
                            (Direction::Entry, Some((c, o))) => {
                                tx.drop_claim_intent(c)?;
                                (Some(c), Some(o))
                            }
                            (Direction::Entry, None) => {
                                // Offline: a claim key for the push, never announced.
                                let c = tx.add_claim_intent(&visa.number, 0, &now)?;
                                tx.drop_claim_intent(c)?;
                                (Some(c), Some(decision.entries_used as i64 + 1))
                            }
                        };
                        tx.outbox_push(&OutboxEntry {
                            movement_id: id,
                            visa_number: &visa.number,
                            movement: &movement,
                            document_number: &passport.document_number,
                            recorded_at: &now,
                            entries_allowed: i64::try_from(visa.entries).unwrap_or(i64::MAX),
                            ordinal,
                            claim_id,
                            provisional,
                        })?;
                    }
                    Some(id)
                }
                _ => {
                    // A claim won for an entry now refused stays announced: the sync
                    // releases it.
                    tx.append_audit(&event(AuditKind::Verdict, &details))?;
                    None
                }
            };
            tx.commit()?;
            if let (true, Some(e)) = (provisional, &fleet_error) {
                // The status shows the link down from this decision on.
                self.store
                    .as_mut()
                    .ok_or(TerminalError::NoDatabase)?
                    .note_sync(&now, Some(e), None)?;
            }
            return Ok(Recorded {
                decision,
                movement_id,
                provisional,
                no_entry_anywhere,
            });
        }
    }
}

/// An ENTRIES_EXHAUSTED caused by another booth's entry names that booth and when.
fn name_the_winner(decision: &mut Decision, fleet: &[FleetMovement]) {
    let Some(last) = fleet
        .iter()
        .filter(|m| m.movement.direction == Direction::Entry)
        .max_by_key(|m| m.movement.date)
    else {
        return;
    };
    for r in &mut decision.reasons {
        if r.code == ReasonCode::EntriesExhausted {
            // As facts, not English appended to a sentence: the kiosk tells it in the
            // officer's language and JSON keeps the stable English rendering.
            *r = Reason::new(
                ReasonCode::EntriesExhausted,
                Detail::EntryAtBooth {
                    booth: last.terminal_id.clone(),
                    checkpoint: last.movement.checkpoint.clone(),
                    date: last.movement.date,
                },
            );
        }
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
