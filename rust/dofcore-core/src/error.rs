use thiserror::Error;

/// Everything that can go wrong in the core. The binding crate maps each to a Python exception.
#[derive(Debug, Error, PartialEq)]
pub enum DofError {
    #[error("{what} has {got} values, expected {expected} ({shape})")]
    Shape {
        what: &'static str,
        got: usize,
        expected: usize,
        shape: String,
    },
    #[error("{what} must be finite and positive, got {value}")]
    NotPositive { what: &'static str, value: f64 },
    #[error("{what} must be finite, got {value}")]
    NotFinite { what: &'static str, value: f64 },
    #[error("depth must be finite and > 0 m: pixel (x={x}, y={y}) holds {value}")]
    BadDepth { x: usize, y: usize, value: f32 },
    #[error("circle of confusion must be finite: pixel (x={x}, y={y}) holds {value}")]
    BadCoc { x: usize, y: usize, value: f32 },
    #[error("aperture blades must be 0 (circle) or 3..={max}, got {blades}")]
    Blades { blades: u32, max: u32 },
    #[error("blade curvature must be in [0, 1], got {0}")]
    Curvature(f64),
    #[error("blur diameter of {diameter:.0} px exceeds the limit of {limit} px")]
    BlurTooLarge { diameter: f64, limit: usize },
    #[error("could not start a thread pool of {threads} threads: {reason}")]
    ThreadPool { threads: usize, reason: String },
}
