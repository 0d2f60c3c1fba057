//! The central server's schema, versioned like the booth's (each migration runs once,
//! in one transaction with its version), the booths' group role and its grants, the
//! row-level security that lets a booth add only rows carrying its own terminal id and
//! never alter another booth's, and the administrator's tool to add a booth's role.
//! Run by the ministry's operators (`evisa-issuer fleet-server`), never by a booth.

use std::time::Duration;

use tokio_postgres::{Client, NoTls};

/// The role every booth's login role is a member of; the grants go to it.
pub const BOOTH_GROUP: &str = "evisa_booth";

/// Each entry migrates the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: terminals, entry claims, crossings, the audit mirror, conflicts; the grants
    // and row-level security for the booths.
    r#"
    CREATE TABLE fleet_terminals (
        terminal_id text PRIMARY KEY CHECK (terminal_id ~ '^[A-Za-z0-9_-]{1,32}$'),
        role_name name NOT NULL UNIQUE,
        checkpoint text NOT NULL CHECK (checkpoint ~ '^[A-Z]{3}$')
    );
    -- The terminal id of the connected booth role (NULL for anyone else).
    CREATE FUNCTION fleet_me() RETURNS text LANGUAGE sql STABLE
        AS $$ SELECT terminal_id FROM fleet_terminals WHERE role_name = current_user $$;
    -- One row per (visa, entry number): the unique key arbitrates between booths.
    CREATE TABLE entry_claims (
        visa_number text NOT NULL,
        ordinal integer NOT NULL CHECK (ordinal >= 1),
        terminal_id text NOT NULL REFERENCES fleet_terminals,
        claim_id bigint NOT NULL,
        checkpoint text NOT NULL,
        entry_date text NOT NULL,
        claimed_at text NOT NULL,
        server_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (visa_number, ordinal),
        UNIQUE (terminal_id, claim_id)
    );
    -- Pushed crossings: (terminal_id, local_seq) is the booth's idempotency key.
    CREATE TABLE crossings (
        terminal_id text NOT NULL REFERENCES fleet_terminals,
        local_seq bigint NOT NULL,
        visa_number text NOT NULL,
        direction text NOT NULL CHECK (direction IN ('entry', 'exit')),
        date text NOT NULL,
        checkpoint text NOT NULL,
        document_number text NOT NULL,
        recorded_at text NOT NULL,
        provisional boolean NOT NULL,
        claim_id bigint,
        server_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (terminal_id, local_seq)
    );
    CREATE INDEX crossings_visa ON crossings (visa_number);
    CREATE INDEX crossings_claim ON crossings (terminal_id, claim_id);
    -- Each booth's audit chain, row for row with its hashes.
    CREATE TABLE audit_mirror (
        terminal_id text NOT NULL REFERENCES fleet_terminals,
        seq bigint NOT NULL,
        at text NOT NULL,
        kind text NOT NULL,
        officer text,
        terminal text,
        details text NOT NULL,
        prev_hash bytea NOT NULL,
        hash bytea NOT NULL,
        PRIMARY KEY (terminal_id, seq)
    );
    -- Double entries found on push: a provisional entry whose claim another booth held.
    CREATE TABLE conflicts (
        terminal_id text NOT NULL REFERENCES fleet_terminals,
        local_seq bigint NOT NULL,
        visa_number text NOT NULL,
        ordinal integer NOT NULL,
        winner_terminal text NOT NULL,
        winner_checkpoint text NOT NULL,
        winner_date text NOT NULL,
        detected_at text NOT NULL,
        server_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (terminal_id, local_seq)
    );
    REVOKE ALL ON fleet_terminals, entry_claims, crossings, audit_mirror, conflicts FROM PUBLIC;
    GRANT SELECT ON fleet_terminals TO evisa_booth;
    GRANT SELECT, INSERT ON entry_claims, crossings, conflicts, audit_mirror TO evisa_booth;
    GRANT DELETE ON entry_claims TO evisa_booth;
    ALTER TABLE entry_claims ENABLE ROW LEVEL SECURITY;
    ALTER TABLE crossings ENABLE ROW LEVEL SECURITY;
    ALTER TABLE audit_mirror ENABLE ROW LEVEL SECURITY;
    ALTER TABLE conflicts ENABLE ROW LEVEL SECURITY;
    CREATE POLICY booth_read ON entry_claims FOR SELECT TO evisa_booth USING (true);
    CREATE POLICY booth_add ON entry_claims FOR INSERT TO evisa_booth
        WITH CHECK (terminal_id = fleet_me());
    -- A booth may release only its own claim that no pushed crossing confirms.
    CREATE POLICY booth_release ON entry_claims FOR DELETE TO evisa_booth
        USING (terminal_id = fleet_me() AND NOT EXISTS (
            SELECT 1 FROM crossings x
            WHERE x.terminal_id = entry_claims.terminal_id AND x.claim_id = entry_claims.claim_id));
    CREATE POLICY booth_read ON crossings FOR SELECT TO evisa_booth USING (true);
    CREATE POLICY booth_add ON crossings FOR INSERT TO evisa_booth
        WITH CHECK (terminal_id = fleet_me());
    CREATE POLICY booth_read ON conflicts FOR SELECT TO evisa_booth USING (true);
    CREATE POLICY booth_add ON conflicts FOR INSERT TO evisa_booth
        WITH CHECK (terminal_id = fleet_me());
    CREATE POLICY booth_read_own ON audit_mirror FOR SELECT TO evisa_booth
        USING (terminal_id = fleet_me());
    CREATE POLICY booth_add ON audit_mirror FOR INSERT TO evisa_booth
        WITH CHECK (terminal_id = fleet_me());
    "#,
    // 2: signed update files published by the ministry's operators. Booths may only
    // read them, and never trust them for being here: each booth verifies every file
    // against its own pinned root key, exactly as a file import.
    r#"
    CREATE TABLE published_updates (
        id bigserial PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('trust', 'revoked_visas')),
        seq bigint NOT NULL CHECK (seq >= 1),
        sha256 bytea NOT NULL UNIQUE,
        bytes bytea NOT NULL,
        published_at timestamptz NOT NULL DEFAULT now()
    );
    REVOKE ALL ON published_updates FROM PUBLIC;
    REVOKE ALL ON SEQUENCE published_updates_id_seq FROM PUBLIC;
    GRANT SELECT ON published_updates TO evisa_booth;
    "#,
];

pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("fleet server: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error("fleet server schema version {found} is newer than this tool's {supported}")]
    TooNew { found: i32, supported: i32 },
    #[error("{what} {value:?}: {problem}")]
    Invalid {
        what: &'static str,
        value: String,
        problem: &'static str,
    },
    #[error("fleet server: timed out")]
    Timeout,
    #[error(transparent)]
    Link(#[from] crate::link::LinkError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Brings the connected database to [`SCHEMA_VERSION`] (creating the booths' group
/// role when missing). Safe to run again.
pub async fn migrate(c: &Client) -> Result<i32, AdminError> {
    c.batch_execute(
        "DO $$ BEGIN
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'evisa_booth') THEN
                 CREATE ROLE evisa_booth NOLOGIN;
             END IF;
         END $$;
         CREATE TABLE IF NOT EXISTS fleet_schema (version integer NOT NULL);",
    )
    .await?;
    c.batch_execute("BEGIN; LOCK TABLE fleet_schema IN EXCLUSIVE MODE;")
        .await?;
    let result = async {
        let found: i32 = c
            .query_opt("SELECT version FROM fleet_schema", &[])
            .await?
            .map(|r| r.get(0))
            .unwrap_or(0);
        if found > SCHEMA_VERSION {
            return Err(AdminError::TooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for sql in MIGRATIONS.iter().skip(found as usize) {
            c.batch_execute(sql).await?;
        }
        c.execute("DELETE FROM fleet_schema", &[]).await?;
        c.execute(
            "INSERT INTO fleet_schema (version) VALUES ($1)",
            &[&SCHEMA_VERSION],
        )
        .await?;
        Ok(SCHEMA_VERSION)
    }
    .await;
    match result {
        Ok(v) => {
            c.batch_execute("COMMIT").await?;
            Ok(v)
        }
        Err(e) => {
            let _ = c.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

fn check(
    what: &'static str,
    v: &str,
    ok: impl Fn(u8) -> bool,
    max: usize,
) -> Result<(), AdminError> {
    if v.is_empty() || v.len() > max || !v.bytes().all(ok) {
        return Err(AdminError::Invalid {
            what,
            value: v.to_string(),
            problem: "has characters or a length that are not allowed",
        });
    }
    Ok(())
}

/// Creates a booth's login role (a member of [`BOOTH_GROUP`]) with its password and
/// registers its terminal id and checkpoint. The names are checked to plain
/// identifiers before they are spliced into the DDL (which takes no parameters).
pub async fn add_booth(
    c: &Client,
    terminal_id: &str,
    role: &str,
    password: &str,
    checkpoint: &str,
) -> Result<(), AdminError> {
    check(
        "terminal id",
        terminal_id,
        |b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_',
        32,
    )?;
    check(
        "role",
        role,
        |b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_',
        63,
    )?;
    check("password", password, |b| b.is_ascii_alphanumeric(), 128)?;
    check("checkpoint", checkpoint, |b| b.is_ascii_uppercase(), 3)?;
    c.batch_execute(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD '{password}' IN ROLE {BOOTH_GROUP}"
    ))
    .await?;
    c.execute(
        "INSERT INTO fleet_terminals (terminal_id, role_name, checkpoint) VALUES ($1, $2, $3)",
        &[&terminal_id, &role, &checkpoint],
    )
    .await?;
    Ok(())
}

/// A blocking administrator's connection (the tool and the tests).
pub struct Admin {
    rt: tokio::runtime::Runtime,
    client: Client,
}

impl Admin {
    /// Connects with a libpq-style connection string, e.g.
    /// `host=/run/postgresql port=5432 user=postgres dbname=evisa_fleet`.
    pub fn connect(conn: &str) -> Result<Self, AdminError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let config: tokio_postgres::Config = conn.parse()?;
        let client = rt.block_on(async {
            let (client, connection) =
                tokio::time::timeout(Duration::from_secs(10), config.connect(NoTls))
                    .await
                    .map_err(|_| AdminError::Timeout)??;
            tokio::spawn(connection);
            Ok::<_, AdminError>(client)
        })?;
        Ok(Admin { rt, client })
    }

    pub fn migrate(&self) -> Result<i32, AdminError> {
        self.rt.block_on(migrate(&self.client))
    }

    pub fn add_booth(
        &self,
        terminal_id: &str,
        role: &str,
        password: &str,
        checkpoint: &str,
    ) -> Result<(), AdminError> {
        self.rt.block_on(add_booth(
            &self.client,
            terminal_id,
            role,
            password,
            checkpoint,
        ))
    }

    /// Runs statements (no results): for set-up and tests.
    pub fn execute(&self, sql: &str) -> Result<(), AdminError> {
        Ok(self.rt.block_on(self.client.batch_execute(sql))?)
    }

    /// Publishes a signed update file to the booths; returns its id, or the id it
    /// already had (publishing the same file again changes nothing). The caller has
    /// verified it (`evisa-issuer fleet-server publish`); booths verify it again.
    pub fn publish_update(
        &self,
        kind: &str,
        seq: u64,
        sha256: &[u8],
        bytes: &[u8],
    ) -> Result<(i64, bool), AdminError> {
        let seq = i64::try_from(seq).map_err(|_| AdminError::Invalid {
            what: "update sequence",
            value: seq.to_string(),
            problem: "is too large",
        })?;
        let row = self.rt.block_on(self.client.query_opt(
            "INSERT INTO published_updates (kind, seq, sha256, bytes) VALUES ($1, $2, $3, $4)
             ON CONFLICT (sha256) DO NOTHING RETURNING id",
            &[&kind, &seq, &sha256, &bytes],
        ))?;
        if let Some(r) = row {
            return Ok((r.get(0), true));
        }
        let r = self.rt.block_on(self.client.query_one(
            "SELECT id FROM published_updates WHERE sha256 = $1",
            &[&sha256],
        ))?;
        Ok((r.get(0), false))
    }

    /// One integer from a query: for tests and the bench's checks.
    pub fn count(&self, sql: &str) -> Result<i64, AdminError> {
        Ok(self.rt.block_on(self.client.query_one(sql, &[]))?.get(0))
    }

    /// A terminal's mirrored audit chain, oldest first.
    pub fn audit_mirror(
        &self,
        terminal_id: &str,
    ) -> Result<Vec<evisa_store::fleet::MirrorRow>, AdminError> {
        let rows = self.rt.block_on(
            self.client
                .query(crate::link::MIRROR_SELECT, &[&terminal_id]),
        )?;
        rows.iter()
            .map(crate::link::mirror_row)
            .collect::<Result<_, _>>()
            .map_err(AdminError::from)
    }
}
