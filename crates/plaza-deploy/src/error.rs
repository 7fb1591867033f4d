//! The crate's one error type: what is wrong with a [`RenderInput`](crate::RenderInput), which
//! field, and how to fix it.
//!
//! [`render`](crate::render) checks every field before it renders anything and reports every
//! problem at once: one problem as its own variant, several as [`RenderError::Several`].

/// Why a [`RenderInput`](crate::RenderInput) cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The image is referred to by tag (or by name alone), not by digest.
    #[error("`image` {image:?} is not pinned by digest: {hint}")]
    ImageNotPinned {
        /// The image reference as given.
        image: String,
        /// How to fix it.
        hint: String,
    },
    /// A required field is empty.
    #[error("`{field}` is empty: {hint}")]
    Empty {
        /// Path of the field (`instance_id`, `egress[1].host`).
        field: String,
        /// How to fix it.
        hint: String,
    },
    /// A field has a value that cannot be rendered.
    #[error("`{field}` = {value:?} is invalid: {reason}; {hint}")]
    Invalid {
        /// Path of the field (`namespace`, `tags["cost center"]`).
        field: String,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
        /// How to fix it.
        hint: String,
    },
    /// More than one problem, in field order.
    #[error("{} problems in the render input:{}", .0.len(), bullets(.0))]
    Several(Vec<RenderError>),
}

impl RenderError {
    /// The single problems this error holds (itself, unless it is [`RenderError::Several`]).
    pub fn problems(&self) -> Vec<&RenderError> {
        match self {
            RenderError::Several(all) => all.iter().flat_map(RenderError::problems).collect(),
            one => vec![one],
        }
    }

    /// The field a single problem is about (`None` for [`RenderError::Several`]).
    pub fn field(&self) -> Option<&str> {
        match self {
            RenderError::ImageNotPinned { .. } => Some("image"),
            RenderError::Empty { field, .. } | RenderError::Invalid { field, .. } => Some(field),
            RenderError::Several(_) => None,
        }
    }

    /// One error from a list of problems: `None` when the list is empty.
    pub(crate) fn from_problems(mut problems: Vec<RenderError>) -> Option<RenderError> {
        match problems.len() {
            0 => None,
            1 => problems.pop(),
            _ => Some(RenderError::Several(problems)),
        }
    }
}

fn bullets(all: &[RenderError]) -> String {
    all.iter().map(|e| format!("\n  - {e}")).collect()
}
