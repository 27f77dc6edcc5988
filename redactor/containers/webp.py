"""The WebP (RIFF) walker: metadata chunks, whether every bitstream is lossless, trailing data."""

from __future__ import annotations

import struct
from collections.abc import Iterator

from redactor.containers.facts import Found

_WEBP_PIXEL_CHUNKS = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"})

_RIFF_HEADER_SIZE = 12

_ANMF_HEADER_SIZE = 16


def _riff_chunks(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, bytes]]:
    position = start
    while position + 8 <= end:
        fourcc, size = (
            data[position : position + 4],
            struct.unpack_from("<I", data, position + 4)[0],
        )
        yield fourcc, data[position + 8 : min(position + 8 + size, end)]
        position += 8 + size + (size & 1)


def _riff_end(data: bytes) -> int:
    if len(data) < _RIFF_HEADER_SIZE:
        return 0
    (size,) = struct.unpack_from("<I", data, 4)
    return min(len(data), 8 + int(size))


def walk_webp(data: bytes) -> Found:
    """Metadata chunks in a WebP RIFF container, anything after the RIFF end, and whether
    every bitstream (animation frames included) is VP8L, lossless."""
    found = Found()
    end = _riff_end(data)
    codecs: set[bytes] = set()
    for fourcc, body in _riff_chunks(data, _RIFF_HEADER_SIZE, end):
        codecs.add(fourcc)
        if fourcc == b"ANMF":
            codecs.update(sub for sub, _ in _riff_chunks(body, _ANMF_HEADER_SIZE, len(body)))
        elif fourcc == b"EXIF":
            found.groups["webp_exif"] += 1
            found.add_exif(body)
        elif fourcc == b"XMP ":
            found.groups["webp_xmp"] += 1
        elif fourcc == b"ICCP":
            found.groups["icc"] += 1
            found.icc_profiles.append(body)
        elif fourcc not in _WEBP_PIXEL_CHUNKS:
            found.groups["webp_unknown_chunks"] += 1
    if end < len(data):
        found.groups["trailing_data"] += 1
    found.lossless = b"VP8L" in codecs and b"VP8 " not in codecs
    return found
