"""The per-image context: shared work done once, shrunk copies as area averaging gives them."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

import redactor.image_context as image_context
from redactor.detail import DetailMap
from redactor.findings import RGBImage
from redactor.geometry import Box
from redactor.image_context import ImageContext
from redactor.text.reading import text_areas
from tests.unit.test_text_detector import textured

RNG = np.random.default_rng(5)


def noisy(height: int, width: int) -> RGBImage:
    return RNG.integers(0, 256, (height, width, 3), dtype=np.uint8)


def photo(height: int, width: int) -> RGBImage:
    """scikit-image's astronaut at this size: a photo's edges and flat areas."""
    from skimage import data

    resized = cv2.resize(data.astronaut(), (width, height), interpolation=cv2.INTER_CUBIC)
    return np.asarray(resized, np.uint8)


def direct(image: RGBImage, width: int, height: int) -> RGBImage:
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), np.uint8)


def test_the_detail_map_is_computed_once_however_often_it_is_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[Any] = []
    real = image_context.DetailMap

    def counting(image: RGBImage) -> Any:
        built.append(image)
        return real(image)

    monkeypatch.setattr(image_context, "DetailMap", counting)
    context = ImageContext(noisy(120, 160))
    assert context.detail is context.detail
    assert len(built) == 1 and built[0] is context.image


def test_of_reuses_a_context_only_for_the_very_same_array() -> None:
    image = noisy(40, 60)
    context = ImageContext(image)
    assert ImageContext.of(image, context) is context
    other = ImageContext.of(image.copy(), context)
    assert other is not context and other.image is not image
    assert ImageContext.of(image, None).image is image


def test_a_shrunk_copy_is_made_once_per_size() -> None:
    context = ImageContext(noisy(300, 400))
    first = context.resized(250, 190)
    assert context.resized(250, 190) is first
    assert context.resized(400, 300) is context.image


def test_shrinks_over_half_and_odd_sided_images_are_area_averaged_from_the_image() -> None:
    image = noisy(301, 400)
    context = ImageContext(image)
    assert np.array_equal(context.resized(100, 75), direct(image, 100, 75))  # odd height
    even = noisy(300, 400)
    assert np.array_equal(ImageContext(even).resized(250, 190), direct(even, 250, 190))


def test_a_copy_at_an_even_factor_from_the_half_copy_is_the_images_area_average() -> None:
    image = noisy(600, 800)
    shrunk = ImageContext(image).resized(200, 150)
    difference = np.abs(shrunk.astype(int) - direct(image, 200, 150).astype(int))
    assert difference.max() <= 1  # the half copy's rounding


@pytest.mark.parametrize("size", [(256, 192), (128, 96), (77, 51)])
def test_other_small_copies_differ_from_the_images_area_average_only_at_sharp_edges(
    size: tuple[int, int],
) -> None:
    """At other factors the half copy's pixel pairs straddle the output pixels' edges
    where single pixels would: a shrink as valid, off by a level or two on a photo."""
    image = photo(600, 800)
    shrunk = ImageContext(image).resized(*size)
    assert shrunk.shape == (size[1], size[0], 3) and shrunk.dtype == np.uint8
    difference = np.abs(shrunk.astype(int) - direct(image, *size).astype(int))
    assert difference.mean() < 1.5


def test_it_never_enlarges() -> None:
    with pytest.raises(ValueError, match="only shrinks"):
        ImageContext(noisy(30, 40)).resized(41, 30)


def test_text_areas_from_the_full_frames_map_cover_the_same_places_on_a_bounded_copy() -> None:
    """The text detector reads a bounded copy but takes the detail map of the frame the
    face detector also uses: the areas, mapped, still hold every detailed place."""
    frame = np.full((2400, 3200, 3), 240, np.uint8)
    frame[400:700, 300:1300] = textured(300, 1000)
    frame[1800:2000, 2400:3000] = textured(200, 600)
    small = direct(frame, 1600, 1200)
    shared = text_areas(small, ImageContext(frame).detail)
    own = text_areas(small)
    assert len(shared) == len(own) == 2
    for text in (Box(150, 200, 650, 350), Box(1200, 900, 1500, 1000)):
        assert any(_inside(text, a) for a in shared)
    assert sum(a.area for a in shared) < 0.5 * 1600 * 1200


def _inside(box: Box, area: Box) -> bool:
    return area.x0 <= box.x0 and area.y0 <= box.y0 and box.x1 <= area.x1 and box.y1 <= area.y1


def _counting_resizes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """The shapes of the images cv2.resize is given from now on (by any module)."""
    calls: list[tuple[int, ...]] = []
    real = cv2.resize

    def counting(image: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(image.shape)
        return real(image, *args, **kwargs)

    monkeypatch.setattr(cv2, "resize", counting)
    return calls


def test_a_large_images_detail_map_is_made_from_the_half_copy_not_halved_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = noisy(1800, 2400)  # 4.3 MP: its map is made at half resolution
    calls = _counting_resizes(monkeypatch)
    context = ImageContext(image)
    context.resized(600, 450)  # from the half copy
    shared = context.detail
    assert calls == [image.shape, (900, 1200, 3)]  # the frame halved once
    own = DetailMap(image)
    for box in (Box(0, 0, 2400, 1800), Box(10, 20, 30, 40), Box(1001, 77, 1003, 79)):
        assert shared.count(box) == own.count(box)
    assert shared.regions(40) == own.regions(40)


def test_a_copy_at_exactly_half_size_is_the_half_copy_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = noisy(300, 400)
    expected = direct(image, 200, 150)
    calls = _counting_resizes(monkeypatch)
    context = ImageContext(image)
    half = context.resized(200, 150)
    assert np.array_equal(half, expected)
    context.resized(100, 75)
    assert context.resized(200, 150) is half
    assert calls == [image.shape, (150, 200, 3)]  # halved, then 100x75 from the half


def test_an_odd_sided_large_image_makes_its_own_half_resolution_map() -> None:
    image = noisy(1801, 2400)
    context = ImageContext(image)
    assert context.detail.count(Box(0, 0, 2400, 1801)) == DetailMap(image).count(
        Box(0, 0, 2400, 1801)
    )
    assert context._half is None  # no half copy made for it


def linear(image: RGBImage, width: int, height: int) -> RGBImage:
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR), np.uint8)


def test_a_large_images_level_over_half_size_is_shrunk_bilinearly_once() -> None:
    image = noisy(2000, 2400)  # 4.8 MP, over LINEAR_LEVELS_ABOVE
    assert image.size // 3 > image_context.LINEAR_LEVELS_ABOVE
    context = ImageContext(image)
    level = context.level(1870, 1558)  # a factor of 0.78, as a pyramid level at 12 MP
    assert np.array_equal(level, linear(image, 1870, 1558))
    assert context.level(1870, 1558) is level
    # the text stage's copy of the same size is still the area average
    assert np.array_equal(context.resized(1870, 1558), direct(image, 1870, 1558))


def test_a_levels_other_cases_are_the_area_averaged_copies() -> None:
    small = noisy(1200, 1600)  # 1.9 MP: never bilinear
    context = ImageContext(small)
    assert context.level(1248, 936) is context.resized(1248, 936)
    assert np.array_equal(context.level(1248, 936), direct(small, 1248, 936))
    large = ImageContext(noisy(2000, 2400))
    assert large.level(600, 500) is large.resized(600, 500)  # half or less: the half copy's
    assert large.level(2400, 2000) is large.image
    with pytest.raises(ValueError, match="only shrinks"):
        large.level(2401, 2000)
