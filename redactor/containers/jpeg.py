"""The JPEG walker: APPn and COM segments, the first frame header, the scans, the trailer."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import replace

from redactor.containers.exif import EXIF_HEADER
from redactor.containers.facts import Found, JpegFrame
from redactor.containers.photoshop import count_photoshop_irb

_SOS, _EOI, _COM, _APP0 = 0xDA, 0xD9, 0xFE, 0xE0

_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})

_XMP_SIGNATURES = (b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00")

_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # not DHT, JPG, DAC
#: APP2 ICC segments: this signature, the segment's sequence number and count, a chunk.
_ICC_SIGNATURE = b"ICC_PROFILE\x00"


def walk_jpeg(data: bytes) -> Found:
    """APPn and COM segments, anything after the end of the image, the ICC profile's
    segments, and the first frame header with the size of all the scans: in one pass."""
    found = Found(lossless=False)
    icc_chunks: list[tuple[bytes, bytes]] = []
    frame: JpegFrame | None = None
    scan_bytes = 0
    for marker, payload, scanned in _jpeg_markers(data):
        scan_bytes += scanned
        if frame is None and marker in _FRAME_MARKERS and len(payload) >= 6:
            frame = _frame_header(marker, payload)
        if marker == _EOI:
            if payload:
                found.groups["trailing_data"] += 1
        elif marker == _COM:
            found.groups["jpeg_comment"] += 1
        elif _APP0 <= marker <= _APP0 + 15:
            _classify_app_segment(marker - _APP0, payload, found)
            if marker == _APP0 + 2 and payload.startswith(_ICC_SIGNATURE):
                sequence = payload[len(_ICC_SIGNATURE) : len(_ICC_SIGNATURE) + 1]
                icc_chunks.append((sequence, payload[len(_ICC_SIGNATURE) + 2 :]))
    if icc_chunks:
        found.icc_profiles.append(b"".join(chunk for _, chunk in sorted(icc_chunks)))
    if frame is not None:
        found.jpeg_frame = replace(frame, scan_bytes=scan_bytes)
    return found


def _jpeg_markers(data: bytes) -> Iterator[tuple[int, bytes, int]]:
    """(marker, payload, size of the entropy-coded data after it: only SOS has any)."""
    position = 2
    while True:
        position = data.find(b"\xff", position)
        while 0 <= position < len(data) - 1 and data[position + 1] == 0xFF:
            position += 1  # fill bytes
        if position < 0 or position + 1 >= len(data):
            return
        marker = data[position + 1]
        if marker == _EOI:
            yield marker, data[position + 2 :], 0
            return
        if marker == 0 or marker in _STANDALONE_MARKERS or position + 4 > len(data):
            position += 2
            continue
        (length,) = struct.unpack_from(">H", data, position + 2)
        payload = data[position + 4 : position + 2 + length]
        position += 2 + max(length, 2)
        scan_start = position
        if marker == _SOS:
            position = _end_of_entropy_data(data, position)
        yield marker, payload, position - scan_start


def _frame_header(marker: int, payload: bytes) -> JpegFrame:
    height, width, count = struct.unpack_from(">HHB", payload, 1)
    components = payload[6 : 6 + 3 * count]
    sampling = tuple((byte >> 4, byte & 0x0F) for byte in components[1::3])
    return JpegFrame(marker, width, height, sampling, 0)


def _end_of_entropy_data(data: bytes, position: int) -> int:
    """Position of the first marker after entropy-coded data (skips stuffed 0xFF00 and RSTn)."""
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            return len(data)
        follower = data[position + 1]
        if follower != 0 and follower != 0xFF and follower not in _STANDALONE_MARKERS:
            return position
        position += 1


def _classify_app_segment(number: int, payload: bytes, found: Found) -> None:
    groups = found.groups
    if number == 0 and payload.startswith(b"JFIF\x00"):
        if len(payload) >= 14 and (payload[12] or payload[13]):
            groups["jfif_thumbnail"] += 1
    elif number == 0 and payload.startswith(b"JFXX\x00"):
        groups["jfif_thumbnail"] += 1
    elif number == 1 and payload.startswith(EXIF_HEADER):
        found.add_exif(payload)
    elif number == 1 and payload.startswith(_XMP_SIGNATURES):
        groups["xmp"] += 1
    elif number == 2 and payload.startswith(_ICC_SIGNATURE):
        groups["icc"] = 1  # one profile, however many segments carry it
    elif number == 2 and payload.startswith(b"MPF\x00"):
        groups["mpf"] += 1
    elif number == 13 and payload.startswith(b"Photoshop 3.0\x00"):
        count_photoshop_irb(payload[len(b"Photoshop 3.0\x00") :], groups)
    elif not (number == 14 and payload.startswith(b"Adobe")):  # Adobe: colour transform only
        groups[f"jpeg_app{number}"] += 1
