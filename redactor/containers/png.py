"""The PNG walker: metadata chunks, the ``iCCP`` profile, 16-bit colour, data after IEND."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

from redactor.containers.facts import Found

_PNG_SIGNATURE_SIZE = 8

_PNG_PIXEL_CHUNKS = frozenset(
    b"IHDR PLTE IDAT IEND tRNS cHRM gAMA sBIT sRGB cICP mDCV mDCv cLLI cLLi bKGD hIST pHYs "
    b"sPLT acTL fcTL fdAT oFFs sCAL pCAL sTER".split()
)

_PNG_XMP_KEYWORD = b"XML:com.adobe.xmp\x00"

#: The profile name Pillow (and redactor's 16-bit encoder) writes in ``iCCP``; any other
#: name is text from the upload.
ICC_NAME = b"ICC Profile"

#: Most bytes inflated from one ``iCCP`` chunk: the largest profile redactor writes, and
#: Pillow's own limit. A longer profile is cut one byte past it, which shows it is longer.
MAX_INFLATED_PROFILE = 1024 * 1024


def _inflate(compressed: bytes) -> bytes:
    """A profile inflated up to one byte past the limit; ``b""`` if it is corrupt."""
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(compressed, MAX_INFLATED_PROFILE + 1)
    except zlib.error:
        return b""
    return data if inflater.eof or len(data) > MAX_INFLATED_PROFILE else b""


def walk_png(data: bytes) -> Found:
    """Metadata chunks in a PNG (or APNG), the ``iCCP`` profile, anything after IEND, and
    whether it is a still image with 16-bit colour samples."""
    found = Found()
    header, frames = b"", 1
    for chunk_type, body, end in _png_chunks(data):
        _classify_png_chunk(chunk_type, body, found)
        if chunk_type == b"IHDR":
            header = body
        elif chunk_type == b"acTL" and len(body) >= 4:
            (frames,) = struct.unpack_from(">I", body)
        elif chunk_type == b"IEND" and end < len(data):
            found.groups["trailing_data"] += 1
    # IHDR: width, height, bit depth, colour type (2 RGB, 4 grey+alpha, 6 RGBA), ...
    found.sixteen_bit_colour = len(header) >= 10 and header[8] == 16 and header[9] in (2, 4, 6)
    found.sixteen_bit_colour &= frames <= 1
    return found


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes, int]]:
    position = _PNG_SIGNATURE_SIZE
    while position + 12 <= len(data):
        length, chunk_type = struct.unpack_from(">I4s", data, position)
        end = position + 12 + length
        if end > len(data):
            return
        yield chunk_type, data[position + 8 : position + 8 + length], end
        if chunk_type == b"IEND":
            return
        position = end


def _classify_png_chunk(chunk_type: bytes, body: bytes, found: Found) -> None:
    groups = found.groups
    if chunk_type in (b"tEXt", b"zTXt"):
        groups["png_text"] += 1
    elif chunk_type == b"iTXt":
        groups["xmp" if body.startswith(_PNG_XMP_KEYWORD) else "png_text"] += 1
    elif chunk_type == b"tIME":
        groups["png_time"] += 1
    elif chunk_type == b"eXIf":
        groups["png_exif"] += 1
        found.add_exif(body)
    elif chunk_type == b"iCCP":
        groups["icc"] += 1
        name, _, compressed = body.partition(b"\x00")
        if name != ICC_NAME:
            groups["icc_name"] += 1
        found.icc_profiles.append(_inflate(compressed[1:]) if compressed[:1] == b"\x00" else b"")
    elif chunk_type not in _PNG_PIXEL_CHUNKS:
        groups["png_unknown_chunks"] += 1
