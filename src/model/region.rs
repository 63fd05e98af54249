//! The city → district → street hierarchy (市 → 区 → 街道).

use serde::{Deserialize, Serialize};

/// Index of a district in [`crate::model::City::districts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DistrictId(pub u16);

/// Index of a street in [`crate::model::City::streets`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StreetId(pub u16);

/// A district (区), e.g. 渝中区 with administrative code 500103.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct District {
    pub id: DistrictId,
    /// Six-digit administrative division code, e.g. "500103".
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Centre in local metres (east, north).
    pub centre_m: [f32; 2],
    /// The district's outline in local metres: the data's boundary, or one
    /// traced around its ground (see [`crate::geo::outline`]).
    #[serde(default)]
    pub outline_m: Vec<AreaPolygon>,
}

/// One part of an area's outline: an exterior ring and its holes, local
/// metres, not closed (the last point joins the first).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AreaPolygon {
    pub exterior: Vec<[f32; 2]>,
    pub holes: Vec<Vec<[f32; 2]>>,
}

impl AreaPolygon {
    /// The exterior, then the holes.
    pub fn rings(&self) -> impl Iterator<Item = &[[f32; 2]]> {
        std::iter::once(self.exterior.as_slice()).chain(self.holes.iter().map(Vec::as_slice))
    }
}

/// Whether `p` lies inside `outline` (even-odd over every ring: holes and
/// separate parts both count right).
pub fn outline_contains(outline: &[AreaPolygon], p: [f32; 2]) -> bool {
    outline
        .iter()
        .flat_map(AreaPolygon::rings)
        .filter(|ring| super::ring_contains(ring, p))
        .count()
        % 2
        == 1
}

/// A street sub-district (街道) inside a district.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Street {
    pub id: StreetId,
    pub district: DistrictId,
    pub name_zh: String,
    pub centre_m: [f32; 2],
    /// The street's outline in local metres (as a district's).
    #[serde(default)]
    pub outline_m: Vec<AreaPolygon>,
}

/// A level of the hierarchy to look at: the whole city, one district or one
/// street (what the cockpit drills into and filters by).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Area {
    #[default]
    City,
    District(DistrictId),
    Street(DistrictId, StreetId),
}

impl Area {
    /// Whether something in `district` / `street` lies inside this area.
    pub fn contains(self, district: DistrictId, street: StreetId) -> bool {
        match self {
            Area::City => true,
            Area::District(d) => d == district,
            Area::Street(d, s) => d == district && s == street,
        }
    }

    /// Whether `other` is this area or inside it.
    pub fn covers(self, other: Area) -> bool {
        match (self, other) {
            (Area::City, _) => true,
            (Area::District(a), Area::District(b) | Area::Street(b, _)) => a == b,
            (Area::District(_), Area::City) => false,
            (Area::Street(..), _) => self == other,
        }
    }

    /// The area one level up (the city has none).
    pub fn parent(self) -> Option<Area> {
        match self {
            Area::City => None,
            Area::District(_) => Some(Area::City),
            Area::Street(d, _) => Some(Area::District(d)),
        }
    }

    /// From the top down to this area: the breadcrumb.
    pub fn path(self) -> Vec<Area> {
        let mut path = vec![self];
        while let Some(up) = path.last().and_then(|a| a.parent()) {
            path.push(up);
        }
        path.reverse();
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_nest_city_district_street() {
        let (d, s) = (DistrictId(2), StreetId(17));
        let street = Area::Street(d, s);
        assert_eq!(street.path(), vec![Area::City, Area::District(d), street]);
        assert!(Area::City.covers(street));
        assert!(Area::District(d).covers(street));
        assert!(!Area::District(DistrictId(3)).covers(street));
        assert!(
            !street.covers(Area::District(d)),
            "a street does not cover its district"
        );
        assert!(!Area::District(d).covers(Area::City));
        assert!(Area::District(d).covers(Area::District(d)));
        assert!(street.contains(d, s) && !street.contains(d, StreetId(18)));
    }
}
