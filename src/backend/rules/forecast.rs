//! The inverse-velocity failure-time forecast (Fukuzono 1985; Voight 1989
//! with α = 2): in tertiary creep 1/v falls linearly with time and reaches
//! zero at failure, so a least-squares line through (t, 1/v) crosses the
//! time axis at the forecast failure time t_f = −intercept / slope.

use crate::model::Forecast;

const DAY_MS: f64 = 86_400_000.0;

/// A straight line fitted by least squares, with what its uncertainty needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineFit {
    pub intercept: f64,
    pub slope: f64,
    pub r2: f64,
    /// Variances of intercept and slope and their covariance.
    pub var_intercept: f64,
    pub var_slope: f64,
    pub cov: f64,
    pub n: usize,
}

/// Ordinary least squares of y on x; `None` with fewer than 3 points or
/// no spread in x.
pub fn fit_line(points: &[(f64, f64)]) -> Option<LineFit> {
    let weighted: Vec<(f64, f64, f64)> = points.iter().map(|p| (p.0, p.1, 1.0)).collect();
    fit_line_weighted(&weighted)
}

/// Weighted least squares of y on x over (x, y, weight).
pub fn fit_line_weighted(points: &[(f64, f64, f64)]) -> Option<LineFit> {
    let n = points.len();
    if n < 3 {
        return None;
    }
    let sw: f64 = points.iter().map(|p| p.2).sum();
    if sw <= 0.0 {
        return None;
    }
    let mx = points.iter().map(|p| p.2 * p.0).sum::<f64>() / sw;
    let my = points.iter().map(|p| p.2 * p.1).sum::<f64>() / sw;
    let sxx: f64 = points.iter().map(|p| p.2 * (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| p.2 * (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = points.iter().map(|p| p.2 * (p.1 - my).powi(2)).sum();
    if sxx <= f64::EPSILON * sw {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let sse: f64 = points
        .iter()
        .map(|p| p.2 * (p.1 - intercept - slope * p.0).powi(2))
        .sum();
    let r2 = if syy > 0.0 { 1.0 - sse / syy } else { 1.0 };
    // Residual variance with n − 2 degrees of freedom, in weight units.
    let nf = n as f64;
    let s2 = sse / (nf - 2.0) * nf / sw;
    let var_slope = s2 / sxx * sw / nf;
    let var_intercept = s2 * sw / nf * (1.0 / sw + mx * mx / sxx);
    let cov = -mx * s2 * sw / nf / sxx;
    Some(LineFit {
        intercept,
        slope,
        r2,
        var_intercept,
        var_slope,
        cov,
        n,
    })
}

/// Why no forecast was made (shown as 无加速 / no acceleration or the reason).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NoForecast {
    /// Fewer usable samples than the fit needs.
    TooFew { usable: usize },
    /// 1/v does not fall: the slope is not accelerating.
    NotAccelerating,
    /// The line does not fit well enough.
    PoorFit { r2: f64 },
}

/// Samples a fit needs at least.
pub const MIN_SAMPLES: usize = 5;

/// Fits 1/v against t over `samples` (time ms, smoothed velocity mm/day);
/// samples with v ≤ 0 carry no 1/v and are left out. The same velocity
/// error moves 1/v by δv/v², so each point is weighted by v² (slow, noisy
/// early samples count less than the fast ones near failure). A forecast
/// is made only when 1/v falls (slope < 0) and the fit passes `min_r2`.
pub fn inverse_velocity(
    point: u16,
    samples: &[(i64, f64)],
    min_r2: f64,
) -> Result<Forecast, NoForecast> {
    let Some(&(origin_ms, _)) = samples.first() else {
        return Err(NoForecast::TooFew { usable: 0 });
    };
    let points: Vec<(f64, f64, f64)> = samples
        .iter()
        .filter(|(_, v)| *v > 0.0 && v.is_finite())
        .map(|&(t, v)| ((t - origin_ms) as f64 / DAY_MS, 1.0 / v, v * v))
        .collect();
    if points.len() < MIN_SAMPLES {
        return Err(NoForecast::TooFew {
            usable: points.len(),
        });
    }
    let fit = fit_line_weighted(&points).ok_or(NoForecast::TooFew {
        usable: points.len(),
    })?;
    if fit.slope >= 0.0 {
        return Err(NoForecast::NotAccelerating);
    }
    if fit.r2 < min_r2 {
        return Err(NoForecast::PoorFit { r2: fit.r2 });
    }
    let (a, b) = (fit.intercept, fit.slope);
    let tf = -a / b;
    // Delta method: ∂t_f/∂a = −1/b, ∂t_f/∂b = a/b².
    let (da, db) = (-1.0 / b, a / (b * b));
    let var = da * da * fit.var_intercept + db * db * fit.var_slope + 2.0 * da * db * fit.cov;
    let half = 2.0 * var.max(0.0).sqrt();
    let last_day = points.last().map_or(0.0, |p| p.0);
    let to_ms = |days: f64| origin_ms + (days * DAY_MS).round() as i64;
    Ok(Forecast {
        point,
        failure_ms: to_ms(tf),
        // Failure cannot come before the last reading that preceded it.
        earliest_ms: to_ms((tf - half).max(last_day)),
        latest_ms: to_ms(tf + half),
        r2: fit.r2 as f32,
        origin_ms,
        intercept: a,
        slope: b,
        samples: points.len().min(usize::from(u16::MAX)) as u16,
        fitted_at_ms: samples.last().map_or(origin_ms, |s| s.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_squares_matches_a_known_fit() {
        // Anscombe's first quartet: y = 3.00 + 0.500 x, R² = 0.667.
        let x = [10.0, 8.0, 13.0, 9.0, 11.0, 14.0, 6.0, 4.0, 12.0, 7.0, 5.0];
        let y = [
            8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68,
        ];
        let points: Vec<_> = x.into_iter().zip(y).collect();
        let fit = fit_line(&points).expect("fits");
        assert!((fit.intercept - 3.0001).abs() < 1e-3, "{fit:?}");
        assert!((fit.slope - 0.5001).abs() < 1e-3, "{fit:?}");
        assert!((fit.r2 - 0.6665).abs() < 1e-3, "{fit:?}");
        // Standard error of the slope: 0.1179 (published).
        assert!((fit.var_slope.sqrt() - 0.1179).abs() < 1e-3, "{fit:?}");
        assert!(fit_line(&points[..2]).is_none());
        assert!(fit_line(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)]).is_none());
    }

    #[test]
    fn rising_inverse_velocity_is_no_forecast() {
        let decelerating: Vec<(i64, f64)> = (0..10)
            .map(|i| (i * 3_600_000, 10.0 / (1.0 + f64::from(i as u8))))
            .collect();
        assert_eq!(
            inverse_velocity(0, &decelerating, 0.8),
            Err(NoForecast::NotAccelerating)
        );
        let zeros: Vec<(i64, f64)> = (0..10).map(|i| (i * 3_600_000, 0.0)).collect();
        assert_eq!(
            inverse_velocity(0, &zeros, 0.8),
            Err(NoForecast::TooFew { usable: 0 })
        );
    }
}
