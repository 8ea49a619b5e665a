"""Python's ``round(x, ndigits)`` over a whole numpy array, to the same floats.

``np.round`` scales, rounds and scales back, so a value whose scaled form lies within a
rounding error of a half (0.125 to two places, say) may go the other way than Python's
``round``, which rounds the exact binary value half to even. Everywhere else the two agree (the
scaled value's error, below 1e-9 for the magnitudes used here, cannot cross a half), so those
few values alone are rounded by Python. A figure computed here is therefore the very float the
per-row code gave, as the snapshots' tests compare exactly.
"""

from __future__ import annotations

import numpy as np

#: how close to a half (of the last kept digit) a scaled value must be to be handed to Python
_NEAR_HALF = 1e-6


def py_round(values: np.ndarray, ndigits: int) -> np.ndarray:
    """``[round(v, ndigits) for v in values]`` as a float64 array (NaN stays NaN)."""
    x = np.asarray(values, dtype=np.float64)
    scale = 10.0**ndigits
    scaled = x * scale
    out = np.rint(scaled) / scale
    near = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < _NEAR_HALF)
    for i in near.tolist():
        out[i] = round(float(x[i]), ndigits)
    return out


def nan_to_none(values: np.ndarray) -> list[float | None]:
    """The array as a list of floats, ``None`` where it holds NaN (nothing to measure)."""
    return [None if v != v else v for v in values.tolist()]
