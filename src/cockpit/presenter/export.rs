//! `citytwin present FILE --export DIR`: every step rendered headless, with
//! the audience's overlays (title, caption, KPI), to `DIR/step_NN.png`, and
//! `DIR/index.png`, all steps side by side: a deck to hand out.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bevy::math::UVec2;
use bevy::time::TimeUpdateStrategy;

use super::{Presenter, PresenterCommand};
use crate::cockpit::app::default_view;
use crate::cockpit::headless::HeadlessCity;
use crate::model::City;
use crate::model::briefing::Briefing;

/// Simulated time per exported frame: flights finish in a known number of
/// frames whatever the renderer's speed.
const FRAME: Duration = Duration::from_millis(100);

/// A briefing being stepped through headless (export, tests, benches).
pub struct HeadlessBriefing {
    pub headless: HeadlessCity,
}

impl HeadlessBriefing {
    /// The city with panels and the presenter, presenting `briefing` at its
    /// first step (flown there, settled).
    pub fn start(city: Arc<City>, briefing: Briefing, size: UVec2) -> HeadlessBriefing {
        let view = default_view(&city);
        let mut headless = HeadlessCity::with_panels(city, view, size, false);
        headless
            .app()
            .insert_resource(TimeUpdateStrategy::ManualDuration(FRAME));
        headless
            .app()
            .world_mut()
            .write_message(PresenterCommand::Start(Box::new(briefing)));
        let mut this = HeadlessBriefing { headless };
        this.settle();
        this
    }

    pub fn presenter(&self) -> &Presenter {
        self.headless.app_ref().world().resource::<Presenter>()
    }

    /// Sends a command and runs frames until the step's flight is over.
    pub fn command(&mut self, command: PresenterCommand) {
        self.headless.app().world_mut().write_message(command);
        self.settle();
    }

    /// Runs frames until the step is applied, its flight has landed and a
    /// replay segment has played out.
    pub fn settle(&mut self) {
        self.headless.update();
        let transition = self
            .presenter()
            .step()
            .map_or(1.5, |s| s.transition_s.max(1.2));
        let frames = (transition / FRAME.as_secs_f32()).ceil() as usize + 4;
        for _ in 0..frames {
            self.headless.update();
        }
        for _ in 0..600 {
            if !self.presenter().replaying() {
                break;
            }
            self.headless.update();
        }
    }
}

/// Renders every step to `out/step_NN.png` and an index of all of them to
/// `out/index.png`; returns the files written.
pub fn export_deck(
    city: Arc<City>,
    briefing: Briefing,
    out: &Path,
    size: UVec2,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)
        .map_err(|e| anyhow::anyhow!("{}: cannot create the folder: {e}", out.display()))?;
    let steps = briefing.steps.len();
    let mut run = HeadlessBriefing::start(city, briefing, size);
    let mut written = Vec::with_capacity(steps + 1);
    let mut thumbs = Vec::with_capacity(steps);
    for i in 0..steps {
        if i > 0 {
            run.command(PresenterCommand::Goto(i));
        }
        let image = run.headless.capture()?;
        let path = out.join(format!("step_{:02}.png", i + 1));
        image
            .save(&path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
        thumbs.push(image);
        written.push(path);
    }
    let index = index_image(&thumbs, 4, 400);
    let path = out.join("index.png");
    index
        .save(&path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    println!("wrote {} ({} steps)", path.display(), steps);
    written.push(path);
    Ok(written)
}

/// All pictures as thumbnails `thumb_w` wide in rows of `columns`, in order,
/// with a gap between them.
pub fn index_image(images: &[image::RgbaImage], columns: usize, thumb_w: u32) -> image::RgbaImage {
    const GAP: u32 = 8;
    let columns = columns.clamp(1, images.len().max(1));
    let rows = images.len().div_ceil(columns).max(1);
    let thumb_h = images.first().map_or(thumb_w * 9 / 16, |i| {
        (u64::from(thumb_w) * u64::from(i.height()) / u64::from(i.width().max(1))) as u32
    });
    let width = columns as u32 * (thumb_w + GAP) + GAP;
    let height = rows as u32 * (thumb_h + GAP) + GAP;
    let bg = crate::cockpit::theme::PANEL_FILL;
    let mut out = image::RgbaImage::from_pixel(width, height, image::Rgba([bg.0, bg.1, bg.2, 255]));
    for (i, img) in images.iter().enumerate() {
        let thumb =
            image::imageops::resize(img, thumb_w, thumb_h, image::imageops::FilterType::Triangle);
        let (col, row) = ((i % columns) as u32, (i / columns) as u32);
        image::imageops::overlay(
            &mut out,
            &thumb,
            i64::from(GAP + col * (thumb_w + GAP)),
            i64::from(GAP + row * (thumb_h + GAP)),
        );
    }
    out
}
