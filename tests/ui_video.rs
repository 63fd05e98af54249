//! The video wall panel through a bare egui context (no GPU, no decoder):
//! every state a tile can show in both languages with a glyph for each
//! character, double-click to focus, drag to reorder, a camera icon's click
//! opens its tile, and the fire case's 视频连线.

mod common;

use bevy_egui::egui;
use citytwin::cockpit::hub_view::HubView;
use citytwin::cockpit::state::CityState;
use citytwin::cockpit::ui::video_wall::{CameraIcon, VideoPanel};
use citytwin::cockpit::ui::{Lang, UiAction};
use citytwin::cockpit::video::{TileStatus, VideoCommand, VideoWall, Videos};
use citytwin::model::{Camera, CameraId, CameraKind, City};
use citytwin::video::{StreamRequest, StreamState, VideoError};
use common::panels::{Harness, panel, small_city};

fn cameras(city: &mut City) {
    let p = city.buildings[0].centre_m();
    let kinds = [
        CameraKind::Crossing,
        CameraKind::Site,
        CameraKind::Building,
        CameraKind::Crossing,
        CameraKind::BodyWorn,
    ];
    city.cameras = kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| Camera {
            id: CameraId(i as u32),
            code: format!("CAM-{i}"),
            name: format!("解放碑 {i} 号路口"),
            kind: *kind,
            position_m: [p[0] + 30.0 * i as f32, p[1]],
            height_m: 8.0,
            heading_deg: 90.0,
            fov_deg: 70.0,
            range_m: 150.0,
            url: format!("rtsp://127.0.0.1:8554/cam{i}"),
            sub_url: None,
            ai: true,
            unit: (*kind == CameraKind::BodyWorn).then(|| "消防救援 渝中中队".to_owned()),
        })
        .collect();
}

fn shown_requests(actions: &[UiAction]) -> Vec<StreamRequest> {
    actions
        .iter()
        .filter_map(|a| match a {
            UiAction::ShowTile { request, .. } => Some(request.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn every_tile_state_is_shown_in_both_languages_with_its_glyphs() {
    let mut city = small_city();
    cameras(&mut city);
    let state = CityState::new(&city);
    let view = HubView::default();
    let mut wall = VideoWall::new(&city);
    assert_eq!(wall.order.len(), 4, "body-worn cameras are not on the wall");
    wall.open = true;
    wall.layout = 2;
    let mut videos = Videos::default();
    let mut harness = Harness::new();
    let now = citytwin::time::wall_ms();
    let mut shown = Vec::new();
    for lang in [Lang::Zh, Lang::En] {
        let mut cx = panel(&city, &state, lang, &view);
        cx.video = Some(VideoPanel {
            wall: &wall,
            videos: &videos,
        });
        let (actions, _) = harness.frame(&cx, vec![]);
        let requests = shown_requests(&actions);
        assert_eq!(requests.len(), 4, "four tiles ask for their streams");
        assert!(
            requests
                .iter()
                .all(|r| r.width % 8 == 0 && r.height % 8 == 0)
        );
        let statuses = [
            StreamState::Connecting,
            StreamState::Live,
            StreamState::Lost {
                reason: VideoError::Refused,
                last_frame_ms: Some(now - 5_000),
                retry_at_ms: now + 4_000,
            },
            StreamState::Lost {
                reason: VideoError::UnsupportedCodec {
                    codec: "msmpeg4v3".into(),
                },
                last_frame_ms: None,
                retry_at_ms: now + 30_000,
            },
        ];
        videos.status = requests
            .iter()
            .zip(statuses)
            .map(|(r, state)| {
                let live = state == StreamState::Live;
                (
                    r.clone(),
                    TileStatus {
                        state,
                        input: None,
                        last_frame_ms: live.then_some(now),
                    },
                )
            })
            .collect();
        let mut cx = panel(&city, &state, lang, &view);
        cx.video = Some(VideoPanel {
            wall: &wall,
            videos: &videos,
        });
        shown.extend(harness.look(&cx));
    }
    let texts: Vec<&str> = shown.iter().map(|(t, _)| t.as_str()).collect();
    let has = |needle: &str| texts.iter().any(|t| t.contains(needle));
    for expected in [
        "视频墙",
        "Video wall",
        "连接中…",
        "Connecting…",
        "直播",
        "LIVE",
        "信号中断 · 最后画面 ",
        "秒后重连",
        "Signal lost · last frame ",
        "retry in ",
        "连接被拒绝",
        "connection refused",
        "不支持的编码 msmpeg4v3",
        "unsupported codec msmpeg4v3",
        "路口 · 解放碑 0 号路口",
        "crossing · 解放碑 0 号路口",
        "4×4",
    ] {
        assert!(has(expected), "{expected:?} is shown: {texts:?}");
    }
    assert!(
        has(&citytwin::time::clock_secs_cst(now)),
        "the live tile's clock"
    );
    harness.assert_glyphs(&shown);
}

#[test]
fn double_click_focuses_drag_reorders_and_an_icon_opens_its_tile() {
    let mut city = small_city();
    cameras(&mut city);
    let state = CityState::new(&city);
    let view = HubView::default();
    let mut wall = VideoWall::new(&city);
    wall.open = true;
    wall.layout = 2;
    let videos = Videos::default();
    let icons = [CameraIcon {
        camera: CameraId(3),
        at: egui::pos2(760.0, 640.0),
        cone: [egui::pos2(820.0, 620.0), egui::pos2(820.0, 660.0)],
    }];
    let mut harness = Harness::new();
    let mut cx = panel(&city, &state, Lang::Zh, &view);
    cx.video = Some(VideoPanel {
        wall: &wall,
        videos: &videos,
    });
    cx.camera_icons = &icons;
    harness.look(&cx);
    let pictures = harness.panels.video.pictures().to_vec();
    assert_eq!(pictures.len(), 4);
    let centre = |i: usize| pictures[i].2.center();
    let button = |pos, pressed| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    // Double-click the second tile.
    let p = centre(1);
    let mut actions = Vec::new();
    actions.extend(
        harness
            .frame(&cx, vec![egui::Event::PointerMoved(p), button(p, true)])
            .0,
    );
    actions.extend(harness.frame(&cx, vec![button(p, false)]).0);
    actions.extend(harness.frame(&cx, vec![button(p, true)]).0);
    actions.extend(harness.frame(&cx, vec![button(p, false)]).0);
    assert!(
        actions.contains(&UiAction::Video(VideoCommand::Focus(Some(pictures[1].0)))),
        "double-click focuses"
    );
    // Drag the first tile onto the fourth.
    harness.time += 1.0;
    let (from, to) = (centre(0), centre(3));
    let mut actions = Vec::new();
    actions.extend(
        harness
            .frame(
                &cx,
                vec![egui::Event::PointerMoved(from), button(from, true)],
            )
            .0,
    );
    for k in 1..=6 {
        let t = k as f32 / 6.0;
        let at = from + (to - from) * t;
        actions.extend(harness.frame(&cx, vec![egui::Event::PointerMoved(at)]).0);
    }
    actions.extend(harness.frame(&cx, vec![button(to, false)]).0);
    assert!(
        actions.contains(&UiAction::Video(VideoCommand::Move { from: 0, to: 3 })),
        "drag reorders: {:?}",
        actions
            .iter()
            .filter(|a| matches!(a, UiAction::Video(_)))
            .collect::<Vec<_>>()
    );
    // Click the camera icon on the map.
    harness.time += 1.0;
    let at = icons[0].at;
    let mut actions = Vec::new();
    actions.extend(
        harness
            .frame(&cx, vec![egui::Event::PointerMoved(at), button(at, true)])
            .0,
    );
    actions.extend(harness.frame(&cx, vec![button(at, false)]).0);
    assert!(actions.contains(&UiAction::Video(VideoCommand::Open(CameraId(3)))));
}
