//! What the event hub and the 3D markers show: the open cases inside the
//! drilled-into area that pass the filters (type, severity, status), overdue
//! first then newest, with counts per facet. Rebuilt only when the cases,
//! the filter, the area or the stream's minute change — not every frame.

use bevy::prelude::*;

use super::camera::{FlyTo, fly_to_building};
use super::drill::Drill;
use super::schedule::AppSystems;
use super::state::{CityData, CityState, SelectBuilding};
use super::time::{TimeControl, TimelineMarks};
use crate::live::LiveState;
use crate::model::{Area, Case, CaseId, CaseStatus, EventKind};

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<HubView>()
        .add_message::<SetFilter>()
        .add_message::<SelectCase>()
        .add_systems(Update, select_case.in_set(AppSystems::Ingest))
        .add_systems(
            Update,
            (refresh_hub_view, follow_building_selection)
                .chain()
                .in_set(AppSystems::Derive),
        );
}

/// Event kinds a case can have, in the hub's order: every kind of the
/// model's one list that opens a case.
pub const KINDS: [EventKind; 4] = {
    let all = EventKind::ALL;
    [all[0], all[2], all[3], all[4]]
};

const _: () = assert!(
    matches!(EventKind::ALL[1], EventKind::FireMainPressureRestored),
    "KINDS skips the one kind that opens no case"
);

/// Open statuses, in workflow order.
pub const STATUSES: [CaseStatus; 4] = [
    CaseStatus::Registered,
    CaseStatus::Dispatched,
    CaseStatus::Handling,
    CaseStatus::Verifying,
];

/// The kind's chip; None for a kind that opens no case (never counted as
/// another kind).
fn kind_index(kind: EventKind) -> Option<usize> {
    KINDS.iter().position(|k| *k == kind)
}

fn status_index(status: CaseStatus) -> usize {
    STATUSES.iter().position(|s| *s == status).unwrap_or(0)
}

/// Which cases to show: a set bit per kind, severity and status shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFilter {
    pub kinds: [bool; 4],
    pub severities: [bool; 5],
    pub statuses: [bool; 4],
    /// Only overdue cases.
    pub overdue_only: bool,
}

impl Default for CaseFilter {
    fn default() -> Self {
        CaseFilter {
            kinds: [true; 4],
            severities: [true; 5],
            statuses: [true; 4],
            overdue_only: false,
        }
    }
}

impl CaseFilter {
    pub fn passes(&self, case: &Case, now_ms: i64) -> bool {
        kind_index(case.kind).is_none_or(|i| self.kinds[i])
            && self.severities[case.severity.index()]
            && self.statuses[status_index(case.status)]
            && (!self.overdue_only || case.is_late(now_ms))
    }

    /// Shows only this kind (or every kind again when it was the only one).
    pub fn solo_kind(&mut self, kind: EventKind) {
        let Some(i) = kind_index(kind) else { return };
        let only = self.kinds.iter().enumerate().all(|(j, on)| *on == (i == j));
        self.kinds = if only { [true; 4] } else { [false; 4] };
        self.kinds[i] = true;
    }
}

/// Ask to change the hub's filter (the hub panel sends this).
#[derive(Message, Debug, Clone, Copy, PartialEq)]
pub struct SetFilter(pub CaseFilter);

/// Ask to select a case (hub row or 3D marker): its building is selected
/// and the camera flies there.
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectCase(pub Option<CaseId>);

/// Open cases in the area per kind, severity and status (before filtering),
/// and how many are overdue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FacetCounts {
    pub kinds: [usize; 4],
    pub severities: [usize; 5],
    pub statuses: [usize; 4],
    pub in_area: usize,
    pub overdue: usize,
}

/// The hub's rows, in order.
#[derive(Resource, Debug, Clone, Default)]
pub struct HubView {
    pub filter: CaseFilter,
    pub rows: Vec<CaseId>,
    pub counts: FacetCounts,
    /// The case the operator is working on.
    pub selected: Option<CaseId>,
    /// Bumped on every rebuild (the markers follow it).
    pub revision: u64,
    built_for: Option<(u64, i64, Area, CaseFilter)>,
}

impl HubView {
    /// Recomputes rows and counts from `state` if anything they depend on
    /// changed; returns whether it did.
    pub fn refresh(&mut self, state: &LiveState, area: Area, now_ms: i64) -> bool {
        let key = (state.cases_revision(), now_ms / 60_000, area, self.filter);
        if self.built_for == Some(key) {
            return false;
        }
        self.built_for = Some(key);
        let mut counts = FacetCounts::default();
        let mut rows: Vec<(bool, i64, CaseId)> = Vec::new();
        for case in state.open_cases() {
            if !area.contains(case.district, case.street) {
                continue;
            }
            let overdue = case.is_late(now_ms);
            counts.in_area += 1;
            counts.overdue += usize::from(overdue);
            if let Some(i) = kind_index(case.kind) {
                counts.kinds[i] += 1;
            }
            counts.severities[case.severity.index()] += 1;
            counts.statuses[status_index(case.status)] += 1;
            if self.filter.passes(case, now_ms) {
                rows.push((!overdue, -case.opened_ms, case.id));
            }
        }
        // Overdue first, then newest first; ids break ties.
        rows.sort_unstable();
        self.rows.clear();
        self.rows.extend(rows.into_iter().map(|(_, _, id)| id));
        self.counts = counts;
        self.revision += 1;
        true
    }

    /// The cases shown, in order.
    pub fn cases<'a>(&'a self, state: &'a LiveState) -> impl Iterator<Item = &'a Case> + 'a {
        self.rows.iter().filter_map(|id| state.open_case(*id))
    }
}

#[allow(clippy::too_many_arguments)]
fn select_case(
    mut requests: MessageReader<SelectCase>,
    mut view: ResMut<HubView>,
    state: Res<CityState>,
    history: Res<TimelineMarks>,
    city: Res<CityData>,
    mut select: MessageWriter<SelectBuilding>,
    mut select_hazard: MessageWriter<crate::cockpit::state::SelectHazard>,
    mut fly: MessageWriter<FlyTo>,
) {
    let Some(SelectCase(id)) = requests.read().last().copied() else {
        return;
    };
    view.selected = id;
    // A landslide warning's case opens its body's card.
    let hazard = id
        .and_then(|id| state.open_case(id).or(history.cases.get(&id)))
        .and_then(|c| state.open_event(c.event))
        .and_then(|e| e.hazard);
    if let Some(h) = hazard {
        select_hazard.write(crate::cockpit::state::SelectHazard(Some((h, None))));
        if let Some(to) = crate::cockpit::camera::fly_to_hazard(&city, h) {
            fly.write(to);
        }
        return;
    }
    // A case chosen in the History tab may not be open at this moment yet.
    let building = id
        .and_then(|id| state.open_case(id).or(history.cases.get(&id)))
        .and_then(|c| c.building);
    if let Some(b) = building {
        select.write(SelectBuilding(Some(b)));
        if let Some(to) = fly_to_building(&city, b) {
            fly.write(to);
        }
    }
}

/// A building selected on the map (or by search) that has an open case
/// selects that case in the hub, as clicking its marker would.
fn follow_building_selection(
    mut view: ResMut<HubView>,
    state: Res<CityState>,
    mut seen: Local<(Option<crate::model::BuildingId>, u64)>,
) {
    let key = (state.selected(), state.cases_revision());
    if *seen == key {
        return;
    }
    *seen = key;
    let Some(building) = state.selected() else {
        return;
    };
    let current = view
        .selected
        .and_then(|id| state.open_case(id))
        .and_then(|c| c.building);
    if current == Some(building) {
        return;
    }
    // The newest open case at that building.
    if let Some(case) = state
        .open_cases()
        .filter(|c| c.building == Some(building))
        .max_by_key(|c| c.opened_ms)
    {
        view.selected = Some(case.id);
    }
}

fn refresh_hub_view(
    mut view: ResMut<HubView>,
    mut set: MessageReader<SetFilter>,
    state: Res<CityState>,
    drill: Res<Drill>,
    time: Res<TimeControl>,
) {
    if let Some(SetFilter(filter)) = set.read().last() {
        view.filter = *filter;
    }
    let now_ms = time.shown_ms(state.last_time_ms());
    // Change detection fires only on a rebuild, not on every check.
    if view
        .bypass_change_detection()
        .refresh(&state, drill.at, now_ms)
    {
        view.set_changed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::demo::{DemoScene, generate};
    use crate::model::{DistrictId, Event, EventId, EventStatus, RiskLevel, StreetId};

    fn case(id: u64, kind: EventKind, d: u16, opened_min: i64, due_min: i64) -> Case {
        let event = Event {
            id: EventId(id),
            kind,
            building: None,
            hazard: None,
            camera: None,
            severity: RiskLevel::Moderate,
            status: EventStatus::Open,
            time_ms: opened_min * 60_000,
            message: String::new(),
        };
        Case::register(
            CaseId(id),
            &event,
            DistrictId(d),
            StreetId(d * 10),
            due_min * 60_000,
        )
    }

    #[test]
    fn selecting_a_building_with_an_open_case_selects_the_case() {
        let mut scene = DemoScene::embedded().expect("scene");
        scene.buildings = 100;
        let city = generate(&scene);
        let mut state = CityState::new(&city);
        let mut snapshot = state.to_snapshot(0);
        let mut open = case(5, EventKind::MuckTruck, 0, 0, 100);
        open.building = Some(city.buildings[7].id);
        snapshot.open_cases = vec![open];
        state.apply_snapshot(&snapshot).expect("snapshot");
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .insert_resource(state)
            .init_resource::<HubView>()
            .add_systems(Update, follow_building_selection);
        app.update();
        assert_eq!(app.world().resource::<HubView>().selected, None);
        app.world_mut()
            .resource_mut::<CityState>()
            .select(Some(city.buildings[8].id));
        app.update();
        assert_eq!(
            app.world().resource::<HubView>().selected,
            None,
            "no case there"
        );
        app.world_mut()
            .resource_mut::<CityState>()
            .select(Some(city.buildings[7].id));
        app.update();
        assert_eq!(app.world().resource::<HubView>().selected, Some(CaseId(5)));
    }

    #[test]
    fn rows_are_overdue_first_then_newest_and_follow_area_and_filter() {
        let mut scene = DemoScene::embedded().expect("scene");
        scene.buildings = 100;
        let city = generate(&scene);
        let mut state = LiveState::new(&city);
        let mut snapshot = state.to_snapshot(100 * 60_000);
        snapshot.open_cases = vec![
            case(1, EventKind::GridReport, 0, 10, 200),
            case(2, EventKind::MuckTruck, 0, 20, 50),
            case(3, EventKind::GridReport, 1, 30, 200),
            case(4, EventKind::MuckTruck, 0, 40, 300),
        ];
        state.apply_snapshot(&snapshot).expect("snapshot");
        let mut view = HubView::default();
        assert!(view.refresh(&state, Area::City, 100 * 60_000));
        // Case 2 is overdue (due at minute 50, now 100); then newest first.
        assert_eq!(view.rows, vec![CaseId(2), CaseId(4), CaseId(3), CaseId(1)]);
        assert_eq!(view.counts.overdue, 1);
        assert_eq!(view.counts.kinds, [0, 2, 2, 0]);
        assert!(
            !view.refresh(&state, Area::City, 100 * 60_000),
            "nothing changed"
        );

        assert!(view.refresh(&state, Area::District(DistrictId(1)), 100 * 60_000));
        assert_eq!(view.rows, vec![CaseId(3)]);
        assert_eq!(view.counts.in_area, 1);

        view.filter.solo_kind(EventKind::MuckTruck);
        assert!(view.refresh(&state, Area::City, 100 * 60_000));
        assert_eq!(view.rows, vec![CaseId(2), CaseId(4)]);
        assert_eq!(view.counts.in_area, 4, "counts ignore the filter");
        view.filter.solo_kind(EventKind::MuckTruck);
        assert_eq!(view.filter.kinds, [true; 4], "soloing again shows all");
        view.filter.overdue_only = true;
        view.refresh(&state, Area::City, 100 * 60_000);
        assert_eq!(view.rows, vec![CaseId(2)]);
    }
}
