//! Renders the Kubernetes objects of a Plaza *container* app instance as deterministic,
//! multi-document YAML (Kubernetes 1.31 API).
//!
//! This first step holds the building blocks: names and labels, the image digest check and
//! the YAML emitter.

pub mod error;
pub mod image;
pub mod input;
pub mod names;
pub mod yaml;

pub use error::RenderError;
pub use input::{EgressTarget, RenderInput};
