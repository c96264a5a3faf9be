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
    #[error("linear light must be finite and >= 0: pixel (x={x}, y={y}) holds {value}")]
    BadLight { x: usize, y: usize, value: f32 },
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
    #[error("threads must be 0 (every core) to {max}, got {threads}")]
    Threads { threads: usize, max: usize },
    #[error("internal error in dofcore (a bug, please report it): {0}")]
    Internal(String),
}

/// Run `work`, turning a panic (a bug) into `DofError::Internal` so that no caller, a Python
/// interpreter least of all, is taken down by it. Panics in rayon workers arrive here too.
pub fn catch_panic<T>(work: impl FnOnce() -> Result<T, DofError>) -> Result<T, DofError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| text.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        Err(DofError::Internal(message))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let caught = catch_panic::<()>(|| panic!("index out of bounds"));
        assert_eq!(
            caught,
            Err(DofError::Internal("index out of bounds".into()))
        );
        assert_eq!(catch_panic(|| Ok(3)), Ok(3));
    }

    #[test]
    fn a_panic_in_a_worker_thread_is_caught_too() {
        use rayon::prelude::*;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let caught = catch_panic(|| {
            pool.install(|| {
                (0..64)
                    .into_par_iter()
                    .for_each(|i| assert!(i < 63, "worker {i}"));
                Ok(())
            })
        });
        assert!(
            matches!(caught, Err(DofError::Internal(message)) if message.contains("worker 63"))
        );
    }
}
