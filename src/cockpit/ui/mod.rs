//! The cockpit's panels (egui): top bar with search and language toggle,
//! risk legend with live counts, building card. Panels read a narrow
//! [`PanelContext`] and return [`UiAction`]s; systems turn those into
//! messages. Panels never mutate the world.

pub mod building_card;
pub mod event_hub;
pub mod legend;
pub mod link_badge;
pub mod search;
pub mod theme;
pub mod top_bar;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use super::camera::FlyTo;
use super::link::{LinkCommand, LinkInbox, LinkState};
use super::state::{CityData, CityState, SelectBuilding};
use crate::geo::world_from_local;
use crate::model::{BuildingId, CaseAction, CaseId, City};
use crate::protocol::{Command, CommandKind};

/// Interface language: Chinese first, English on toggle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Picks the text for this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

#[derive(Resource, Clone, Debug)]
pub struct UiSettings {
    pub lang: Lang,
    pub ui_scale: f32,
}

impl Default for UiSettings {
    fn default() -> Self {
        UiSettings {
            lang: Lang::Zh,
            ui_scale: 1.0,
        }
    }
}

/// Whether egui wants the pointer/keyboard (camera and picking stand back).
#[derive(Resource, Default, Debug, Clone, Copy)]
pub struct UiHasPointer {
    pub pointer: bool,
    pub keyboard: bool,
}

/// What a panel may read.
pub struct PanelContext<'a> {
    pub city: &'a City,
    pub state: &'a CityState,
    pub lang: Lang,
    /// The live link, when the cockpit has one.
    pub link: Option<&'a LinkState>,
}

/// What a panel asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum UiAction {
    Select(Option<BuildingId>),
    FlyToBuilding(BuildingId),
    SetLang(Lang),
    /// A workflow step for a case, sent to the backend as a command.
    Case {
        case: CaseId,
        action: CaseAction,
    },
}

/// All panels' own state (text typed, results shown).
#[derive(Resource, Default)]
pub struct Panels {
    pub top_bar: top_bar::TopBar,
    pub legend: legend::Legend,
    pub card: building_card::BuildingCard,
    pub hub: event_hub::EventHub,
}

impl Panels {
    /// Draws every panel into `root` and returns what the user asked for.
    pub fn ui(&mut self, root: &mut egui::Ui, cx: &PanelContext<'_>) -> Vec<UiAction> {
        let Self {
            top_bar,
            legend,
            card,
            hub,
        } = self;
        let mut actions = Vec::new();
        top_bar.ui(root, cx, &mut actions);
        legend.ui(root.ctx(), cx);
        card.ui(root.ctx(), cx, &mut actions);
        hub.ui(root.ctx(), cx, &mut actions);
        actions
    }
}

pub fn plugin(app: &mut App) {
    app.init_resource::<UiHasPointer>()
        .init_resource::<UiSettings>()
        .init_resource::<Panels>()
        .add_systems(EguiPrimaryContextPass, panels_ui);
}

#[allow(clippy::too_many_arguments)]
fn panels_ui(
    mut contexts: EguiContexts,
    mut panels: ResMut<Panels>,
    mut settings: ResMut<UiSettings>,
    mut has_pointer: ResMut<UiHasPointer>,
    mut styled: Local<bool>,
    city: Res<CityData>,
    state: Res<CityState>,
    link: Option<Res<LinkState>>,
    inbox: Option<Res<LinkInbox>>,
    mut next_command: Local<u64>,
    mut select: MessageWriter<SelectBuilding>,
    mut fly: MessageWriter<FlyTo>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    if !*styled {
        theme::apply(ctx, settings.ui_scale);
        *styled = true;
    }
    let mut root = egui::Ui::new(
        ctx.clone(),
        "cockpit".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    let cx = PanelContext {
        city: &city,
        state: &state,
        lang: settings.lang,
        link: link.as_deref(),
    };
    for action in panels.ui(&mut root, &cx) {
        match action {
            UiAction::Select(id) => {
                select.write(SelectBuilding(id));
            }
            UiAction::FlyToBuilding(id) => {
                if let Some(b) = city.building(id) {
                    fly.write(FlyTo {
                        focus: Vec3::from(world_from_local(b.centre_m(), b.base_elevation_m)),
                        distance_m: Some((b.height_m * 4.0).max(600.0)),
                    });
                }
            }
            UiAction::SetLang(lang) => settings.lang = lang,
            UiAction::Case { case, action } => {
                *next_command += 1;
                let command = Command {
                    id: *next_command,
                    kind: CommandKind::Case { case, action },
                };
                let sent = inbox
                    .as_ref()
                    .is_some_and(|i| i.0.commands.try_send(LinkCommand::Send(command)).is_ok());
                if !sent {
                    warn!("case {}: no live link to send the step over", case.0);
                }
            }
        }
    }
    *has_pointer = UiHasPointer {
        pointer: ctx.egui_wants_pointer_input() || ctx.is_pointer_over_egui(),
        keyboard: ctx.egui_wants_keyboard_input(),
    };
    Ok(())
}
