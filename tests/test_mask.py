"""The square-window filters of dofcore.mask against their definition: numpy's sliding windows
over the image continued beyond its border (edge values for the local minimum; unset beyond the border
for dilation, set for erosion)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from dofcore import mask


def by_definition(values: np.ndarray, radius: int, reduce, pad: dict) -> np.ndarray:
    window = 2 * radius + 1
    padded = np.pad(values, radius, **pad)
    rows = reduce(sliding_window_view(padded, window, axis=0), axis=-1)
    return reduce(sliding_window_view(rows, window, axis=1), axis=-1)


@settings(max_examples=200, deadline=None)
@given(height=st.integers(1, 40), width=st.integers(1, 40), radius=st.integers(0, 20), seed=st.integers(0, 2**32 - 1))
def test_window_filters_match_their_definition(height, width, radius, seed):
    values = np.random.default_rng(seed).uniform(size=(height, width)).astype(np.float32)
    bits = values > 0.7
    edge = dict(mode="edge")
    np.testing.assert_array_equal(mask.local_min(values, radius), by_definition(values, radius, np.min, edge))
    np.testing.assert_array_equal(mask.dilate(bits, radius), by_definition(bits, radius, np.any, dict(constant_values=False)))
    np.testing.assert_array_equal(mask.erode(bits, radius), by_definition(bits, radius, np.all, dict(constant_values=True)))


@settings(max_examples=200, deadline=None)
@given(height=st.integers(1, 30), width=st.integers(1, 30), radius=st.integers(0, 12),
       share=st.sampled_from([0.05, 0.5, 0.9, 1.0]), seed=st.integers(0, 2**32 - 1))
def test_opening_matches_its_definition_for_scattered_and_solid_masks(height, width, radius, share, seed):
    bits = np.random.default_rng(seed).uniform(size=(height, width)) < share
    eroded = by_definition(bits, radius, np.all, dict(constant_values=True))
    expected = by_definition(eroded, radius, np.any, dict(constant_values=False))
    np.testing.assert_array_equal(mask.opening(bits, radius), expected)
