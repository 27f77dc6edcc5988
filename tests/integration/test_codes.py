"""Barcodes and QR codes written by zxing-cpp onto photos: personal ones go, product codes stay."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest
import zxingcpp
from PIL import Image

from redactor.errors import DetectionError
from redactor.findings import Finding
from redactor.geometry import Box
from redactor.image_context import ImageContext
from redactor.options import PipelineOptions
from redactor.pii.hashing import text_hash
from redactor.text import codes
from redactor.text.builders import build_text_detectors
from redactor.text.code_detector import CodeDetector
from testkit.photos import photo_background
from tests.support import shared_image

Format = zxingcpp.BarcodeFormat
KEY = b"code-test-key-0123456789"


def symbol(content: str, fmt: zxingcpp.BarcodeFormat, scale: int = 4) -> codes.Grey:
    """The symbol's pixels without quiet zones (those come from the card it is printed on)."""
    barcode = zxingcpp.create_barcode(content, fmt)
    return np.asarray(barcode.to_image(scale=scale, add_quiet_zones=False))


def on_photo(
    pixels: codes.Grey, at: tuple[int, int] = (180, 140), margin: int = 40
) -> tuple[codes.Grey, Box]:
    """The symbol on a white card on a coffee photo, and the symbol's box."""
    photo = photo_background("coffee", (1000, 750))
    card = Image.new("RGB", (pixels.shape[1] + 2 * margin, pixels.shape[0] + 2 * margin), "white")
    card.paste(Image.fromarray(pixels).convert("RGB"), (margin, margin))
    photo.paste(card, at)
    x, y = at[0] + margin, at[1] + margin
    return np.asarray(photo), Box(x, y, x + pixels.shape[1], y + pixels.shape[0])


def damaged(pixels: codes.Grey, share: float = 0.4) -> codes.Grey:
    """A copy with a white band across the middle ``share`` of its width (a torn label)."""
    out = pixels.copy()
    width = pixels.shape[1]
    out[:, int(width * (0.5 - share / 2)) : int(width * (0.5 + share / 2))] = 255
    return out


def left_and_right(box: Box, share: float = 0.4) -> list[Box]:
    """The parts of ``box`` that :func:`damaged` leaves printed."""
    cut = box.width * (0.5 - share / 2)
    return [Box(box.x0, box.y0, box.x0 + cut, box.y1), Box(box.x1 - cut, box.y0, box.x1, box.y1)]


def covered(box: Box, findings: list[Finding]) -> float:
    """Share of ``box`` inside the union of the finding boxes."""
    x0, y0, x1, y1 = box.to_int()
    mask = np.zeros((y1 - y0, x1 - x0), bool)
    for f in findings:
        fx0, fy0, fx1, fy1 = f.box.shifted(-x0, -y0).clipped(x1 - x0, y1 - y0).to_int()
        mask[fy0:fy1, fx0:fx1] = True
    return float(mask.mean())


@pytest.fixture(scope="module")
def detector() -> CodeDetector:
    return CodeDetector(hash_key=KEY)


PERSONAL = [
    ("mailto:jane.doe@example.com", Format.QRCode, "code.qr", "contact"),
    ("tel:+441632960961", Format.QRCode, "code.qr", "contact"),
    (
        "BEGIN:VCARD\nVERSION:3.0\nFN:Jane Doe\nTEL:+44 20 7946 0958\nEND:VCARD",
        Format.QRCode,
        "code.qr",
        "contact",
    ),
    ("MECARD:N:Doe,Jane;TEL:02079460958;;", Format.QRCode, "code.qr", "contact"),
    ("SMSTO:+441632960961:Hello", Format.QRCode, "code.qr", "contact"),
    ("https://shop.example.com/track?order=12345&mail=jane", Format.QRCode, "code.qr", "url-query"),
    ("Jane Doe, jane.doe@example.com", Format.QRCode, "code.qr", "pii:pii.email"),
    ("1Z999AA10123456784", Format.Code128, "code.barcode", "tracking"),
    ("RR123456785GB", Format.Code128, "code.barcode", "tracking"),
]

KEPT = [
    ("https://example.com/products/coffee", Format.QRCode),
    ("4006381333931", Format.EAN13),
    ("036000291452", Format.UPCA),
    ("96385074", Format.EAN8),
    ("SKU-12345-XL", Format.Code128),
]


@pytest.mark.parametrize(("content", "fmt", "kind", "rule"), PERSONAL)
def test_given_a_personal_code_then_it_is_redacted_whole(
    detector: CodeDetector, content: str, fmt: zxingcpp.BarcodeFormat, kind: str, rule: str
) -> None:
    image, box = on_photo(symbol(content, fmt))
    findings = detector.detect(image)
    assert [(f.kind, f.attributes["rule"]) for f in findings] == [(kind, rule)]
    assert covered(box, findings) >= 0.95
    assert findings[0].text_hash is not None and content not in repr(findings)
    assert findings[0].detector == "code" and findings[0].model.startswith("zxing-cpp@")


@pytest.mark.parametrize(("content", "fmt"), KEPT)
def test_given_a_product_code_or_plain_link_then_it_is_kept(
    detector: CodeDetector, content: str, fmt: zxingcpp.BarcodeFormat
) -> None:
    image, _ = on_photo(symbol(content, fmt))
    assert detector.detect(image) == []


@pytest.mark.parametrize(
    ("content", "fmt", "kind"),
    [
        ("mailto:jane.doe@example.com", Format.QRCode, "code.qr"),
        ("1Z999AA10123456784", Format.Code128, "code.barcode"),
    ],
)
def test_given_a_damaged_code_then_it_is_redacted_anyway(
    detector: CodeDetector, content: str, fmt: zxingcpp.BarcodeFormat, kind: str
) -> None:
    image, box = on_photo(damaged(symbol(content, fmt)))
    findings = detector.detect(image)
    assert {(f.kind, f.attributes["rule"]) for f in findings} == {(kind, "undecodable")}
    for part in left_and_right(box):
        assert covered(part, findings) >= 0.95


@pytest.mark.parametrize(
    "name",
    [
        "sign_store_advert.jpg",
        "face_group_cheering.jpg",  # OpenCV's barcode detector fires here; the bar test says no
        "face_two_nikon_exif.jpg",  # zxing reports a checksum-failed "Data Matrix" here
        "product_hands_no_face.jpg",
        "receipt_store_card.jpg",  # a Code 39 transaction barcode and a bar-like logo
    ],
)
def test_given_photos_without_personal_codes_then_nothing_is_redacted(
    detector: CodeDetector, name: str
) -> None:
    with Image.open(shared_image(name)) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert detector.detect(pixels) == []


def test_given_a_reader_that_raises_then_detection_fails_closed(
    detector: CodeDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_: object) -> list[codes.DecodedCode]:
        raise RuntimeError("decoder crashed on mailto:jane@example.com")

    monkeypatch.setattr(codes, "read_codes", broken)
    with pytest.raises(DetectionError) as caught:
        detector.detect(np.zeros((50, 50, 3), np.uint8))
    assert "jane" not in str(caught.value)


def test_code_detection_follows_the_codes_option_and_carries_the_hash_key() -> None:
    (built,) = build_text_detectors(PipelineOptions(text="off"), KEY)
    image, _ = on_photo(symbol("mailto:jane.doe@example.com", Format.QRCode))
    (finding,) = built.detect(image)
    assert finding.text_hash == text_hash(KEY, "mailto:jane.doe@example.com")
    assert build_text_detectors(PipelineOptions(text="off", codes=False), KEY) == []


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1000, 750), (1000, 750)),
        ((2000, 1500), (2000, 1500)),
        ((4000, 3000), (2000, 1500)),
        ((3000, 4000), (1500, 2000)),
        ((4032, 3024), (2000, 1500)),
    ],
)
def test_given_an_image_size_then_the_finders_copy_is_bounded(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert codes.finder_size(*size) == expected


LARGE = (4000, 3000)


@pytest.fixture(scope="module")
def large_photo() -> Image.Image:
    return photo_background("coffee", LARGE)


def on_large_photo(
    photo: Image.Image, pixels: codes.Grey, at: tuple[int, int] = (1701, 1301)
) -> tuple[codes.Grey, Box]:
    """The symbol on a white card (20 px margin) on a 12 MP photo, and the symbol's box."""
    canvas = photo.copy()
    card = Image.new("RGB", (pixels.shape[1] + 40, pixels.shape[0] + 40), "white")
    card.paste(Image.fromarray(pixels).convert("RGB"), (20, 20))
    canvas.paste(card, at)
    x, y = at[0] + 20, at[1] + 20
    return np.asarray(canvas), Box(x, y, x + pixels.shape[1], y + pixels.shape[0])


def small_modules(content: str, fmt: zxingcpp.BarcodeFormat, module: float) -> codes.Grey:
    """The symbol at ``module`` pixels a module (fractions by area averaging); 1D codes
    at least 60 modules tall."""
    pixels = symbol(content, fmt, scale=1)
    height = pixels.shape[0] if fmt == Format.QRCode else max(pixels.shape[0], 60)
    size = (round(pixels.shape[1] * module), round(height * module))
    shrink = cv2.INTER_AREA if module % 1 else cv2.INTER_NEAREST
    return np.asarray(cv2.resize(pixels, size, interpolation=shrink))


def noisy_centre(pixels: codes.Grey) -> codes.Grey:
    """A copy whose middle (0.3 to 0.7 of each side) is random modules: finders intact."""
    out = pixels.copy()
    h, w = pixels.shape
    noise = np.random.default_rng(0).integers(0, 2, (h, w), dtype=np.uint8) * 255
    out[int(h * 0.3) : int(h * 0.7), int(w * 0.3) : int(w * 0.7)] = noise[
        int(h * 0.3) : int(h * 0.7), int(w * 0.3) : int(w * 0.7)
    ]
    return out


def blurred(pixels: codes.Grey) -> codes.Grey:
    return np.asarray(cv2.GaussianBlur(pixels, (0, 0), 1.0))


@pytest.mark.parametrize("module", [1, 1.5, 2, 2.5, 3, 4, 6])
@pytest.mark.parametrize(
    ("content", "fmt", "spoil"),
    [
        ("mailto:jane.doe@example.com", Format.QRCode, None),
        ("mailto:jane.doe@example.com", Format.QRCode, damaged),
        ("mailto:jane.doe@example.com", Format.QRCode, noisy_centre),
        ("mailto:jane.doe@example.com", Format.QRCode, blurred),
        ("1Z999AA10123456784", Format.Code128, None),
    ],
)
def test_given_a_12mp_photo_then_codes_at_small_modules_are_still_redacted(
    detector: CodeDetector,
    large_photo: Image.Image,
    content: str,
    fmt: zxingcpp.BarcodeFormat,
    spoil: Callable[[codes.Grey], codes.Grey] | None,
    module: float,
) -> None:
    """What the full-size finders found before the finders moved to a shrunk copy,
    zxing-cpp still reports at full size (blurred 1-1.5 px codes nobody read: skipped)."""
    pixels = small_modules(content, fmt, module)
    if spoil is blurred and module < 2:
        pytest.skip("nothing reads a 1-1.5 px code blurred by a 1 px Gaussian")
    image, box = on_large_photo(large_photo, pixels if spoil is None else spoil(pixels))
    findings = detector.detect(image)
    assert findings and covered(box.padded(-1), findings) >= 0.9


def test_given_a_12mp_photo_then_the_finders_look_at_the_shared_half_copy(
    detector: CodeDetector, large_photo: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, ...]] = []
    finders = (codes.qr_regions, codes.barcode_regions)

    def recorded(finder: Callable[[codes.Grey], list[Box]]) -> Callable[[codes.Grey], list[Box]]:
        def finder_seen(grey: codes.Grey) -> list[Box]:
            seen.append(grey.shape)
            return finder(grey)

        return finder_seen

    monkeypatch.setattr(codes, "read_codes", lambda _: [])
    monkeypatch.setattr(codes, "qr_regions", recorded(finders[0]))
    monkeypatch.setattr(codes, "barcode_regions", recorded(finders[1]))
    qr = noisy_centre(symbol("mailto:jane.doe@example.com", Format.QRCode, scale=10))
    bars = damaged(small_modules("1Z999AA10123456784", Format.Code128, 6))
    image, qr_box = on_large_photo(large_photo, qr, at=(600, 500))
    image, bar_box = on_large_photo(Image.fromarray(image), bars, at=(2400, 1800))
    context = ImageContext(image)
    findings = detector.detect(image, context)
    assert seen == [(1500, 2000), (1500, 2000)]
    assert context.resized(2000, 1500) is context.resized(2000, 1500)
    assert {f.kind for f in findings} == {"code.qr", "code.barcode"}
    for part in [qr_box, *left_and_right(bar_box)]:
        assert covered(part, findings) >= 0.95
