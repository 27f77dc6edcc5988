"""The scorer's decisions on synthetic cases, and the ground truth they rest on."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps
from PIL.PngImagePlugin import PngInfo
from skimage import data

from bench import camera_files, corpus
from bench.byte_markers import raw_metadata_markers
from bench.cases import CAMERA, COMPOSITE, Case, TextItem
from bench.reading import normalise, substring_distance
from bench.scorer import (
    FACE_REDACTED_BELOW,
    CaseScore,
    FaceScore,
    PiiScore,
    Scorer,
    aggregate,
    change_mask,
    changed_regions,
    detail_kept,
    justified_boxes,
    marker_in_place,
    region_similarity,
    unjustified,
)
from redactor.geometry import Box, iou
from redactor.styles import blur, fill, pixelate
from testkit.fonts import font_path
from testkit.people import faker

ASTRONAUT_FACE = Box(165, 57, 286, 178)
SHIFT = np.array([40, -25, 15])


def _astronaut() -> np.ndarray:
    return np.asarray(data.astronaut(), dtype=np.uint8)


def _in_face(image: np.ndarray, change, grow: float = 1.2) -> np.ndarray:
    """``image`` with ``change`` applied to the face box grown by ``grow``, like a redaction."""
    out = image.copy()
    x0, y0, x1, y1 = ASTRONAUT_FACE.scaled_about_center(grow).to_int()
    out[y0:y1, x0:x1] = change(out[y0:y1, x0:x1].copy())
    return out


def _styled(style):
    def apply(region: np.ndarray) -> np.ndarray:
        style(region, np.ones(region.shape[:2], dtype=bool))
        return region

    return apply


def _jpeg(region: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(region).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def _gaussian(fraction: float):
    return lambda r: cv2.GaussianBlur(r, (0, 0), ASTRONAUT_FACE.width * fraction)


def _half(style):
    def apply(region: np.ndarray) -> np.ndarray:
        mask = np.zeros(region.shape[:2], dtype=bool)
        mask[:, : region.shape[1] // 2] = True
        style(region, mask)
        return region

    return apply


# --- faces -----------------------------------------------------------------------------------

NOT_REDACTED = {
    "unchanged": lambda r: r,
    "jpeg q50": lambda r: _jpeg(r, 50),
    "colour shifted": lambda r: np.clip(r.astype(int) + SHIFT, 0, 255).astype(np.uint8),
    "channels swapped": lambda r: np.ascontiguousarray(r[..., ::-1]),
    "inverted": lambda r: 255 - r,
    "contrast halved": lambda r: (r.astype(np.float32) * 0.5 + 64).astype(np.uint8),
    "light blur": _gaussian(1 / 40),
    "half blurred": _half(blur),
}
REDACTED = {
    "redactor blur": _styled(blur),
    "redactor pixelate": _styled(pixelate),
    "black fill": _styled(fill),
    "grey fill": lambda r: np.full_like(r, 128),
    "strong gaussian blur": _gaussian(1 / 10),
}


@pytest.mark.parametrize("name", sorted(NOT_REDACTED))
def test_given_face_keeping_its_detail_then_it_is_not_redacted(name: str) -> None:
    before = _astronaut()
    after = _in_face(before, NOT_REDACTED[name])
    assert detail_kept(before, after, ASTRONAUT_FACE) >= FACE_REDACTED_BELOW


@pytest.mark.parametrize("name", sorted(REDACTED))
def test_given_face_losing_its_detail_then_it_is_redacted(name: str) -> None:
    before = _astronaut()
    after = _in_face(before, REDACTED[name])
    assert detail_kept(before, after, ASTRONAUT_FACE) < FACE_REDACTED_BELOW


def test_given_colour_shift_then_detail_is_kept_almost_whole() -> None:
    before = _astronaut()
    after = _in_face(before, NOT_REDACTED["colour shifted"])
    assert detail_kept(before, after, ASTRONAUT_FACE) > 0.95


def test_given_tiny_face_blurred_then_it_is_redacted() -> None:
    """A 20 px face: upscaled for the comparison, its loss of detail still shows."""
    small = cv2.resize(_astronaut(), (85, 85), interpolation=cv2.INTER_AREA)
    box = Box(27, 9, 48, 30)
    after = small.copy()
    blur(after[5:34, 23:52], np.ones((29, 29), dtype=bool))
    assert detail_kept(small, after, box) < FACE_REDACTED_BELOW
    assert detail_kept(small, small.copy(), box) == pytest.approx(1.0)


def test_given_flat_region_then_it_scores_as_kept() -> None:
    flat = np.full((100, 100, 3), 120, dtype=np.uint8)
    assert detail_kept(flat, np.zeros_like(flat), Box(10, 10, 90, 90)) == 1.0


# --- changes outside the ground truth --------------------------------------------------------


def _textured(h: int = 400, w: int = 600) -> np.ndarray:
    rng = np.random.default_rng(3)
    small = rng.integers(0, 256, (h // 8, w // 8, 3)).astype(np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def test_given_redaction_on_face_and_elsewhere_then_only_elsewhere_is_a_false_positive() -> None:
    before = _textured()
    after = before.copy()
    after[100:160, 100:160] = 0
    after[250:330, 400:480] = 0
    case = Case("c", COMPOSITE, "c.jpg", (600, 400), faces=[Box(105, 105, 155, 155)])
    regions = changed_regions(change_mask(before, after))
    assert len(regions) == 2
    (false_positive,) = unjustified(regions, justified_boxes(case))
    assert iou(false_positive, Box(400, 250, 480, 330)) > 0.9


def test_given_recompression_noise_then_nothing_changed() -> None:
    before = _textured()
    after = _jpeg(_jpeg(before, 60), 92)
    assert changed_regions(change_mask(before, after)) == []


def test_given_redaction_of_personal_text_margin_then_it_is_justified() -> None:
    item = TextItem(Box(100, 100, 300, 120), "pii.phone", "+31 20 123 4567")
    case = Case("c", COMPOSITE, "c.png", (600, 400), text=[item])
    filled = Box(92, 94, 308, 126)
    assert unjustified([filled], justified_boxes(case)) == []


# --- text ------------------------------------------------------------------------------------

DISTANCES = [
    ("Anna Smith", "annasmith", 0.0),
    ("Anna Smith", "shiptoannasmithtel", 0.0),
    ("Anna Smith", "", 1.0),
    ("Anna Smith", "annasm", 1 / 3),
    ("1Z 999 AA1 01", "1z999aa101", 0.0),
    ("Anna Smith", "orgcoffee250g", None),
]


@pytest.mark.parametrize(("item", "read", "expected"), DISTANCES)
def test_substring_distance(item: str, read: str, expected: float | None) -> None:
    distance = substring_distance(normalise(item), read)
    if expected is None:
        assert distance > 0.5
    else:
        assert distance == pytest.approx(expected)


def test_normalise_ignores_case_spacing_and_punctuation() -> None:
    assert normalise("(403) 522-4540") == normalise("403 5224540") == "4035224540"
    assert normalise("Röhrichtweg 52") == "röhrichtweg52"


class InkReader:
    """Reads ``text`` when the crop still has dark ink on light paper, nothing otherwise.

    A stand-in for OCR: a filled (black) or blurred-to-grey crop reads nothing.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    def read(self, image: np.ndarray) -> list[str]:
        grey = image.mean(axis=2)
        has_ink = (grey < 80).mean() > 0.02 and (grey > 200).mean() > 0.3
        return [self.text] if has_ink else []


def _label(text: str) -> tuple[np.ndarray, Box]:
    image = Image.new("RGB", (400, 200), (250, 250, 250))
    from PIL import ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path("DejaVuSans.ttf")), 24)
    ImageDraw.Draw(image).text((40, 80), text, font=font, fill=(10, 10, 10))
    x0, y0, x1, y1 = ImageDraw.Draw(image).textbbox((40, 80), text, font=font)
    return np.asarray(image), Box(x0, y0, x1, y1)


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _text_case(kind: str, text: str, box: Box) -> Case:
    return Case("t", "text_scene", "t.png", (400, 200), text=[TextItem(box, kind, text)])


def test_given_filled_personal_text_then_it_is_redacted() -> None:
    pixels, box = _label("Anna Smith")
    after = pixels.copy()
    x0, y0, x1, y1 = box.padded(5).to_int()
    after[y0:y1, x0:x1] = 0
    score = Scorer(InkReader("Anna Smith")).score(
        _text_case("pii.name", "Anna Smith", box), _png(pixels), _png(after), None, 0.0
    )
    assert score.pii[0].readable_in_input and score.pii[0].redacted


def test_given_untouched_personal_text_then_it_is_not_redacted() -> None:
    pixels, box = _label("Anna Smith")
    score = Scorer(InkReader("Anna Smith")).score(
        _text_case("pii.name", "Anna Smith", box), _png(pixels), _png(pixels), None, 0.0
    )
    assert not score.pii[0].redacted


def test_given_text_ocr_cannot_read_in_input_then_it_is_reported_unjudged() -> None:
    pixels, box = _label("Anna Smith")
    score = Scorer(InkReader("something else")).score(
        _text_case("pii.name", "Anna Smith", box), _png(pixels), _png(pixels), None, 0.0
    )
    assert not score.pii[0].readable_in_input
    assert aggregate([score])["pii_unreadable_in_input"] == 1


def test_given_product_text_untouched_in_png_then_it_is_kept() -> None:
    pixels, box = _label("500 ml")
    score = Scorer(InkReader("500 ml")).score(
        _text_case("product", "500 ml", box), _png(pixels), _png(pixels), None, 0.0
    )
    assert score.product[0].kept


def test_given_product_text_one_pixel_changed_in_png_then_it_is_not_kept() -> None:
    """Lossless outputs must be pixel-identical where nothing was redacted."""
    pixels, box = _label("500 ml")
    after = pixels.copy()
    after[round(box.y0) + 2, round(box.x0) + 2] ^= 1
    score = Scorer(InkReader("500 ml")).score(
        _text_case("product", "500 ml", box), _png(pixels), _png(after), None, 0.0
    )
    assert not score.product[0].kept


def test_region_similarity_accepts_jpeg_but_not_a_fill() -> None:
    pixels, box = _label("ORGANIC COFFEE")
    assert region_similarity(pixels, _jpeg(pixels, 92), box, lossless=False) > 0.9
    assert region_similarity(pixels, np.zeros_like(pixels), box, lossless=False) < 0.9


# --- metadata --------------------------------------------------------------------------------


def _saved(fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(_textured(64, 64)).save(buffer, fmt, **options)
    return buffer.getvalue()


def test_given_plain_encodes_then_no_metadata_markers() -> None:
    assert raw_metadata_markers(_saved("JPEG", quality=90)) == []
    assert raw_metadata_markers(_saved("PNG")) == []


def test_given_metadata_then_the_byte_walk_finds_it() -> None:
    exif = Image.Exif()
    exif[0x013B] = "Jane Doe"
    jpeg = _saved("JPEG", exif=exif.tobytes(), comment=b"hi", xmp=b"<x:xmpmeta/>")
    assert {"jpeg_app1", "jpeg_comment", "exif_header", "xmp_packet"} <= set(
        raw_metadata_markers(jpeg)
    )
    info = PngInfo()
    info.add_text("Author", "Jane Doe")
    assert "png_tEXt" in raw_metadata_markers(_saved("PNG", pnginfo=info))


def test_given_output_without_metadata_but_with_canary_then_it_is_not_clean() -> None:
    pixels = _textured(64, 64)
    output = _png(pixels) + b"SN12345678"
    case = Case("m", CAMERA, "m.jpg", (64, 64), canaries=[b"SN12345678"])
    score = Scorer(InkReader("")).score(case, _png(pixels), output, None, 0.0)
    assert score.canary_found and not score.metadata_clean


# --- orientation and failures ----------------------------------------------------------------


def _marked(size: tuple[int, int] = (400, 300)) -> np.ndarray:
    image = np.full((size[1], size[0], 3), 200, dtype=np.uint8)
    x0, y0, x1, y1 = corpus.MARKER.to_int()
    image[y0:y1, x0:x1] = corpus.MARKER_COLOUR
    return image


def test_marker_is_found_upright_and_not_when_mirrored() -> None:
    upright = _marked()
    assert marker_in_place(upright, corpus.MARKER)
    assert not marker_in_place(np.fliplr(upright), corpus.MARKER)
    assert not marker_in_place(np.rot90(upright, 2), corpus.MARKER)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_stored_pixels_come_back_upright_under_their_orientation(orientation: int) -> None:
    """The corpus stores the inverse of what a viewer applies for each EXIF orientation."""
    upright = _marked()
    stored = Image.fromarray(camera_files.to_stored(upright, orientation))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    stored.save(buffer, "PNG", exif=exif.tobytes())
    shown = np.asarray(ImageOps.exif_transpose(Image.open(buffer)).convert("RGB"))
    assert np.array_equal(shown, upright)


def test_given_failed_image_then_everything_in_it_is_missed() -> None:
    pixels, box = _label("Anna Smith")
    case = _text_case("pii.name", "Anna Smith", box)
    case.faces = [Box(10, 10, 40, 40)]
    case.marker = corpus.MARKER
    score = Scorer(InkReader("Anna Smith")).score(case, _png(pixels), None, "corrupt_image", 0.0)
    assert not score.ok and not score.metadata_clean and not score.size_ok
    assert not score.faces[0].redacted and not score.pii[0].redacted


def test_given_output_of_wrong_size_then_pixels_are_not_judged() -> None:
    pixels, box = _label("Anna Smith")
    case = _text_case("pii.name", "Anna Smith", box)
    rotated = np.ascontiguousarray(np.rot90(pixels))
    score = Scorer(InkReader("Anna Smith")).score(case, _png(pixels), _png(rotated), None, 0.0)
    assert not score.size_ok and not score.pii[0].redacted


def test_aggregate_counts_misses_of_failed_images() -> None:
    redacted = FaceScore([0, 0, 10, 10], 10.0, 0.1, True)
    missed = FaceScore([0, 0, 50, 50], 50.0, None, False)
    pii = PiiScore([0, 0, 10, 10], "pii.name", True, 1.0, True)
    scores = [
        CaseScore(
            "a",
            COMPOSITE,
            True,
            None,
            1.0,
            faces=[redacted],
            pii=[pii],
            metadata_clean=True,
            size_ok=True,
        ),
        CaseScore("b", CAMERA, False, "corrupt_image", 1.0, faces=[missed]),
    ]
    metrics = aggregate(scores)
    assert metrics["face_recall"] == 0.5
    assert metrics["text_recall"] == 1.0
    assert metrics["metadata_clean"] == 0.5
    assert metrics["orientation_correct"] == 0.0
    assert metrics["failed"] == ["b"]
    assert metrics["face_recall_by_width"] == {
        "32-63px": {"rate": 0.0, "n": 1},
        "<32px": {"rate": 1.0, "n": 1},
    }


# --- the corpus's invented data ------------------------------------------------------------


def test_camera_jpeg_carries_every_planted_group() -> None:
    from redactor.containers import metadata_in

    case = Case("c", CAMERA, "c.jpg", (160, 120))
    stored = Image.fromarray(_textured(120, 160))
    data_ = camera_files.camera_jpeg(stored, 6, faker("en_US", 2), case)
    found = metadata_in(data_)
    for group in ("exif", "gps", "makernote", "exif_thumbnail", "xmp", "iptc", "jpeg_comment"):
        assert found.get(group), group
    assert Image.open(io.BytesIO(data_)).getexif()[0x0112] == 6
    assert all(canary in data_ for canary in case.canaries)
