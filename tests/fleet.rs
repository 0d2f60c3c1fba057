//! The fleet on a real PostgreSQL server (issue 10): a throwaway cluster started by
//! the test, booth roles with row-level security, and real `evisa` booth processes
//! with their own SQLite files, two at NQZ and one at ALA.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use evisa_fleet::config::RawFleet;
use evisa_fleet::schema::Admin;
use evisa_fleet::{FleetConfig, Link};
use evisa_store::store::Store;
use evisa_testkit::pg::{FaultProxy, PgCluster};

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn case(name: &str, file: &str) -> PathBuf {
    repo().join("fixtures/cases").join(name).join(file)
}

/// A cluster with the fleet's database migrated.
pub struct Server {
    pub pg: PgCluster,
    pub admin: Admin,
    pub dir: tempfile::TempDir,
}

pub fn admin_conn(pg: &PgCluster, db: &str) -> String {
    format!(
        "host={} port={} user=postgres dbname={db}",
        pg.socket_dir().display(),
        pg.port()
    )
}

pub fn server() -> Server {
    let pg = PgCluster::start().unwrap_or_else(|e| panic!("{e}"));
    Admin::connect(&admin_conn(&pg, "postgres"))
        .unwrap()
        .execute("CREATE DATABASE evisa_fleet")
        .unwrap();
    let admin = Admin::connect(&admin_conn(&pg, "evisa_fleet")).unwrap();
    assert_eq!(
        admin.migrate().unwrap(),
        evisa_fleet::schema::SCHEMA_VERSION
    );
    // A second run changes nothing.
    admin.migrate().unwrap();
    Server {
        pg,
        admin,
        dir: tempfile::tempdir().unwrap(),
    }
}

/// One booth: its configuration file, database and credentials.
pub struct Booth {
    pub id: String,
    pub config: PathBuf,
    pub db: PathBuf,
    pub fleet: FleetConfig,
}

impl Server {
    /// Adds a booth role and writes the booth's files; it connects on `port` (the
    /// server's, or a fault proxy's).
    pub fn booth(&self, id: &str, checkpoint: &str, port: u16) -> Booth {
        let role = format!("booth_{}", id.replace('-', "_"));
        let password = format!("pw{}x{}", role.len(), id.replace('-', ""));
        self.admin
            .add_booth(id, &role, &password, checkpoint)
            .unwrap();
        let dir = self.dir.path().join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let creds = dir.join("fleet.pass");
        std::fs::write(&creds, format!("{password}\n")).unwrap();
        set_mode(&creds, 0o600);
        let db = dir.join("booth.db");
        drop(Store::open(&db).unwrap());
        let config = dir.join("booth.toml");
        std::fs::write(
            &config,
            format!(
                "checkpoint = \"{checkpoint}\"\nterminal_id = \"{id}\"\ndatabase = \"booth.db\"\n\
                 trust_store = \"{}\"\ntraining = true\n\n[fleet]\nhost = \"127.0.0.1\"\n\
                 port = {port}\ndbname = \"evisa_fleet\"\nuser = \"{role}\"\n\
                 credentials = \"fleet.pass\"\nclaim_timeout_ms = 1000\nconnect_timeout_ms = 1000\n\
                 sync_interval_secs = 1\n",
                repo().join("keys").display()
            ),
        )
        .unwrap();
        let fleet = FleetConfig::from_raw(
            RawFleet {
                host: Some("127.0.0.1".into()),
                port: Some(i64::from(port)),
                dbname: Some("evisa_fleet".into()),
                user: Some(role),
                credentials: Some(creds),
                ..RawFleet::default()
            },
            &dir,
        )
        .unwrap();
        Booth {
            id: id.into(),
            config,
            db,
            fleet,
        }
    }
}

pub fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl Booth {
    pub fn link(&self) -> Link {
        Link::new(&self.fleet, &self.id).unwrap()
    }

    /// `evisa verify --record` of a fixture case at this booth.
    pub fn record(&self, case_name: &str, date: &str, direction: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_evisa"))
            .args([
                "verify",
                "--record",
                "--date",
                date,
                "--direction",
                direction,
            ])
            .arg("--config")
            .arg(&self.config)
            .arg("--qr-file")
            .arg(case(case_name, "qr.txt"))
            .arg("--mrz-file")
            .arg(case(case_name, "mrz.txt"))
            .output()
            .unwrap()
    }

    pub fn evisa(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_evisa"))
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .output()
            .unwrap()
    }
}

pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const CROSSING: &str = "(terminal_id, local_seq, visa_number, direction, date, checkpoint, document_number, recorded_at, provisional)";

#[test]
fn fleet_booth_role_cannot_insert_or_alter_another_booths_rows() {
    let s = server();
    let b1 = s.booth("nqz-1", "NQZ", s.pg.port());
    let b2 = s.booth("nqz-2", "NQZ", s.pg.port());
    let mut l1 = b1.link();
    let mut l2 = b2.link();
    let row = |t: &str, seq: i64| {
        format!(
            "INSERT INTO crossings {CROSSING} VALUES ('{t}', {seq}, 'V1', 'entry', '2026-11-25', 'NQZ', 'D1', 't', false)"
        )
    };
    // Control: a booth adds its own rows.
    assert_eq!(l2.execute_as_booth(&row("nqz-2", 1)).unwrap(), 1);
    l2.execute_as_booth(
        "INSERT INTO entry_claims (visa_number, ordinal, terminal_id, claim_id, checkpoint, entry_date, claimed_at)
         VALUES ('V1', 1, 'nqz-2', 1, 'NQZ', '2026-11-25', 't')",
    )
    .unwrap();
    // Another booth's terminal id: refused by row-level security.
    let e = l1
        .execute_as_booth(&row("nqz-2", 2))
        .unwrap_err()
        .to_string();
    assert!(e.contains("row-level security"), "{e}");
    let e = l1
        .execute_as_booth(
            "INSERT INTO audit_mirror (terminal_id, seq, at, kind, details, prev_hash, hash)
             VALUES ('nqz-2', 1, 't', 'verdict', '{}', '\\x00', '\\x00')",
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("row-level security"), "{e}");
    // No booth may rewrite or delete crossings, its own or another's.
    for sql in [
        "UPDATE crossings SET checkpoint = 'ALA' WHERE terminal_id = 'nqz-2'",
        "DELETE FROM crossings WHERE terminal_id = 'nqz-2'",
        "UPDATE entry_claims SET terminal_id = 'nqz-1'",
        "UPDATE audit_mirror SET kind = 'x'",
        "DELETE FROM conflicts",
        "TRUNCATE crossings",
        "UPDATE fleet_terminals SET role_name = 'booth_nqz_1'",
    ] {
        let e = l1.execute_as_booth(sql).unwrap_err().to_string();
        assert!(e.contains("permission denied"), "{sql}: {e}");
    }
    // Another booth's claim cannot be released: the policy hides it.
    assert_eq!(
        l1.execute_as_booth("DELETE FROM entry_claims WHERE terminal_id = 'nqz-2'")
            .unwrap(),
        0
    );
    assert_eq!(
        s.admin.count("SELECT count(*) FROM entry_claims").unwrap(),
        1
    );
    assert_eq!(s.admin.count("SELECT count(*) FROM crossings").unwrap(), 1);
}

#[test]
fn fleet_online_single_entry_across_booths_and_overstay_at_another_airport() {
    let s = server();
    let port = s.pg.port();
    let b1 = s.booth("nqz-1", "NQZ", port);
    let b2 = s.booth("nqz-2", "NQZ", port);
    let b3 = s.booth("ala-1", "ALA", port);
    // The overstay case's visa: single entry, 30 days, valid at NQZ and ALA.
    let o = b1.record("overstay", "2026-11-01", "entry");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = b2.record("overstay", "2026-11-01", "entry");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("ENTRIES_EXHAUSTED"), "{}", text(&o));
    assert!(out.contains("booth nqz-1"), "names the booth: {}", text(&o));
    assert!(!out.contains("PROVISIONAL"), "{}", text(&o));
    // Booth 2 pulled the fleet's crossings after its decision: a check without
    // recording (no server asked) counts the entry made at booth 1 too.
    let o = Command::new(env!("CARGO_BIN_EXE_evisa"))
        .args(["verify", "--date", "2026-11-01", "--config"])
        .arg(&b2.config)
        .arg("--qr-file")
        .arg(case("overstay", "qr.txt"))
        .arg("--mrz-file")
        .arg(case("overstay", "mrz.txt"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("ENTRIES_EXHAUSTED"),
        "{}",
        text(&o)
    );
    // The exit at ALA, ds + 1 days after the entry at NQZ.
    let o = b3.record("overstay", "2026-12-02", "exit");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("OVERSTAY"), "{}", text(&o));
    assert!(out.contains("at NQZ"), "{}", text(&o));
    // One crossing of that entry in the fleet, and booth 2 recorded none.
    assert_eq!(
        s.admin
            .count("SELECT count(*) FROM crossings WHERE direction = 'entry'")
            .unwrap(),
        1
    );
    assert_eq!(
        s.admin.count("SELECT count(*) FROM entry_claims").unwrap(),
        1
    );
    // Each booth's audit chain is mirrored and verifies from the central copy.
    for b in [&b1, &b2, &b3] {
        let o = b.evisa(&["fleet", "sync"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let o = b.evisa(&["fleet", "audit-verify"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("intact"));
    }
    let o = b1.evisa(&["fleet", "status"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("fleet link: online"),
        "{}",
        text(&o)
    );
}

#[test]
fn fleet_partition_double_entry_is_a_conflict_after_reconnect() {
    let s = server();
    let p1 = FaultProxy::start(s.pg.addr()).unwrap();
    let p2 = FaultProxy::start(s.pg.addr()).unwrap();
    let b1 = s.booth("nqz-1", "NQZ", p1.port());
    let b2 = s.booth("nqz-2", "NQZ", p2.port());
    p1.cut();
    p2.blackhole();
    for b in [&b1, &b2] {
        let o = b.record("accept_tourist", "2026-11-25", "entry");
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("PROVISIONAL"), "{}", text(&o));
        let o = b.evisa(&["fleet", "status"]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("OFFLINE since"), "{}", text(&o));
        assert!(out.contains("decisions waiting: 1"), "{}", text(&o));
    }
    p1.restore();
    p2.restore();
    // One sync cycle each after the link returns.
    for b in [&b1, &b2] {
        let o = b.evisa(&["fleet", "sync"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    assert_eq!(s.admin.count("SELECT count(*) FROM conflicts").unwrap(), 1);
    assert_eq!(
        s.admin
            .count("SELECT count(*) FROM crossings WHERE provisional")
            .unwrap(),
        2,
        "both admissions are kept, none silently dropped"
    );
    for b in [&b1, &b2] {
        let o = b.evisa(&["fleet", "conflicts"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("1 conflict(s) (fleet)"), "{}", text(&o));
        assert!(out.contains("EV26KZ0012345"), "{}", text(&o));
        let o = b.evisa(&["fleet", "conflicts", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["conflicts"].as_array().unwrap().len(), 1);
    }
    // The loser keeps the conflict locally too.
    let local: usize = [&b1, &b2]
        .iter()
        .map(|b| {
            Store::open_read_only(&b.db)
                .unwrap()
                .local_conflicts()
                .unwrap()
                .len()
        })
        .sum();
    assert_eq!(local, 1);
    // A second cycle records nothing twice.
    for b in [&b1, &b2] {
        b.evisa(&["fleet", "sync"]);
    }
    assert_eq!(s.admin.count("SELECT count(*) FROM conflicts").unwrap(), 1);
    assert_eq!(s.admin.count("SELECT count(*) FROM crossings").unwrap(), 2);
}

#[test]
fn fleet_credentials_readable_by_others_are_refused_naming_the_file() {
    let s = server();
    let b = s.booth("nqz-1", "NQZ", s.pg.port());
    set_mode(&b.fleet.credentials, 0o644);
    let o = b.record("accept_tourist", "2026-11-25", "entry");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("fleet.pass"), "{}", text(&o));
    assert!(err.contains("chmod 600"), "{}", text(&o));
}

/// The kiosk shows the fleet link in its status bar, the provisional notice on the
/// verdict while the link is down, and the conflicts to a supervisor.
#[test]
fn fleet_kiosk_status_bar_provisional_notice_and_supervisor_conflicts() {
    use evisa_core::rules::{Checkpoint, Direction};
    use evisa_kiosk::app::{
        Message, Model, Officer, Screen, Settings, Shown, Stage, TrustSummary, update,
    };
    use evisa_kiosk::fleet::FleetStatus;
    use evisa_store::fleet::Conflict;
    use evisa_store::officers::Role;
    use ratatui::backend::TestBackend;
    use std::time::{Duration, Instant};

    let mut m = Model::new(
        Settings {
            checkpoint: "NQZ".into(),
            terminal_id: "nqz-2".into(),
            pair_timeout: Duration::from_secs(60),
            trust_update_max_age_days: 30,
            demo: false,
            demo_account: false,
            date_override: None,
        },
        evisa_kiosk::i18n::Lang::En,
        Direction::Entry,
        &["keyboard"],
        TrustSummary {
            keys: 2,
            newest: None,
            last_update: None,
            reload_error: None,
        },
        time::macros::date!(2026 - 11 - 25),
        Instant::now(),
    );
    m.screen = Screen::Main;
    m.officer = Some(Officer {
        id: "S-1".into(),
        role: Role::Supervisor,
    });
    let draw = |m: &Model| {
        let mut screen = ratatui::Terminal::new(TestBackend::new(150, 30)).unwrap();
        screen.draw(|f| evisa_kiosk::view::view(m, f)).unwrap();
        screen.backend().to_string()
    };
    assert!(
        !draw(&m).contains("fleet"),
        "a standalone booth shows no fleet"
    );
    let conflict = Conflict {
        terminal_id: "nqz-2".into(),
        local_seq: 7,
        visa_number: "EV26KZ0012345".into(),
        ordinal: 1,
        winner_terminal: "nqz-1".into(),
        winner_checkpoint: "NQZ".into(),
        winner_date: "2026-11-25T10:02:11+05:00".into(),
        detected_at: "2026-11-25T10:40:00+05:00".into(),
    };
    update(
        &mut m,
        Message::Fleet(FleetStatus {
            online: false,
            offline_since: Some("10:02".into()),
            waiting: 3,
            conflicts: vec![conflict],
        }),
    );
    let dir = repo().join("fixtures/cases/accept_tourist");
    let term = evisa_store::terminal::Terminal::open(&repo().join("keys"), None::<&Path>).unwrap();
    let at = Checkpoint {
        date: time::macros::date!(2026 - 11 - 25),
        code: "NQZ".into(),
        direction: Direction::Entry,
    };
    let decision = term
        .verify(
            &std::fs::read_to_string(dir.join("qr.txt")).unwrap(),
            &std::fs::read_to_string(dir.join("mrz.txt")).unwrap(),
            &at,
        )
        .unwrap();
    m.shown = Some(Shown {
        decision,
        at,
        stage: Stage::Final,
    });
    let s = draw(&m);
    assert!(s.contains("fleet OFFLINE since 10:02"), "{s}");
    assert!(s.contains("3 decisions waiting"), "{s}");
    assert!(s.contains("1 conflicts"), "{s}");
    assert!(s.contains("this decision is PROVISIONAL"), "{s}");
    m.shown = None;
    m.show_history = true;
    let s = draw(&m);
    assert!(
        s.contains(
            "CONFLICT EV26KZ0012345: admitted at booth nqz-2, entry already taken by booth nqz-1"
        ),
        "{s}"
    );
    update(
        &mut m,
        Message::Fleet(FleetStatus {
            online: true,
            ..FleetStatus::default()
        }),
    );
    let s = draw(&m);
    assert!(s.contains("fleet online") && !s.contains("CONFLICT"), "{s}");
}

#[test]
fn fleet_status_on_a_booth_database_never_migrated_for_the_fleet_says_so() {
    let s = server();
    let b = s.booth("nqz-1", "NQZ", s.pg.port());
    // The database as a booth made it before the fleet (schema 3): the fleet's tables
    // do not exist yet.
    {
        let c = rusqlite::Connection::open(&b.db).unwrap();
        c.execute_batch(
            "DROP TABLE outbox; DROP TABLE fleet_crossings; DROP TABLE claim_intents;
             DROP TABLE fleet_conflicts; DROP TABLE fleet_link; PRAGMA user_version = 3;",
        )
        .unwrap();
    }
    let before = std::fs::read(&b.db).unwrap();
    for args in [
        &["fleet", "status"][..],
        &["fleet", "status", "--json"],
        &["fleet", "conflicts"],
    ] {
        let o = b.evisa(args);
        assert_ne!(o.status.code(), Some(0), "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("schema version 3")
                && err.contains("not been migrated for the fleet")
                && err.contains("evisa fleet sync"),
            "{args:?}: {}",
            text(&o)
        );
        assert!(!err.contains("no such table"), "{}", text(&o));
    }
    assert_eq!(std::fs::read(&b.db).unwrap(), before, "status only reads");
    // The remedy it names works.
    let o = b.evisa(&["fleet", "sync"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = b.evisa(&["fleet", "status"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("fleet link: online"),
        "{}",
        text(&o)
    );
}

/// The server is a network peer: a tampered schema (a column of another type than the
/// booth asks for) gives the booth an error and a provisional decision, never a panic.
#[test]
fn fleet_tampered_server_column_type_is_an_error_and_a_provisional_decision_not_a_panic() {
    let s = server();
    let port = s.pg.port();
    let b1 = s.booth("nqz-1", "NQZ", port);
    let b2 = s.booth("nqz-2", "NQZ", port);
    let o = b2.record("overstay", "2026-11-01", "entry");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    s.admin
        .execute(
            "ALTER TABLE crossings ALTER COLUMN recorded_at TYPE bigint USING 7;
             ALTER TABLE entry_claims ALTER COLUMN claimed_at TYPE bigint USING 7",
        )
        .unwrap();
    let e = b1.link().lookup("EV26KZ0012345").unwrap_err().to_string();
    assert!(e.contains("malformed"), "{e}");
    let o = b1.record("overstay", "2026-11-01", "entry");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("PROVISIONAL"),
        "{}",
        text(&o)
    );
}
