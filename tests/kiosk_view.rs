//! The kiosk's screens drawn on ratatui's `TestBackend` at 80×24 (the smallest
//! supported terminal), compared with insta snapshots in `tests/snapshots/`: sign-in,
//! waiting, ACCEPT with the checklist, the refusal list, REJECT with several reasons,
//! help, a disconnected source, and a language switch.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Terminal as Screen;
use ratatui::backend::TestBackend;
use time::macros::date;

use evisa_core::rules::{Checkpoint, Direction};
use evisa_kiosk::app::{
    HistoryRow, Message, Model, Outcome, Settings, Shown, Stage, TrustSummary, update,
};
use evisa_kiosk::fault::{Fault, FaultKind};
use evisa_kiosk::i18n::Lang;
use evisa_kiosk::view::view;
use evisa_scan::{ScanEvent, SourceStatus};
use evisa_store::terminal::Terminal;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn model(demo: bool) -> Model {
    let mut m = Model::new(
        Settings {
            checkpoint: "NQZ".into(),
            terminal_id: "kiosk-1".into(),
            pair_timeout: Duration::from_secs(60),
            trust_update_max_age_days: 30,
            demo,
            demo_account: false,
            date_override: None,
        },
        Lang::En,
        Direction::Entry,
        &["keyboard", "serial-scanner"],
        TrustSummary {
            keys: 2,
            newest: Some("TEST ONLY e-visa signer 2026".into()),
            last_update: None,
            ..TrustSummary::default()
        },
        date!(2026 - 11 - 25),
        Instant::now(),
    );
    m.clock = "2026-11-25 14:05".into();
    m.sources[1].status = SourceStatus::Connected;
    m
}

fn draw(m: &Model) -> String {
    let mut screen = Screen::new(TestBackend::new(80, 24)).unwrap();
    screen.draw(|f| view(m, f)).unwrap();
    screen.backend().to_string()
}

fn key(m: &mut Model, code: KeyCode) {
    update(m, Message::Key(KeyEvent::from(code)));
}

/// Verifies a fixture case through the real terminal code.
fn shown(case: &str, date: time::Date, code: &str) -> Shown {
    let dir = root().join("fixtures/cases").join(case);
    let qr = std::fs::read_to_string(dir.join("qr.txt")).unwrap();
    let mrz = std::fs::read_to_string(dir.join("mrz.txt")).unwrap();
    let term = Terminal::open(&root().join("keys"), None::<&Path>).unwrap();
    let at = Checkpoint {
        date,
        code: code.into(),
        direction: Direction::Entry,
    };
    let decision = term.verify(&qr, &mrz, &at).unwrap();
    Shown {
        decision,
        at,
        stage: Stage::Final,
    }
}

/// A fixture case decided on a given history of the visa (entries already made).
fn shown_after(
    case: &str,
    date: time::Date,
    direction: Direction,
    entries: &[time::Date],
) -> Shown {
    use evisa_core::rules::{History, Movement, decide, read_visa};
    let dir = root().join("fixtures/cases").join(case);
    let qr = std::fs::read_to_string(dir.join("qr.txt")).unwrap();
    let mrz = std::fs::read_to_string(dir.join("mrz.txt")).unwrap();
    let term = Terminal::open(&root().join("keys"), None::<&Path>).unwrap();
    let at = Checkpoint {
        date,
        code: "NQZ".into(),
        direction,
    };
    let history = History {
        movements: entries
            .iter()
            .map(|d| Movement {
                direction: Direction::Entry,
                date: *d,
                checkpoint: "ALA".into(),
            })
            .collect(),
        revoked: None,
    };
    Shown {
        decision: decide(&read_visa(&qr, &term.trust), &mrz, &history, &at),
        at,
        stage: Stage::Final,
    }
}

#[test]
fn sign_in() {
    let mut m = model(false);
    for c in "O-17".chars() {
        key(&mut m, KeyCode::Char(c));
    }
    key(&mut m, KeyCode::Tab);
    for c in "12".chars() {
        key(&mut m, KeyCode::Char(c));
    }
    let s = draw(&m);
    assert!(s.contains("O-17") && s.contains("••") && !s.contains("12 "));
    insta::assert_snapshot!(s);
}

/// F7 after a lock-out: the form asks for the supervisor's ID and PIN to unlock the
/// officer whose ID was typed (here in Kazakh).
#[test]
fn supervisor_unlock_form_in_kazakh() {
    use evisa_store::officers::SignIn;
    let mut m = model(false);
    m.lang = Lang::Kk;
    for c in "O-17".chars() {
        key(&mut m, KeyCode::Char(c));
    }
    key(&mut m, KeyCode::Tab);
    key(&mut m, KeyCode::Char('1'));
    key(&mut m, KeyCode::Enter);
    update(&mut m, Message::SignedIn(Ok(SignIn::Locked)));
    assert!(draw(&m).contains("F7: аға инспектор бұғатталған тіркелгіні ашады"));
    key(&mut m, KeyCode::F(7));
    for c in "S-1".chars() {
        key(&mut m, KeyCode::Char(c));
    }
    key(&mut m, KeyCode::Tab);
    for c in "55555".chars() {
        key(&mut m, KeyCode::Char(c));
    }
    let s = draw(&m);
    assert!(
        s.contains("Аға инспектордың бұғатты ашуы") && s.contains("O-17") && s.contains("S-1"),
        "{s}"
    );
    assert!(s.contains("•••••") && !s.contains("55555"), "{s}");
    insta::assert_snapshot!(s);
}

/// The history opens with the officer's shift: its counts, its decisions, then (dim,
/// after a rule) what the booth decided before this sign-in.
#[test]
fn the_history_shows_the_current_shift_first() {
    let mut m = model(true);
    m.shift.since = "2026-11-25 14:00".into();
    m.shift.reject = 1;
    let row = |at: &str, visa: &str| HistoryRow {
        at: format!("2026-11-25 {at}"),
        time: at.into(),
        visa: visa.into(),
        officer: "demo".into(),
        outcome: Outcome::Reject(vec!["VISA_EXPIRED".into()]),
    };
    m.history = vec![row("14:03", "EV-NOW"), row("13:58", "EV-BEFORE")];
    key(&mut m, KeyCode::F(4));
    let s = draw(&m);
    let at = |needle: &str| s.find(needle).unwrap_or_else(|| panic!("{needle}:\n{s}"));
    assert!(
        s.contains("Shift of demo since 2026-11-25 14:00: accepted 0 · rejected 1 · refused 0")
    );
    assert!(at("EV-NOW") < at("earlier at this booth"));
    assert!(at("earlier at this booth") < at("EV-BEFORE"));
}

#[test]
fn waiting_with_history() {
    let mut m = model(true);
    m.qr = Some("KZV1:...".into());
    m.history = vec![
        HistoryRow {
            at: "2026-11-25 13:58".into(),
            time: "13:58".into(),
            visa: "EV26KZ0012345".into(),
            officer: "demo".into(),
            outcome: Outcome::Crossing(Direction::Entry),
        },
        HistoryRow {
            at: "2026-11-25 13:51".into(),
            time: "13:51".into(),
            visa: "EV26KZ0099999".into(),
            officer: "demo".into(),
            outcome: Outcome::Reject(vec!["VISA_EXPIRED".into()]),
        },
    ];
    let s = draw(&m);
    assert!(s.contains("[✔] E-visa QR") && s.contains("[ ] Passport MRZ"));
    insta::assert_snapshot!(s);
}

#[test]
fn accept_with_checklist() {
    let mut m = model(true);
    let mut sh = shown("accept_tourist", date!(2026 - 11 - 25), "NQZ");
    sh.stage = Stage::Checklist;
    m.shown = Some(sh);
    let s = draw(&m);
    assert!(s.contains("✔ ACCEPT") && s.contains("F5") && s.contains("ERIKSSON"));
    insta::assert_snapshot!(s);
}

#[test]
fn refusing_an_accept() {
    let mut m = model(true);
    let mut sh = shown("accept_tourist", date!(2026 - 11 - 25), "NQZ");
    sh.stage = Stage::Checklist;
    m.shown = Some(sh);
    key(&mut m, KeyCode::F(6));
    key(&mut m, KeyCode::Down);
    insta::assert_snapshot!(draw(&m));
    key(&mut m, KeyCode::Enter);
    let s = draw(&m);
    assert!(s.contains("✘ REJECT") && s.contains("Torn or unsewn pages"));
}

#[test]
fn reject_with_several_reasons() {
    let mut m = model(true);
    m.shown = Some(shown("several_reasons", date!(2027 - 02 - 01), "ALA"));
    let s = draw(&m);
    for code in [
        "VISA_EXPIRED",
        "CHECKPOINT_NOT_ALLOWED",
        "DOCUMENT_MISMATCH",
        "HOLDER_MISMATCH",
    ] {
        assert!(s.contains(code), "{code} missing:\n{s}");
    }
    assert!(s.contains("≠"));
    insta::assert_snapshot!(s);
}

#[test]
fn reject_in_russian_and_kazakh() {
    let mut m = model(true);
    m.shown = Some(shown("document_mismatch", date!(2026 - 11 - 25), "NQZ"));
    key(&mut m, KeyCode::F(2));
    let ru = draw(&m);
    assert!(ru.contains("ОТКАЗ") && ru.contains("DOCUMENT_MISMATCH"));
    key(&mut m, KeyCode::F(2));
    let kk = draw(&m);
    assert!(kk.contains("БАС ТАРТУ") && kk.contains("DOCUMENT_MISMATCH"));
    insta::assert_snapshot!(kk);
}

fn draw_big(m: &Model) -> String {
    let mut screen = Screen::new(TestBackend::new(120, 40)).unwrap();
    screen.draw(|f| view(m, f)).unwrap();
    screen.backend().to_string()
}

/// English words of the rules' sentences that must never reach a Russian or Kazakh
/// screen (names and codes from the documents are shown as printed).
const ENGLISH: [&str; 12] = [
    "the visa",
    "The visa",
    "passport shows",
    "on the visa",
    "today is",
    "valid until",
    "checkpoint is",
    "entries",
    "already recorded",
    "permitted stay",
    "Passport",
    "surname",
];

fn assert_no_english(s: &str) {
    for w in ENGLISH {
        assert!(!s.contains(w), "English {w:?} on screen:\n{s}");
    }
}

/// Issue 12: a Russian or Kazakh officer saw translated titles over English sentences
/// ("given names on the visa is …"). Every reason's detail, date and field name is in
/// the officer's language; the codes stay.
#[test]
fn reject_screens_in_russian_and_kazakh_have_every_detail_translated() {
    let mut m = model(true);
    m.shown = Some(shown("several_reasons", date!(2027 - 02 - 01), "ALA"));
    m.lang = Lang::Ru;
    let ru = draw_big(&m);
    assert_no_english(&ru);
    for want in [
        "ОТКАЗ",
        "VISA_EXPIRED",
        "HOLDER_MISMATCH",
        "Виза действовала до 29.01.2027; сегодня 01.02.2027.",
        "Паспорт заменён: нужна новая электронная виза.",
    ] {
        assert!(ru.contains(want), "{want:?} missing:\n{ru}");
    }
    insta::assert_snapshot!("reject_several_reasons_ru", ru);
    m.lang = Lang::Kk;
    let kk = draw_big(&m);
    assert_no_english(&kk);
    for want in [
        "БАС ТАРТУ",
        "Виза 29.01.2027 дейін жарамды болған; бүгін 01.02.2027.",
        "жаңа электрондық виза қажет",
    ] {
        assert!(kk.contains(want), "{want:?} missing:\n{kk}");
    }
    insta::assert_snapshot!("reject_several_reasons_kk", kk);
}

/// Numbers take the right noun form: Russian "1 въезд / 2 въезда / 5 въездов", Kazakh
/// the singular after every numeral.
#[test]
fn entries_and_overstay_are_told_with_correct_plurals_in_russian_and_kazakh() {
    let mut m = model(true);
    let sh = shown_after(
        "entries_exhausted",
        date!(2026 - 11 - 25),
        Direction::Entry,
        &[date!(2026 - 11 - 05)],
    );
    let detail = |m: &Model| draw_big(m);
    // The sentence as written (the screen wraps it).
    let sentence = |m: &Model| {
        let d = &m.shown.as_ref().unwrap().decision;
        assert_eq!(d.reasons.len(), 1, "{:?}", d.reasons);
        evisa_kiosk::i18n::reason_detail(m.lang, &d.reasons[0])
    };
    m.shown = Some(sh);
    m.lang = Lang::Ru;
    let ru = detail(&m);
    assert_no_english(&ru);
    assert!(ru.contains("ENTRIES_EXHAUSTED"), "{ru}");
    assert_eq!(
        sentence(&m),
        "Виза разрешает 1 въезд; уже записано: 1. Последний въезд 05.11.2026 в пункте ALA."
    );
    insta::assert_snapshot!("reject_entries_exhausted_ru", ru);
    m.lang = Lang::Kk;
    let kk = detail(&m);
    assert_no_english(&kk);
    assert_eq!(
        sentence(&m),
        "Виза 1 кіруге рұқсат береді; тіркелген кірулер: 1. Соңғы кіру 05.11.2026, ALA пунктінде."
    );

    m.shown = Some(shown_after(
        "overstay",
        date!(2026 - 11 - 26),
        Direction::Exit,
        &[date!(2026 - 10 - 25)],
    ));
    m.lang = Lang::Ru;
    let ru = detail(&m);
    assert_no_english(&ru);
    assert_eq!(
        sentence(&m),
        "Въезд 25.10.2026 в пункте ALA; разрешённый срок пребывания 30 дней; сегодня 32-й день, превышение на 2 дня."
    );
    insta::assert_snapshot!("reject_overstay_ru", ru);
    m.lang = Lang::Kk;
    let kk = detail(&m);
    assert_no_english(&kk);
    assert_eq!(
        sentence(&m),
        "Кіру 25.10.2026, ALA пунктінде; рұқсат етілген болу мерзімі 30 күн; бүгін 32-күн, 2 күн асып кетті."
    );
    insta::assert_snapshot!("reject_overstay_kk", kk);
}

#[test]
fn help_overlay() {
    let mut m = model(true);
    key(&mut m, KeyCode::F(1));
    let s = draw(&m);
    assert!(s.contains("F10"));
    insta::assert_snapshot!(s);
}

#[test]
fn source_disconnected() {
    let mut m = model(true);
    update(
        &mut m,
        Message::Scan(ScanEvent::Status {
            source: "serial-scanner".into(),
            status: SourceStatus::Disconnected,
            // The serial source's own (English) words for a device that went away.
            detail: Some("/dev/ttyACM0 disappeared".into()),
        }),
    );
    let s = draw(&m);
    assert!(s.contains("✘ serial QR scanner disconnected"));
    insta::assert_snapshot!(s);
    // In Russian the status bar says it in Russian, naming the device's path.
    m.lang = Lang::Ru;
    let (s, _) = draw_at(&m, 120, 24);
    assert!(s.contains("(/dev/ttyACM0 отключён)"), "{s}");
    assert!(!s.contains("disappeared"), "{s}");
}

#[test]
fn old_trust_update_is_flagged() {
    let mut m = model(true);
    m.trust.last_update = Some(date!(2026 - 09 - 01));
    let s = draw(&m);
    assert!(
        s.contains("last update 2026-09-01 ⚠ update older than 30 days"),
        "{s}"
    );
    m.trust.last_update = Some(date!(2026 - 11 - 20));
    assert!(!draw(&m).contains('⚠'));
}

/// A live update: the status bar shows the new store and its date at once, and a
/// store that failed to load is flagged while the previous one's figures stay.
#[test]
fn a_live_trust_update_shows_on_the_status_bar() {
    let mut m = model(true);
    update(
        &mut m,
        Message::TrustReloaded(Ok(TrustSummary {
            keys: 3,
            newest: Some("TEST ONLY e-visa signer 2027".into()),
            last_update: Some(date!(2026 - 11 - 25)),
            ..TrustSummary::default()
        })),
    );
    let (s, _) = draw_at(&m, 200, 30);
    assert!(s.contains("3 keys, last update 2026-11-25"), "{s}");
    update(
        &mut m,
        Message::TrustReloaded(Err(Fault::new(
            FaultKind::TrustBadFile {
                file: "broken.toml".into(),
            },
            "trust store key file broken.toml: not a key file",
        ))),
    );
    let (s, _) = draw_at(&m, 200, 30);
    assert!(
        s.contains("3 keys, last update 2026-11-25 ⚠ new trust store not loaded, the previous one stays in use: key file broken.toml is not valid"),
        "{s}"
    );
}

#[test]
fn a_large_screen_keeps_the_history_beside_the_verdict() {
    let mut m = model(true);
    m.shown = Some(shown("several_reasons", date!(2027 - 02 - 01), "ALA"));
    m.history = vec![HistoryRow {
        at: "2026-11-25 13:58".into(),
        time: "13:58".into(),
        visa: "EV26KZ0012345".into(),
        officer: "demo".into(),
        outcome: Outcome::Refused("damaged".into()),
    }];
    let mut screen = Screen::new(TestBackend::new(140, 45)).unwrap();
    screen.draw(|f| view(&m, f)).unwrap();
    let s = screen.backend().to_string();
    assert!(
        s.contains("refused by officer: Torn or unsewn pages"),
        "{s}"
    );
    // With room, every reason keeps its detail sentence.
    assert!(s.contains("The visa was valid until 2027-01-29"), "{s}");
    assert!(s.contains("✘ REJECT"));
}

#[test]
fn every_code_stays_visible_when_reasons_outgrow_the_screen() {
    use evisa_core::rules::{Detail, Reason, ReasonCode};
    let mut m = model(true);
    let mut sh = shown("several_reasons", date!(2027 - 02 - 01), "ALA");
    for code in [
        ReasonCode::UnknownKey,
        ReasonCode::VisaRevoked,
        ReasonCode::PassportExpiryMismatch,
        ReasonCode::PassportValidityTooShort,
        ReasonCode::PassportExpired,
    ] {
        sh.decision.reasons.push(Reason::new(
            code,
            Detail::VisaRevoked {
                number: "a long number that would need several lines".into(),
                why: "on a small screen, with more words".into(),
            },
        ));
    }
    sh.decision.reasons.sort_by_key(|r| r.code);
    m.shown = Some(sh.clone());
    let s = draw(&m);
    for r in &sh.decision.reasons {
        assert!(s.contains(r.code.as_str()), "{} missing:\n{s}", r.code);
    }
}

fn draw_at(m: &Model, w: u16, h: u16) -> (String, ratatui::buffer::Buffer) {
    let mut screen = Screen::new(TestBackend::new(w, h)).unwrap();
    screen.draw(|f| view(m, f)).unwrap();
    (
        screen.backend().to_string(),
        screen.backend().buffer().clone(),
    )
}

/// Bug: payload and MRZ strings reached the screen raw, so a visa could clear the
/// screen, retitle the window or reorder the text around it (a fake ACCEPT).
#[test]
fn control_sequences_in_payload_and_mrz_fields_are_shown_escaped_never_raw() {
    const HOSTILE: &str = "X\u{1b}[2J\u{1b}]0;ACCEPT\u{7}\u{9b}31m\u{202e}Y";
    let mut m = model(true);
    let mut sh = shown("several_reasons", date!(2027 - 02 - 01), "ALA");
    let visa = sh.decision.visa.as_mut().unwrap();
    visa.holder.surname = HOSTILE.into();
    visa.number = format!("EV{HOSTILE}");
    visa.checkpoints.push(HOSTILE.into());
    let passport = sh.decision.passport.as_mut().unwrap();
    passport.document_number = HOSTILE.into();
    // The screen writes the sentence from the reason's facts.
    sh.decision.reasons[0] = evisa_core::rules::Reason::new(
        sh.decision.reasons[0].code,
        evisa_core::rules::Detail::KeyRevoked {
            label: format!("detail {HOSTILE}"),
        },
    );
    m.shown = Some(sh);
    m.history = vec![HistoryRow {
        at: "2026-11-25 13:58".into(),
        time: "13:58".into(),
        visa: HOSTILE.into(),
        officer: HOSTILE.into(),
        outcome: Outcome::Refused(HOSTILE.into()),
    }];
    m.trust.newest = Some(HOSTILE.into());
    m.sources[1].detail = Some(HOSTILE.into());
    m.sources.push(evisa_kiosk::app::SourceState {
        name: HOSTILE.into(),
        status: SourceStatus::Connected,
        detail: None,
    });
    m.line = "KZV1:\u{202e}AB".into();
    update(
        &mut m,
        Message::Scan(ScanEvent::Unreadable {
            source: "serial-scanner".into(),
            detail: HOSTILE.into(),
        }),
    );
    let (s, buf) = draw_at(&m, 200, 60);
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    for cell in buf.content() {
        assert!(
            !cell.symbol().chars().any(unsafe_char),
            "raw control character {:?} drawn:\n{s}",
            cell.symbol()
        );
    }
    // Shown as visible escapes: the reason detail, the history, the notice.
    assert!(
        s.contains("detail X\\u{1b}[2J\\u{1b}]0;ACCEPT\\u{7}\\u{9b}31m\\u{202e}Y"),
        "{s}"
    );
    assert!(s.contains("KZV1:\\u{202e}AB"), "{s}");
    assert!(s.matches("\\u{1b}[2J").count() >= 5, "{s}");
}

/// Bug: below about 40×12 the verdict disappeared. At and above the minimum the
/// verdict word is always on screen; below it a notice asks for a larger window.
#[test]
fn the_verdict_stays_visible_at_every_size_from_the_minimum_up() {
    let sizes = [
        (40, 12),
        (41, 13),
        (45, 12),
        (50, 15),
        (60, 18),
        (68, 18),
        (80, 24),
        (100, 30),
        (120, 40),
        (140, 45),
        (200, 60),
    ];
    let mut accept = shown("accept_tourist", date!(2026 - 11 - 25), "NQZ");
    accept.stage = Stage::Checklist;
    let reject = shown("several_reasons", date!(2027 - 02 - 01), "ALA");
    for lang_presses in 0..3 {
        for (sh, word) in [(&accept, "ACCEPT"), (&reject, "REJECT")] {
            let mut m = model(true);
            for _ in 0..lang_presses {
                key(&mut m, KeyCode::F(2));
            }
            m.shown = Some(sh.clone());
            m.history = vec![HistoryRow {
                at: "2026-11-25 13:58".into(),
                time: "13:58".into(),
                visa: "EV26KZ0012345".into(),
                officer: "demo".into(),
                outcome: Outcome::Crossing(Direction::Entry),
            }];
            for (w, h) in sizes {
                let (s, _) = draw_at(&m, w, h);
                assert!(s.contains(word), "{word} missing at {w}×{h}:\n{s}");
                assert!(!s.contains("too small"), "{w}×{h}");
            }
        }
    }
    let mut m = model(true);
    m.shown = Some(reject);
    for (w, h) in [(39, 12), (40, 11), (20, 6), (80, 5)] {
        let (s, _) = draw_at(&m, w, h);
        assert!(s.contains("too small"), "no notice at {w}×{h}:\n{s}");
    }
}

#[test]
fn leaving_asks_first_and_warns_about_an_open_accept() {
    let mut m = model(true);
    let mut sh = shown("accept_tourist", date!(2026 - 11 - 25), "NQZ");
    sh.stage = Stage::Checklist;
    m.shown = Some(sh);
    key(&mut m, KeyCode::F(10));
    let s = draw(&m);
    assert!(s.contains("Leave the kiosk?"), "{s}");
    assert!(s.contains("not settled") && s.contains("abandoned"), "{s}");
    assert!(s.contains("Y or Enter: leave"), "{s}");
    key(&mut m, KeyCode::Esc);
    assert!(!draw(&m).contains("Leave the kiosk?"));
}

/// Regression: a database or disk failure reached the officer as "System error: " and
/// SQLite's English words. The sentence is now the failure's category in the officer's
/// language; the technical words stay, labelled, on their own line under it.
#[test]
fn a_system_error_is_told_in_the_officers_language_with_the_technical_words_below() {
    use evisa_store::store::StoreError;
    let mut m = model(true);
    m.lang = Lang::Ru;
    update(&mut m, Message::Failed(Fault::from(&StoreError::Full)));
    let (s, _) = draw_at(&m, 120, 24);
    let lines: Vec<&str> = s.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("✘ Системная ошибка: диск заполнен, ничего не записано."))
        .unwrap_or_else(|| panic!("no translated sentence:\n{s}"));
    assert!(
        lines[at + 1].contains("техническая подробность: disk full: the database cannot grow"),
        "{s}"
    );
    assert!(!lines[at].contains("disk full"), "{s}");
}
