//! Typed identifiers. Every id is an opaque string (a UUIDv7 when Plaza generates it), wrapped in a
//! newtype so an org id can never be passed where a user id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, uuid::Uuid::now_v7().simple()))
            }
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

id_type!(
    /// Identifies an organisation (the tenant).
    OrgId,
    "org"
);
id_type!(
    /// Identifies a team inside an organisation.
    TeamId,
    "team"
);
id_type!(
    /// Identifies a user (a person or a service account).
    UserId,
    "usr"
);
id_type!(
    /// Identifies an API token (not its secret).
    TokenId,
    "tok"
);
id_type!(
    /// Identifies a policy exception.
    ExceptionId,
    "exc"
);
id_type!(
    /// Identifies a recorded policy decision.
    DecisionId,
    "dec"
);
