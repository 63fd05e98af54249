//! Dispatch rules as data (`scenes/dispatch_rules.ron`): for each kind of
//! event, the departments suggested for one-click dispatch and the case
//! deadline.

use std::path::Path;

use serde::Deserialize;

use crate::config::{self, ConfigError};
use crate::model::{Building, EventKind, Street};

const WHAT: &str = "dispatch rules";

pub const EMBEDDED_DISPATCH_RULES: &str = include_str!("../../scenes/dispatch_rules.ron");

/// Who a rule sends a case to.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub enum DepartmentRule {
    /// A named department, e.g. 城管局.
    Fixed(String),
    /// The building's three bound parties (责任人, 管理人, 维保单位).
    BuildingParties,
    /// The office of the street the event is in.
    StreetOffice,
}

#[derive(Clone, Debug, Deserialize)]
pub struct DispatchRule {
    pub event: EventKind,
    pub name_zh: String,
    pub departments: Vec<DepartmentRule>,
    pub deadline_min: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct DispatchRules {
    pub escalation_grace_min: i64,
    pub rules: Vec<DispatchRule>,
}

impl DispatchRules {
    pub fn embedded() -> Result<DispatchRules, ConfigError> {
        DispatchRules::parse(EMBEDDED_DISPATCH_RULES, "<embedded dispatch_rules.ron>")
    }

    pub fn load(path: &Path) -> Result<DispatchRules, ConfigError> {
        let (text, name) = config::read(WHAT, path)?;
        DispatchRules::parse(&text, &name)
    }

    pub fn parse(text: &str, path: &str) -> Result<DispatchRules, ConfigError> {
        let rules: DispatchRules = config::parse_ron(WHAT, text, path)?;
        if let Some(r) = rules
            .rules
            .iter()
            .find(|r| r.deadline_min <= 0 || r.departments.is_empty())
        {
            return Err(ConfigError::invalid(
                WHAT,
                path,
                format!(
                    "rule for {:?} needs departments and a positive deadline",
                    r.event
                ),
            ));
        }
        Ok(rules)
    }

    pub fn rule(&self, kind: EventKind) -> Option<&DispatchRule> {
        self.rules.iter().find(|r| r.event == kind)
    }

    /// Case deadline for an event kind opened at `opened_ms`.
    pub fn deadline_ms(&self, kind: EventKind, opened_ms: i64) -> Option<i64> {
        self.rule(kind).map(|r| opened_ms + r.deadline_min * 60_000)
    }

    /// The departments suggested for an event in `street`, at `building`.
    /// A placeholder whose subject is unknown (no building, no street) is
    /// left out rather than guessed.
    pub fn suggest(
        &self,
        kind: EventKind,
        building: Option<&Building>,
        street: Option<&Street>,
    ) -> Vec<String> {
        let Some(rule) = self.rule(kind) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for d in &rule.departments {
            match d {
                DepartmentRule::Fixed(name) => out.push(name.clone()),
                DepartmentRule::BuildingParties => {
                    if let Some(b) = building {
                        let p = &b.parties;
                        out.push(format!("消防安全责任人 {}", p.safety_responsible.name));
                        out.push(format!("消防安全管理人 {}", p.safety_manager.name));
                        out.push(format!("维保单位 {}", p.maintenance.name));
                    }
                }
                DepartmentRule::StreetOffice => {
                    if let Some(s) = street {
                        out.push(format!("{}办事处", s.name_zh));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::demo::{DemoScene, generate};

    #[test]
    fn the_shipped_rules_suggest_what_the_field_expects() {
        let rules = DispatchRules::embedded().expect("shipped rules parse");
        let mut scene = DemoScene::embedded().expect("scene");
        scene.buildings = 50;
        scene.cell_m = 1000.0;
        let city = generate(&scene);
        let b = &city.buildings[0];
        let street = &city.streets[usize::from(b.street.0)];

        assert_eq!(
            rules.suggest(EventKind::MuckTruck, None, Some(street)),
            vec!["城管局", "住建委"]
        );
        let fire = rules.suggest(EventKind::FireMainPressureLost, Some(b), Some(street));
        assert_eq!(fire[0], "消防救援支队");
        assert_eq!(fire.len(), 4);
        assert!(fire[1].contains(&b.parties.safety_responsible.name));
        assert!(fire[3].contains(&b.parties.maintenance.name));
        assert_eq!(
            rules.suggest(EventKind::GridReport, None, Some(street)),
            vec![format!("{}办事处", street.name_zh)]
        );
        assert_eq!(
            rules.suggest(EventKind::LandslideWarning, None, Some(street)),
            vec![
                "应急管理局".to_owned(),
                "规划和自然资源局".to_owned(),
                format!("{}办事处", street.name_zh)
            ]
        );
        // Unknown street: the placeholder is left out, not guessed.
        assert_eq!(
            rules.suggest(EventKind::GridReport, None, None),
            Vec::<String>::new()
        );
        assert_eq!(
            rules.deadline_ms(EventKind::FireMainPressureLost, 1_000),
            Some(1_000 + 240 * 60_000)
        );
        assert_eq!(
            rules.deadline_ms(EventKind::FireMainPressureRestored, 0),
            None
        );
    }

    #[test]
    fn bad_rule_files_name_the_file_and_the_reason() {
        let err = DispatchRules::parse("DispatchRules(escalation_grace_min: 30, rules: [(event: MuckTruck, name_zh: \"x\", departments: [], deadline_min: 10)])", "bad.ron")
            .expect_err("no departments");
        let message = err.to_string();
        assert!(
            message.contains("bad.ron") && message.contains("MuckTruck"),
            "{message}"
        );
        assert!(DispatchRules::parse("not ron", "worse.ron").is_err());
    }
}
