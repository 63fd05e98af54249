//! Footprint shapes for the demo: boxes, L/U/T blocks, crosses and round-ish
//! towers, 4–12 vertices, counter-clockwise.

#[cfg(test)]
use crate::geo::mesh::signed_area2;
use crate::geo::rng::Rng;

fn rotate_translate(shape: &[[f32; 2]], centre: [f32; 2], angle: f32) -> Vec<[f32; 2]> {
    let (s, c) = angle.sin_cos();
    shape
        .iter()
        .map(|p| {
            [
                centre[0] + p[0] * c - p[1] * s,
                centre[1] + p[0] * s + p[1] * c,
            ]
        })
        .collect()
}

/// A footprint of roughly `size` metres across, centred on `centre`.
pub(crate) fn footprint(rng: &mut Rng, centre: [f32; 2], size: f32, angle: f32) -> Vec<[f32; 2]> {
    let w = size / 2.0;
    let d = size * rng.range(0.35, 0.5);
    let kind = rng.f32();
    let shape: Vec<[f32; 2]> = if kind < 0.40 {
        vec![[-w, -d], [w, -d], [w, d], [-w, d]]
    } else if kind < 0.55 {
        // L
        let t = w * 0.45;
        vec![
            [-w, -w],
            [w, -w],
            [w, -w + t * 2.0],
            [-w + t * 2.0, -w + t * 2.0],
            [-w + t * 2.0, w],
            [-w, w],
        ]
    } else if kind < 0.63 {
        // U
        let t = w * 0.4;
        vec![
            [-w, -w],
            [w, -w],
            [w, w],
            [w - t, w],
            [w - t, -w + t],
            [-w + t, -w + t],
            [-w + t, w],
            [-w, w],
        ]
    } else if kind < 0.70 {
        // T
        let t = w * 0.35;
        vec![
            [-w, w - t],
            [-t, w - t],
            [-t, -w],
            [t, -w],
            [t, w - t],
            [w, w - t],
            [w, w],
            [-w, w],
        ]
    } else if kind < 0.80 {
        // Cross (12 vertices)
        let t = w * 0.35;
        vec![
            [-t, -w],
            [t, -w],
            [t, -t],
            [w, -t],
            [w, t],
            [t, t],
            [t, w],
            [-t, w],
            [-t, t],
            [-w, t],
            [-w, -t],
            [-t, -t],
        ]
    } else {
        // Round-ish tower, 5–12 sides.
        let n = 5 + rng.below(8);
        (0..n)
            .map(|i| {
                let a = std::f32::consts::TAU * i as f32 / n as f32;
                let r = w * rng.range(0.85, 1.0);
                [r * a.cos(), r * a.sin()]
            })
            .collect()
    };
    rotate_translate(&shape, centre, angle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_is_counter_clockwise_with_4_to_12_vertices() {
        let mut rng = Rng::new(9);
        for _ in 0..500 {
            let angle = rng.range(0.0, 6.0);
            let ring = footprint(&mut rng, [100.0, -50.0], 30.0, angle);
            assert!((4..=12).contains(&ring.len()), "{}", ring.len());
            assert!(signed_area2(&ring) > 0.0);
        }
    }
}
