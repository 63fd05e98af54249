//! 视频墙: the video wall panel (1×1 … 4×4 tiles, each with the camera's
//! name, the newest frame's clock and its state: 连接中 / 直播 / 信号中断
//! with the last frame's time and a retry countdown), the focused tile,
//! the cameras linked to the selected case, the rescue video link beside a
//! fire case, and the camera icons with their view cones on the map.
//! Tiles ask for their streams ([`UiAction::ShowTile`]) and draw them with
//! a paint callback; clicks and drags become [`VideoCommand`]s.

use bevy::math::Vec2;
use bevy_egui::egui;

use super::{Lang, PanelContext, UiAction, theme};
use crate::cockpit::video::render::TilePaint;
use crate::cockpit::video::{LAYOUTS, TileStatus, VideoCommand, VideoWall, Videos, tile_request};
use crate::model::{Camera, CameraId, CameraKind};
use crate::video::StreamState;

/// What the video panels read.
#[derive(Clone, Copy)]
pub struct VideoPanel<'a> {
    pub wall: &'a VideoWall,
    pub videos: &'a Videos,
}

/// A camera's icon on the map: its place and the two far corners of its
/// view cone, in screen points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CameraIcon {
    pub camera: CameraId,
    pub at: egui::Pos2,
    pub cone: [egui::Pos2; 2],
}

/// Brightness of a lost stream's last picture.
const LOST_DIM: f32 = 0.35;

#[derive(Default)]
pub struct VideoWallPanel {
    /// The tile being dragged (its index in the wall's order).
    dragging: Option<usize>,
    /// Where each tile's picture was drawn last frame (screen points).
    pictures: Vec<(CameraId, bool, egui::Rect)>,
}

pub fn kind_name(kind: CameraKind, lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => kind.name_zh(),
        Lang::En => kind.name_en(),
    }
}

fn kind_color(kind: CameraKind) -> egui::Color32 {
    match kind {
        CameraKind::Site => egui::Color32::from_rgb(255, 170, 40),
        CameraKind::Crossing => theme::ACCENT.egui(),
        CameraKind::Building => egui::Color32::from_rgb(190, 140, 255),
        CameraKind::BodyWorn => theme::LINK_LOST.egui(),
    }
}

/// The tile's state line (and a second line with the reason when lost).
pub fn state_lines(
    status: Option<&TileStatus>,
    now_ms: i64,
    lang: Lang,
) -> (String, Option<String>, egui::Color32) {
    match status.map(|s| &s.state) {
        None | Some(StreamState::Connecting) => (
            lang.pick("连接中…", "Connecting…").to_owned(),
            None,
            theme::LINK_WAIT.egui(),
        ),
        Some(StreamState::Live) => (
            lang.pick("直播", "LIVE").to_owned(),
            None,
            theme::LINK_OK.egui(),
        ),
        Some(StreamState::Lost {
            reason,
            last_frame_ms,
            retry_at_ms,
        }) => {
            let retry_s = ((retry_at_ms - now_ms).max(0) + 999) / 1000;
            let last = last_frame_ms.map(crate::time::clock_secs_cst);
            let line = match (lang, last) {
                (Lang::Zh, Some(t)) => format!("信号中断 · 最后画面 {t} · {retry_s} 秒后重连"),
                (Lang::Zh, None) => format!("信号中断 · {retry_s} 秒后重连"),
                (Lang::En, Some(t)) => {
                    format!("Signal lost · last frame {t} · retry in {retry_s} s")
                }
                (Lang::En, None) => format!("Signal lost · retry in {retry_s} s"),
            };
            let why = match lang {
                Lang::Zh => reason.zh(),
                Lang::En => reason.en(),
            };
            (line, Some(why), theme::LINK_LOST.egui())
        }
    }
}

/// Draws one camera's tile into `rect` and asks for its stream. Returns
/// the tile's response (clicks, drags).
#[allow(clippy::too_many_arguments)]
fn tile(
    ui: &mut egui::Ui,
    rect: egui::Rect,
    camera: &Camera,
    large: bool,
    badge: Option<&str>,
    video: VideoPanel<'_>,
    cx: &PanelContext<'_>,
    actions: &mut Vec<UiAction>,
) -> (egui::Response, egui::Rect) {
    let id = egui::Id::new(("video_tile", camera.id, large));
    let response = ui.interact(rect, id, egui::Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, egui::Color32::from_rgb(4, 8, 16));
    let ppp = ui.ctx().pixels_per_point();
    let url = video.videos.resolve(camera.stream_url(large));
    let request = tile_request(
        &camera.code,
        url,
        Vec2::new(rect.width() * ppp, rect.height() * ppp),
    );
    let status = video.videos.status.get(&request);
    let lost = matches!(status.map(|s| &s.state), Some(StreamState::Lost { .. }));
    // The picture at 1:1 (the decoder scaled it), centred, on whole pixels.
    let size = egui::vec2(request.width as f32, request.height as f32) / ppp;
    let min = ((rect.center() - size / 2.0) * ppp).round() / ppp;
    let picture = egui::Rect::from_min_size(min, size);
    painter.add(TilePaint::shape(picture, request.clone()));
    actions.push(UiAction::ShowTile {
        request,
        brightness: if lost { LOST_DIM } else { 1.0 },
    });
    // Name and clock on a dark strip at the top, state at the bottom.
    let lang = cx.lang;
    let strip = egui::Rect::from_min_size(rect.min, egui::vec2(rect.width(), 20.0));
    painter.rect_filled(strip, 0.0, theme::PANEL_FILL.egui());
    let small = egui::FontId::proportional(if large { 15.0 } else { 12.5 });
    painter.text(
        strip.left_center() + egui::vec2(6.0, 0.0),
        egui::Align2::LEFT_CENTER,
        format!("{} · {}", kind_name(camera.kind, lang), camera.name),
        small.clone(),
        theme::TEXT.egui(),
    );
    if let Some(t) = status.and_then(|s| s.last_frame_ms) {
        painter.text(
            strip.right_center() - egui::vec2(6.0, 0.0),
            egui::Align2::RIGHT_CENTER,
            crate::time::clock_secs_cst(t),
            small.clone(),
            theme::TEXT.egui(),
        );
    }
    let (line, why, color) = state_lines(status, crate::time::wall_ms(), lang);
    let mut y = rect.bottom() - 6.0;
    if let Some(why) = why {
        painter.text(
            egui::pos2(rect.left() + 6.0, y),
            egui::Align2::LEFT_BOTTOM,
            why,
            small.clone(),
            theme::TEXT.egui(),
        );
        y -= 17.0;
    }
    painter.text(
        egui::pos2(rect.left() + 6.0, y),
        egui::Align2::LEFT_BOTTOM,
        line,
        small.clone(),
        color,
    );
    if let Some(badge) = badge {
        painter.text(
            strip.left_bottom() + egui::vec2(6.0, 4.0),
            egui::Align2::LEFT_TOP,
            badge,
            small,
            theme::LINK_WAIT.egui(),
        );
    }
    let stroke = if response.hovered() {
        theme::ACCENT.egui()
    } else {
        theme::PANEL_STROKE.egui()
    };
    painter.rect_stroke(
        rect,
        2.0,
        egui::Stroke::new(1.0, stroke),
        egui::StrokeKind::Inside,
    );
    let response = response.on_hover_text(lang.pick(
        "双击放大 · 拖动调整顺序",
        "Double-click to enlarge · drag to reorder",
    ));
    (response, picture)
}

impl VideoWallPanel {
    /// Where each tile's picture was drawn last frame: (camera, large,
    /// rectangle in points).
    pub fn pictures(&self) -> &[(CameraId, bool, egui::Rect)] {
        &self.pictures
    }

    pub fn ui(&mut self, ctx: &egui::Context, cx: &PanelContext<'_>, actions: &mut Vec<UiAction>) {
        self.pictures.clear();
        let Some(video) = cx.video else {
            return;
        };
        self.icons(ctx, cx, actions);
        self.video_link(ctx, cx, video, actions);
        let wall = video.wall;
        if !wall.open {
            return;
        }
        let lang = cx.lang;
        let screen = ctx.viewport_rect();
        let mut open = true;
        egui::Window::new(lang.pick("视频墙", "Video wall"))
            .id(egui::Id::new("video_wall"))
            .open(&mut open)
            .default_pos([screen.width() * 0.36, 70.0])
            .default_width((screen.width() * 0.4).clamp(360.0, 1400.0))
            .resizable(true)
            .collapsible(true)
            .show(ctx, |ui| self.contents(ui, cx, video, actions));
        if !open {
            actions.push(UiAction::Video(VideoCommand::Show(false)));
        }
    }

    /// The wall's body filling a wall window of its own.
    pub fn fill(
        &mut self,
        ui: &mut egui::Ui,
        cx: &PanelContext<'_>,
        video: VideoPanel<'_>,
        actions: &mut Vec<UiAction>,
    ) {
        self.pictures.clear();
        self.contents(ui, cx, video, actions);
    }

    /// The wall's body (layout, paging, the tiles or the focused one) in
    /// `ui`: inside its window, or filling a wall window.
    pub fn contents(
        &mut self,
        ui: &mut egui::Ui,
        cx: &PanelContext<'_>,
        video: VideoPanel<'_>,
        actions: &mut Vec<UiAction>,
    ) {
        let wall = video.wall;
        let lang = cx.lang;
        ui.horizontal(|ui| {
            for n in LAYOUTS {
                if ui
                    .selectable_label(wall.layout == n, format!("{n}×{n}"))
                    .clicked()
                {
                    actions.push(UiAction::Video(VideoCommand::Layout(n)));
                }
            }
            if let Some(linked) = &wall.linked {
                ui.label(
                    egui::RichText::new(format!(
                        "{} #{} · {} {}",
                        lang.pick("案件", "Case"),
                        linked.case.0,
                        lang.pick("周边视频", "nearby cameras:"),
                        linked.cameras.len()
                    ))
                    .color(theme::LINK_WAIT.egui()),
                );
                if ui
                    .small_button(lang.pick("全部视频", "All cameras"))
                    .clicked()
                {
                    actions.push(UiAction::Video(VideoCommand::Link(None)));
                }
            } else {
                let per_page = usize::from(wall.layout).pow(2);
                let pages = wall.order.len().div_ceil(per_page).max(1);
                let page = wall.page / per_page;
                if pages > 1 {
                    if ui.small_button("◀").clicked() && page > 0 {
                        actions.push(UiAction::Video(VideoCommand::Page(page - 1)));
                    }
                    ui.label(format!("{}/{pages}", page + 1));
                    if ui.small_button("▶").clicked() && page + 1 < pages {
                        actions.push(UiAction::Video(VideoCommand::Page(page + 1)));
                    }
                }
            }
        });
        if let Some(problem) = &video.videos.problem {
            ui.colored_label(theme::LINK_LOST.egui(), problem);
        }
        let width = ui.available_width();
        if let Some(id) = wall.focused.and_then(|id| cx.city.camera(id)) {
            let size = egui::vec2(width, width * 9.0 / 16.0);
            let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
            let (r, picture) = tile(ui, rect, id, true, None, video, cx, actions);
            self.pictures.push((id.id, true, picture));
            if r.double_clicked() {
                actions.push(UiAction::Video(VideoCommand::Focus(None)));
            }
            return;
        }
        self.grid(ui, width, cx, video, actions);
    }

    fn grid(
        &mut self,
        ui: &mut egui::Ui,
        width: f32,
        cx: &PanelContext<'_>,
        video: VideoPanel<'_>,
        actions: &mut Vec<UiAction>,
    ) {
        let wall = video.wall;
        let n = usize::from(wall.layout);
        let gap = 4.0;
        let w = ((width - gap * (n as f32 - 1.0)) / n as f32).floor();
        let h = (w * 9.0 / 16.0).floor();
        let tiles = wall.tiles();
        let origin = ui.cursor().min;
        let (_, _) = ui.allocate_exact_size(
            egui::vec2(width, n as f32 * (h + gap) - gap),
            egui::Sense::hover(),
        );
        let mut rects = Vec::new();
        for (i, id) in tiles.iter().enumerate() {
            let Some(camera) = cx.city.camera(*id) else {
                continue;
            };
            let (row, col) = (i / n, i % n);
            let rect = egui::Rect::from_min_size(
                origin + egui::vec2(col as f32 * (w + gap), row as f32 * (h + gap)),
                egui::vec2(w, h),
            );
            let badge = wall
                .linked
                .as_ref()
                .filter(|l| l.source == Some(*id))
                .map(|_| cx.lang.pick("AI 识别相机", "AI camera that saw it"));
            let (r, picture) = tile(ui, rect, camera, false, badge, video, cx, actions);
            self.pictures.push((*id, false, picture));
            if r.double_clicked() {
                actions.push(UiAction::Video(VideoCommand::Focus(Some(*id))));
            }
            // Drags reorder the wall's own order (not the linked cameras).
            if wall.linked.is_none() && r.drag_started() {
                self.dragging = Some(wall.page + i);
            }
            rects.push((i, rect));
        }
        // Released over another tile: the dragged one moves there.
        if let Some(from) = self.dragging
            && ui.ctx().input(|i| i.pointer.any_released())
        {
            self.dragging = None;
            if let Some(pos) = ui.ctx().pointer_interact_pos()
                && let Some((j, _)) = rects.iter().find(|(_, r)| r.contains(pos))
                && wall.page + *j != from
            {
                actions.push(UiAction::Video(VideoCommand::Move {
                    from,
                    to: wall.page + *j,
                }));
            }
        }
    }

    /// 视频连线: the rescue team's body-worn stream, large, beside the hub.
    fn video_link(
        &mut self,
        ctx: &egui::Context,
        cx: &PanelContext<'_>,
        video: VideoPanel<'_>,
        actions: &mut Vec<UiAction>,
    ) {
        let Some((case, camera)) = video.wall.video_link else {
            return;
        };
        let Some(camera) = cx.city.camera(camera) else {
            return;
        };
        let lang = cx.lang;
        egui::Window::new(lang.pick("视频连线", "Video link"))
            .id(egui::Id::new("video_link"))
            .anchor(egui::Align2::LEFT_TOP, [460.0, 64.0])
            .resizable(false)
            .collapsible(false)
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    ui.label(
                        egui::RichText::new(format!(
                            "{} #{} · {}",
                            lang.pick("案件", "Case"),
                            case.0,
                            camera.unit.as_deref().unwrap_or(&camera.name)
                        ))
                        .strong(),
                    );
                    if ui.button(lang.pick("挂断", "End")).clicked() {
                        actions.push(UiAction::Video(VideoCommand::VideoLink(None)));
                    }
                });
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(640.0, 360.0), egui::Sense::hover());
                let (_, picture) = tile(ui, rect, camera, true, None, video, cx, actions);
                self.pictures.push((camera.id, true, picture));
            });
    }

    /// Camera icons and view cones on the map; a click opens the tile.
    fn icons(&mut self, ctx: &egui::Context, cx: &PanelContext<'_>, actions: &mut Vec<UiAction>) {
        if cx.camera_icons.is_empty() {
            return;
        }
        let painter = ctx.layer_painter(egui::LayerId::new(
            egui::Order::Background,
            egui::Id::new("camera_cones"),
        ));
        for icon in cx.camera_icons {
            let Some(camera) = cx.city.camera(icon.camera) else {
                continue;
            };
            let color = kind_color(camera.kind);
            painter.add(egui::Shape::convex_polygon(
                vec![icon.at, icon.cone[0], icon.cone[1]],
                color.gamma_multiply(0.22),
                egui::Stroke::new(1.0, color.gamma_multiply(0.6)),
            ));
        }
        for icon in cx.camera_icons {
            let Some(camera) = cx.city.camera(icon.camera) else {
                continue;
            };
            egui::Area::new(egui::Id::new(("camera_icon", icon.camera)))
                .fixed_pos(icon.at)
                .pivot(egui::Align2::CENTER_CENTER)
                .order(egui::Order::Background)
                .show(ctx, |ui| {
                    let (rect, r) =
                        ui.allocate_exact_size(egui::vec2(16.0, 12.0), egui::Sense::click());
                    let color = kind_color(camera.kind);
                    let p = ui.painter();
                    let body = egui::Rect::from_min_size(rect.min, egui::vec2(11.0, 12.0));
                    p.rect_filled(body, 2.0, color);
                    p.add(egui::Shape::convex_polygon(
                        vec![
                            egui::pos2(body.right(), rect.center().y),
                            egui::pos2(rect.right(), rect.top() + 1.0),
                            egui::pos2(rect.right(), rect.bottom() - 1.0),
                        ],
                        color,
                        egui::Stroke::NONE,
                    ));
                    p.circle_filled(body.center(), 2.5, theme::BACKGROUND.egui());
                    let r = r.on_hover_text(format!(
                        "{} · {}\n{}",
                        kind_name(camera.kind, cx.lang),
                        camera.name,
                        cx.lang.pick("点击打开视频", "Click to open its video")
                    ));
                    if r.clicked() {
                        actions.push(UiAction::Video(VideoCommand::Open(camera.id)));
                    }
                });
        }
    }
}
