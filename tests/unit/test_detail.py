"""The cheap detail pass: flat areas are told apart from anything a face or text needs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from redactor.detail import HALF_RESOLUTION_ABOVE, DetailMap
from redactor.geometry import Box

RNG = np.random.default_rng(11)


def backdrop(height: int, width: int, level: int = 245, noise: int = 3) -> np.ndarray:
    """A plain backdrop with JPEG-like noise of +-``noise`` levels."""
    grain = RNG.integers(-noise, noise + 1, (height, width, 3))
    return np.clip(level + grain, 0, 255).astype(np.uint8)


def tiny_face(image: np.ndarray, x: int, y: int, width: int = 20) -> None:
    """A crude 20 px face: skin ellipse, two dark eyes and a mouth."""
    h = round(width * 1.25)
    cx, cy = x + width // 2, y + h // 2
    cv2.ellipse(image, (cx, cy), (width // 2, h // 2), 0, 0, 360, (205, 160, 135), -1)
    for ex in (cx - width // 5, cx + width // 5):
        cv2.circle(image, (ex, cy - h // 8), max(1, width // 12), (60, 40, 30), -1)
    cv2.line(image, (cx - width // 6, cy + h // 4), (cx + width // 6, cy + h // 4), (120, 60, 60))


def test_given_a_plain_noisy_backdrop_then_there_is_no_detail_anywhere() -> None:
    detail = DetailMap(backdrop(1200, 1600))
    assert not detail.has_detail(Box(0, 0, 1600, 1200))
    assert detail.bounds() is None


def test_given_a_slow_gradient_then_it_is_flat() -> None:
    ramp = np.linspace(0, 255, 1600, dtype=np.float32)
    image = np.repeat(np.repeat(ramp[None, :, None], 400, 0), 3, 2).astype(np.uint8)
    assert DetailMap(image).bounds() is None


def test_given_a_20_px_face_on_a_backdrop_then_only_tiles_over_it_have_detail() -> None:
    image = backdrop(1200, 1600)
    tiny_face(image, 1000, 700)
    detail = DetailMap(image)
    assert detail.has_detail(Box(900, 600, 1208, 908))
    assert not detail.has_detail(Box(0, 0, 900, 1200))
    assert not detail.has_detail(Box(1100, 0, 1600, 1200))
    bounds = detail.bounds(margin=10)
    assert bounds is not None
    assert Box(1000, 700, 1020, 725).x0 >= bounds.x0 and bounds.x1 <= 1100


def test_given_text_differing_only_in_hue_then_it_is_detail() -> None:
    # Red on green of about the same brightness: a grey-level pass would miss it.
    image = np.zeros((200, 400, 3), np.uint8)
    image[:] = (0, 120, 0)
    cv2.putText(image, "Jane Doe", (20, 120), cv2.FONT_HERSHEY_SIMPLEX, 2, (235, 0, 0), 3)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    assert int(grey.max()) - int(grey.min()) < 12  # invisible in grey
    assert DetailMap(image).has_detail(Box(0, 0, 400, 200))


def test_given_an_edge_on_a_window_boundary_then_it_is_found() -> None:
    image = np.full((64, 64, 3), 40, np.uint8)
    image[:, 32:] = 200  # a step exactly on the 8 px grid
    detail = DetailMap(image)
    assert detail.has_detail(Box(28, 0, 36, 64))
    assert not detail.has_detail(Box(0, 0, 24, 64))


@pytest.mark.parametrize("scale", [1, 2])
def test_given_an_image_of_either_resolution_path_then_boxes_are_in_its_pixels(
    scale: int,
) -> None:
    side = 1200 * scale
    image = backdrop(side, side)
    tiny_face(image, 300 * scale, 500 * scale, width=20 * scale)
    assert (image.shape[0] * image.shape[1] > HALF_RESOLUTION_ABOVE) == (scale == 2)
    detail = DetailMap(image)
    bounds = detail.bounds()
    assert bounds is not None
    assert bounds.x0 == pytest.approx(300 * scale, abs=8 * scale)
    assert bounds.y0 == pytest.approx(500 * scale, abs=8 * scale)
    assert not detail.has_detail(Box(0, 0, 280 * scale, side))


def test_given_a_box_outside_the_image_then_it_has_no_detail() -> None:
    detail = DetailMap(np.full((50, 50, 3), 0, np.uint8))
    assert detail.count(Box(60, 60, 90, 90)) == 0
    assert detail.count(Box(-10, -10, 0, 0)) == 0


def _patch(image: np.ndarray, box: Box) -> None:
    x0, y0, x1, y1 = box.to_int()
    image[y0:y1, x0:x1] = RNG.integers(0, 256, (y1 - y0, x1 - x0, 3), dtype=np.uint8)


def test_given_two_patches_far_apart_then_two_regions_each_with_a_margin() -> None:
    image = backdrop(1200, 1600)
    _patch(image, Box(100, 100, 400, 300))
    _patch(image, Box(1000, 700, 1500, 1100))
    first, second = DetailMap(image).regions(gap=48)
    assert first.x0 <= 100 - 24 and first.y0 <= 100 - 24 and first.x1 >= 400 + 24
    assert first.x1 < 500 and first.y1 < 400
    assert second.x0 <= 1000 - 24 and second.y1 >= 1100 + 24


def test_given_patches_closer_than_the_gap_then_one_region() -> None:
    image = backdrop(600, 800)
    _patch(image, Box(100, 100, 300, 200))
    _patch(image, Box(330, 100, 500, 200))  # 30 px apart
    (region,) = DetailMap(image).regions(gap=48)
    assert region.x0 < 100 and region.x1 > 500


def test_given_a_speck_at_the_edge_then_its_region_is_grown_inside_the_image() -> None:
    image = backdrop(600, 800)
    _patch(image, Box(790, 590, 800, 600))
    (region,) = DetailMap(image).regions(gap=16, min_side=128)
    assert region == Box(672, 472, 800, 600)


def test_given_regions_that_overlap_once_grown_then_they_are_merged() -> None:
    image = backdrop(600, 800)
    _patch(image, Box(100, 100, 110, 110))
    _patch(image, Box(180, 100, 190, 110))  # 70 px apart: two groups, overlapping at 128
    (region,) = DetailMap(image).regions(gap=48, min_side=128)
    assert region.x0 <= 100 and region.x1 >= 190


def test_given_a_flat_image_then_no_regions() -> None:
    assert DetailMap(backdrop(300, 300)).regions(gap=48) == []
