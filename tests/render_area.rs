//! `citytwin render` as a user runs it: `--area` draws the drilled-into
//! district as an operator sees it — the same view with the rest of the
//! city dimmed; an unknown area is refused naming it. A DEM on its own is
//! framed and shows its relief.

mod common;

use std::process::Command;

fn render(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_citytwin"))
        .arg("render")
        .args(args)
        .output()
        .expect("run citytwin render")
}

fn mean_luminance(image: &image::RgbaImage) -> f64 {
    let sum: f64 = image
        .pixels()
        .map(|p| {
            0.2126 * f64::from(p.0[0]) + 0.7152 * f64::from(p.0[1]) + 0.0722 * f64::from(p.0[2])
        })
        .sum();
    sum / f64::from(image.width() * image.height())
}

#[test]
fn render_area_draws_the_drilled_in_district_with_the_rest_dimmed() {
    let whole = common::output_path("render_whole.png");
    let drilled = common::output_path("render_area_500103.png");
    // The same view both times: the city around 渝中区 from above.
    let view = [
        "--look-at",
        "106.55,29.56",
        "--distance",
        "9000",
        "--pitch",
        "60",
        "--size",
        "320x180",
    ];
    for (out, area) in [(&whole, None), (&drilled, Some("500103"))] {
        let mut args: Vec<&str> = view.to_vec();
        args.extend(["--out", out.to_str().expect("utf-8")]);
        if let Some(a) = area {
            args.extend(["--area", a]);
        }
        let result = render(&args);
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
    }
    let whole = image::open(&whole).expect("whole").to_rgba8();
    let drilled = image::open(&drilled).expect("drilled").to_rgba8();
    let (a, b) = (mean_luminance(&whole), mean_luminance(&drilled));
    assert!(
        b < a * 0.97,
        "outside 渝中区 the city dims: mean luminance {b:.1} drilled vs {a:.1}"
    );

    let refused = render(&["--area", "999999", "--out", "/dev/null", "--size", "64x64"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("--area 999999: no such district or street")
    );
}

/// Mean and standard deviation of the luminance over the middle half of
/// the frame.
fn middle_luminance(image: &image::RgbaImage) -> (f64, f64) {
    let (w, h) = (image.width(), image.height());
    let lum: Vec<f64> = (h / 4..h * 3 / 4)
        .flat_map(|y| (w / 4..w * 3 / 4).map(move |x| (x, y)))
        .map(|(x, y)| {
            let p = image.get_pixel(x, y).0;
            0.2126 * f64::from(p[0]) + 0.7152 * f64::from(p[1]) + 0.0722 * f64::from(p[2])
        })
        .collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    let sd = (lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64).sqrt();
    (mean, sd)
}

#[test]
fn a_dem_on_its_own_is_framed_and_shows_relief() {
    let dem = common::shared_data("dem/hakone_aster_30m.tif");
    let out = common::output_path("render_dem_only.png");
    let result = render(&[
        "--dem",
        dem.to_str().expect("utf-8"),
        "--size",
        "320x180",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let image = image::open(&out).expect("png").to_rgba8();
    let (w, h) = (image.width(), image.height());
    let (mean, sd) = middle_luminance(&image);
    let clear = citytwin::cockpit::theme::BACKGROUND.egui();
    let centre = image.get_pixel(w / 2, h / 2).0;
    assert!(
        centre[..3] != [clear.r(), clear.g(), clear.b()],
        "the middle of the frame is terrain, not the empty background"
    );
    assert!(
        sd > 3.0,
        "relief shows: luminance varies (sd {sd:.1} around {mean:.1})"
    );
}

#[test]
fn a_large_dem_is_not_lost_in_the_haze() {
    use bevy::math::UVec2;
    use citytwin::cockpit::app::default_view;
    use citytwin::cockpit::headless::HeadlessCity;
    // 120 km square, rolling hills 0–900 m: far larger than a city.
    let dir = std::env::temp_dir().join(format!("citytwin-bigdem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("big.tif");
    common::write_dem(&path, 120, 110, 100.0, 30.5, 0.01, |col, row| {
        let (x, y) = (col as f64 / 6.0, row as f64 / 5.0);
        (450.0 + 300.0 * x.sin() * y.cos() + 150.0 * (x * 0.37 + y * 0.61).sin()) as i16
    });
    let dem = citytwin::geo::dem::Dem::load(&path).expect("dem");
    let city = std::sync::Arc::new(citytwin::geo::assemble::city_from_dem(&dem, "big"));
    assert!(city.bounds.span_m() > 100_000.0, "{}", city.bounds.span_m());
    let mut headless = HeadlessCity::new(
        city.clone(),
        default_view(&city),
        UVec2::new(320, 180),
        false,
    );
    let image = headless.capture().expect("frame");
    image
        .save(common::output_path("render_big_dem.png"))
        .expect("save");
    let (mean, sd) = middle_luminance(&image);
    assert!(
        sd > 3.0,
        "relief shows through the haze: sd {sd:.1} around {mean:.1}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
