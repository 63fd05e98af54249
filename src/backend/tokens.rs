//! Access tokens: a TOML file mapping each token to a name, a role (viewer
//! or dispatcher) and a scope (the city, a district, or a street).
//!
//! ```toml
//! [[token]]
//! name = "渝中区指挥中心"
//! token = "change-me"
//! role = "dispatcher"
//! scope = "district:500103"      # or "city", or "street:500103/解放碑街道"
//! ```

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::config::{self, ConfigError};
use crate::model::{BuildingId, City, DistrictId, StreetId};
use crate::protocol::{Role, Scope};

const WHAT: &str = "token file";

/// What a token allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub name: String,
    pub role: Role,
    pub scope: Scope,
}

impl Grant {
    /// Whether this grant's scope covers a place in the city.
    pub fn covers(&self, city: &City, district: DistrictId, street: StreetId) -> bool {
        let district = city
            .districts
            .get(usize::from(district.0))
            .map(|d| d.code.as_str());
        let street = city
            .streets
            .get(usize::from(street.0))
            .map(|s| s.name_zh.as_str());
        match &self.scope {
            Scope::City => true,
            Scope::District(code) => district == Some(code.as_str()),
            Scope::Street {
                district: d,
                street: s,
            } => district == Some(d.as_str()) && street == Some(s.as_str()),
        }
    }

    /// Whether this grant's scope covers a building.
    pub fn covers_building(&self, city: &City, building: BuildingId) -> bool {
        city.building(building)
            .is_some_and(|b| self.covers(city, b.district, b.street))
    }
}

#[derive(Debug, Clone, Default)]
pub struct Tokens {
    by_token: HashMap<String, Grant>,
}

#[derive(Deserialize)]
struct TokenFile {
    #[serde(default)]
    token: Vec<TokenEntry>,
}

#[derive(Deserialize)]
struct TokenEntry {
    name: String,
    token: String,
    role: String,
    scope: String,
}

pub fn parse_scope(text: &str) -> Result<Scope, String> {
    let text = text.trim();
    if text == "city" {
        return Ok(Scope::City);
    }
    if let Some(code) = text.strip_prefix("district:") {
        return Ok(Scope::District(code.to_owned()));
    }
    if let Some(rest) = text.strip_prefix("street:")
        && let Some((district, street)) = rest.split_once('/')
    {
        return Ok(Scope::Street {
            district: district.to_owned(),
            street: street.to_owned(),
        });
    }
    Err(format!(
        "scope {text:?} should be city, district:CODE or street:CODE/NAME"
    ))
}

impl Tokens {
    pub fn load(path: &Path) -> Result<Tokens, ConfigError> {
        let (text, name) = config::read(WHAT, path)?;
        Tokens::parse(&text, &name)
    }

    pub fn parse(text: &str, path: &str) -> Result<Tokens, ConfigError> {
        let file: TokenFile =
            toml::from_str(text).map_err(|e| ConfigError::invalid(WHAT, path, e.to_string()))?;
        let mut tokens = Tokens::default();
        for entry in file.token {
            let bad = |reason: String| {
                ConfigError::invalid(WHAT, path, format!("entry {:?}: {reason}", entry.name))
            };
            let role = match entry.role.as_str() {
                "viewer" => Role::Viewer,
                "dispatcher" => Role::Dispatcher,
                other => {
                    return Err(bad(format!(
                        "role {other:?} should be viewer or dispatcher"
                    )));
                }
            };
            let scope = parse_scope(&entry.scope).map_err(bad)?;
            if entry.token.len() < 8 {
                return Err(bad("token is shorter than 8 characters".to_owned()));
            }
            tokens.insert(
                &entry.token,
                Grant {
                    name: entry.name.clone(),
                    role,
                    scope,
                },
            );
        }
        Ok(tokens)
    }

    pub fn insert(&mut self, token: &str, grant: Grant) {
        self.by_token.insert(token.to_owned(), grant);
    }

    pub fn check(&self, token: &str) -> Option<&Grant> {
        self.by_token.get(token)
    }

    pub fn len(&self) -> usize {
        self.by_token.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_token.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_roles_and_scopes_and_names_bad_entries() {
        let text = r#"
            [[token]]
            name = "市指挥中心"
            token = "city-dispatch-0001"
            role = "dispatcher"
            scope = "city"
            [[token]]
            name = "解放碑街道"
            token = "street-viewer-0002"
            role = "viewer"
            scope = "street:500103/解放碑街道"
        "#;
        let tokens = Tokens::parse(text, "tokens.toml").expect("valid");
        assert_eq!(tokens.len(), 2);
        let g = tokens.check("street-viewer-0002").expect("known");
        assert_eq!(g.role, Role::Viewer);
        assert_eq!(
            g.scope,
            Scope::Street {
                district: "500103".into(),
                street: "解放碑街道".into()
            }
        );
        assert!(tokens.check("nope").is_none());
        let bad = Tokens::parse(
            "[[token]]\nname = \"x\"\ntoken = \"abcdefgh\"\nrole = \"admin\"\nscope = \"city\"\n",
            "t.toml",
        )
        .expect_err("bad role");
        assert!(bad.to_string().contains("admin") && bad.to_string().contains("t.toml"));
    }
}
