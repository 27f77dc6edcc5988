"""Camera-style files for the corpus: pixels stored under an EXIF orientation, and JPEGs and
PNGs that carry the metadata a camera or editor writes (EXIF with GPS, serial numbers, a
MakerNote and an IFD1 thumbnail; XMP; IPTC; PNG text chunks), naming an invented person.
Each records on its :class:`bench.cases.Case` what it planted and the strings that must
not survive."""

from __future__ import annotations

import io
import itertools
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from faker import Faker
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from bench.surfaces import Person

if TYPE_CHECKING:
    from bench.cases import Case

Pixels = npt.NDArray[np.uint8]


# --- orientation -----------------------------------------------------------------------------


def to_stored(upright: Pixels, orientation: int) -> Pixels:
    """The pixels a camera stores so that a viewer applying ``orientation`` shows ``upright``."""
    transforms = {
        1: lambda a: a,
        2: np.fliplr,
        3: lambda a: np.rot90(a, 2),
        4: np.flipud,
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, 1),
        7: lambda a: np.rot90(a.transpose(1, 0, 2), 2),
        8: lambda a: np.rot90(a, -1),
    }
    return np.ascontiguousarray(transforms[orientation](upright))


# --- metadata --------------------------------------------------------------------------------

_ASCII, _SHORT, _LONG, _RATIONAL, _UNDEFINED = 2, 3, 4, 5, 7
_Entry = tuple[int, int, int, bytes]


def _ascii(tag: int, text: str) -> _Entry:
    data = text.encode() + b"\0"
    return (tag, _ASCII, len(data), data)


def _short(tag: int, value: int) -> _Entry:
    return (tag, _SHORT, 1, struct.pack("<H", value))


def _long(tag: int, value: int) -> _Entry:
    return (tag, _LONG, 1, struct.pack("<I", value))


def _rationals(tag: int, values: Sequence[float]) -> _Entry:
    data = b"".join(struct.pack("<II", round(v * 10000), 10000) for v in values)
    return (tag, _RATIONAL, len(values), data)


def _ifd_size(entries: Sequence[_Entry]) -> int:
    return 6 + 12 * len(entries) + sum(len(p) + len(p) % 2 for *_, p in entries if len(p) > 4)


def _ifd(entries: Sequence[_Entry], offset: int, next_ifd: int) -> bytes:
    """One little-endian TIFF IFD at ``offset``, values longer than 4 bytes after it."""
    head, tail = struct.pack("<H", len(entries)), b""
    data_at = offset + 6 + 12 * len(entries)
    for tag, kind, count, payload in sorted(entries):
        if len(payload) <= 4:
            value = payload.ljust(4, b"\0")
        else:
            value = struct.pack("<I", data_at + len(tail))
            tail += payload + b"\0" * (len(payload) % 2)
        head += struct.pack("<HHI", tag, kind, count) + value
    return head + struct.pack("<I", next_ifd) + tail


def exif_block(
    ifd0: list[_Entry], exif: list[_Entry], gps: list[_Entry], thumbnail: bytes
) -> bytes:
    """An APP1 EXIF payload: IFD0, Exif IFD, GPS IFD and IFD1 with a JPEG thumbnail.

    Written by hand because Pillow does not write IFD1 thumbnails, which are exactly
    what a careless redactor leaks (the thumbnail still shows the unredacted picture).
    """
    ifd1 = [_short(0x0103, 6), _long(0x0201, 0), _long(0x0202, len(thumbnail))]
    ifd0 = [*ifd0, _long(0x8769, 0), _long(0x8825, 0)]
    sizes = [_ifd_size(x) for x in (ifd0, exif, gps, ifd1)]
    at = list(itertools.accumulate([8, *sizes]))
    ifd0 = [e for e in ifd0 if e[0] not in (0x8769, 0x8825)] + [
        _long(0x8769, at[1]),
        _long(0x8825, at[2]),
    ]
    ifd1 = [*ifd1[:1], _long(0x0201, at[4]), ifd1[2]]
    body = (
        b"II*\0"
        + struct.pack("<I", 8)
        + _ifd(ifd0, at[0], at[3])
        + _ifd(exif, at[1], 0)
        + _ifd(gps, at[2], 0)
        + _ifd(ifd1, at[3], 0)
        + thumbnail
    )
    return b"Exif\0\0" + body


def _iptc_segment(byline: str, caption: str) -> bytes:
    """An APP13 Photoshop segment with an IPTC-IIM By-line and Caption."""
    records = b"".join(
        b"\x1c\x02" + bytes([number]) + struct.pack(">H", len(value)) + value
        for number, value in ((80, byline.encode()), (120, caption.encode()))
    )
    block = (
        b"8BIM\x04\x04\0\0" + struct.pack(">I", len(records)) + records + b"\0" * (len(records) % 2)
    )
    payload = b"Photoshop 3.0\0" + block
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def _xmp(creator: str, lat: float, lon: float) -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:exif="http://ns.adobe.com/exif/1.0/">'
        f"<dc:creator><rdf:Seq><rdf:li>{creator}</rdf:li></rdf:Seq></dc:creator>"
        f"<exif:GPSLatitude>{lat:.5f}</exif:GPSLatitude><exif:GPSLongitude>{lon:.5f}</exif:GPSLongitude>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def camera_jpeg(stored: Image.Image, orientation: int, fake: Faker, case: Case) -> bytes:
    """``stored`` as a camera would write it: EXIF, GPS, serials, thumbnail, XMP, IPTC, comment."""
    artist, byline = fake.name(), fake.name()
    serial, lens = fake.numerify("SN########"), fake.numerify("LS######")
    lat, lon = float(fake.latitude()), float(fake.longitude())
    ifd0 = [
        _ascii(0x010F, "ExampleCam"),
        _ascii(0x0110, "EC-7 Mark II"),
        _short(0x0112, orientation),
        _ascii(0x013B, artist),
    ]
    exif = [
        _ascii(0x9003, "2026:11:20 10:11:12"),
        _ascii(0xA431, serial),
        _ascii(0xA435, lens),
        (0x927C, _UNDEFINED, 18, b"EXAMPLECAM\0" + serial.encode()[:7]),
    ]
    gps = [
        _ascii(1, "N" if lat >= 0 else "S"),
        _rationals(2, _dms(lat)),
        _ascii(3, "E" if lon >= 0 else "W"),
        _rationals(4, _dms(lon)),
    ]
    thumbnail = jpeg_bytes(stored.resize((stored.width // 10, stored.height // 10)), 70)
    comment = f"shot for {fake.name()}"
    buffer = io.BytesIO()
    stored.save(
        buffer,
        "JPEG",
        quality=90,
        exif=exif_block(ifd0, exif, gps, thumbnail),
        xmp=_xmp(artist, lat, lon),
        comment=comment.encode(),
    )
    data = buffer.getvalue()
    case.metadata_planted = [
        "exif",
        "gps",
        "makernote",
        "exif_thumbnail",
        "xmp",
        "iptc",
        "jpeg_comment",
    ]
    case.canaries = [s.encode() for s in (artist, byline, serial, lens, comment)]
    return data[:2] + _iptc_segment(byline, f"{artist} at home") + data[2:]


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees, minutes = int(value), int(value * 60) % 60
    return float(degrees), float(minutes), round((value * 3600) % 60, 2)


def png_with_metadata(canvas: Image.Image, person: Person, case: Case) -> bytes:
    """A PNG with text chunks, XMP and an eXIf chunk naming the (invented) person."""
    info = PngInfo()
    info.add_text("Author", person.name)
    info.add_itxt("Comment", f"for {person.email}")
    info.add_itxt("XML:com.adobe.xmp", _xmp(person.name, 52.1, 4.3).decode())
    exif = Image.Exif()
    exif[0x013B] = person.name
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG", pnginfo=info, exif=exif.tobytes())
    case.metadata_planted = ["png_text", "xmp", "png_exif"]
    case.canaries = [person.name.encode(), person.email.encode()]
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
