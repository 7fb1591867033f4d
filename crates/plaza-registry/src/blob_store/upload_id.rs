//! [`UploadId`]: the id of an upload session, a random UUID. Parsing accepts only the canonical
//! lower-case hyphenated form, so an id taken from a URL can never name a path outside the
//! uploads directory.

use std::fmt;

use uuid::Uuid;

use crate::error::RegistryError;

/// An upload session id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UploadId(String);

impl UploadId {
    /// A fresh random id.
    pub fn new_random() -> UploadId {
        UploadId(Uuid::new_v4().hyphenated().to_string())
    }

    /// Parses an id from a URL; anything but a canonical UUID is an unknown upload.
    pub fn parse(s: &str) -> Result<UploadId, RegistryError> {
        match Uuid::try_parse(s) {
            Ok(u) if u.hyphenated().to_string() == s => Ok(UploadId(s.to_owned())),
            _ => Err(RegistryError::UploadUnknown { id: s.to_owned() }),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_uuids() {
        let id = UploadId::new_random();
        assert_eq!(UploadId::parse(id.as_str()).unwrap(), id);
        for bad in [
            "",
            "../etc",
            "x",
            &id.as_str().to_uppercase(),
            &id.as_str().replace('-', ""),
        ] {
            assert!(UploadId::parse(bad).is_err(), "{bad}");
        }
    }
}
