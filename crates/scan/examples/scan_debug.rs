//! Debug helper: print finder candidates and triples for one image, and
//! optionally write a crop of the bitmap.
//! `cargo run --release --example scan_debug -- IMAGE [X Y W H OUT.png]`

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let g = evisa_scan::to_grey(&image::open(&a[0]).expect("open"));
    print!("{}", evisa_scan::debug_report(&g));
    let o = evisa_scan::DecodeOptions {
        budget: None,
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let d = evisa_scan::decode_frame(&g, &o);
    println!(
        "decode_frame ({:.1} ms): {:?}",
        t.elapsed().as_secs_f64() * 1e3,
        d.map(|d| (d.attempt, d.text.len()))
    );
    for _ in 0..3 {
        println!("{:?}", evisa_scan::debug_timings(&g));
    }
    if a.len() == 6 {
        let n = |i: usize| a[i].parse::<u32>().expect("number");
        let bm = evisa_scan::debug_bitmap(&g);
        let crop = image::imageops::crop_imm(&bm, n(1), n(2), n(3), n(4)).to_image();
        let crop = image::imageops::resize(
            &crop,
            n(3) * 4,
            n(4) * 4,
            image::imageops::FilterType::Nearest,
        );
        crop.save(&a[5]).expect("save");
        let crop = image::imageops::crop_imm(&g, n(1), n(2), n(3), n(4)).to_image();
        let crop = image::imageops::resize(
            &crop,
            n(3) * 4,
            n(4) * 4,
            image::imageops::FilterType::Nearest,
        );
        crop.save(a[5].replace(".png", "-gray.png")).expect("save");
    }
}
