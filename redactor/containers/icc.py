"""ICC colour profiles: the header, the tag table and which tags carry colour.

A profile is a 128-byte header, a tag table and tag data (ICC.1:2022). Any tag can hold
text: the required description (``desc``) and copyright (``cprt``), the device maker and
model (``dmnd``, ``dmdd``), and private tags of any size. :func:`read_profile` turns the
tags it is asked for into typed values; :func:`write_profile` lays a profile out again
in one canonical way (header fields that do not describe colour zero, tags in order,
identical data stored once, padding zero). :func:`written_profile_problems` is the
output check: a profile passes only if it is exactly what :func:`write_profile` makes of
colour tags and the fixed text redactor writes, so no other text can hide in it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from redactor.containers.icc_types import (
    ChromaticityValue,
    CurveValue,
    DescriptionValue,
    IccError,
    LegacyLutValue,
    LocalizedValue,
    LutABValue,
    ParametricValue,
    S15Value,
    TagValue,
    TextValue,
    XYZValue,
    read_value,
    write_value,
)

HEADER_SIZE = 128
_MAX_TAGS = 256
_TABLE_ENTRY = 12

#: The only texts redactor writes into a profile: its description and copyright.
SANITISED_DESCRIPTION = "RGB colour profile"
CANONICAL_DESCRIPTIONS = frozenset({"sRGB", "Display P3"})
COPYRIGHT = "No copyright, use freely"
_OWN_TEXTS = {
    b"desc": CANONICAL_DESCRIPTIONS | {SANITISED_DESCRIPTION},
    b"cprt": frozenset({COPYRIGHT}),
}
TEXT_TAGS = tuple(_OWN_TEXTS)

_CURVES = (CurveValue, ParametricValue)
_LUTS = (LegacyLutValue, LutABValue)
#: Tags that carry colour, in the order redactor writes them, with the types each may have.
COLOUR_TAGS: dict[bytes, tuple[type, ...]] = {
    b"wtpt": (XYZValue,),
    b"bkpt": (XYZValue,),
    b"rXYZ": (XYZValue,),
    b"gXYZ": (XYZValue,),
    b"bXYZ": (XYZValue,),
    b"rTRC": _CURVES,
    b"gTRC": _CURVES,
    b"bTRC": _CURVES,
    b"chad": (S15Value,),
    b"chrm": (ChromaticityValue,),
    b"A2B0": _LUTS,
    b"B2A0": _LUTS,
}
MATRIX_TAGS = (b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC")
_TEXT_TYPES = (TextValue, DescriptionValue, LocalizedValue)


@dataclass(frozen=True, slots=True)
class IccHeader:
    """The header fields that describe colour; redactor writes every other field as zero."""

    #: Major and minor version bytes, e.g. ``0x0210`` (2.1) or ``0x0430`` (4.3).
    version: int
    device_class: bytes
    colour_space: bytes
    pcs: bytes
    intent: int
    #: The PCS illuminant, s15Fixed16 XYZ.
    illuminant: tuple[int, int, int]

    @property
    def major(self) -> int:
        return self.version >> 8


@dataclass(frozen=True, slots=True)
class IccProfile:
    header: IccHeader
    #: (signature, value) in the order they are written.
    tags: tuple[tuple[bytes, TagValue], ...]

    def tag(self, signature: bytes) -> TagValue | None:
        return next((value for sig, value in self.tags if sig == signature), None)


def read_header(data: bytes) -> IccHeader:
    if len(data) < HEADER_SIZE + 4 or data[36:40] != b"acsp":
        raise IccError("not an ICC profile")
    if data[8] not in (2, 4):
        raise IccError("an ICC profile of an unknown version")
    (intent,) = struct.unpack_from(">I", data, 64)
    illuminant = struct.unpack_from(">3i", data, 68)
    return IccHeader(
        (data[8] << 8) | data[9], data[12:16], data[16:20], data[20:24], intent & 3, illuminant
    )


def tag_table(data: bytes) -> list[tuple[bytes, bytes]]:
    """(signature, tag bytes) for every entry of the tag table, in table order."""
    (declared,) = struct.unpack_from(">I", data, HEADER_SIZE)
    if declared > _MAX_TAGS or HEADER_SIZE + 4 + declared * _TABLE_ENTRY > len(data):
        raise IccError("an ICC tag table longer than the profile")
    tags = []
    for index in range(declared):
        signature, offset, size = struct.unpack_from(
            ">4sII", data, HEADER_SIZE + 4 + index * _TABLE_ENTRY
        )
        if offset + size > len(data):
            raise IccError("an ICC tag beyond the end of the profile")
        tags.append((signature, data[offset : offset + size]))
    return tags


def read_profile(data: bytes, signatures: frozenset[bytes] | None = None) -> IccProfile:
    """The header and the typed values of the tags in ``signatures`` (default: all)."""
    header = read_header(data)
    tags = [
        (signature, read_value(raw))
        for signature, raw in tag_table(data)
        if signatures is None or signature in signatures
    ]
    return IccProfile(header, tuple(tags))


def write_profile(profile: IccProfile) -> bytes:
    """The canonical bytes of ``profile`` (see the module notes)."""
    table, body, stored = b"", b"", dict[bytes, int]()
    data_start = HEADER_SIZE + 4 + _TABLE_ENTRY * len(profile.tags)
    for signature, value in profile.tags:
        data = write_value(value)
        if data not in stored:
            stored[data] = data_start + len(body)
            body += data + b"\x00" * (-len(data) % 4)
        table += signature + struct.pack(">II", stored[data], len(data))
    size = data_start + len(body)
    return _header_bytes(profile.header, size) + struct.pack(">I", len(profile.tags)) + table + body


def _header_bytes(header: IccHeader, size: int) -> bytes:
    return (
        struct.pack(">I4xH2x", size, header.version)
        + header.device_class
        + header.colour_space
        + header.pcs
        + b"\x00" * 12  # creation date
        + b"acsp"
        + b"\x00" * 24  # platform, flags, device manufacturer and model, attributes
        + struct.pack(">I3i", header.intent, *header.illuminant)
        + b"\x00" * 48  # creator, profile id, reserved
    )


def text_value(header: IccHeader, signature: bytes, text: str) -> TagValue:
    """``text`` as the type the profile's version uses for the ``desc`` or ``cprt`` tag."""
    if header.major >= 4:
        return LocalizedValue((("enUS", text),))
    return DescriptionValue(text) if signature == b"desc" else TextValue(text)


def text_of(value: TagValue | None) -> str | None:
    """The text of a ``text``, ``desc`` or single-record ``mluc`` value, else None."""
    if isinstance(value, TextValue | DescriptionValue):
        return value.text
    if isinstance(value, LocalizedValue) and len(value.records) == 1:
        return value.records[0][1]
    return None


def written_profile_problems(data: bytes) -> list[str]:
    """Why ``data`` is not a profile redactor wrote (empty if it is). Names no content."""
    try:
        profile = read_profile(data)
    except IccError as error:
        return [f"the colour profile cannot be read exactly ({error})"]
    problems = []
    if profile.header.colour_space != b"RGB ":
        problems.append("the colour profile is not an RGB profile")
    for signature, value in profile.tags:
        if signature in _OWN_TEXTS:
            if not isinstance(value, _TEXT_TYPES) or text_of(value) not in _OWN_TEXTS[signature]:
                problems.append("the colour profile holds text redactor did not write")
        elif not isinstance(value, COLOUR_TAGS.get(signature, ())):
            problems.append("the colour profile holds a tag that is not colour data")
    if not problems and write_profile(profile) != data:
        problems.append("the colour profile holds bytes outside its colour data")
    return problems
