//! Python bindings: convert numpy arrays to slices, release the GIL, map errors. Nothing else.

use dofcore_core::{
    catch_panic, color, render_linear, render_pyramid, sharpen_depth_edges, thread_pool, Aperture,
    DofError, Image, Lens,
};
use numpy::{
    Element, IntoPyArray, PyArray2, PyArray3, PyArrayDyn, PyArrayMethods, PyReadonlyArray1,
    PyReadonlyArray2, PyReadonlyArray3, PyReadonlyArrayDyn, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;

/// Local newtype so core errors become specific Python exceptions.
struct PyDofError(DofError);

impl From<DofError> for PyDofError {
    fn from(err: DofError) -> Self {
        Self(err)
    }
}

impl From<PyDofError> for PyErr {
    fn from(PyDofError(err): PyDofError) -> Self {
        match err {
            DofError::ThreadPool { .. } | DofError::Internal(_) => {
                PyRuntimeError::new_err(err.to_string())
            }
            _ => PyValueError::new_err(err.to_string()),
        }
    }
}

fn contiguous<'a, T>(slice: Result<&'a [T], numpy::AsSliceError>, what: &str) -> PyResult<&'a [T]> {
    slice.map_err(|_| PyValueError::new_err(format!("{what} must be a C-contiguous array")))
}

/// Run `work` on `threads` threads; 0: every core, in rayon's global pool, whose threads (and
/// the malloc arenas that keep what they freed) last across calls: a pool per call grew a
/// render's peak memory.
fn in_pool<T: Send>(
    threads: usize,
    work: impl FnOnce() -> Result<T, DofError> + Send,
) -> Result<T, DofError> {
    if threads == 0 {
        work()
    } else {
        thread_pool(threads)?.install(work)
    }
}

/// Signed circle of confusion diameter in pixels of each depth (metres).
#[pyfunction]
#[pyo3(signature = (depth, aperture_m, focal_px, focus_m, threads=0))]
fn circle_of_confusion<'py>(
    py: Python<'py>,
    depth: PyReadonlyArray2<'py, f32>,
    aperture_m: f64,
    focal_px: f64,
    focus_m: f64,
    threads: usize,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let lens = Lens::new(aperture_m, focal_px, focus_m).map_err(PyDofError)?;
    let (height, width) = (depth.shape()[0], depth.shape()[1]);
    let depth = contiguous(depth.as_slice(), "depth")?;
    let coc = py
        .detach(|| catch_panic(|| in_pool(threads, || lens.coc_map(depth, width))))
        .map_err(PyDofError)?;
    coc.into_pyarray(py).reshape([height, width])
}

/// Depth-of-field render of a linear RGB image (H x W x 3) given its signed CoC map (H x W).
/// min_radius: None renders exactly; a radius (px, >= 1) renders each pixel on the pyramid
/// level where its kernel is that many to twice that many cells wide (docs/model.md 8).
#[pyfunction]
#[pyo3(signature = (rgb, coc, blades=0, rotation_rad=0.0, curvature=0.0, threads=0, min_radius=None))]
#[allow(clippy::too_many_arguments)]
fn render_linear_rgb<'py>(
    py: Python<'py>,
    rgb: PyReadonlyArray3<'py, f32>,
    coc: PyReadonlyArray2<'py, f32>,
    blades: u32,
    rotation_rad: f64,
    curvature: f64,
    threads: usize,
    min_radius: Option<f32>,
) -> PyResult<Bound<'py, PyArray3<f32>>> {
    let aperture = Aperture::new(blades, rotation_rad, curvature).map_err(PyDofError)?;
    let shape = rgb.shape();
    let (height, width, channels) = (shape[0], shape[1], shape[2]);
    if channels != 3 {
        return Err(PyValueError::new_err(format!(
            "image must have 3 channels (RGB), got {channels}"
        )));
    }
    if coc.shape() != [height, width] {
        return Err(PyValueError::new_err(format!(
            "circle of confusion map is {:?}, image is {height} x {width}",
            coc.shape()
        )));
    }
    let rgb = contiguous(rgb.as_slice(), "image")?;
    let coc = contiguous(coc.as_slice(), "circle of confusion map")?;
    let image = Image { rgb, width, height };
    let out = py
        .detach(|| {
            catch_panic(|| match min_radius {
                None => render_linear(image, coc, &aperture, threads),
                Some(t) => render_pyramid(image, coc, &aperture, threads, t),
            })
        })
        .map_err(PyDofError)?;
    out.into_pyarray(py).reshape([height, width, 3])
}

/// Depth (H x W, metres) with blended edge bands and fattened near outlines given the depth of
/// the side whose colour (H x W x 3, a perceptual space) each pixel matches, and thin blended
/// ridges lifted to the depth their mass gives (docs/model.md 2.4). `nearest` is the nearest
/// depth of the whole map when `depth` is a strip of it.
#[pyfunction]
#[pyo3(signature = (colour, depth, nearest=None, threads=0))]
fn sharpen_depth_edges_map<'py>(
    py: Python<'py>,
    colour: PyReadonlyArray3<'py, f32>,
    depth: PyReadonlyArray2<'py, f32>,
    nearest: Option<f32>,
    threads: usize,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let (height, width) = (depth.shape()[0], depth.shape()[1]);
    if colour.shape() != [height, width, 3] {
        return Err(PyValueError::new_err(format!(
            "colour is {:?}, depth is {height} x {width}: expected {height} x {width} x 3",
            colour.shape()
        )));
    }
    let colour = contiguous(colour.as_slice(), "colour")?;
    let depth = contiguous(depth.as_slice(), "depth")?;
    let sharpened = py
        .detach(|| {
            catch_panic(|| {
                in_pool(threads, || {
                    sharpen_depth_edges(colour, depth, width, nearest)
                })
            })
        })
        .map_err(PyDofError)?;
    sharpened.into_pyarray(py).reshape([height, width])
}

/// Linear light of sRGB codes (any shape): `table[code]`.
fn decode_codes<'py, T: Element + Copy + Into<usize> + Sync>(
    py: Python<'py>,
    codes: PyReadonlyArrayDyn<'py, T>,
    table: &[f32],
    threads: usize,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let shape = codes.shape().to_vec();
    let codes = contiguous(codes.as_slice(), "image")?;
    let linear = py
        .detach(|| catch_panic(|| in_pool(threads, || color::decode(table, codes))))
        .map_err(PyDofError)?;
    linear.into_pyarray(py).reshape(shape)
}

/// The sRGB code of linear light (any shape): how many of `thresholds` each value reaches.
fn encode_codes<'py, T: Element + Send + TryFrom<usize>>(
    py: Python<'py>,
    linear: &[f32],
    shape: Vec<usize>,
    thresholds: &[f32],
    threads: usize,
) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    let codes = py
        .detach(|| catch_panic(|| in_pool(threads, || color::encode::<T>(linear, thresholds))))
        .map_err(PyDofError)?;
    codes.into_pyarray(py).reshape(shape)
}

/// Linear light (float32, any shape) of uint8 or uint16 sRGB codes: `table[code]`.
#[pyfunction]
#[pyo3(signature = (codes, table, threads=0))]
fn decode_srgb<'py>(
    py: Python<'py>,
    codes: &Bound<'py, PyUntypedArray>,
    table: PyReadonlyArray1<'py, f32>,
    threads: usize,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let table = contiguous(table.as_slice(), "decoding table")?;
    if let Ok(codes) = codes.cast::<PyArrayDyn<u8>>() {
        return decode_codes(py, codes.readonly(), table, threads);
    }
    if let Ok(codes) = codes.cast::<PyArrayDyn<u16>>() {
        return decode_codes(py, codes.readonly(), table, threads);
    }
    Err(PyTypeError::new_err(format!(
        "codes must be uint8 or uint16, got {}",
        codes.dtype()
    )))
}

/// sRGB codes of linear light (float32, any shape): uint8 for 255 thresholds, uint16 for 65535.
#[pyfunction]
#[pyo3(signature = (linear, thresholds, threads=0))]
fn encode_srgb<'py>(
    py: Python<'py>,
    linear: PyReadonlyArrayDyn<'py, f32>,
    thresholds: PyReadonlyArray1<'py, f32>,
    threads: usize,
) -> PyResult<Bound<'py, PyUntypedArray>> {
    let shape = linear.shape().to_vec();
    let linear = contiguous(linear.as_slice(), "linear image")?;
    let thresholds = contiguous(thresholds.as_slice(), "encoding thresholds")?;
    Ok(match thresholds.len() {
        255 => encode_codes::<u8>(py, linear, shape, thresholds, threads)?.into_any(),
        65535 => encode_codes::<u16>(py, linear, shape, thresholds, threads)?.into_any(),
        count => {
            return Err(PyValueError::new_err(format!(
                "encoding thresholds: 255 (uint8) or 65535 (uint16) expected, got {count}"
            )))
        }
    }
    .cast_into::<PyUntypedArray>()?)
}

/// The largest channel of each pixel of a linear image (H x W x 3).
#[pyfunction]
#[pyo3(signature = (linear, threads=0))]
fn brightest_channel<'py>(
    py: Python<'py>,
    linear: PyReadonlyArray3<'py, f32>,
    threads: usize,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let shape = linear.shape();
    let (height, width) = (shape[0], shape[1]);
    if shape[2] != 3 {
        return Err(PyValueError::new_err(format!(
            "image must have 3 channels (RGB), got {}",
            shape[2]
        )));
    }
    let linear = contiguous(linear.as_slice(), "linear image")?;
    let brightest = py
        .detach(|| catch_panic(|| in_pool(threads, || Ok(color::brightest_channel(linear)))))
        .map_err(PyDofError)?;
    brightest.into_pyarray(py).reshape([height, width])
}

#[pymodule]
fn _dofcore(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(circle_of_confusion, m)?)?;
    m.add_function(wrap_pyfunction!(render_linear_rgb, m)?)?;
    m.add_function(wrap_pyfunction!(sharpen_depth_edges_map, m)?)?;
    m.add_function(wrap_pyfunction!(decode_srgb, m)?)?;
    m.add_function(wrap_pyfunction!(encode_srgb, m)?)?;
    m.add_function(wrap_pyfunction!(brightest_channel, m)?)?;
    m.add(
        "SAME_SURFACE_TOLERANCE_PX",
        dofcore_core::SAME_SURFACE_TOLERANCE_PX,
    )?;
    m.add("MAX_SURFACE_SLOPE", dofcore_core::MAX_SURFACE_SLOPE)?;
    m.add("MAX_BLUR_DIAMETER_PX", dofcore_core::MAX_BLUR_DIAMETER_PX)?;
    m.add("MAX_BLADES", dofcore_core::aperture::MAX_BLADES)?;
    m.add("MAX_THREADS", dofcore_core::MAX_THREADS)?;
    m.add("DEFAULT_MIN_RADIUS", dofcore_core::DEFAULT_MIN_RADIUS)?;
    Ok(())
}
