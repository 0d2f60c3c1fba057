//! Officer accounts of one terminal (adapter over the `officers` table): IDs, roles,
//! PINs stored only as Argon2id hashes, and the lock-out after
//! [`MAX_FAILED_ATTEMPTS`] wrong PINs that only a supervisor lifts.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rusqlite::{OptionalExtension, params};

use crate::store::{Store, StoreError};

/// Wrong PINs in a row that lock an account.
pub const MAX_FAILED_ATTEMPTS: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Officer,
    Supervisor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Supervisor => "supervisor",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "officer" => Some(Role::Officer),
            "supervisor" => Some(Role::Supervisor),
            _ => None,
        }
    }
}

/// An account as listed (never with its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Officer {
    pub id: String,
    pub role: Role,
    pub failed_attempts: u32,
    pub locked: bool,
    pub created_at: String,
}

/// The result of one sign-in attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    Ok {
        id: String,
        role: Role,
    },
    /// Wrong PIN; `remaining` attempts before the account locks.
    WrongPin {
        remaining: u32,
    },
    /// This attempt was the last allowed one: the account is now locked.
    NowLocked,
    /// The account was already locked; the PIN was not checked.
    Locked,
    /// No such officer ID.
    Unknown,
}

#[derive(Debug, thiserror::Error)]
pub enum OfficerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("officer ID {0:?} is not valid: use 1 to 32 letters, digits, '-' or '_' (no spaces)")]
    BadId(String),
    #[error("the PIN must be 4 to 12 digits")]
    BadPin,
    #[error("officer {0} already exists")]
    Exists(String),
    #[error("no officer {0} in this terminal's database")]
    NotFound(String),
    #[error("cannot hash the PIN: {0}")]
    Hash(String),
}

impl From<rusqlite::Error> for OfficerError {
    fn from(e: rusqlite::Error) -> Self {
        OfficerError::Store(StoreError::from(e))
    }
}

pub fn validate_id(id: &str) -> Result<(), OfficerError> {
    let ok = (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(OfficerError::BadId(id.to_string()))
    }
}

pub fn validate_pin(pin: &str) -> Result<(), OfficerError> {
    if (4..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(OfficerError::BadPin)
    }
}

/// An Argon2id PHC string (`$argon2id$v=19$...`) with a fresh random salt.
pub fn hash_pin(pin: &str) -> Result<String, OfficerError> {
    Argon2::default()
        .hash_password(pin.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| OfficerError::Hash(e.to_string()))
}

fn pin_matches(pin: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(pin.as_bytes(), &h)
            .is_ok()
    })
}

fn row_to_officer(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Officer, String)> {
    let role: String = r.get(1)?;
    Ok((
        Officer {
            id: r.get(0)?,
            // The table's CHECK constraint admits only the two roles.
            role: Role::parse(&role).unwrap_or(Role::Officer),
            failed_attempts: r.get(3)?,
            locked: r.get::<_, i64>(4)? != 0,
            created_at: r.get(5)?,
        },
        r.get(2)?,
    ))
}

const SELECT: &str = "SELECT id, role, pin_hash, failed_attempts, locked, created_at FROM officers";

/// Officer accounts live in the terminal's database, next to the records they sign.
impl Store {
    pub fn add_officer(
        &mut self,
        id: &str,
        role: Role,
        pin: &str,
        created_at: &str,
    ) -> Result<(), OfficerError> {
        validate_id(id)?;
        validate_pin(pin)?;
        if self.officer(id)?.is_some() {
            return Err(OfficerError::Exists(id.to_string()));
        }
        let hash = hash_pin(pin)?;
        self.connection().execute(
            "INSERT INTO officers (id, role, pin_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, role.as_str(), hash, created_at],
        )?;
        Ok(())
    }

    pub fn officer(&mut self, id: &str) -> Result<Option<Officer>, OfficerError> {
        Ok(self
            .connection()
            .query_row(&format!("{SELECT} WHERE id = ?1"), [id], row_to_officer)
            .optional()?
            .map(|(o, _)| o))
    }

    pub fn list_officers(&mut self) -> Result<Vec<Officer>, OfficerError> {
        let conn = self.connection();
        let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY id"))?;
        let rows = stmt.query_map([], row_to_officer)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r?.0);
        }
        Ok(out)
    }

    /// Lifts a lock-out and clears the failure count.
    pub fn unlock_officer(&mut self, id: &str) -> Result<(), OfficerError> {
        let n = self.connection().execute(
            "UPDATE officers SET locked = 0, failed_attempts = 0 WHERE id = ?1",
            [id],
        )?;
        if n == 0 {
            return Err(OfficerError::NotFound(id.to_string()));
        }
        Ok(())
    }

    /// Checks a PIN and updates the failure count: a right PIN resets it, the
    /// [`MAX_FAILED_ATTEMPTS`]th wrong one in a row locks the account.
    pub fn check_pin(&mut self, id: &str, pin: &str) -> Result<SignIn, OfficerError> {
        let found = self
            .connection()
            .query_row(&format!("{SELECT} WHERE id = ?1"), [id], row_to_officer)
            .optional()?;
        let Some((officer, hash)) = found else {
            // Spend the same time as a real check, so timing does not tell which IDs exist.
            let _ = pin_matches(pin, DUMMY_HASH);
            return Ok(SignIn::Unknown);
        };
        if officer.locked {
            return Ok(SignIn::Locked);
        }
        if pin_matches(pin, &hash) {
            self.connection().execute(
                "UPDATE officers SET failed_attempts = 0 WHERE id = ?1",
                [id],
            )?;
            return Ok(SignIn::Ok {
                id: officer.id,
                role: officer.role,
            });
        }
        let failed = officer.failed_attempts + 1;
        let lock = failed >= MAX_FAILED_ATTEMPTS;
        self.connection().execute(
            "UPDATE officers SET failed_attempts = ?2, locked = ?3 WHERE id = ?1",
            params![id, failed, lock as i64],
        )?;
        Ok(if lock {
            SignIn::NowLocked
        } else {
            SignIn::WrongPin {
                remaining: MAX_FAILED_ATTEMPTS - failed,
            }
        })
    }
}

/// The result of a supervisor's attempt to unlock an account at a terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unlock {
    Done,
    /// The PIN was right, but the account is not a supervisor's.
    NotSupervisor,
    /// The supervisor's own sign-in failed (wrong PIN, locked, unknown ID); it counts
    /// against their account like any sign-in.
    Refused(SignIn),
    /// The supervisor was right, but there is no such officer to unlock.
    NoSuchOfficer,
}

impl Store {
    /// Unlocks `officer` when `supervisor` signs with a right PIN and is a supervisor.
    pub fn unlock_by_supervisor(
        &mut self,
        officer: &str,
        supervisor: &str,
        pin: &str,
    ) -> Result<Unlock, OfficerError> {
        match self.check_pin(supervisor, pin)? {
            SignIn::Ok {
                role: Role::Supervisor,
                ..
            } => match self.unlock_officer(officer) {
                Ok(()) => Ok(Unlock::Done),
                Err(OfficerError::NotFound(_)) => Ok(Unlock::NoSuchOfficer),
                Err(e) => Err(e),
            },
            SignIn::Ok { .. } => Ok(Unlock::NotSupervisor),
            other => Ok(Unlock::Refused(other)),
        }
    }
}

/// Argon2id (default parameters) of a PIN nobody has; only used to equalise timing.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$x3aUIBczMo0tDZgtKHhmAxuzHUQQZnV5T9eiQZAGVhI";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_wrong_pins_lock_until_unlocked() {
        let mut s = Store::open_in_memory().unwrap();
        s.add_officer("O1", Role::Officer, "1234", "t").unwrap();
        for left in (1..MAX_FAILED_ATTEMPTS).rev() {
            assert_eq!(
                s.check_pin("O1", "9999").unwrap(),
                SignIn::WrongPin { remaining: left }
            );
        }
        assert_eq!(s.check_pin("O1", "9999").unwrap(), SignIn::NowLocked);
        // Even the right PIN is refused while locked.
        assert_eq!(s.check_pin("O1", "1234").unwrap(), SignIn::Locked);
        s.unlock_officer("O1").unwrap();
        assert_eq!(
            s.check_pin("O1", "1234").unwrap(),
            SignIn::Ok {
                id: "O1".into(),
                role: Role::Officer
            }
        );
    }

    #[test]
    fn right_pin_resets_the_count_and_hash_is_argon2id() {
        let mut s = Store::open_in_memory().unwrap();
        s.add_officer("S1", Role::Supervisor, "55555", "t").unwrap();
        s.check_pin("S1", "1").unwrap();
        assert!(matches!(
            s.check_pin("S1", "55555").unwrap(),
            SignIn::Ok { .. }
        ));
        assert_eq!(s.officer("S1").unwrap().unwrap().failed_attempts, 0);
        let hash: String = s
            .connection()
            .query_row("SELECT pin_hash FROM officers", [], |r| r.get(0))
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("55555"));
    }

    #[test]
    fn unknown_ids_and_bad_input() {
        let mut s = Store::open_in_memory().unwrap();
        assert_eq!(s.check_pin("NOBODY", "1234").unwrap(), SignIn::Unknown);
        assert!(matches!(
            s.add_officer("a b", Role::Officer, "1234", "t"),
            Err(OfficerError::BadId(_))
        ));
        assert!(matches!(
            s.add_officer("A", Role::Officer, "12", "t"),
            Err(OfficerError::BadPin)
        ));
        s.add_officer("A", Role::Officer, "1234", "t").unwrap();
        assert!(matches!(
            s.add_officer("A", Role::Officer, "1234", "t"),
            Err(OfficerError::Exists(_))
        ));
        assert!(matches!(
            s.unlock_officer("B"),
            Err(OfficerError::NotFound(_))
        ));
    }

    #[test]
    fn only_a_supervisor_with_a_right_pin_unlocks() {
        let mut s = Store::open_in_memory().unwrap();
        s.add_officer("O1", Role::Officer, "1234", "t").unwrap();
        s.add_officer("S1", Role::Supervisor, "55555", "t").unwrap();
        for _ in 0..MAX_FAILED_ATTEMPTS {
            s.check_pin("O1", "9999").unwrap();
        }
        assert_eq!(
            s.unlock_by_supervisor("O1", "O1", "1234").unwrap(),
            Unlock::Refused(SignIn::Locked)
        );
        assert_eq!(
            s.unlock_by_supervisor("O1", "S1", "1").unwrap(),
            Unlock::Refused(SignIn::WrongPin { remaining: 4 })
        );
        assert!(s.officer("O1").unwrap().unwrap().locked);
        assert_eq!(
            s.unlock_by_supervisor("NOBODY", "S1", "55555").unwrap(),
            Unlock::NoSuchOfficer
        );
        assert_eq!(
            s.unlock_by_supervisor("O1", "S1", "55555").unwrap(),
            Unlock::Done
        );
        assert!(!s.officer("O1").unwrap().unwrap().locked);
    }

    #[test]
    fn dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
