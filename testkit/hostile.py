"""A corpus of hostile images, generated in memory, each with the outcome it must have.

Three families:

* **crafted** cases (:func:`crafted`): one per hostile construct, from
  :mod:`testkit.badfiles`. Each names the error codes it may end with, or says it is a
  valid image (a polyglot, a bad EXIF block) that must come out redacted and clean, with
  the smuggled bytes gone.
* **truncations** (:func:`truncated`): every base image cut after every few bytes.
* **bit flips** (:func:`bit_flipped`): one bit flipped in each header byte.

Mutants have no single right answer (a flipped bit in a colour table is still an
image), so they must end with a clear error *or* decode; a truncated image that decodes
must be pixel for pixel the whole image. The service doors (CLI, queue, HTTP) get
:func:`door_sample`, whose outcomes are all fixed.

Every door runs with :data:`CORPUS_LIMITS` (8 MP a frame): the bombs stay cheap to build,
each still decodes to at least ten thousand times its size, and the memory a hostile
file can cost is bounded by these limits, which the tests measure.
"""

from __future__ import annotations

import functools
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pillow_heif
from PIL import Image

from redactor.options import Limits
from testkit import badfiles as bad

#: Limits every door is run with (see the module notes).
CORPUS_LIMITS = Limits(max_pixels=8_000_000, max_total_pixels=32_000_000, max_frames=200)

CORRUPT, TOO_LARGE, UNSUPPORTED = "corrupt_image", "image_too_large", "unsupported_image"
#: Any of the three decoding errors: for inputs whose exact failure depends on the decoder.
ANY_DECODE_ERROR = frozenset({CORRUPT, TOO_LARGE, UNSUPPORTED})
#: What a huge declaration may be refused as: over the limit (from the header), or
#: corrupt (a decoder's own sanity check fired first).
HUGE = frozenset({TOO_LARGE, CORRUPT})

ZIP_MARKERS = (b"PK\x03\x04", b"SMUGGLED-ZIP-PAYLOAD")
HTML_MARKERS = (b"<script", b"SMUGGLED-HTML-PAYLOAD")


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    #: Error codes the case may end with; empty: it is an image and must be redacted.
    errors: frozenset[str] = frozenset()
    #: Byte strings no output made from this case may contain.
    forbidden: tuple[bytes, ...] = ()
    #: Mutants: a clear error or a successful decode are both acceptable.
    mutant: bool = False
    #: Tags for reports and selection ("polyglot", "bomb"...).
    tags: frozenset[str] = field(default_factory=frozenset)

    @property
    def must_succeed(self) -> bool:
        return not self.errors and not self.mutant

    def accepts(self, code: str | None) -> bool:
        """Whether ending with ``code`` (``None``: redacted) is this case's outcome."""
        if self.mutant:
            return code is None or code in ANY_DECODE_ERROR
        return code is None if self.must_succeed else code in self.errors


def _error(name: str, data: bytes, *codes: str, tag: str) -> Case:
    return Case(name, data, errors=frozenset(codes), tags=frozenset({tag}))


def _clean(name: str, data: bytes, *forbidden: bytes, tag: str) -> Case:
    return Case(name, data, forbidden=forbidden, tags=frozenset({tag}))


# --- Base images -----------------------------------------------------------------------------


def _picture(width: int = 96, height: int = 64, seed: int = 7) -> Image.Image:
    """Smooth colours plus a little noise: every format has real data to chew on."""
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height)], axis=2)
    noise = np.random.default_rng(seed).integers(0, 24, base.shape)
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def _saved(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@functools.cache
def bases() -> dict[str, bytes]:
    """One small valid image per format and flavour, made here (nothing from disk)."""
    pillow_heif.register_heif_opener()
    picture, second = _picture(), _picture(seed=11)
    return {
        "jpeg": _saved(picture, "JPEG", quality=90),
        "jpeg-progressive": _saved(picture, "JPEG", quality=90, progressive=True),
        "png": _saved(picture, "PNG"),
        "gif": _saved(picture.convert("P"), "GIF", save_all=True, append_images=[second]),
        "webp": _saved(picture, "WEBP", quality=80),
        "webp-lossless": _saved(picture, "WEBP", lossless=True),
        "tiff": _saved(picture, "TIFF", save_all=True, append_images=[second]),
        "bmp": _saved(picture, "BMP"),
        "heic": _saved(picture, "HEIF", quality=60),
    }


@functools.cache
def heic_bomb(side: int = 4096) -> bytes:
    """A flat grey HEIC of ``side``² pixels in a few KB (x265 takes a second or two)."""
    pillow_heif.register_heif_opener()
    return _saved(Image.new("L", (side, side), 90), "HEIF", quality=0)


# --- Crafted cases ---------------------------------------------------------------------------


def _wrong_magic(base: dict[str, bytes]) -> list[Case]:
    tag = "wrong-magic"
    riff_jpeg = bad.riff_webp((b"VP8 ", base["jpeg"]))
    return [
        _error(
            "wrong-magic/png-body-jpeg-magic", b"\xff\xd8\xff" + base["png"][3:], CORRUPT, tag=tag
        ),
        _error(
            "wrong-magic/jpeg-body-png-signature",
            bad.PNG_SIGNATURE + base["jpeg"][8:],
            CORRUPT,
            tag=tag,
        ),
        _error("wrong-magic/gif-header-png-body", b"GIF89a" + base["png"][6:], *HUGE, tag=tag),
        _error("wrong-magic/webp-holding-jpeg", riff_jpeg, CORRUPT, tag=tag),
        _error("wrong-magic/tiff-header-bmp-body", b"II*\x00" + base["bmp"][4:], CORRUPT, tag=tag),
        _error(
            "wrong-magic/text-named-jpeg", b"just some notes, not a photo\n", UNSUPPORTED, tag=tag
        ),
        _error("wrong-magic/empty", b"", UNSUPPORTED, tag=tag),
        _error(
            "wrong-magic/avif",
            b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf",
            UNSUPPORTED,
            tag=tag,
        ),
    ]


def _huge_declarations(base: dict[str, bytes]) -> list[Case]:
    """Headers promising far more pixels than the body holds; within the limits too."""
    tag = "huge-dimensions"
    tiny_png_body = zlib.compress(b"\x00" * 64)
    return [
        _error("huge/png-100000", bad.huge_dimensions_tiny_body(), *HUGE, tag=tag),
        _error(
            "huge/png-2500-in-limits",
            bad.png_with_declared_size(2500, 2500, tiny_png_body),
            CORRUPT,
            tag=tag,
        ),
        _error("huge/gif-65535", bad.gif_huge_frame_tiny_body(), *HUGE, tag=tag),
        _error("huge/gif-2500-in-limits", bad.gif_huge_frame_tiny_body(2500), CORRUPT, tag=tag),
        _error("huge/tiff-100000", bad.tiff_huge_dimensions_tiny_body(), *HUGE, tag=tag),
        _error(
            "huge/tiff-2500-in-limits", bad.tiff_huge_dimensions_tiny_body(2500), CORRUPT, tag=tag
        ),
        _error("huge/bmp-30000", bad.bmp_huge_dimensions_tiny_body(), *HUGE, tag=tag),
        _error(
            "huge/bmp-2500-in-limits", bad.bmp_huge_dimensions_tiny_body(2500), CORRUPT, tag=tag
        ),
        _error(
            "huge/jpeg-65500",
            bad.jpeg_with_declared_size(base["jpeg"], 65_500, 65_500),
            *HUGE,
            tag=tag,
        ),
        _error(
            "huge/jpeg-2500-in-limits",
            bad.jpeg_with_declared_size(base["jpeg"], 2500, 2500),
            CORRUPT,
            tag=tag,
        ),
        _error(
            "huge/jpeg-progressive-2500-in-limits",
            bad.jpeg_with_declared_size(base["jpeg-progressive"], 2500, 2500),
            CORRUPT,
            tag=tag,
        ),
        _error("huge/webp-canvas-16384", bad.webp_huge_canvas(), *HUGE, tag=tag),
        _error(
            "huge/heic-30000",
            bad.heif_with_declared_size(base["heic"], 30_000, 30_000),
            *HUGE,
            tag=tag,
        ),
        _error(
            "huge/heic-2500-in-limits",
            bad.heif_with_declared_size(base["heic"], 2500, 2500),
            CORRUPT,
            tag=tag,
        ),
    ]


def _bombs() -> list[Case]:
    """Small files that really decode to hundreds of megapixels (or would, if allowed)."""
    tag = "bomb"
    return [
        _error("bomb/png-20000", bad.decompression_bomb_png(), TOO_LARGE, tag=tag),
        _error("bomb/gif-7500", bad.gif_bomb(), TOO_LARGE, tag=tag),
        _error("bomb/tiff-12000", bad.tiff_deflate_bomb(), TOO_LARGE, tag=tag),
        _error("bomb/webp-16383", bad.webp_bomb(), TOO_LARGE, tag=tag),
        _error("bomb/heic-4096", heic_bomb(), TOO_LARGE, tag=tag),
        _error("bomb/png-ztxt-64mib", bad.png_ztxt_bomb(), CORRUPT, tag=tag),
        _error("bomb/png-iccp-64mib", bad.png_iccp_bomb(), TOO_LARGE, tag=tag),
        # A valid image just under the limits: what a bomb may cost is what the limits allow.
        _clean("bomb/webp-2800-in-limits", bad.webp_lossless(2800, 2800), tag=tag),
    ]


def _frame_floods() -> list[Case]:
    tag = "frames"
    return [
        _error("frames/gif-3000", bad.gif_many_frames(3000), TOO_LARGE, tag=tag),
        _error(
            "frames/apng-declares-1000000", bad.apng_declaring_frames(1_000_000), TOO_LARGE, tag=tag
        ),
        _error("frames/tiff-3000-pages", bad.tiff_many_pages(3000), TOO_LARGE, tag=tag),
        _clean("frames/tiff-ifd-loop", bad.tiff_ifd_loop(), tag=tag),
    ]


def _bad_exif(base: dict[str, bytes]) -> list[Case]:
    """Valid images whose EXIF directories loop or declare gigabytes: redacted, EXIF gone."""
    tag = "exif"
    huge, loops = bad.exif_huge_counts(), bad.exif_ifd_loops()
    webp = _saved(_picture(), "WEBP", quality=80, exif=huge)
    return [
        _clean(
            "exif/jpeg-huge-counts",
            bad.jpeg_with_segment(base["jpeg"], 0xE1, huge),
            b"Exif\x00\x00",
            tag=tag,
        ),
        _clean(
            "exif/jpeg-ifd-loops",
            bad.jpeg_with_segment(base["jpeg"], 0xE1, loops),
            b"Exif\x00\x00",
            tag=tag,
        ),
        _clean(
            "exif/jpeg-garbage", bad.jpeg_with_corrupt_exif(base["jpeg"]), b"Exif\x00\x00", tag=tag
        ),
        _clean(
            "exif/png-exif-chunk-loops",
            bad.png_with_chunk_before_idat(base["png"], b"eXIf", loops[6:]),
            b"eXIf",
            tag=tag,
        ),
        _clean("exif/webp-huge-counts", webp, b"EXIF", tag=tag),
        _clean("exif/tiff-huge-tag-count", bad.tiff_huge_tag_count(), tag=tag),
    ]


def _polyglots(base: dict[str, bytes]) -> list[Case]:
    """Valid images carrying another file: redacted, and the other file is gone."""
    tag = "polyglot"
    archive, html = bad.zip_archive(), bad.HTML_PAYLOAD
    com_html = bad.jpeg_with_segment(base["jpeg"], 0xFE, html)
    pdf_in_com = bad.jpeg_with_segment(base["jpeg"], 0xFE, bad.pdf())
    return [
        _clean("polyglot/jpeg+zip", base["jpeg"] + archive, *ZIP_MARKERS, tag=tag),
        _clean("polyglot/jpeg+html", base["jpeg"] + html, *HTML_MARKERS, tag=tag),
        _clean("polyglot/jpeg-comment-html", com_html, *HTML_MARKERS, tag=tag),
        _clean("polyglot/jpeg-comment-pdf", pdf_in_com, b"%PDF", tag=tag),
        _clean("polyglot/png+zip", base["png"] + archive, *ZIP_MARKERS, tag=tag),
        _clean("polyglot/gif+html", base["gif"] + html, *HTML_MARKERS, tag=tag),
        _clean("polyglot/webp+zip", base["webp"] + archive, *ZIP_MARKERS, tag=tag),
        _clean("polyglot/tiff+html", base["tiff"] + html, *HTML_MARKERS, tag=tag),
        _error("polyglot/zip+jpeg", archive + base["jpeg"], UNSUPPORTED, tag=tag),
        _error("polyglot/html+jpeg", html + base["jpeg"], UNSUPPORTED, tag=tag),
    ]


def _xml(base: dict[str, bytes]) -> list[Case]:
    tag = "xml"
    xmp_itxt = b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + bad.billion_laughs(b"x:xmpmeta")
    return [
        _error("xml/svg-billion-laughs", bad.billion_laughs(), UNSUPPORTED, tag=tag),
        _error("xml/svg-external-entity", bad.xxe_svg(), UNSUPPORTED, tag=tag),
        _error(
            "xml/svg-utf16",
            b"\xff\xfe" + bad.svg().decode().encode("utf-16-le"),
            UNSUPPORTED,
            tag=tag,
        ),
        _clean(
            "xml/jpeg-xmp-billion-laughs",
            bad.jpeg_with_segment(base["jpeg"], 0xE1, bad.xmp_entity_bomb()),
            b"ENTITY",
            tag=tag,
        ),
        _clean(
            "xml/png-xmp-billion-laughs",
            bad.png_with_chunk_before_idat(base["png"], b"iTXt", xmp_itxt),
            b"ENTITY",
            tag=tag,
        ),
    ]


def crafted() -> list[Case]:
    """Every crafted hostile case (a few seconds to build: the bombs are real)."""
    base = bases()
    return [
        *_wrong_magic(base),
        *_huge_declarations(base),
        *_bombs(),
        *_frame_floods(),
        *_bad_exif(base),
        *_polyglots(base),
        *_xml(base),
    ]


# --- Mutants ---------------------------------------------------------------------------------


def truncated(step: int = 7) -> Iterator[Case]:
    """Each base image cut after every ``step`` bytes."""
    for fmt, data in bases().items():
        for length, cut in bad.truncations(data, step):
            yield Case(f"truncated/{fmt}/{length}", cut, mutant=True, tags=frozenset({"truncated"}))


def bit_flipped(span: int = 64, seed: int = 2024) -> Iterator[Case]:
    """Each base image with one bit flipped in one of its first ``span`` bytes."""
    for fmt, data in bases().items():
        for position, flipped in bad.header_bit_flips(data, span, seed):
            yield Case(
                f"bit-flip/{fmt}/{position}", flipped, mutant=True, tags=frozenset({"bit-flip"})
            )


def half_truncated() -> list[Case]:
    """Each base image cut in half: always an error, the one truncation the doors get."""
    return [
        _error(f"truncated/{fmt}/half", data[: len(data) // 2], CORRUPT, tag="truncated")
        for fmt, data in bases().items()
    ]


def door_sample() -> list[Case]:
    """What the CLI, the queue and the HTTP endpoint get: crafted cases and half files."""
    return [*crafted(), *half_truncated()]
