//! A local east/north tangent frame in metres around a city origin.
//!
//! f64 in, f32 out: within ±50 km of the origin f32 metres keep centimetre
//! precision, and the flattening error of this frame stays under a metre.

use serde::{Deserialize, Serialize};

/// WGS84 semi-major axis (m).
const WGS84_A: f64 = 6_378_137.0;
/// WGS84 first eccentricity squared.
const WGS84_E2: f64 = 6.694_379_990_14e-3;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocalFrame {
    pub origin_lon: f64,
    pub origin_lat: f64,
    /// Metres per degree of longitude at the origin latitude.
    metres_per_deg_lon: f64,
    /// Metres per degree of latitude at the origin latitude.
    metres_per_deg_lat: f64,
}

impl LocalFrame {
    pub fn new(origin_lon: f64, origin_lat: f64) -> LocalFrame {
        let phi = origin_lat.to_radians();
        let s = phi.sin();
        let w = (1.0 - WGS84_E2 * s * s).sqrt();
        // Radii of curvature: prime vertical (N) and meridian (M).
        let n = WGS84_A / w;
        let m = WGS84_A * (1.0 - WGS84_E2) / (w * w * w);
        LocalFrame {
            origin_lon,
            origin_lat,
            metres_per_deg_lon: n * phi.cos() * std::f64::consts::PI / 180.0,
            metres_per_deg_lat: m * std::f64::consts::PI / 180.0,
        }
    }

    /// (lon, lat) in degrees → (east, north) in metres.
    pub fn to_local(&self, lon: f64, lat: f64) -> [f32; 2] {
        [
            ((lon - self.origin_lon) * self.metres_per_deg_lon) as f32,
            ((lat - self.origin_lat) * self.metres_per_deg_lat) as f32,
        ]
    }

    /// (east, north) in metres → (lon, lat) in degrees.
    pub fn to_lon_lat(&self, local: [f32; 2]) -> [f64; 2] {
        [
            self.origin_lon + f64::from(local[0]) / self.metres_per_deg_lon,
            self.origin_lat + f64::from(local[1]) / self.metres_per_deg_lat,
        ]
    }
}

/// Great-circle distance in metres (haversine on the mean radius); for tests
/// and tolerances, not for projection.
pub fn distance_m(a: [f64; 2], b: [f64; 2]) -> f64 {
    const R: f64 = 6_371_008.8;
    let (lat1, lat2) = (a[1].to_radians(), b[1].to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b[0] - a[0]).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_offsets_match_great_circle_distances() {
        let frame = LocalFrame::new(106.5858, 29.5647);
        let p = [106.70, 29.70];
        let local = frame.to_local(p[0], p[1]);
        let planar = f64::from(local[0]).hypot(f64::from(local[1]));
        let sphere = distance_m([106.5858, 29.5647], p);
        // ~18 km away: the tangent frame agrees with the sphere within 0.5 %.
        assert!(
            (planar - sphere).abs() / sphere < 5e-3,
            "{planar} vs {sphere}"
        );
        let back = frame.to_lon_lat(local);
        assert!(distance_m(back, p) < 0.05);
    }
}
