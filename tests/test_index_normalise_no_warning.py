"""`normalise` raises no warning on an all-NaN column (no thread-unsafe ``warnings.catch_warnings`` needed), and
gives the values the nan-reductions over the whole matrix give (worked by hand and against numpy)."""

from __future__ import annotations

import math
import sys
import warnings
from types import FrameType
from typing import Any

import numpy as np
import pytest

from huanghe.observatory.index_weights import normalise


def _reference(x: np.ndarray, higher: list[bool], norm: str) -> np.ndarray:
    """The former implementation: numpy's nan-reductions on every column, their warnings silenced."""
    sign = np.where(np.asarray(higher), 1.0, -1.0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if norm == "minmax":
            lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
            up = (x - lo) / (hi - lo)
            out = np.where(sign > 0, up, 1.0 - up)
            return np.where(np.isfinite(out), out, 0.5)
        out = sign * (x - np.nanmean(x, axis=0)) / np.nanstd(x, axis=0)
        return np.where(np.isfinite(out), out, 0.0)


def test_all_nan_column_warns_nothing_and_is_neutral() -> None:
    nan = math.nan
    x = np.array([[1.0, nan, 4.0, nan], [3.0, nan, 4.0, 2.0], [2.0, nan, 4.0, nan]])
    with warnings.catch_warnings():  # single-threaded test: any warning from here on is an error
        warnings.simplefilter("error")
        mm = normalise(x, [True, True, False, True], "minmax")
        zs = normalise(x, [True, True, False, False], "zscore")
    np.testing.assert_array_equal(mm[:, 0], [0.0, 1.0, 0.5])
    np.testing.assert_array_equal(mm[:, 1], [0.5, 0.5, 0.5])  # all NaN → neutral
    np.testing.assert_array_equal(mm[:, 2], [0.5, 0.5, 0.5])  # constant → neutral
    np.testing.assert_array_equal(mm[:, 3], [0.5, 0.5, 0.5])  # one value: span 0 and NaN → neutral
    z = math.sqrt(3 / 2)  # (x - 2) / std, std = sqrt(2/3)
    np.testing.assert_allclose(zs[:, 0], [-z, z, 0.0])
    np.testing.assert_array_equal(zs[:, 1:], np.zeros((3, 3)))


@pytest.mark.parametrize("norm", ["minmax", "zscore"])
def test_touches_no_warning_filter(norm: str) -> None:
    """The process-wide filters are shared by every thread: the function must neither enter
    ``catch_warnings`` nor call ``simplefilter``/``filterwarnings`` (seen by a profile hook, not a mock)."""
    calls: list[str] = []

    def hook(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call" and frame.f_code.co_filename == warnings.__file__:
            calls.append(frame.f_code.co_name)

    x = np.array([[1.0, math.nan], [2.0, math.nan]])
    sys.setprofile(hook)
    try:
        normalise(x, [True, True], norm)
    finally:
        sys.setprofile(None)
    assert not {"__enter__", "simplefilter", "filterwarnings", "_add_filter"} & set(calls), calls


@pytest.mark.parametrize("norm", ["minmax", "zscore"])
def test_equals_the_nan_reductions_bit_for_bit(norm: str) -> None:
    rng = np.random.default_rng(7)
    x = rng.lognormal(2.0, 1.5, size=(40, 9))
    x[rng.random(x.shape) < 0.3] = math.nan
    x[:, 2] = math.nan
    x[:, 5] = 3.25
    x[1:, 7] = math.nan
    higher = [bool(b) for b in rng.random(9) < 0.5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = normalise(x, higher, norm)
    np.testing.assert_array_equal(got, _reference(x, higher, norm))
    assert np.isfinite(got).all()
