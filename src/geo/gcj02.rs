//! GCJ-02 ("Mars coordinates", used by Chinese map providers) ↔ WGS84.
//!
//! The forward transform is the published obfuscation formula; the inverse is
//! solved by fixed-point iteration to well under a centimetre.

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

/// True where GCJ-02 offsets do not apply (outside mainland China's box).
pub fn out_of_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lon(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// WGS84 (lon, lat) → GCJ-02 (lon, lat).
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> [f64; 2] {
    use std::f64::consts::PI;
    if out_of_china(lon, lat) {
        return [lon, lat];
    }
    let dlat = transform_lat(lon - 105.0, lat - 35.0);
    let dlon = transform_lon(lon - 105.0, lat - 35.0);
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    [lon + dlon, lat + dlat]
}

/// GCJ-02 (lon, lat) → WGS84 (lon, lat), exact to < 1e-9° after iteration.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> [f64; 2] {
    if out_of_china(lon, lat) {
        return [lon, lat];
    }
    let mut guess = [lon, lat];
    for _ in 0..10 {
        let fwd = wgs84_to_gcj02(guess[0], guess[1]);
        let err = [fwd[0] - lon, fwd[1] - lat];
        guess = [guess[0] - err[0], guess[1] - err[1]];
        if err[0].abs() < 1e-10 && err[1].abs() < 1e-10 {
            break;
        }
    }
    guess
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::frame::distance_m;

    // Reference pair published with wandergis/coordtransform (test/app.js):
    // wgs84togcj02(116.404, 39.915) = [116.41024449916938, 39.91640428150164].
    const WGS: [f64; 2] = [116.404, 39.915];
    const GCJ: [f64; 2] = [116.410_244_499_169_38, 39.916_404_281_501_64];

    #[test]
    fn forward_matches_the_published_reference_within_a_metre() {
        let got = wgs84_to_gcj02(WGS[0], WGS[1]);
        assert!(distance_m(got, GCJ) < 1.0, "{got:?}");
        // GCJ-02 really moves points by hundreds of metres.
        assert!(distance_m(WGS, GCJ) > 400.0);
    }

    #[test]
    fn inverse_recovers_wgs84_from_the_published_gcj02_point() {
        let got = gcj02_to_wgs84(GCJ[0], GCJ[1]);
        assert!(distance_m(got, WGS) < 1.0, "{got:?}");
    }

    #[test]
    fn round_trip_at_chaotianmen_is_sub_centimetre() {
        let p = [106.5858, 29.5647];
        let gcj = wgs84_to_gcj02(p[0], p[1]);
        let back = gcj02_to_wgs84(gcj[0], gcj[1]);
        assert!(distance_m(back, p) < 0.01);
    }

    #[test]
    fn points_outside_china_are_untouched() {
        assert_eq!(wgs84_to_gcj02(37.6, 55.75), [37.6, 55.75]);
        assert_eq!(gcj02_to_wgs84(139.2, 35.3), [139.2, 35.3]);
    }
}
