"""Moving-window sums whose cost does not depend on the window size.

A square window of ``size`` × ``size`` pixels (odd) centred on each pixel. Sums come from a
summed-area table (integral image): four lookups per pixel whatever the window, in float64 so
that long rows of large values keep their precision. Pixels outside the array and NaN pixels
add nothing; ``box_count`` says how many valid pixels each window held.
"""

from __future__ import annotations

import numpy as np


def check_window(size: int) -> int:
    """``size`` as an int; ValueError unless it is a positive odd whole number."""
    if int(size) != size or size < 1 or size % 2 == 0:
        raise ValueError(f"the window must be a positive odd number of pixels, got {size}")
    return int(size)


def _summed_area(values: np.ndarray) -> np.ndarray:
    """Summed-area table with a leading row and column of zeros: S[i, j] = Σ values[:i, :j]."""
    table = np.zeros((values.shape[0] + 1, values.shape[1] + 1), dtype=np.float64)
    np.cumsum(values, axis=0, dtype=np.float64, out=table[1:, 1:])
    np.cumsum(table[1:, 1:], axis=1, out=table[1:, 1:])
    return table


def box_sum(values: np.ndarray, size: int) -> np.ndarray:
    """Sum of the valid (non-NaN) values in the ``size`` × ``size`` window around each pixel.

    Same shape as ``values``, float64. Windows reaching past the edge sum what lies inside.

    >>> box_sum(np.ones((3, 3)), 3)[[1, 0], [1, 0]].tolist()  # centre: 9 ones; corner: 2 × 2
    [9.0, 4.0]
    """
    size = check_window(size)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError("box_sum works on 2-D arrays")
    half = size // 2
    if np.isnan(values).any():
        values = np.nan_to_num(values, nan=0.0)
    # Edge-padding the table clamps window bounds at the array's edges, so the four corner
    # lookups become four plain slices (no index arrays).
    table = np.pad(_summed_area(values), ((half, half + 1), (half, half + 1)), mode="edge")
    rows, cols = values.shape
    size_r, size_c = slice(size, size + rows), slice(size, size + cols)
    return (
        table[size_r, size_c]
        - table[0:rows, size_c]
        - table[size_r, 0:cols]
        + table[0:rows, 0:cols]
    )


def box_count(valid: np.ndarray, size: int) -> np.ndarray:
    """Number of True pixels of ``valid`` in each window (float64, whole numbers)."""
    return box_sum(np.asarray(valid, dtype=np.float64), size)
