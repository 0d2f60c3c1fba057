//! The pure verification path from QR text to verdict (no image decode, no database),
//! next to a bare `verify_strict` of the same signature as its peer: the ratio of the
//! two medians is the overhead of everything that is not Ed25519.

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::Signature;
use evisa_core::payload;
use evisa_core::rules::{self, Checkpoint, Direction, History};
use time::macros::date;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/cases/accept_tourist")
}

fn bench(c: &mut Criterion) {
    let qr = std::fs::read_to_string(fixtures().join("qr.txt")).unwrap();
    let mrz = std::fs::read_to_string(fixtures().join("mrz.txt")).unwrap();
    let trust =
        evisa_store::trustdir::load_dir(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("keys"))
            .unwrap();
    let at = Checkpoint {
        date: date!(2026 - 11 - 25),
        code: "NQZ".into(),
        direction: Direction::Entry,
    };
    let history = History::default();
    assert!(
        rules::decide(&rules::read_visa(&qr, &trust), &mrz, &history, &at)
            .reasons
            .is_empty()
    );

    let cose = payload::parse_cose(&payload::unwrap_transport(&qr).unwrap()).unwrap();
    let key = trust.find(cose.kid.as_deref().unwrap()).unwrap().key;
    let tbs = cose.sig_structure();
    let sig = Signature::from_slice(&cose.signature).unwrap();

    let mut g = c.benchmark_group("verification");
    g.bench_function("bare_verify_strict", |b| {
        b.iter(|| key.verify_strict(std::hint::black_box(&tbs), &sig).unwrap())
    });
    g.bench_function("qr_text_to_verdict", |b| {
        b.iter(|| {
            rules::decide(
                &rules::read_visa(std::hint::black_box(&qr), &trust),
                &mrz,
                &history,
                &at,
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
