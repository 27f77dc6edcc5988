"""ICC profiles that carry personal data, built byte by byte for the colour-profile tests.

Each profile plants strings in a different place: the description (``desc``, ASCII and
its Unicode part), the copyright (``cprt``), the device maker and model (``dmnd``,
``dmdd``), a 2 MB private tag of e-mail addresses, a version 4 ``mluc`` description in
two languages, the header's device fields, a gap between tags, a gap inside a lookup
table, and a CMYK printer profile. The builders write bytes directly (never through
redactor's own writer), so they can make what redactor would not.
"""

from __future__ import annotations

import contextlib
import io
import struct
import zlib
from collections.abc import Callable, Iterator

import numpy as np
from PIL import Image, ImageCms

from tests.unit import imaging_cases as cases

NAME = "Jane Q. Doe jane.doe@example.com"
PHONE = "John Smith, +1 555 0100"
STREET = "12 Elm St"
MODEL = "Springfield 62704 studio camera"
UNICODE_NAME = "Zoë Ångström"
LOCALIZED = "Maria Garcia maria.garcia@example.org"
LOCALIZED_DE = "Straße 7, Köln"
PRINTER = "Printed for Bob Brown bob@example.net"
HEADER_DEVICE = b"JANE"
GAP = "gap: alice@example.com"
PRIVATE_EMAIL = "someone.{:06d}@example.com\n"
PRIVATE_BYTES = 2 * 1024 * 1024

#: Every planted string, as text: the tests look for each in several encodings.
PLANTED = (NAME, PHONE, STREET, MODEL, UNICODE_NAME, LOCALIZED, LOCALIZED_DE, PRINTER, GAP)
PLANTED_BYTES = (HEADER_DEVICE, b"someone.000001@example.com")

_D50 = struct.pack(">3i", 0xF6D6, 0x10000, 0xD32D)


def encodings(text: str) -> tuple[bytes, ...]:
    """The ways a profile can store ``text``: UTF-8/Latin-1 and UTF-16 (both byte orders)."""
    forms = {text.encode("utf-8"), text.encode("utf-16-be"), text.encode("utf-16-le")}
    if all(ord(char) < 256 for char in text):
        forms.add(text.encode("latin-1"))
    return tuple(forms)


def planted_in(data: bytes) -> list[str]:
    """Planted strings found in ``data`` or in any zlib stream inside it (a PNG ``iCCP``)."""
    haystacks = [data, *_inflated_streams(data)]
    found = [text for text in PLANTED if any(f in h for f in encodings(text) for h in haystacks)]
    return found + [raw.decode() for raw in PLANTED_BYTES if any(raw in h for h in haystacks)]


def _inflated_streams(data: bytes) -> Iterator[bytes]:
    """Every zlib stream a PNG holds in an ``iCCP``, ``zTXt`` or ``iTXt`` chunk."""
    if not data.startswith(b"\x89PNG"):
        return
    position = 8
    while position + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        body = data[position + 8 : position + 8 + length]
        if kind in (b"iCCP", b"zTXt", b"iTXt"):
            start = body.index(b"\x00") + 2 if kind != b"iTXt" else 0
            with contextlib.suppress(zlib.error):
                yield zlib.decompress(body[start:])
        position += 12 + length


# --- Tag types, written by hand ------------------------------------------------------------------


def desc(text: str, unicode_text: str = "") -> bytes:
    """A version 2 ``desc`` tag: ASCII, then a Unicode part and an empty ScriptCode part."""
    ascii_part = text.encode("latin-1") + b"\x00"
    utf16 = (unicode_text + "\x00").encode("utf-16-be") if unicode_text else b""
    return (
        b"desc\x00\x00\x00\x00"
        + struct.pack(">I", len(ascii_part))
        + ascii_part
        + struct.pack(">II", 0x656E5553 if utf16 else 0, len(utf16) // 2)
        + utf16
        + b"\x00" * (2 + 1 + 67)
    )


def text(value: str) -> bytes:
    return b"text\x00\x00\x00\x00" + value.encode("latin-1") + b"\x00"


def mluc(*records: tuple[str, str]) -> bytes:
    head = b"mluc\x00\x00\x00\x00" + struct.pack(">II", len(records), 12)
    strings = [value.encode("utf-16-be") for _, value in records]
    offset = 16 + 12 * len(records)
    for (code, _), encoded in zip(records, strings, strict=True):
        head += code.encode() + struct.pack(">II", len(encoded), offset)
        offset += len(encoded)
    return head + b"".join(strings)


def xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \x00\x00\x00\x00" + struct.pack(">3i", *(round(v * 65536) for v in (x, y, z)))


def gamma(value: float) -> bytes:
    return b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(value * 256))


def private_tag(size_bytes: int = PRIVATE_BYTES) -> bytes:
    """E-mail addresses (2 MB by default), in a tag of a private type."""
    lines, size, index = [], 0, 0
    while size < size_bytes:
        line = PRIVATE_EMAIL.format(index).encode()
        lines.append(line)
        size += len(line)
        index += 1
    return b"priv\x00\x00\x00\x00" + b"".join(lines)


# --- Whole profiles ------------------------------------------------------------------------------


def tags_of(profile: bytes) -> list[tuple[bytes, bytes]]:
    (count,) = struct.unpack_from(">I", profile, 128)
    entries = (struct.unpack_from(">4sII", profile, 132 + 12 * i) for i in range(count))
    return [(sig, profile[offset : offset + size]) for sig, offset, size in entries]


def build(header: bytes, tags: list[tuple[bytes, bytes]], gap: bytes = b"") -> bytes:
    """A profile from a 128-byte header and (signature, tag bytes); ``gap`` goes between
    the tag table and the first tag, where no tag points."""
    first = 128 + 4 + 12 * len(tags) + len(gap)
    table, body = struct.pack(">I", len(tags)), b""
    for signature, data in tags:
        table += signature + struct.pack(">II", first + len(body), len(data))
        body += data + b"\x00" * (-len(data) % 4)
    size = first + len(body)
    return struct.pack(">I", size) + header[4:128] + table + gap + body


def _srgb_header(version: int) -> bytes:
    header = bytearray(cases.SRGB_ICC[:128])
    header[8:12] = struct.pack(">I", version)
    header[48:56] = HEADER_DEVICE * 2  # device manufacturer and model
    header[80:84] = HEADER_DEVICE  # creator
    return bytes(header)


def _colour_tags(profile: bytes) -> list[tuple[bytes, bytes]]:
    return [(sig, data) for sig, data in tags_of(profile) if sig not in (b"desc", b"cprt")]


def v2_srgb_with_text() -> bytes:
    """sRGB colour, version 2 text tags full of personal data, a private tag, a gap."""
    tags = [
        (b"desc", desc(NAME, UNICODE_NAME)),
        (b"cprt", text(PHONE)),
        (b"dmnd", desc(STREET)),
        (b"dmdd", desc(MODEL)),
        *_colour_tags(cases.SRGB_ICC),
        (b"zPRV", private_tag(4096)),
    ]
    return build(_srgb_header(0x02100000), tags, gap=GAP.encode().ljust(24, b"\x00"))


def private_2mb() -> bytes:
    """sRGB colour and a 2 MB private tag of e-mail addresses."""
    tags = [(b"desc", desc(NAME)), *_colour_tags(cases.SRGB_ICC), (b"zPRV", private_tag())]
    return build(_srgb_header(0x02100000), tags)


def v4_mluc_with_text() -> bytes:
    """sRGB colour, a version 4 description in two languages and a localized copyright."""
    tags = [
        (b"desc", mluc(("enUS", LOCALIZED), ("deDE", LOCALIZED_DE))),
        (b"cprt", mluc(("enUS", PHONE))),
        *_colour_tags(cases.SRGB_ICC),
    ]
    return build(_srgb_header(0x04300000), tags)


def wide_gamut_with_text() -> bytes:
    """Adobe-RGB-like primaries and a 2.2 gamma (no canonical profile matches), with text."""
    tags = [
        (b"desc", desc(NAME)),
        (b"cprt", text(PHONE)),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.6097, 0.3111, 0.0195)),
        (b"gXYZ", xyz(0.2053, 0.6257, 0.0609)),
        (b"bXYZ", xyz(0.1492, 0.0632, 0.7446)),
        (b"rTRC", gamma(2.2)),
        (b"gTRC", gamma(2.2)),
        (b"bTRC", gamma(2.2)),
        (b"dmnd", desc(STREET)),
    ]
    return build(_srgb_header(0x02100000), tags)


def lut_rgb_with_text() -> bytes:
    """An RGB profile whose colour is only a lutAtoB table, with text hidden between its
    elements (where no offset points)."""
    identity_curve = b"curv\x00\x00\x00\x00\x00\x00\x00\x00"
    hidden = GAP.encode().ljust(24, b"\x00")
    b_curves_at = 32 + len(hidden)
    a2b0 = (
        b"mAB \x00\x00\x00\x00\x03\x03\x00\x00"
        + struct.pack(">5I", b_curves_at, 0, 0, 0, 0)
        + hidden
        + identity_curve * 3
    )
    tags = [(b"desc", desc(NAME)), (b"cprt", text(PHONE)), (b"wtpt", xyz(0.9642, 1.0, 0.8249))]
    header = bytearray(_srgb_header(0x04300000))
    header[20:24] = b"XYZ "
    return build(bytes(header), [*tags, (b"A2B0", a2b0)])


def cmyk_with_text() -> bytes:
    """The CMYK test printer profile (everything prints red) with personal text tags."""
    base = cases.cmyk_icc_profile()
    tags = [(b"desc", desc(PRINTER)), (b"cprt", text(PHONE)), *tags_of(base)]
    return build(base[:128], tags)


PROFILES: dict[str, Callable[[], bytes]] = {
    "v2-srgb": v2_srgb_with_text,
    "private-2mb": private_2mb,
    "v4-mluc": v4_mluc_with_text,
    "wide-gamut": wide_gamut_with_text,
    "lut-rgb": lut_rgb_with_text,
    "cmyk": cmyk_with_text,
}

#: What ``sanitise`` makes of each: sRGB colour is replaced by redactor's own profile.
SANITISE_STATES = {
    "v2-srgb": "replaced",
    "private-2mb": "replaced",
    "v4-mluc": "replaced",
    "wide-gamut": "sanitised",
    "lut-rgb": "sanitised",
    "cmyk": "dropped",
}


# --- Images that carry them ----------------------------------------------------------------------

FORMATS = ("jpeg", "png", "webp", "tiff")


def image_with(profile: bytes, image_format: str) -> bytes:
    """A small picture in ``image_format`` carrying ``profile`` (CMYK pixels for CMYK)."""
    if profile[16:20] == b"CMYK":
        picture = Image.new("CMYK", (32, 24), (0, 0, 0, 128))
        return cases.encoded(
            picture, "JPEG" if image_format == "jpeg" else "TIFF", icc_profile=profile
        )
    pixels = cases.gradient(24, 32)
    options = {"lossless": True} if image_format == "webp" else {}
    return cases.encoded(pixels, image_format.upper(), icc_profile=profile, **options)


def chart_image() -> Image.Image:
    """Every combination of 9 levels per channel: 729 colours in one RGB picture."""
    levels = np.linspace(0, 255, 9).round().astype(np.uint8)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1)
    return Image.fromarray(grid.reshape(27, 27, 3))


def rendered_to_srgb(profile: bytes) -> np.ndarray:
    """The chart converted by LittleCMS from ``profile`` to sRGB (relative colorimetric)."""
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    target = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    converted = ImageCms.profileToProfile(
        chart_image(), source, target, renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC
    )
    assert converted is not None
    return np.asarray(converted, dtype=np.int16)
