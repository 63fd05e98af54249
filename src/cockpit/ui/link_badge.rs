//! The link badge in the top bar: connected / reconnecting since … / lost.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bevy_egui::egui;

use super::{Lang, theme};
use crate::cockpit::link::{LinkState, LinkStatus};

/// Local wall-clock time (China Standard Time, UTC+8) as HH:MM:SS.
fn clock(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
        + 8 * 3600;
    format!(
        "{:02}:{:02}:{:02}",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60
    )
}

/// The badge's colour and text for a link state.
pub fn badge(link: &LinkState, lang: Lang) -> (theme::Rgb, String) {
    match &link.status {
        LinkStatus::Connected { .. } => (
            theme::LINK_OK,
            lang.pick("● 已连接", "● Connected").to_owned(),
        ),
        LinkStatus::Connecting => (
            theme::LINK_WAIT,
            lang.pick("● 连接中", "● Connecting").to_owned(),
        ),
        LinkStatus::Reconnecting { since, attempt, .. } => (
            theme::LINK_WAIT,
            format!(
                "● {} {} (#{attempt})",
                lang.pick("重连中，自", "Reconnecting since"),
                clock(*since)
            ),
        ),
        LinkStatus::Refused { reason } => (
            theme::LINK_LOST,
            format!("● {}: {reason}", lang.pick("连接被拒", "Refused")),
        ),
        LinkStatus::Stopped => (
            theme::LINK_LOST,
            lang.pick("● 连接中断", "● Link lost").to_owned(),
        ),
    }
}

pub fn link_badge_ui(ui: &mut egui::Ui, link: &LinkState, lang: Lang) {
    let (color, text) = badge(link, lang);
    let response = ui.label(egui::RichText::new(text).color(color.egui()));
    let mut hover = format!(
        "{} {}",
        lang.pick("已应用增量", "deltas applied"),
        link.applied
    );
    if link.backlog > 0 {
        hover.push_str(&format!(
            " · {} {}",
            lang.pick("待处理", "queued"),
            link.backlog
        ));
    }
    if let Some(e) = &link.last_error {
        hover.push_str(&format!("\n{e}"));
    }
    response.on_hover_text(hover);
}
