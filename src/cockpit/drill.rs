//! City → district → street drill-down: which [`Area`] the cockpit looks
//! at, where each area is (centre and radius, for fly-to and labels), and
//! the floor a district- or street-scoped token may not climb above.

use bevy::prelude::*;

use super::camera::FlyTo;
use super::schedule::AppSystems;
use super::state::CityData;
use super::stream::{SourceStatus, StreamState};
use crate::geo::world_from_local;
use crate::model::{Area, City, StreetId};
use crate::protocol::Scope;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Drill>()
        .add_message::<DrillTo>()
        .add_systems(super::schedule::CityArrived, index_areas)
        .add_systems(
            Update,
            (floor_from_token, apply_drill)
                .chain()
                .in_set(AppSystems::Ingest),
        );
}

/// The area the panels, markers and highlight follow.
#[derive(Resource, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drill {
    pub at: Area,
    /// The highest area this cockpit may show (its token's scope).
    pub floor: Area,
}

impl Drill {
    /// Moves to `to` unless it lies outside the floor.
    pub fn go(&mut self, to: Area) -> bool {
        if !self.floor.covers(to) || self.at == to {
            return false;
        }
        self.at = to;
        true
    }
}

/// Ask to drill to an area (panels, map labels, the token's scope).
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrillTo(pub Area);

/// Centre (local metres) and radius of an area's buildings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AreaExtent {
    pub centre_m: [f32; 2],
    pub radius_m: f32,
}

/// Extents of every district and street, computed once from the city.
#[derive(Resource, Debug, Clone, Default)]
pub struct AreaIndex {
    pub districts: Vec<AreaExtent>,
    pub streets: Vec<AreaExtent>,
}

impl AreaIndex {
    pub fn new(city: &City) -> AreaIndex {
        let fold = |n: usize, key: &dyn Fn(&crate::model::Building) -> usize| {
            let mut sum = vec![([0f64; 2], 0usize); n];
            for b in &city.buildings {
                let c = b.centre_m();
                if let Some(s) = sum.get_mut(key(b)) {
                    s.0[0] += f64::from(c[0]);
                    s.0[1] += f64::from(c[1]);
                    s.1 += 1;
                }
            }
            let centres: Vec<[f32; 2]> = sum
                .iter()
                .map(|(s, k)| {
                    let k = (*k).max(1) as f64;
                    [(s[0] / k) as f32, (s[1] / k) as f32]
                })
                .collect();
            let mut radius = vec![0f32; n];
            for b in &city.buildings {
                let i = key(b);
                if let (Some(r), Some(c)) = (radius.get_mut(i), centres.get(i)) {
                    let p = b.centre_m();
                    *r = r.max(((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2)).sqrt());
                }
            }
            centres
                .into_iter()
                .zip(radius)
                .map(|(centre_m, radius_m)| AreaExtent {
                    centre_m,
                    radius_m: radius_m.max(300.0),
                })
                .collect::<Vec<_>>()
        };
        AreaIndex {
            districts: fold(city.districts.len(), &|b| usize::from(b.district.0)),
            streets: fold(city.streets.len(), &|b| usize::from(b.street.0)),
        }
    }

    pub fn extent(&self, area: Area) -> Option<AreaExtent> {
        match area {
            Area::City => None,
            Area::District(d) => self.districts.get(usize::from(d.0)).copied(),
            Area::Street(_, s) => self.streets.get(usize::from(s.0)).copied(),
        }
    }
}

/// The area a protocol scope names in this city (None: unknown codes).
pub fn area_of_scope(city: &City, scope: &Scope) -> Option<Area> {
    let district = |code: &str| city.districts.iter().find(|d| d.code == code).map(|d| d.id);
    match scope {
        Scope::City => Some(Area::City),
        Scope::District(code) => district(code).map(Area::District),
        Scope::Street {
            district: code,
            street,
        } => {
            let d = district(code)?;
            city.streets
                .iter()
                .find(|s| s.district == d && s.name_zh == *street)
                .map(|s| Area::Street(d, s.id))
        }
    }
}

/// Display name of an area.
pub fn area_name(city: &City, area: Area, lang: super::ui::Lang) -> String {
    match area {
        Area::City => lang.pick(&city.name_zh, &city.name_en).to_owned(),
        Area::District(d) => city
            .districts
            .get(usize::from(d.0))
            .map_or_else(String::new, |d| {
                lang.pick(&d.name_zh, &d.name_en).to_owned()
            }),
        Area::Street(_, s) => street_name(city, s),
    }
}

fn street_name(city: &City, s: StreetId) -> String {
    city.streets
        .get(usize::from(s.0))
        .map_or_else(String::new, |s| s.name_zh.clone())
}

fn index_areas(mut commands: Commands, city: Res<CityData>) {
    commands.insert_resource(AreaIndex::new(&city));
}

/// A session scoped to a district or street starts there and stays inside.
fn floor_from_token(
    link: Option<Res<StreamState>>,
    city: Res<CityData>,
    mut drill: ResMut<Drill>,
    mut to: MessageWriter<DrillTo>,
) {
    let Some(link) = link else { return };
    if !link.is_changed() {
        return;
    }
    let SourceStatus::Connected { scope, .. } = &link.status else {
        return;
    };
    let Some(floor) = area_of_scope(&city, scope) else {
        warn!("token scope {scope:?} names no area of this city; showing the whole city");
        return;
    };
    if drill.floor != floor {
        drill.floor = floor;
        if !floor.covers(drill.at) {
            drill.at = Area::City;
            to.write(DrillTo(floor));
        }
    }
}

/// Applies drill requests and flies the camera to the new area.
fn apply_drill(
    mut requests: MessageReader<DrillTo>,
    mut drill: ResMut<Drill>,
    index: Option<Res<AreaIndex>>,
    city: Res<CityData>,
    mut fly: MessageWriter<FlyTo>,
) {
    let Some(DrillTo(to)) = requests.read().last().copied() else {
        return;
    };
    if !drill.go(to) {
        return;
    }
    fly.write(fly_to_area(&city, index.as_deref(), to));
}

/// Where to look at an area: its buildings' centre, far enough to see them
/// all (the whole city: the opening view).
pub fn fly_to_area(city: &City, index: Option<&AreaIndex>, area: Area) -> FlyTo {
    match index.and_then(|i| i.extent(area)) {
        Some(e) => {
            let ground = city.terrain.height_at(e.centre_m);
            FlyTo::to(
                Vec3::from(world_from_local(e.centre_m, ground)),
                Some((e.radius_m * 3.2).max(1_500.0)),
            )
        }
        None => {
            let view = super::app::default_view(city);
            FlyTo::to(view.focus, Some(view.distance_m))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::demo::{DemoScene, generate};
    use crate::model::DistrictId;

    #[test]
    fn a_scoped_drill_cannot_climb_above_its_floor() {
        let mut drill = Drill {
            at: Area::District(DistrictId(1)),
            floor: Area::District(DistrictId(1)),
        };
        assert!(!drill.go(Area::City));
        assert!(!drill.go(Area::District(DistrictId(2))));
        assert!(drill.go(Area::Street(DistrictId(1), StreetId(4))));
        assert!(drill.go(Area::District(DistrictId(1))));
    }

    #[test]
    fn a_district_token_starts_the_cockpit_in_its_district_and_flies_there() {
        use crate::cockpit::stream::StreamState;
        use crate::protocol::Role;
        let mut scene = DemoScene::embedded().expect("scene");
        scene.buildings = 500;
        let city = std::sync::Arc::new(generate(&scene));
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .configure_sets(Update, AppSystems::Ingest)
            .insert_resource(CityData(city.clone()))
            .init_resource::<StreamState>()
            .add_message::<FlyTo>();
        plugin(&mut app);
        app.update();
        assert_eq!(app.world().resource::<Drill>().at, Area::City);
        app.world_mut().resource_mut::<StreamState>().status = SourceStatus::Connected {
            session: 1,
            role: Role::Dispatcher,
            scope: Scope::District("500103".into()),
        };
        app.update();
        let yuzhong = city
            .districts
            .iter()
            .find(|d| d.code == "500103")
            .expect("渝中区")
            .id;
        let drill = *app.world().resource::<Drill>();
        assert_eq!(drill.at, Area::District(yuzhong));
        assert_eq!(drill.floor, Area::District(yuzhong));
        let flights = app.world().resource::<Messages<FlyTo>>();
        assert_eq!(flights.len(), 1, "the camera flies to the district");
        // And stays: a request for the city is refused.
        app.world_mut().write_message(DrillTo(Area::City));
        app.update();
        assert_eq!(app.world().resource::<Drill>().at, Area::District(yuzhong));
    }

    #[test]
    fn scopes_name_areas_and_extents_hold_their_buildings() {
        let mut scene = DemoScene::embedded().expect("scene");
        scene.buildings = 2_000;
        let city = generate(&scene);
        let yuzhong = city
            .districts
            .iter()
            .find(|d| d.code == "500103")
            .expect("渝中区");
        assert_eq!(
            area_of_scope(&city, &Scope::District("500103".into())),
            Some(Area::District(yuzhong.id))
        );
        assert_eq!(
            area_of_scope(&city, &Scope::District("999999".into())),
            None
        );
        let index = AreaIndex::new(&city);
        let e = index.extent(Area::District(yuzhong.id)).expect("extent");
        for b in city.buildings.iter().filter(|b| b.district == yuzhong.id) {
            let c = b.centre_m();
            let d = ((c[0] - e.centre_m[0]).powi(2) + (c[1] - e.centre_m[1]).powi(2)).sqrt();
            assert!(
                d <= e.radius_m + 1e-3,
                "{} outside its district's extent",
                b.code
            );
        }
    }
}
