//! Drawing the [`Model`]: sign-in, the scan screen, the verdict with its reasons, the
//! field comparison and the officer checklist, the shift history, the status bars and
//! the help overlay. Pure: the same model always draws the same screen, which is what
//! the `TestBackend` tests rely on. Fits 80×24 and spreads out on larger terminals;
//! down to [`MIN_WIDTH`]×[`MIN_HEIGHT`] the verdict stays on screen, below that a
//! notice asks for a larger window.
//!
//! Every string that did not come from the catalogues (payload and MRZ fields, reason
//! details, device names and errors, the scan line, the audit history) goes through
//! [`safe`]: a control sequence in a payload is shown as text, never acted upon.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};

use crate::i18n::{self, Lang, tr, trf};
use evisa_core::rules::{Direction, Verdict};
use evisa_scan::SourceStatus;
use evisa_store::officers::Role;

use super::app::{CHECKLIST, Level, Model, Notice, Outcome, REFUSE_REASONS, Screen, Shown, Stage};
use super::bigtext;
use crate::fault::LITERAL;
use evisa_core::untrusted::printable;

/// The smallest window the kiosk draws its screens in.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 12;

/// Untrusted text, made safe to draw.
fn safe(s: &str) -> String {
    printable(s).into_owned()
}

const GOOD: Color = Color::Green;
const BAD: Color = Color::Red;
const WARN: Color = Color::Yellow;

fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

fn notice_text(lang: Lang, n: &Notice) -> String {
    let args: Vec<(&str, String)> = n
        .args
        .iter()
        // An argument may itself be a catalogue key (a direction, a refusal reason).
        .map(|(k, v)| match v.strip_prefix(LITERAL) {
            Some(data) => (*k, safe(data)),
            None => (*k, safe(&tr(lang, v))),
        })
        .collect();
    let refs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    trf(lang, n.key, &refs)
}

/// A notice's technical detail (the database's or the operating system's own words),
/// labelled, for the line under the translated sentence.
fn notice_detail(lang: Lang, n: &Notice) -> Option<Line<'static>> {
    n.detail.as_ref().map(|d| {
        Line::styled(
            format!("  {}: {}", tr(lang, "error.detail"), safe(d)),
            Style::new().add_modifier(Modifier::DIM),
        )
    })
}

fn notice_style(level: Level) -> Style {
    match level {
        Level::Info => Style::new(),
        Level::Good => Style::new().fg(GOOD).add_modifier(Modifier::BOLD),
        Level::Warn => Style::new().fg(WARN).add_modifier(Modifier::BOLD),
        Level::Error => Style::new().fg(BAD).add_modifier(Modifier::BOLD),
    }
}

fn notice_mark(level: Level) -> &'static str {
    match level {
        Level::Info => "• ",
        Level::Good => "✔ ",
        Level::Warn => "⚠ ",
        Level::Error => "✘ ",
    }
}

/// Draws the whole screen.
pub fn view(m: &Model, f: &mut Frame) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = trf(
            m.lang,
            "screen.too_small",
            &[
                ("w", &MIN_WIDTH.to_string()),
                ("h", &MIN_HEIGHT.to_string()),
            ],
        );
        f.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .style(Style::new().fg(WARN).add_modifier(Modifier::BOLD)),
            area,
        );
        return;
    }
    let [header, body, sources, trust, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(m, f, header);
    match m.screen {
        Screen::SignIn => draw_sign_in(m, f, body),
        Screen::Main if m.show_history => draw_history(m, f, body),
        Screen::Main => draw_main(m, f, body),
    }
    draw_sources(m, f, sources);
    draw_trust(m, f, trust);
    f.render_widget(
        Paragraph::new(tr(m.lang, "keys.bar")).style(Style::new().add_modifier(Modifier::REVERSED)),
        keys,
    );
    if m.help {
        draw_help(m, f, area);
    }
    if m.confirm_quit {
        draw_confirm_quit(m, f, area);
    }
}

fn draw_confirm_quit(m: &Model, f: &mut Frame, area: Rect) {
    let l = m.lang;
    let mut lines = vec![Line::styled(tr(l, "quit.question"), bold())];
    if m.decision_open() {
        lines.push(Line::styled(
            tr(l, "quit.open_decision"),
            Style::new().fg(WARN).add_modifier(Modifier::BOLD),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        tr(l, "quit.keys"),
        Style::new().add_modifier(Modifier::REVERSED),
    ));
    let rect = centered(area, 64, 8);
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(format!(" {} ", tr(l, "quit.title")))),
        rect,
    );
}

fn direction_label(lang: Lang, d: Direction) -> String {
    tr(
        lang,
        match d {
            Direction::Entry => "status.entry",
            Direction::Exit => "status.exit",
        },
    )
}

fn draw_header(m: &Model, f: &mut Frame, area: Rect) {
    let l = m.lang;
    let mut spans = vec![
        Span::styled(format!(" {} ", safe(&m.settings.checkpoint)), bold()),
        Span::raw("│ "),
        Span::styled(
            match m.direction {
                Direction::Entry => format!("→ {}", direction_label(l, m.direction)),
                Direction::Exit => format!("← {}", direction_label(l, m.direction)),
            },
            bold(),
        ),
        Span::raw(" │ "),
    ];
    if let Some(o) = &m.officer {
        let role = match o.role {
            Role::Officer => tr(l, "status.role_officer"),
            Role::Supervisor => tr(l, "status.role_supervisor"),
        };
        spans.push(Span::raw(format!(
            "{} {} ({role}) │ ",
            tr(l, "status.officer"),
            safe(&o.id)
        )));
    }
    spans.push(Span::raw(format!(
        "{} UTC+5 │ {}",
        i18n::clock(l, &m.clock),
        l.code().to_uppercase()
    )));
    if let Some(fl) = &m.fleet {
        let (text, style) = match (&fl.offline_since, fl.online) {
            (_, true) => (tr(l, "status.fleet_online"), Style::new().fg(GOOD)),
            (Some(t), false) => (
                trf(l, "status.fleet_offline", &[("t", t)]),
                Style::new().fg(WARN),
            ),
            (None, false) => (tr(l, "status.fleet_unknown"), Style::new().fg(WARN)),
        };
        spans.push(Span::styled(format!(" │ {text}"), style));
        if fl.waiting > 0 {
            spans.push(Span::raw(format!(
                ", {}",
                trf(l, "status.fleet_waiting", &[("n", &fl.waiting.to_string())])
            )));
        }
        if !fl.conflicts.is_empty() {
            spans.push(Span::styled(
                format!(
                    ", {}",
                    trf(
                        l,
                        "status.fleet_conflicts",
                        &[("n", &fl.conflicts.len().to_string())]
                    )
                ),
                Style::new().fg(BAD),
            ));
        }
    }
    if m.settings.demo {
        spans.push(Span::styled(
            format!(" │ {}", tr(l, "status.demo")),
            Style::new().fg(WARN),
        ));
    }
    if let Some(d) = m.settings.date_override {
        spans.push(Span::styled(
            format!(
                " │ {}",
                trf(l, "status.date_override", &[("d", &i18n::date(l, d))])
            ),
            Style::new().fg(WARN),
        ));
    }
    f.render_widget(
        Paragraph::new(Line::from(spans)).style(Style::new().add_modifier(Modifier::REVERSED)),
        area,
    );
}

fn draw_sources(m: &Model, f: &mut Frame, area: Rect) {
    let l = m.lang;
    let mut spans = vec![Span::raw(format!("{}: ", tr(l, "status.sources")))];
    for s in &m.sources {
        let (mark, key, style) = match s.status {
            SourceStatus::Connected => ("●", "status.connected", Style::new().fg(GOOD)),
            SourceStatus::Disconnected => (
                "✘",
                "status.disconnected",
                Style::new().fg(BAD).add_modifier(Modifier::BOLD),
            ),
            SourceStatus::Reconnecting => ("↻", "status.reconnecting", Style::new().fg(WARN)),
        };
        // Device names are translated where the catalogue knows them.
        let name = tr(l, &format!("source.{}", s.name));
        let name = if name.starts_with("source.") {
            safe(&s.name)
        } else {
            name
        };
        spans.push(Span::styled(format!("{mark} {name} {}", tr(l, key)), style));
        if let Some(d) = &s.detail {
            // The device's own words (an OS error) are in the log; the officer reads
            // their category, naming the device's path.
            let (key, args) = crate::fault::device_detail(d);
            let args: Vec<(&str, String)> = args.into_iter().map(|(k, v)| (k, safe(&v))).collect();
            let refs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            spans.push(Span::raw(format!(" ({})", trf(l, key, &refs))));
        }
        spans.push(Span::raw("  "));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_trust(m: &Model, f: &mut Frame, area: Rect) {
    let l = m.lang;
    let t = &m.trust;
    let mut spans = vec![Span::raw(format!(
        "{}: {}",
        tr(l, "status.trust"),
        trf(l, "status.keys", &[("n", &t.keys.to_string())])
    ))];
    let last = t
        .last_update
        .map_or_else(|| tr(l, "status.none"), |d| i18n::date(l, d));
    spans.push(Span::raw(format!(
        ", {} {last}",
        tr(l, "status.last_update")
    )));
    let max = m.settings.trust_update_max_age_days;
    if let Some(d) = t.last_update
        && (m.today - d).whole_days() > i64::from(max)
    {
        spans.push(Span::styled(
            format!(
                " ⚠ {}",
                trf(l, "status.update_old", &[("n", &max.to_string())])
            ),
            Style::new().fg(WARN).add_modifier(Modifier::BOLD),
        ));
    }
    if let Some(e) = &t.reload_error {
        // The category names the file; the loader's own words are in the log.
        let args: Vec<(&str, String)> = e.args().into_iter().map(|(k, v)| (k, safe(&v))).collect();
        let refs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let why = trf(l, e.key(), &refs);
        spans.push(Span::styled(
            format!(" ⚠ {}", trf(l, "status.reload_failed", &[("e", &why)])),
            Style::new().fg(WARN).add_modifier(Modifier::BOLD),
        ));
    }
    // The newest key's label is long: it goes last, where a narrow screen cuts it.
    if let Some(n) = &t.newest {
        spans.push(Span::raw(format!(
            ", {} \"{}\"",
            tr(l, "status.newest"),
            safe(n)
        )));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn draw_sign_in(m: &Model, f: &mut Frame, area: Rect) {
    let l = m.lang;
    let s = &m.signin;
    let field = |label: String, value: String, active: bool| {
        let style = if active {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        Line::from(vec![
            Span::styled(format!("{label:>14}: "), bold()),
            Span::styled(format!("{value:<16}"), style),
            Span::raw(if active { " ◀" } else { "" }),
        ])
    };
    let (id_key, pin_key, title_key) = if s.unlock.is_some() {
        (
            "signin.supervisor_id",
            "signin.supervisor_pin",
            "signin.unlock_title",
        )
    } else {
        ("signin.id", "signin.pin", "signin.title")
    };
    let mut lines = vec![
        Line::raw(""),
        field(tr(l, id_key), safe(&s.id), !s.on_pin),
        Line::raw(""),
        field(tr(l, pin_key), "•".repeat(s.pin.chars().count()), s.on_pin),
        Line::raw(""),
    ];
    match &s.message {
        Some(n) => {
            lines.push(Line::styled(
                format!("{}{}", notice_mark(n.level), notice_text(l, n)),
                notice_style(n.level),
            ));
            // The technical words take the blank line under the sentence.
            lines.push(notice_detail(l, n).unwrap_or_else(|| Line::raw("")));
        }
        None => lines.extend([Line::raw(""), Line::raw("")]),
    }
    lines.push(Line::styled(
        tr(l, "signin.hint"),
        Style::new().add_modifier(Modifier::DIM),
    ));
    if s.unlock.is_none() {
        lines.push(Line::styled(
            tr(l, "signin.unlock_hint"),
            Style::new().add_modifier(Modifier::DIM),
        ));
    }
    if m.settings.demo_account {
        lines.push(Line::styled(
            trf(
                l,
                "signin.demo_hint",
                &[
                    ("id", super::app::DEMO_OFFICER),
                    ("pin", super::app::DEMO_PIN),
                ],
            ),
            Style::new().fg(WARN),
        ));
    }
    let rect = centered(area, 64, 13);
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(format!(" {} ", tr(l, title_key)))),
        rect,
    );
}

fn draw_main(m: &Model, f: &mut Frame, area: Rect) {
    // Larger screens keep the history in view below the working area.
    // The verdict needs about 18 rows (banner, visa facts, the field table).
    // The rest goes to the history, up to a third of the screen.
    let history_h = if m.shown.is_some() && area.height > 24 {
        (area.height - 20).min((area.height - 2) / 3)
    } else {
        0
    };
    let [work, input, hist] = Layout::vertical([
        Constraint::Min(3),
        // A technical detail gets its own line under the notice.
        Constraint::Length(2 + u16::from(m.notice.as_ref().is_some_and(|n| n.detail.is_some()))),
        Constraint::Length(history_h),
    ])
    .areas(area);
    match &m.shown {
        Some(s) => draw_verdict(m, s, f, work),
        None => draw_waiting(m, f, work),
    }
    draw_input(m, f, input);
    if history_h > 0 {
        draw_history(m, f, hist);
    }
}

fn draw_input(m: &Model, f: &mut Frame, area: Rect) {
    let l = m.lang;
    let mut lines = Vec::new();
    match &m.notice {
        Some(n) => {
            lines.push(Line::styled(
                format!("{}{}", notice_mark(n.level), notice_text(l, n)),
                notice_style(n.level),
            ));
            lines.extend(notice_detail(l, n));
        }
        None => lines.push(Line::raw("")),
    }
    // Show the end of a long line being typed: that is where the scanner is.
    let room = (area.width as usize).saturating_sub(tr(l, "scan.input").chars().count() + 4);
    let line = safe(&m.line);
    let n = line.chars().count();
    let tail: String = line.chars().skip(n.saturating_sub(room)).collect();
    lines.push(Line::from(vec![
        Span::styled(
            format!("{}: ", tr(l, "scan.input")),
            Style::new().add_modifier(Modifier::DIM),
        ),
        Span::raw(tail),
        Span::styled("▏", Style::new().add_modifier(Modifier::SLOW_BLINK)),
    ]));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn draw_waiting(m: &Model, f: &mut Frame, area: Rect) {
    let l = m.lang;
    let item = |have: bool, key: &str| {
        let (mark, state, style) = if have {
            (
                "[✔]",
                tr(l, "scan.have"),
                Style::new().fg(GOOD).add_modifier(Modifier::BOLD),
            )
        } else {
            (
                "[ ]",
                tr(l, "scan.waiting"),
                Style::new().add_modifier(Modifier::DIM),
            )
        };
        Line::from(vec![
            Span::styled(format!("  {mark} "), style),
            Span::styled(format!("{:<22}", tr(l, key)), bold()),
            Span::styled(state, style),
        ])
    };
    let mut lines = vec![
        Line::raw(""),
        Line::styled(tr(l, "scan.prompt"), bold()),
        Line::raw(""),
        item(m.qr.is_some(), "scan.qr"),
        item(m.mrz.is_some() || m.mrz_half, "scan.mrz"),
        Line::raw(""),
    ];
    if m.verifying {
        lines.push(Line::styled(tr(l, "scan.verifying"), bold()));
    }
    let box_h = (lines.len() as u16 + 2).min(area.height);
    let [top, rest] = Layout::vertical([Constraint::Length(box_h), Constraint::Min(0)]).areas(area);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(format!(" {} ", tr(l, "scan.title")))),
        top,
    );
    if rest.height >= 3 {
        draw_history(m, f, rest);
    }
}

fn draw_banner(m: &Model, s: &Shown, f: &mut Frame, area: Rect) {
    let l = m.lang;
    let refused = matches!(s.stage, Stage::Refused(_));
    let accept = s.decision.verdict == Verdict::Accept && !refused;
    let (big, word, colour) = if accept {
        ("✔ ACCEPT", tr(l, "verdict.accept"), GOOD)
    } else {
        ("✘ REJECT", tr(l, "verdict.reject"), BAD)
    };
    let style = Style::new()
        .bg(colour)
        .fg(Color::Black)
        .add_modifier(Modifier::BOLD);
    let sub = match s.stage {
        Stage::Checklist | Stage::Refusing(_) | Stage::Recording => {
            format!(" · {}", tr(l, "verdict.not_final"))
        }
        Stage::Refused(_) => format!(" · {}", tr(l, "history.refused")),
        Stage::Recorded => format!(
            " · {}",
            tr(
                l,
                match s.at.direction {
                    Direction::Entry => "history.entry",
                    Direction::Exit => "history.exit",
                }
            )
        ),
        _ => String::new(),
    };
    let mark = if accept { "✔" } else { "✘" };
    let mut lines: Vec<Line> = Vec::new();
    // The big word in the officer's language; without the mark, then in English when
    // the window is too narrow for it.
    let fits = |t: &str| bigtext::can_render(t) && area.width as usize >= bigtext::width(t) + 2;
    let translated = format!("{mark} {word}");
    let big_word = [translated.as_str(), word.as_str(), big]
        .into_iter()
        .find(|t| fits(t));
    if area.height >= 5
        && let Some(t) = big_word
    {
        lines.extend(bigtext::render(t).into_iter().map(Line::raw));
    }
    // The verdict in the officer's language leads; the stable code (the word in the
    // JSON output, the audit log and the ministry's procedures) follows it, as each
    // reason's code follows its title.
    let code = &big[4..];
    let short = format!("{mark} {word}");
    let main = if word == code {
        short.clone()
    } else {
        format!("{short} · {code}")
    };
    // The verdict itself is never cut: what follows it goes first when space is short
    // (a centred line wider than its area loses both ends).
    let width = area.width as usize;
    let text = if main.chars().count() + sub.chars().count() <= width {
        format!("{main}{sub}")
    } else if main.chars().count() <= width {
        main
    } else {
        short
    };
    lines.push(Line::raw(text));
    f.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .style(style),
        area,
    );
}

fn draw_verdict(m: &Model, s: &Shown, f: &mut Frame, area: Rect) {
    let l = m.lang;
    let big = area.height >= 18 && area.width >= 68;
    let banner_h = if big { 5 } else { 1 };
    let provisional = m.fleet.as_ref().is_some_and(|fl| !fl.online);
    let [banner, info, detail] = Layout::vertical([
        Constraint::Length(banner_h),
        Constraint::Length(if provisional { 3 } else { 2 }),
        Constraint::Min(3),
    ])
    .areas(area);
    draw_banner(m, s, f, banner);

    // Visa facts on two lines.
    let mut info_lines = Vec::new();
    if let Some(v) = &s.decision.visa {
        let category = tr(l, &format!("category.{}", v.category.code()));
        info_lines.push(Line::from(vec![
            Span::styled(
                format!("{} {}", tr(l, "verdict.number"), safe(&v.number)),
                bold(),
            ),
            Span::raw(format!(
                " · {} {category} · {} {}",
                tr(l, "verdict.category"),
                tr(l, "verdict.checkpoints"),
                safe(&v.checkpoints.join(", "))
            )),
        ]));
        info_lines.push(Line::raw(format!(
            "{} {}/{} · {} {} → {} · {} {}",
            tr(l, "verdict.entries"),
            s.decision.entries_used,
            v.entries,
            tr(l, "verdict.validity"),
            i18n::date(l, v.valid_from),
            i18n::date(l, v.valid_until),
            tr(l, "verdict.stay"),
            trf(l, "verdict.stay_days", &[("n", &v.stay_days.to_string())]),
        )));
    }
    if provisional {
        info_lines.push(Line::styled(
            tr(l, "verdict.fleet_provisional"),
            Style::new().fg(WARN).add_modifier(Modifier::BOLD),
        ));
    }
    f.render_widget(Paragraph::new(info_lines), info);

    let table_w = if detail.width >= 110 {
        detail.width / 2
    } else {
        42.min(detail.width / 2 + 2)
    };
    let [left, right] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(table_w)]).areas(detail);
    match s.stage {
        Stage::Checklist | Stage::Recording => draw_checklist(m, s, f, left),
        Stage::Refusing(i) => draw_refusing(m, i, f, left),
        Stage::Recorded | Stage::Refused(_) => {
            let lines = vec![Line::raw(""), Line::styled(tr(l, "scan.next"), bold())];
            f.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: true })
                    .block(Block::bordered()),
                left,
            );
        }
        Stage::Final => draw_reasons(m, s, f, left),
    }
    draw_fields(m, s, f, right);
}

fn draw_reasons(m: &Model, s: &Shown, f: &mut Frame, area: Rect) {
    let l = m.lang;
    let inner_w = area.width.saturating_sub(2).max(1) as usize;
    let inner_h = area.height.saturating_sub(2) as usize;
    let reasons = &s.decision.reasons;
    let title_line = |r: &evisa_core::rules::Reason| {
        Line::from(vec![
            Span::styled("✘ ", Style::new().fg(BAD).add_modifier(Modifier::BOLD)),
            Span::styled(i18n::reason_title(l, r.code), bold()),
            Span::styled(format!(" {}", r.code), Style::new().fg(BAD)),
        ])
    };
    let rows_of = |s: &str| s.chars().count().div_ceil(inner_w).max(1);
    let title_rows = |r: &evisa_core::rules::Reason| {
        rows_of(&format!("✘ {} {}", i18n::reason_title(l, r.code), r.code))
    };
    let with_details: usize = reasons
        .iter()
        .map(|r| title_rows(r) + rows_of(&format!("  {}", safe(&i18n::reason_detail(l, r)))))
        .sum();
    let titles: usize = reasons.iter().map(title_rows).sum();
    // Every code stays visible: details give way first, then titles shrink to one
    // line each with the code in front.
    let (lines, wrap): (Vec<Line>, bool) = if titles <= inner_h {
        let mut lines = Vec::new();
        for r in reasons {
            lines.push(title_line(r));
            if with_details <= inner_h {
                lines.push(Line::styled(
                    format!("  {}", safe(&i18n::reason_detail(l, r))),
                    Style::new().add_modifier(Modifier::DIM),
                ));
            }
        }
        (lines, true)
    } else {
        let lines = reasons
            .iter()
            .map(|r| {
                Line::from(vec![
                    Span::styled(
                        format!("✘ {} ", r.code),
                        Style::new().fg(BAD).add_modifier(Modifier::BOLD),
                    ),
                    Span::raw(i18n::reason_title(l, r.code)),
                ])
            })
            .collect();
        (lines, false)
    };
    let mut p = Paragraph::new(lines);
    if wrap {
        p = p.wrap(Wrap { trim: false });
    }
    f.render_widget(
        p.block(Block::bordered().title(format!(" {} ", tr(l, "verdict.reasons")))),
        area,
    );
}

fn draw_checklist(m: &Model, s: &Shown, f: &mut Frame, area: Rect) {
    let l = m.lang;
    let mut lines: Vec<Line> = CHECKLIST
        .iter()
        .map(|k| Line::raw(format!("☐ {}", tr(l, &format!("checklist.{k}")))))
        .collect();
    lines.push(Line::styled(
        if s.stage == Stage::Recording {
            tr(l, "checklist.recording")
        } else {
            tr(l, "checklist.keys")
        },
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
    ));
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .border_style(Style::new().fg(GOOD))
                .title(format!(" {} ", tr(l, "checklist.title"))),
        ),
        area,
    );
}

fn draw_refusing(m: &Model, sel: usize, f: &mut Frame, area: Rect) {
    let l = m.lang;
    let mut lines: Vec<Line> = REFUSE_REASONS
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let text = tr(l, &format!("refuse.{k}"));
            if i == sel {
                Line::styled(
                    format!("▶ {text}"),
                    Style::new().add_modifier(Modifier::REVERSED),
                )
            } else {
                Line::raw(format!("  {text}"))
            }
        })
        .collect();
    lines.push(Line::styled(tr(l, "checklist.refuse_keys"), bold()));
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .border_style(Style::new().fg(BAD))
                .title(format!(" {} ", tr(l, "checklist.refuse_title"))),
        ),
        area,
    );
}

fn draw_fields(m: &Model, s: &Shown, f: &mut Frame, area: Rect) {
    let l = m.lang;
    let d = &s.decision;
    let keys = ["sn", "gn", "na", "db", "sx", "dn", "dc", "de"];
    let visa_val = |k: &str| -> String {
        let Some(v) = &d.visa else {
            return "—".into();
        };
        let h = &v.holder;
        safe(&match k {
            "sn" => h.surname.clone(),
            "gn" => h.given_names.clone(),
            "na" => h.nationality.clone(),
            "db" => i18n::birth(l, &h.birth.to_iso()),
            "sx" => h.sex.code().into(),
            "dn" => h.document_number.clone(),
            "dc" => h.document_country.clone(),
            _ => i18n::date(l, h.document_expiry),
        })
    };
    let pass_val = |k: &str| -> String {
        let Some(p) = &d.passport else {
            return "—".into();
        };
        safe(&match k {
            "sn" => p.surname.clone(),
            "gn" => p.given_names.clone(),
            "na" => p.nationality.clone(),
            "db" => i18n::birth(l, &p.birth.to_iso()),
            "sx" => p.sex.code().into(),
            "dn" => p.document_number.clone(),
            "dc" => p.issuing_state.clone(),
            _ => i18n::date(l, p.expiry),
        })
    };
    let rows = keys.iter().map(|k| {
        let differs = d.mismatched.contains(k);
        let style = if differs {
            Style::new()
                .fg(BAD)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            Style::new()
        };
        Row::new(vec![
            Cell::from(if differs { "≠" } else { " " }),
            Cell::from(tr(l, &format!("field.{k}"))),
            Cell::from(visa_val(k)),
            Cell::from(pass_val(k)),
        ])
        .style(style)
    });
    let header = Row::new(vec![
        Cell::from(""),
        Cell::from(tr(l, "verdict.field")),
        Cell::from(tr(l, "verdict.visa")),
        Cell::from(tr(l, "verdict.passport")),
    ])
    .style(bold());
    let title = if d.mismatched.is_empty() {
        String::new()
    } else {
        format!(" {} ", tr(l, "verdict.mismatch_note"))
    };
    let table = Table::new(
        rows,
        [
            Constraint::Length(1),
            Constraint::Length(13),
            Constraint::Fill(1),
            Constraint::Fill(1),
        ],
    )
    .header(header)
    .column_spacing(1)
    .block(Block::new().borders(Borders::ALL).title(title));
    f.render_widget(table, area);
}

fn draw_history(m: &Model, f: &mut Frame, area: Rect) {
    let l = m.lang;
    let mut lines = shift_lines(m);
    // Supervisors see the fleet's conflicts above the history, where a long shift
    // cannot push them off the screen.
    if let (Some(fl), Some(Role::Supervisor)) = (&m.fleet, m.officer.as_ref().map(|o| o.role)) {
        if !fl.conflicts.is_empty() {
            lines.push(Line::styled(tr(l, "history.fleet_conflicts"), bold()));
        }
        for c in &fl.conflicts {
            lines.push(Line::styled(
                trf(
                    l,
                    "history.fleet_conflict",
                    &[
                        ("visa", &safe(&c.visa_number)),
                        ("booth", &safe(&c.terminal_id)),
                        ("winner", &safe(&c.winner_terminal)),
                        ("at", &safe(&c.winner_checkpoint)),
                        ("when", &safe(&c.winner_date)),
                    ],
                ),
                Style::new().fg(BAD),
            ));
        }
    }
    lines.extend(history_lines(m));
    f.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(format!(" {} ", tr(l, "history.title")))),
        area,
    );
}

/// The signed-in officer's shift: since when, and what was decided in it.
fn shift_lines(m: &Model) -> Vec<Line<'static>> {
    let l = m.lang;
    let Some(o) = &m.officer else {
        return Vec::new();
    };
    let sh = &m.shift;
    // The training officer is signed in before the first clock reading.
    let since = if sh.since.is_empty() {
        &m.clock
    } else {
        &sh.since
    };
    vec![Line::from(vec![
        Span::styled(
            format!(
                "{}: ",
                trf(
                    l,
                    "history.shift",
                    &[("officer", &safe(&o.id)), ("since", &i18n::clock(l, since))]
                )
            ),
            bold(),
        ),
        Span::raw(trf(
            l,
            "history.counts",
            &[
                ("accept", &sh.accept.to_string()),
                ("reject", &sh.reject.to_string()),
                ("refused", &sh.refused.to_string()),
            ],
        )),
    ])]
}

fn history_lines(m: &Model) -> Vec<Line<'static>> {
    let l = m.lang;
    if m.history.is_empty() {
        vec![Line::styled(
            tr(l, "history.empty"),
            Style::new().add_modifier(Modifier::DIM),
        )]
    } else {
        let mut earlier = false;
        let mut lines = Vec::new();
        for h in &m.history {
            // Rows are newest first: the first one from before this sign-in starts the
            // booth's earlier decisions.
            if !earlier && !in_shift(m, h) {
                earlier = true;
                if m.officer.is_some() {
                    lines.push(Line::styled(
                        format!("── {} ──", tr(l, "history.earlier")),
                        Style::new().add_modifier(Modifier::DIM),
                    ));
                }
            }
            lines.push({
                let (mark, text, style) = match &h.outcome {
                    Outcome::Crossing(d) => (
                        "✔",
                        tr(
                            l,
                            match d {
                                Direction::Entry => "history.entry",
                                Direction::Exit => "history.exit",
                            },
                        ),
                        Style::new().fg(GOOD),
                    ),
                    Outcome::Reject(codes) => (
                        "✘",
                        format!("{} {}", tr(l, "history.reject"), safe(&codes.join(" "))),
                        Style::new().fg(BAD),
                    ),
                    Outcome::Refused(reason) => (
                        "✘",
                        format!(
                            "{}: {}",
                            tr(l, "history.refused"),
                            safe(&tr(l, &format!("refuse.{reason}")))
                        ),
                        Style::new().fg(WARN),
                    ),
                };
                Line::from(vec![
                    Span::raw(format!("{} {:<14} ", safe(&h.time), safe(&h.visa))),
                    Span::styled(format!("{mark} {text}"), style),
                    Span::styled(
                        format!("  {}", safe(&h.officer)),
                        Style::new().add_modifier(Modifier::DIM),
                    ),
                ])
            });
        }
        lines
    }
}

/// The row was decided in the signed-in officer's current shift.
fn in_shift(m: &Model, h: &super::app::HistoryRow) -> bool {
    let since = if m.shift.since.is_empty() {
        &m.clock
    } else {
        &m.shift.since
    };
    m.officer.as_ref().is_some_and(|o| o.id == h.officer) && h.at.as_str() >= since.as_str()
}

fn draw_help(m: &Model, f: &mut Frame, area: Rect) {
    let l = m.lang;
    let mut lines: Vec<Line> = [
        "f1", "f2", "f3", "f4", "f5", "f6", "arrows", "esc", "f7", "f9", "f10", "signin",
    ]
    .iter()
    .map(|k| Line::raw(tr(l, &format!("help.{k}"))))
    .collect();
    lines.push(Line::raw(""));
    lines.push(Line::raw(tr(l, "help.typing")));
    lines.push(Line::styled(tr(l, "help.close"), bold()));
    let rect = centered(area, 78, 20);
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(format!(" {} ", tr(l, "help.title")))),
        rect,
    );
}
