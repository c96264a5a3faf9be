"""Contract item 8: the Rust engine and the numpy reference compute the same model."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import dofcore
from dofcore.api import Aperture, RustEngine
from conftest import stopped_down
from dofcore.reference import ENGINE as REFERENCE

# Keeps the reference (a loop over every kernel offset) quick on hypothesis' many examples.
MAX_TEST_BLUR_PX = 24.0

apertures = st.one_of(
    st.just(Aperture()),
    st.builds(
        Aperture,
        blades=st.integers(3, 12),
        rotation=st.floats(-360.0, 360.0),
        curvature=st.floats(0.0, 1.0),
    ),
)


@st.composite
def scenes(draw):
    """A small photo with a layered, noisy depth map: planes, steps and smooth ramps, and tilted
    planes (a floor receding) with objects standing on them."""
    seed = draw(st.integers(0, 2**32 - 1))
    height, width = draw(st.integers(2, 20)), draw(st.integers(2, 20))
    rng = np.random.default_rng(seed)
    linear = rng.uniform(0.0, 1.0, (height, width, 3)).astype(np.float32)
    linear[rng.uniform(size=(height, width)) < 0.05] *= 30.0  # a few bright lights
    layers = rng.uniform(0.5, 40.0, draw(st.integers(1, 4)))
    depth = layers[rng.integers(0, len(layers), (height, width))]
    if draw(st.booleans()):
        # A plane's inverse depth is affine in the image: the tangent-plane groups of model.md 5.2.
        yy, xx = np.mgrid[:height, :width]
        tilt = rng.uniform(-0.3, 0.3, 2)
        plane = 1.0 / np.clip(rng.uniform(0.1, 1.0) + tilt[0] * xx / width + tilt[1] * yy / height, 0.03, None)
        depth = np.where(rng.uniform(size=(height, width)) < 0.8, plane, depth)
    depth = depth * np.exp(rng.normal(0, draw(st.sampled_from([0.0, 0.01, 0.2])), (height, width)))
    return linear, depth.astype(np.float32)


# The depth-edge step (test_depth_edges.py) is shared Python before either engine, and may move
# the automatic focus: off in these comparisons, so that stopped_down sees the engines' depth.


@st.composite
def lenses(draw, depth):
    focus = draw(st.one_of(st.none(), st.floats(0.3, 30.0),
                           st.tuples(st.integers(0, depth.shape[1] - 1), st.integers(0, depth.shape[0] - 1))))
    # focal_px alone would imply F = f_px * 36 mm / W: absurd lenses on frames this small.
    options = dict(focus=focus, focal_length=draw(st.floats(14.0, 200.0)),
                   focal_px=draw(st.one_of(st.none(), st.floats(10.0, 3000.0))))
    f_number = draw(st.floats(0.95, 22.0))
    return stopped_down(depth, f_number, MAX_TEST_BLUR_PX, **options), options


@settings(max_examples=150, deadline=None)
@given(data=st.data(), scene=scenes(), aperture=apertures)
def test_engine_matches_reference_in_linear_light(data, scene, aperture):
    linear, depth = scene
    f_number, options = data.draw(lenses(depth))
    gain = data.draw(st.sampled_from([1.0, 4.0]))
    kwargs = dict(options, blades=aperture.blades, blade_rotation=aperture.rotation,
                  blade_curvature=aperture.curvature, highlight_gain=gain, sharpen_depth_edges=False)
    engine = dofcore.render(linear, depth, f_number, quality="exact", **kwargs)
    reference = dofcore.reference.render(linear, depth, f_number, **kwargs)
    assert np.abs(engine - reference).max() <= 1e-4


@settings(max_examples=60, deadline=None)
@given(data=st.data(), scene=scenes(), dtype=st.sampled_from([np.uint8, np.uint16]))
def test_engine_matches_reference_on_srgb_photos(data, scene, dtype):
    linear, depth = scene
    f_number, options = data.draw(lenses(depth))
    top = np.iinfo(dtype).max
    photo = np.rint(np.clip(linear, 0, 1) ** (1 / 2.2) * top).astype(dtype)
    options = dict(options, sharpen_depth_edges=False)
    engine = dofcore.render(photo, depth, f_number, quality="exact", **options).astype(np.int64)
    reference = dofcore.reference.render(photo, depth, f_number, **options).astype(np.int64)
    # Both compute the same linear light; encoding may round a hair's breadth apart.
    assert np.abs(engine - reference).max() <= 1 + top // 10000


@settings(max_examples=100, deadline=None)
@given(scene=scenes(), f_number=st.floats(0.95, 22.0), focus=st.floats(0.3, 30.0))
def test_coc_is_bit_identical(scene, f_number, focus):
    _, depth = scene
    lens = dofcore.lens.thin_lens(depth, f_number, focus, 50.0, 500.0)
    np.testing.assert_array_equal(RustEngine().circle_of_confusion(depth, lens),
                                  REFERENCE.circle_of_confusion(depth, lens))


@settings(max_examples=40, deadline=None)
@given(scene=scenes(), aperture=apertures)
def test_result_is_bit_identical_for_one_and_two_threads(scene, aperture):
    linear, depth = scene
    coc = np.linspace(-30, 30, depth.size, dtype=np.float32).reshape(depth.shape)
    np.random.default_rng(0).shuffle(coc.ravel())
    one, two = (RustEngine(threads).gather(linear, coc, aperture) for threads in (1, 2))
    np.testing.assert_array_equal(one, two)
