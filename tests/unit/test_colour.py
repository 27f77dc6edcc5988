"""The colour maths: CIEDE2000 against published data and scikit-image, chromatic adaptation."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.color import deltaE_ciede2000

from redactor.colour import (
    D50,
    D65_XY,
    bradford,
    ciede2000,
    rgb_to_xyz_matrix,
    xy_to_xyz,
    xyz_to_lab,
)

#: Pairs and differences from Sharma, Wu and Dalal (2005), table 1 (rows 1, 7, 13, 17, 25, 34).
_SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.4900, -0.0010), (50.0, -2.4900, 0.0009), 7.1792),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((6.7747, -0.2908, -2.4247), (5.8714, -0.0985, -2.2286), 0.6377),
]


@pytest.mark.parametrize(("lab1", "lab2", "expected"), _SHARMA)
def test_given_sharma_pairs_then_ciede2000_matches_the_published_value(
    lab1: tuple[float, ...], lab2: tuple[float, ...], expected: float
) -> None:
    assert ciede2000(np.array(lab1), np.array(lab2)) == pytest.approx(expected, abs=1e-4)
    assert ciede2000(np.array(lab2), np.array(lab1)) == pytest.approx(expected, abs=1e-4)


def test_given_random_colours_then_ciede2000_agrees_with_scikit_image() -> None:
    rng = np.random.default_rng(7)
    lab1 = rng.uniform([0, -100, -100], [100, 100, 100], size=(2000, 3))
    lab2 = lab1 + rng.normal(0, 5, size=lab1.shape)
    assert np.allclose(ciede2000(lab1, lab2), deltaE_ciede2000(lab1, lab2), atol=1e-9)


def test_given_same_colours_then_difference_is_zero() -> None:
    lab = np.array([[50.0, 10.0, -20.0], [0.0, 0.0, 0.0], [100.0, 0.0, 0.0]])
    assert np.all(ciede2000(lab, lab) == 0)


def test_given_srgb_primaries_then_matrix_maps_white_to_d65_and_matches_iec() -> None:
    matrix = rgb_to_xyz_matrix(((0.64, 0.33), (0.30, 0.60), (0.15, 0.06)), D65_XY)
    assert np.allclose(matrix @ np.ones(3), xy_to_xyz(*D65_XY))
    # IEC 61966-2-1's own (rounded) matrix.
    assert np.allclose(matrix[0], [0.4124, 0.3576, 0.1805], atol=2e-4)


def test_given_bradford_then_source_white_goes_to_target_white() -> None:
    d65 = xy_to_xyz(*D65_XY)
    assert np.allclose(bradford(d65, np.array(D50)) @ d65, D50)


def test_given_white_then_lab_is_100_0_0() -> None:
    assert np.allclose(xyz_to_lab(np.array(D50)), [100.0, 0.0, 0.0])
