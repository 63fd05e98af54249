//! The cockpit's look: every colour and font in one place. Nothing else in the
//! crate writes a colour literal.

use bevy::prelude::*;
use bevy_egui::egui;

use crate::model::RiskLevel;

/// sRGB bytes of a colour; converted for egui (sRGB) and shaders (linear).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub fn egui(self) -> egui::Color32 {
        egui::Color32::from_rgb(self.0, self.1, self.2)
    }

    pub fn bevy(self) -> Color {
        Color::srgb_u8(self.0, self.1, self.2)
    }

    /// Linear RGBA for shader uniforms.
    pub fn linear(self) -> Vec4 {
        let c = self.bevy().to_linear();
        Vec4::new(c.red, c.green, c.blue, 1.0)
    }
}

/// Fire-risk colours: 重大 red, 较大 orange, 一般 yellow, 较低 blue, 低 green.
pub fn risk_color(level: RiskLevel) -> Rgb {
    match level {
        RiskLevel::Major => Rgb(235, 38, 38),
        RiskLevel::High => Rgb(255, 140, 26),
        RiskLevel::Moderate => Rgb(245, 215, 40),
        RiskLevel::Lower => Rgb(40, 130, 245),
        RiskLevel::Low => Rgb(34, 197, 94),
    }
}

/// Geohazard warning colours: quiet grey, 注意 blue, 警示 yellow, 警戒
/// orange, 警报 red.
pub fn warning_color(level: crate::model::WarningLevel) -> Rgb {
    use crate::model::WarningLevel;
    match level {
        WarningLevel::Quiet => Rgb(140, 148, 160),
        WarningLevel::Attention => Rgb(40, 130, 245),
        WarningLevel::Caution => Rgb(245, 215, 40),
        WarningLevel::Alert => Rgb(255, 140, 26),
        WarningLevel::Alarm => Rgb(235, 38, 38),
    }
}

/// Night-sky background of the command hall; fog fades into it.
pub const BACKGROUND: Rgb = Rgb(7, 12, 24);
pub const SELECTED: Rgb = Rgb(235, 250, 255);
pub const ALARM_FLASH: Rgb = Rgb(255, 255, 255);
pub const WATER: Rgb = Rgb(18, 52, 92);
/// Terrain tint from the valley floor to the ridge tops.
pub const TERRAIN_LOW: Rgb = Rgb(22, 44, 48);
pub const TERRAIN_MID: Rgb = Rgb(34, 56, 50);
pub const TERRAIN_HIGH: Rgb = Rgb(66, 72, 64);

pub const PANEL_FILL: Rgb = Rgb(10, 22, 42);
pub const PANEL_STROKE: Rgb = Rgb(38, 92, 150);
/// Background of the area names on the map.
pub const LABEL_FILL: Rgb = Rgb(12, 30, 58);
/// Boundary lines on the ground: between districts (city level), around
/// the drilled-into area, and between its streets.
pub const BORDER_DISTRICT: Rgb = Rgb(44, 140, 190);
pub const BORDER_FOCUS: Rgb = Rgb(90, 215, 255);
pub const BORDER_STREET: Rgb = Rgb(34, 92, 130);
pub const TEXT: Rgb = Rgb(214, 230, 245);
pub const TEXT_DIM: Rgb = Rgb(130, 156, 184);
pub const ACCENT: Rgb = Rgb(64, 196, 255);
pub const LINK_OK: Rgb = Rgb(34, 197, 94);
pub const LINK_WAIT: Rgb = Rgb(255, 170, 40);
pub const LINK_LOST: Rgb = Rgb(240, 70, 70);
/// The 回放中 / REPLAY banner.
pub const REPLAY_FILL: Rgb = Rgb(150, 60, 20);

/// WCAG 2 contrast ratio of two sRGB colours (1 to 21).
pub fn contrast(a: Rgb, b: Rgb) -> f64 {
    fn luminance(c: Rgb) -> f64 {
        let lin = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2)
    }
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// WCAG AA for body text.
pub const MIN_TEXT_CONTRAST: f64 = 4.5;

/// `c` lightened toward white just enough to read as text on `bg` (WCAG
/// AA); colours that already do are returned as they are.
pub fn readable_on(c: Rgb, bg: Rgb) -> Rgb {
    let mix = |t: f64| {
        let m = |v: u8| (f64::from(v) + (255.0 - f64::from(v)) * t).round() as u8;
        Rgb(m(c.0), m(c.1), m(c.2))
    };
    (0..=20)
        .map(|i| mix(f64::from(i) / 20.0))
        .find(|m| contrast(*m, bg) >= MIN_TEXT_CONTRAST)
        .unwrap_or(Rgb(255, 255, 255))
}

/// Every text/background pair the panels draw, by name (the contrast test
/// walks them all).
pub fn text_pairs() -> Vec<(String, Rgb, Rgb)> {
    let mut pairs: Vec<(String, Rgb, Rgb)> = [
        ("text on panel", TEXT, PANEL_FILL),
        ("dim text on panel", TEXT_DIM, PANEL_FILL),
        ("accent on panel", ACCENT, PANEL_FILL),
        ("link ok on panel", LINK_OK, PANEL_FILL),
        ("link wait on panel", LINK_WAIT, PANEL_FILL),
        ("link lost on panel", LINK_LOST, PANEL_FILL),
        ("text on map label", TEXT, LABEL_FILL),
        ("text on a selected chip or row", TEXT, PANEL_STROKE),
        ("text on the replay banner", TEXT, REPLAY_FILL),
    ]
    .into_iter()
    .map(|(n, f, b)| (n.to_owned(), f, b))
    .collect();
    for level in RiskLevel::ALL {
        for (bg, on) in [(PANEL_FILL, "panel"), (PANEL_STROKE, "selection")] {
            pairs.push((
                format!("{level:?} text on {on}"),
                readable_on(risk_color(level), bg),
                bg,
            ));
        }
    }
    pairs
}

/// Direction towards the sun (from the south-east, 50° up), world space.
pub fn sun_direction() -> Vec3 {
    Vec3::new(0.45, 0.77, 0.45).normalize()
}

/// The haze at the horizon: the sky's lowest colour, and what fog fades to.
pub const HAZE: Rgb = Rgb(22, 38, 64);
/// The sky straight up.
pub const ZENITH: Rgb = Rgb(4, 8, 18);
/// Ambient light (linear, a multiplier) from the sky above and bounced from
/// the ground below: walls facing away from the sun still show their form.
pub const SKY_AMBIENT: Vec3 = Vec3::new(0.27, 0.30, 0.38);
pub const GROUND_AMBIENT: Vec3 = Vec3::new(0.12, 0.11, 0.10);
/// The tone low risk levels are muted toward (a cool grey a little lighter
/// than the ground), so the few high ones stand out.
pub const MUTED_BUILDING: Rgb = Rgb(70, 84, 98);
/// The bright line where land meets water.
pub const SHORE: Rgb = Rgb(92, 150, 170);

/// Halo colour of a high risk level: its colour lifted toward white.
pub fn halo_color(level: RiskLevel) -> Rgb {
    let c = risk_color(level);
    let lift = |v: u8| (f32::from(v) + (255.0 - f32::from(v)) * 0.35).round() as u8;
    Rgb(lift(c.0), lift(c.1), lift(c.2))
}

/// Exponential-squared fog density per metre: a city of about 20 km
/// (the demo) fades into the haze toward its far edge.
pub const FOG_DENSITY_PER_M: f32 = 1.0 / 38_000.0;

/// The fog for a city first seen from `view_distance_m` away: the usual
/// density, thinned when the data is so large that its first view is far
/// off, so that view keeps three quarters of its colour — a 100 km DEM is
/// not lost in the haze, the demo's centre looks as it did.
pub fn fog_density_for_view(view_distance_m: f32) -> f32 {
    const FIRST_VIEW_FOG: f32 = 0.55;
    if view_distance_m.is_finite() && view_distance_m > 0.0 {
        FOG_DENSITY_PER_M.min(FIRST_VIEW_FOG / view_distance_m)
    } else {
        FOG_DENSITY_PER_M
    }
}

/// Subset of Noto Sans SC (SIL OFL 1.1) covering the UI, place names and the
/// 3,500 most common characters; see assets/fonts/README.md.
pub const CJK_FONT: &[u8] = include_bytes!("../../assets/fonts/NotoSansSC-subset.otf");

/// Installs the CJK font (as a fallback after egui's Latin font) and the dark
/// cockpit style, scaled by `ui_scale` for wall displays.
pub fn apply(ctx: &egui::Context, ui_scale: f32) {
    let mut fonts = egui::FontDefinitions::default();
    fonts.font_data.insert(
        "noto_sans_sc".to_owned(),
        std::sync::Arc::new(egui::FontData::from_static(CJK_FONT)),
    );
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts
            .families
            .entry(family)
            .or_default()
            .push("noto_sans_sc".to_owned());
    }
    ctx.set_fonts(fonts);

    let mut visuals = egui::Visuals::dark();
    visuals.panel_fill = PANEL_FILL.egui();
    visuals.window_fill = PANEL_FILL.egui();
    visuals.window_stroke = egui::Stroke::new(1.0, PANEL_STROKE.egui());
    visuals.override_text_color = Some(TEXT.egui());
    visuals.selection.bg_fill = PANEL_STROKE.egui();
    visuals.hyperlink_color = ACCENT.egui();
    ctx.set_visuals(visuals);
    ctx.set_zoom_factor(ui_scale);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_pair_meets_wcag_aa() {
        let failing: Vec<String> = text_pairs()
            .into_iter()
            .filter(|(_, f, b)| contrast(*f, *b) < MIN_TEXT_CONTRAST)
            .map(|(n, f, b)| format!("{n}: {:.2}", contrast(f, b)))
            .collect();
        assert!(failing.is_empty(), "below 4.5:1: {failing:?}");
        // The raw 重大 red on a panel does not (why readable_on exists), and
        // a colour that already reads is left alone.
        assert!(contrast(risk_color(RiskLevel::Major), PANEL_FILL) < MIN_TEXT_CONTRAST);
        assert_eq!(readable_on(TEXT, PANEL_FILL), TEXT);
        assert!((contrast(Rgb(255, 255, 255), Rgb(0, 0, 0)) - 21.0).abs() < 1e-9);
    }
}
