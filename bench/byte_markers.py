"""Metadata in output bytes, found without redactor's decoder: a hand walk of JPEG and PNG
containers, tell-tale byte patterns, and (as a second opinion) redactor's own walker."""

from __future__ import annotations

import struct

from redactor.containers import metadata_in

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: PNG chunks that carry pixels or colour, not metadata.
PNG_ALLOWED = frozenset(
    {
        b"IHDR",
        b"PLTE",
        b"IDAT",
        b"IEND",
        b"tRNS",
        b"gAMA",
        b"cHRM",
        b"sRGB",
        b"iCCP",
        b"bKGD",
        b"pHYs",
        b"sBIT",
    }
)
#: Byte patterns that only metadata puts in a file.
BYTE_PATTERNS = {
    "exif_header": b"Exif\0\0",
    "xmp_namespace": b"http://ns.adobe.com/xap/1.0/",
    "xmp_packet": b"<x:xmpmeta",
    "photoshop": b"Photoshop 3.0",
}


def raw_metadata_markers(data: bytes) -> list[str]:
    """Metadata found by walking the container by hand, plus tell-tale byte patterns."""
    found: list[str] = []
    if data.startswith(b"\xff\xd8"):
        found += _jpeg_markers(data)
    elif data.startswith(PNG_MAGIC):
        found += _png_markers(data)
    found += [name for name, pattern in BYTE_PATTERNS.items() if pattern in data]
    return sorted(set(found))


def _jpeg_markers(data: bytes) -> list[str]:
    found = []
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker in (0xDA, 0xD9):
            break
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        name = _jpeg_segment_name(marker, data[position + 4 : position + 2 + length])
        if name:
            found.append(name)
        position += 2 + length
    end = data.rfind(b"\xff\xd9")
    if end >= 0 and data[end + 2 :].strip(b"\0"):
        found.append("trailing_data")
    return found


def _jpeg_segment_name(marker: int, payload: bytes) -> str | None:
    """The metadata a segment holds, or None for JFIF without thumbnail, ICC and Adobe."""
    if marker == 0xFE:
        return "jpeg_comment"
    if not 0xE0 <= marker <= 0xEF:
        return None
    harmless = (
        (marker == 0xE0 and payload.startswith(b"JFIF\0") and payload[12:14] == b"\0\0")
        or (marker == 0xE2 and payload.startswith(b"ICC_PROFILE\0"))
        or (marker == 0xEE and payload.startswith(b"Adobe"))
    )
    return None if harmless else f"jpeg_app{marker - 0xE0}"


def _png_markers(data: bytes) -> list[str]:
    found = []
    position = len(PNG_MAGIC)
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        if kind not in PNG_ALLOWED:
            found.append(f"png_{kind.decode('latin-1')}")
        position += 12 + length
    return found


def tool_metadata_groups(data: bytes) -> list[str]:
    """What redactor's own container walker finds, less the ICC profile it keeps on purpose."""
    return [name for name in metadata_in(data) if name != "icc"]
