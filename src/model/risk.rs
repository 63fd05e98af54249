//! The five fire-risk levels (重大/较大/一般/较低/低) and their wire encoding.

use serde::{Deserialize, Serialize};

/// Fire-risk level of a building, most severe first.
///
/// The discriminant is the byte used in the per-building GPU buffer and on
/// the wire, so it must never be renumbered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum RiskLevel {
    /// 重大 — red.
    Major = 0,
    /// 较大 — orange.
    High = 1,
    /// 一般 — yellow.
    Moderate = 2,
    /// 较低 — blue.
    Lower = 3,
    /// 低 — green.
    Low = 4,
}

impl RiskLevel {
    /// All levels, most severe first (legend order).
    pub const ALL: [RiskLevel; 5] = [
        RiskLevel::Major,
        RiskLevel::High,
        RiskLevel::Moderate,
        RiskLevel::Lower,
        RiskLevel::Low,
    ];

    /// Index into [`RiskLevel::ALL`] and into palette arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_u8(value: u8) -> Option<RiskLevel> {
        RiskLevel::ALL.get(usize::from(value)).copied()
    }

    /// Chinese name as used in the field (重大/较大/一般/较低/低).
    pub fn name_zh(self) -> &'static str {
        match self {
            RiskLevel::Major => "重大",
            RiskLevel::High => "较大",
            RiskLevel::Moderate => "一般",
            RiskLevel::Lower => "较低",
            RiskLevel::Low => "低",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            RiskLevel::Major => "Major",
            RiskLevel::High => "High",
            RiskLevel::Moderate => "Moderate",
            RiskLevel::Lower => "Lower",
            RiskLevel::Low => "Low",
        }
    }

    /// The more severe of two levels ("raise to at least").
    pub fn at_least(self, floor: RiskLevel) -> RiskLevel {
        self.min(floor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_encoding_round_trips_and_rejects_unknown() {
        for level in RiskLevel::ALL {
            assert_eq!(RiskLevel::from_u8(level as u8), Some(level));
        }
        assert_eq!(RiskLevel::from_u8(5), None);
    }

    #[test]
    fn at_least_keeps_the_more_severe_level() {
        assert_eq!(RiskLevel::Low.at_least(RiskLevel::High), RiskLevel::High);
        assert_eq!(RiskLevel::Major.at_least(RiskLevel::High), RiskLevel::Major);
    }
}
