//! dofcore-core: physically-based synthetic depth of field, with no Python in sight.
//!
//! The model is written down in docs/model.md; `lens` turns depth into a signed circle of
//! confusion, `aperture` makes the kernels, `gather` renders.

pub mod aperture;
pub mod color;
pub mod depth_edges;
pub mod error;
pub mod gather;
mod lanes;
pub mod lens;
mod memory;
pub mod pyramid;

pub use aperture::{Aperture, KernelTable};
pub use depth_edges::sharpen_depth_edges;
pub use error::{catch_panic, DofError};
pub use gather::{
    render_linear, thread_pool, Image, MAX_BLUR_DIAMETER_PX, MAX_SURFACE_SLOPE, MAX_THREADS,
    SAME_SURFACE_TOLERANCE_PX,
};
pub use lens::Lens;
pub use pyramid::{render_pyramid, DEFAULT_MIN_RADIUS};
