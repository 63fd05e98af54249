//! Demo terrain: rolling hills, two NNE–SSW ridges and carved river valleys.

use super::scene::DemoScene;
use crate::geo::LocalFrame;
use crate::geo::rng::Rng;
use crate::model::Terrain;

/// A polyline in local metres.
pub(crate) type Polyline = Vec<[f32; 2]>;

/// Converts a lon/lat path to local metres, rounded off by Chaikin corner
/// cutting so rivers and ridges bend instead of kinking.
pub(crate) fn to_local_path(frame: &LocalFrame, path: &[(f64, f64)]) -> Polyline {
    let mut line: Polyline = path
        .iter()
        .map(|&(lon, lat)| frame.to_local(lon, lat))
        .collect();
    for _ in 0..3 {
        line = chaikin(&line);
    }
    line
}

fn chaikin(line: &[[f32; 2]]) -> Polyline {
    if line.len() < 3 {
        return line.to_vec();
    }
    let mut out = Vec::with_capacity(line.len() * 2);
    out.push(line[0]);
    for seg in line.windows(2) {
        let (a, b) = (seg[0], seg[1]);
        out.push([0.75 * a[0] + 0.25 * b[0], 0.75 * a[1] + 0.25 * b[1]]);
        out.push([0.25 * a[0] + 0.75 * b[0], 0.25 * a[1] + 0.75 * b[1]]);
    }
    out.push(line[line.len() - 1]);
    out
}

/// Distance from `p` to the nearest point of `line`.
pub(crate) fn distance_to_polyline(p: [f32; 2], line: &[[f32; 2]]) -> f32 {
    line.windows(2)
        .map(|seg| {
            let (a, b) = (seg[0], seg[1]);
            let ab = [b[0] - a[0], b[1] - a[1]];
            let ap = [p[0] - a[0], p[1] - a[1]];
            let len2 = (ab[0] * ab[0] + ab[1] * ab[1]).max(1e-6);
            let t = ((ap[0] * ab[0] + ap[1] * ab[1]) / len2).clamp(0.0, 1.0);
            (ap[0] - ab[0] * t).hypot(ap[1] - ab[1] * t)
        })
        .fold(f32::INFINITY, f32::min)
}

fn smoothstep(edge0: f32, edge1: f32, x: f32) -> f32 {
    let t = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Seeded value noise with smooth interpolation, roughly in [-1, 1].
struct ValueNoise {
    seed: u64,
}

impl ValueNoise {
    fn lattice(&self, x: i32, y: i32) -> f32 {
        let mut rng = Rng::new(
            self.seed
                ^ (x as u64).wrapping_mul(0x9E37_79B1)
                ^ ((y as u64).wrapping_mul(0x85EB_CA77) << 1),
        );
        rng.f32() * 2.0 - 1.0
    }

    fn sample(&self, x: f32, y: f32) -> f32 {
        let (x0, y0) = (x.floor(), y.floor());
        let (tx, ty) = (x - x0, y - y0);
        let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
        let (ix, iy) = (x0 as i32, y0 as i32);
        let a = self.lattice(ix, iy);
        let b = self.lattice(ix + 1, iy);
        let c = self.lattice(ix, iy + 1);
        let d = self.lattice(ix + 1, iy + 1);
        let south = a + (b - a) * sx;
        let north = c + (d - c) * sx;
        south + (north - south) * sy
    }

    fn fbm(&self, x: f32, y: f32) -> f32 {
        let (mut sum, mut amp, mut freq) = (0.0, 0.5, 1.0);
        for _ in 0..4 {
            sum += amp * self.sample(x * freq, y * freq);
            amp *= 0.5;
            freq *= 2.0;
        }
        sum
    }
}

pub(crate) fn generate_terrain(scene: &DemoScene, frame: &LocalFrame) -> Terrain {
    let min = [scene.min_m.0, scene.min_m.1];
    let cols = ((scene.max_m.0 - min[0]) / scene.cell_m).ceil() as usize + 1;
    let rows = ((scene.max_m.1 - min[1]) / scene.cell_m).ceil() as usize + 1;
    let ridges: Vec<(Polyline, f32, f32)> = scene
        .ridges
        .iter()
        .map(|r| (to_local_path(frame, &r.path), r.height_m, r.half_width_m))
        .collect();
    let rivers: Vec<(Polyline, f32)> = scene
        .rivers
        .iter()
        .map(|r| (to_local_path(frame, &r.path), r.width_m))
        .collect();
    let noise = ValueNoise { seed: scene.seed };
    let water = scene.water_level_m;
    let recipe = &scene.terrain;

    let mut heights = Vec::with_capacity(cols * rows);
    for row in 0..rows {
        for col in 0..cols {
            let p = [
                min[0] + col as f32 * scene.cell_m,
                min[1] + row as f32 * scene.cell_m,
            ];
            let n = noise.fbm(p[0] / recipe.noise_scale_m, p[1] / recipe.noise_scale_m);
            let mut h = recipe.base_m + recipe.noise_m * n;
            for (line, height, half_width) in &ridges {
                let d = distance_to_polyline(p, line) / half_width;
                // A ridge crest with a little roughness along it.
                let crest = 1.0 + 0.15 * noise.sample(p[0] / 1500.0 + 31.0, p[1] / 1500.0);
                h += height * crest * (-d * d).exp();
            }
            // Dry land stays above the pool level; rivers are carved below.
            h = h.max(water + 8.0);
            for (line, width) in &rivers {
                let d = distance_to_polyline(p, line);
                let half = width / 2.0;
                let bank = smoothstep(half, half + 600.0, d);
                h = h.min((water - 12.0) + (h - (water - 12.0)) * bank);
            }
            heights.push(h);
        }
    }
    Terrain {
        origin_m: min,
        cell_m: scene.cell_m,
        cols,
        rows,
        heights_m: heights,
        water_level_m: Some(water),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_to_a_segment_is_perpendicular_inside_and_radial_outside() {
        let line = vec![[0.0, 0.0], [10.0, 0.0]];
        assert!((distance_to_polyline([5.0, 3.0], &line) - 3.0).abs() < 1e-5);
        assert!((distance_to_polyline([13.0, 4.0], &line) - 5.0).abs() < 1e-5);
    }
}
