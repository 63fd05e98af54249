//! Reading the project's data files (RON recipes, rules, token files): one
//! error type that names the kind of file, the file and the reason.

use std::path::Path;

use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("{what} {path} is not valid: {reason}")]
    Invalid {
        what: &'static str,
        path: String,
        reason: String,
    },
}

impl ConfigError {
    pub fn invalid(what: &'static str, path: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            what,
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The file's text and its display name.
pub fn read(what: &'static str, path: &Path) -> Result<(String, String), ConfigError> {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((text, name)),
        Err(source) => Err(ConfigError::Io {
            what,
            path: name,
            source,
        }),
    }
}

pub fn parse_ron<T: DeserializeOwned>(
    what: &'static str,
    text: &str,
    path: &str,
) -> Result<T, ConfigError> {
    ron::from_str(text).map_err(|e| ConfigError::invalid(what, path, e.to_string()))
}
