import cv2
import numpy as np
import pytest

from redactor.blur import FEATHER_FRACTION
from redactor.errors import ConfigError
from redactor.styles import STYLES, get_style


def _detailed(h: int = 120, w: int = 100, dtype: type = np.uint8) -> np.ndarray:
    rng = np.random.default_rng(7)
    top = 65535 if dtype == np.uint16 else 255
    return rng.integers(0, top, size=(h, w, 3), endpoint=True).astype(dtype)


def _detail(image: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels: high for texture, low for smooth."""
    img = image.astype(np.float64)
    return float(np.abs(np.diff(img, axis=1)).mean() + np.abs(np.diff(img, axis=0)).mean())


@pytest.mark.parametrize("name", sorted(STYLES))
def test_every_style_destroys_detail_inside_the_mask_only(name: str) -> None:
    """Only ``blur`` reaches past the mask, by its feathered band (40 px x 0.08 = 3.2 px)."""
    image = _detailed()
    before = image.copy()
    mask = np.zeros(image.shape[:2], dtype=bool)
    mask[20:100, 10:90] = True
    get_style(name).apply(image, mask)
    band = FEATHER_FRACTION * 40 if name == "blur" else 0
    far = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3) > band
    inside = image[20:100, 10:90]
    assert np.array_equal(image[far], before[far])
    assert _detail(inside) < 0.35 * _detail(before[20:100, 10:90])


@pytest.mark.parametrize("name", ["blur", "pixelate"])
def test_soft_styles_are_not_deterministic(name: str) -> None:
    """Noise differs per call, so the output cannot be matched against a re-blurred guess."""
    a, b = _detailed(), _detailed()
    mask = np.ones(a.shape[:2], dtype=bool)
    get_style(name).apply(a, mask)
    get_style(name).apply(b, mask)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("name", sorted(STYLES))
def test_styles_keep_alpha_and_support_16_bit(name: str) -> None:
    rgba = np.concatenate(
        [_detailed(dtype=np.uint16), np.full((120, 100, 1), 1234, np.uint16)], axis=2
    )
    mask = np.ones(rgba.shape[:2], dtype=bool)
    get_style(name).apply(rgba, mask)
    assert rgba.dtype == np.uint16
    assert np.all(rgba[..., 3] == 1234)


def test_fill_leaves_nothing() -> None:
    image = _detailed()
    get_style("fill").apply(image, np.ones(image.shape[:2], dtype=bool))
    assert not image.any()


@pytest.mark.parametrize("channels", [None, 2, 3, 4])
def test_fill_blackens_the_colour_under_the_mask_and_keeps_alpha(channels: int | None) -> None:
    shape = (40, 50) if channels is None else (40, 50, channels)
    image = np.random.default_rng(2).integers(1, 256, shape).astype(np.uint8)
    before = image.copy()
    mask = np.zeros((40, 50), dtype=bool)
    mask[5:30, 10:20] = True
    get_style("fill").apply(image, mask)
    colour = 1 if channels in (None, 2) else 3
    pixels = image.reshape(40, 50, -1)
    assert not pixels[mask][:, :colour].any()
    assert np.array_equal(pixels[mask][:, colour:], before.reshape(40, 50, -1)[mask][:, colour:])
    assert np.array_equal(image[~mask], before[~mask])


def test_unknown_style_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="blur, fill, pixelate"):
        get_style("sparkle")


def test_blur_moves_luminance_only_so_colours_stay_the_regions_own() -> None:
    """Per-channel noise read as coloured speckles; the blur's noise is grey."""
    rng = np.random.default_rng(3)
    grey = rng.integers(70, 150, size=(120, 100)).astype(np.int16)
    image = np.stack([grey + 60, grey + 30, grey], axis=2).astype(np.uint8)
    get_style("blur").apply(image, np.ones(image.shape[:2], dtype=bool))
    pixels = image.astype(np.int16)
    assert np.abs(pixels[..., 0] - pixels[..., 1] - 30).max() <= 2
    assert np.abs(pixels[..., 1] - pixels[..., 2] - 30).max() <= 2


def test_blur_fades_into_the_pixels_around_the_mask() -> None:
    image = np.full((200, 200, 3), 200, dtype=np.uint8)
    image[50:150, 50:150] = 20
    before = image.copy()
    mask = np.zeros(image.shape[:2], dtype=bool)
    mask[50:150, 50:150] = True
    get_style("blur").apply(image, mask)
    just_outside = image[100, 48].astype(int)  # 2 px out, inside the 4 px band
    assert not np.array_equal(just_outside, before[100, 48])
    assert (before[100, 48] > just_outside).all()  # darkened towards the blur, not replaced
    assert np.array_equal(image[100, 40], before[100, 40])
