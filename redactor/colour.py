"""Pure colour maths: white points, RGB primaries to XYZ, chromatic adaptation, CIELAB
and the CIEDE2000 colour difference (Sharma, Wu and Dalal 2005)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

#: The ICC profile connection space illuminant (ICC.1, 7.2.16), XYZ with Y = 1.
D50 = (0.9642, 1.0, 0.8249)
#: CIE D65 chromaticity, the white of sRGB and Display P3.
D65_XY = (0.3127, 0.3290)

_BRADFORD = np.array(
    [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
)


def xy_to_xyz(x: float, y: float) -> Array:
    """The XYZ (Y = 1) of a chromaticity."""
    return np.array([x / y, 1.0, (1.0 - x - y) / y])


def rgb_to_xyz_matrix(
    primaries: tuple[tuple[float, float], ...], white: tuple[float, float]
) -> Array:
    """The 3x3 matrix taking linear RGB to XYZ, so that RGB (1, 1, 1) is the white."""
    columns = np.stack([xy_to_xyz(x, y) for x, y in primaries], axis=1)
    scale = np.linalg.solve(columns, xy_to_xyz(*white))
    return np.asarray(columns * scale, dtype=np.float64)


def bradford(source_white: Array, target_white: Array) -> Array:
    """The Bradford chromatic adaptation matrix from one white (XYZ) to another."""
    cone_ratio = (_BRADFORD @ target_white) / (_BRADFORD @ source_white)
    return np.asarray(np.linalg.inv(_BRADFORD) @ np.diag(cone_ratio) @ _BRADFORD)


def xyz_to_lab(xyz: Array, white: tuple[float, float, float] = D50) -> Array:
    """CIELAB of XYZ values (last axis X, Y, Z) relative to ``white``."""
    ratio = xyz / np.asarray(white)
    epsilon, kappa = 216 / 24389, 24389 / 27
    f = np.where(ratio > epsilon, np.cbrt(ratio), (kappa * ratio + 16) / 116)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


def ciede2000(lab1: Array, lab2: Array) -> Array:
    """The CIEDE2000 difference between two arrays of CIELAB colours (last axis L, a, b)."""
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25.0**7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    chroma_zero = (c1p * c2p) == 0

    dl, dc = l2 - l1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(chroma_zero, 0.0, dh)
    dh_big = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))

    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_mean = (
        np.where(np.abs(h1p - h2p) > 180, np.where(h_sum < 360, h_sum + 360, h_sum - 360), h_sum)
        / 2
    )
    h_mean = np.where(chroma_zero, h_sum, h_mean)
    t = (
        1
        - 0.17 * np.cos(np.radians(h_mean - 30))
        + 0.24 * np.cos(np.radians(2 * h_mean))
        + 0.32 * np.cos(np.radians(3 * h_mean + 6))
        - 0.20 * np.cos(np.radians(4 * h_mean - 63))
    )
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * cp_mean
    s_h = 1 + 0.015 * cp_mean * t
    rotation = (
        -2
        * np.sqrt(cp_mean**7 / (cp_mean**7 + 25.0**7))
        * np.sin(np.radians(60 * np.exp(-(((h_mean - 275) / 25) ** 2))))
    )
    terms = (dl / s_l, dc / s_c, dh_big / s_h)
    return np.asarray(
        np.sqrt(terms[0] ** 2 + terms[1] ** 2 + terms[2] ** 2 + rotation * terms[1] * terms[2])
    )
