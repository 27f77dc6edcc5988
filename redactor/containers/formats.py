"""Which image format bytes are, from their magic bytes alone, and what non-images look like."""

from __future__ import annotations

import codecs
import struct
from enum import StrEnum

from redactor.errors import UnsupportedImage


class ImageFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    TIFF = "tiff"
    BMP = "bmp"
    GIF = "gif"
    HEIF = "heif"

    @property
    def label(self) -> str:
        """The name used in messages, which is also Pillow's format name."""
        return self.value.upper()


# --- Sniffing --------------------------------------------------------------------------------

_ACCEPTED = "send JPEG, PNG, WebP, TIFF, BMP, GIF or HEIC/HEIF"


def unsupported(looks_like: str) -> UnsupportedImage:
    """The error for bytes that look like ``looks_like`` rather than an accepted image."""
    return UnsupportedImage(f"not a supported image: it looks like {looks_like}; {_ACCEPTED}")


_MAGIC = (
    (b"\xff\xd8\xff", ImageFormat.JPEG),
    (b"\x89PNG\r\n\x1a\n", ImageFormat.PNG),
    (b"GIF87a", ImageFormat.GIF),
    (b"GIF89a", ImageFormat.GIF),
)

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")

_BMP_INFO_HEADER_SIZES = frozenset(
    size.to_bytes(4, "little") for size in (12, 16, 40, 52, 56, 64, 108, 124)
)

_HEVC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})

_GENERIC_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})

_AVIF_BRANDS = frozenset({b"avif", b"avis"})

_LOOKALIKES = (
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "ZIP"),
    (b"PK\x05\x06", "ZIP"),
    (b"\x1f\x8b", "gzip"),
    (b"8BPS", "Photoshop PSD"),
    (b"FUJIFILMCCD-RAW", "camera RAW (RAF)"),
    (b"IIRO", "camera RAW (ORF)"),
    (b"IIRS", "camera RAW (ORF)"),
    (b"MMOR", "camera RAW (ORF)"),
    (b"IIU\x00", "camera RAW (RW2)"),
    (b"II\x1a\x00\x00\x00HEAPCCDR", "camera RAW (CRW)"),
    (b"FOVb", "camera RAW (X3F)"),
    (b"\x00MRM", "camera RAW (MRW)"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (b"\x00\x00\x01\x00", "ICO"),
)

_TEXT_SAMPLE = 1024


def sniff_format(data: bytes) -> ImageFormat:
    """The image format of ``data`` from its magic bytes, else :class:`UnsupportedImage`."""
    if not data:
        raise UnsupportedImage("empty file")
    image_format = _image_format(data)
    if image_format is None:
        raise unsupported(_lookalike(data))
    return image_format


def _image_format(data: bytes) -> ImageFormat | None:
    for magic, image_format in _MAGIC:
        if data.startswith(magic):
            return image_format
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageFormat.WEBP
    if data[:4] in _TIFF_MAGIC and not _is_canon_raw(data):
        return ImageFormat.TIFF
    if data[:2] == b"BM" and data[14:18] in _BMP_INFO_HEADER_SIZES:
        return ImageFormat.BMP
    brands = _ftyp_brands(data)
    if brands & _HEVC_BRANDS or (brands & _GENERIC_HEIF_BRANDS and not brands & _AVIF_BRANDS):
        return ImageFormat.HEIF
    return None


def _is_canon_raw(data: bytes) -> bool:
    return data[:4] == b"II*\x00" and data[8:10] == b"CR"


def _ftyp_brands(data: bytes) -> frozenset[bytes]:
    """Major and compatible brands of an ISO-BMFF ``ftyp`` box (HEIF, AVIF, MP4...)."""
    if data[4:8] != b"ftyp" or len(data) < 12:
        return frozenset()
    end = min(struct.unpack_from(">I", data)[0], len(data), 4096)
    return frozenset({data[8:12], *(data[at : at + 4] for at in range(16, end - 3, 4))})


def _lookalike(data: bytes) -> str:
    """What non-image (or unsupported image) bytes look like, for the error message."""
    if _is_canon_raw(data):
        return "camera RAW (CR2)"
    for magic, name in _LOOKALIKES:
        if data.startswith(magic):
            return name
    brands = _ftyp_brands(data)
    if b"crx " in brands:
        return "camera RAW (CR3)"
    if brands & _AVIF_BRANDS:
        return "AVIF"
    if brands:
        return "MP4/QuickTime video"
    return _text_kind(data[:_TEXT_SAMPLE]) or "unknown format"


def _text_kind(head: bytes) -> str | None:
    """ "HTML", "SVG/XML" or "plain text" when ``head`` decodes as printable text."""
    try:
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = head.decode("utf-16")
        else:
            text = codecs.getincrementaldecoder("utf-8")().decode(head)  # tolerates a cut character
    except UnicodeDecodeError:
        return None
    text = text.removeprefix("\ufeff")
    if not text or not all(char.isprintable() or char in "\t\n\r\f\v" for char in text):
        return None
    start = text.lstrip().lower()
    if start.startswith(("<!doctype html", "<html")) or "<html" in start:
        return "HTML"
    return "SVG/XML" if start.startswith("<") else "plain text"
