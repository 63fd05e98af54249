//! The link badge in the top bar: connected / reconnecting since … / lost.

use std::time::{SystemTime, UNIX_EPOCH};

use bevy_egui::egui;

use super::{Lang, theme};
use crate::cockpit::stream::{SourceStatus, StreamState};

/// Local wall-clock time (China Standard Time) as HH:MM:SS.
fn clock(t: SystemTime) -> String {
    let ms = t
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    crate::time::clock_secs_cst(ms)
}

/// The badge's colour and text for a link state.
pub fn badge(link: &StreamState, lang: Lang) -> (theme::Rgb, String) {
    match &link.status {
        SourceStatus::Connected { .. } => (
            theme::LINK_OK,
            lang.pick("● 已连接", "● Connected").to_owned(),
        ),
        SourceStatus::Connecting => (
            theme::LINK_WAIT,
            lang.pick("● 连接中", "● Connecting").to_owned(),
        ),
        SourceStatus::Reconnecting { since, attempt, .. } => (
            theme::LINK_WAIT,
            format!(
                "● {} {} (#{attempt})",
                lang.pick("重连中，自", "Reconnecting since"),
                clock(*since)
            ),
        ),
        SourceStatus::Refused { reason } => (
            theme::LINK_LOST,
            format!("● {}: {reason}", lang.pick("连接被拒", "Refused")),
        ),
        SourceStatus::Failed { reason } => (
            theme::LINK_LOST,
            format!("● {}: {reason}", lang.pick("链路故障", "Link failed")),
        ),
        SourceStatus::Stopped => (
            theme::LINK_LOST,
            lang.pick("● 连接中断", "● Link lost").to_owned(),
        ),
    }
}

pub fn link_badge_ui(ui: &mut egui::Ui, link: &StreamState, lang: Lang) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn badge_says_connected_or_since_when_it_reconnects() {
        let mut link = StreamState {
            status: SourceStatus::Connected {
                session: 3,
                role: crate::protocol::Role::Viewer,
                scope: crate::protocol::Scope::City,
            },
            ..StreamState::default()
        };
        assert_eq!(
            badge(&link, Lang::Zh),
            (theme::LINK_OK, "● 已连接".to_owned())
        );
        // 01:00 UTC is 09:00 in Chongqing.
        link.status = SourceStatus::Reconnecting {
            since: UNIX_EPOCH + Duration::from_secs(3600),
            attempt: 2,
            reason: "server closed".into(),
        };
        let (color, text) = badge(&link, Lang::Zh);
        assert_eq!(color, theme::LINK_WAIT);
        assert_eq!(text, "● 重连中，自 09:00:00 (#2)");
        link.status = SourceStatus::Refused {
            reason: "令牌无效".into(),
        };
        assert_eq!(badge(&link, Lang::En).0, theme::LINK_LOST);
    }
}
