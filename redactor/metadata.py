"""Containers, read without decoding pixels: which format the bytes are, what metadata they hold.

:func:`sniff_format` names the format from the magic bytes alone (and says what non-images
look like). Each ``*_metadata`` function walks one container (JPEG segments, PNG chunks,
RIFF chunks, GIF blocks, TIFF IFDs, HEIF boxes through pillow-heif) and counts the metadata
groups it holds: names and counts only, never values. The walkers are written by hand so that they
see exactly what is in the bytes (a decoder skips what it does not understand) and so that
every loop is bounded by the length of the data: malformed input ends a walk early, it never
hangs it. EXIF blocks and TIFF files share one small IFD reader, which also gives the EXIF
Orientation for :mod:`redactor.imaging`.

Group names: ``exif`` (IFD0 and Exif IFD tags), ``gps``, ``exif_thumbnail`` (IFD1),
``makernote``, ``xmp``, ``iptc``, ``photoshop_irb``, ``photoshop_thumbnail``, ``icc``,
``jpeg_comment``, ``jpeg_app<n>`` (APPn segments of no known kind), ``mpf``,
``jfif_thumbnail``, ``png_text``, ``png_time``, ``png_exif``, ``png_unknown_chunks``,
``webp_exif``, ``webp_xmp``, ``webp_unknown_chunks``, ``gif_comment``, ``gif_plain_text``,
``gif_application_data``, ``tiff_subifds``, ``heif_exif``, ``heif_xmp``, ``heif_metadata``,
``heif_thumbnail``, ``heif_depth``, ``heif_aux``, ``icc_name`` (a PNG ``iCCP`` profile
name other than Pillow's neutral one) and ``trailing_data`` (bytes after the end of the
image, where cameras put extra pictures).

The walkers also hand back every ICC profile they see, so that the output check can read
the profiles themselves (:mod:`redactor.containers.icc`): a profile's own tags can hold text.
"""

from __future__ import annotations

import codecs
import io
import struct
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

import pillow_heif

from redactor.containers.icc import written_profile_problems
from redactor.errors import CorruptImage, RedactorError, UnsupportedImage

EXIF_HEADER = b"Exif\x00\x00"
ORIENTATION_TAG = 0x0112
EXIF_IFD_TAG = 0x8769
GPS_IFD_TAG = 0x8825
MAKERNOTE_TAG = 0x927C
_EXIF_POINTERS = frozenset({EXIF_IFD_TAG, GPS_IFD_TAG})

#: Most IFDs followed in one TIFF file: far above any real multi-page document.
_MAX_TIFF_PAGES = 10_000


@dataclass
class ContainerMetadata:
    """What one container holds: metadata group counts and its first EXIF block."""

    groups: Counter[str] = field(default_factory=Counter)
    #: The first EXIF block (TIFF structure), the one a viewer reads the orientation from.
    exif: bytes | None = None
    #: Every ICC profile found, as stored (``b""`` for one that cannot be extracted).
    icc_profiles: list[bytes] = field(default_factory=list)

    def add_exif(self, block: bytes) -> None:
        if self.exif is None:
            self.exif = block
        _count_exif(block, self.groups)


# --- Formats ---------------------------------------------------------------------------------


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


class MetadataLeak(RedactorError):
    """Encoded output still carries metadata; it must not be published."""

    code = "metadata_leak"


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


# --- TIFF structure (TIFF files and EXIF blocks) -------------------------------------------


_TIFF_HEADERS = {
    b"II*\x00": ("<", False),
    b"MM\x00*": (">", False),
    b"II+\x00": ("<", True),
    b"MM\x00+": (">", True),
}
_INTEGER_TYPES = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 13: "I", 16: "Q", 18: "Q"}
_TYPE_SIZES = {
    **{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4},
    **{16: 8, 17: 8, 18: 8},  # BigTIFF's 8-byte integers and IFD offsets
}


@dataclass(frozen=True)
class _Entry:
    type: int
    count: int
    #: The value/offset field: the value itself when it fits, else where it starts.
    field: bytes


@dataclass(frozen=True)
class _Ifd:
    entries: dict[int, _Entry]
    next_offset: int


@dataclass(frozen=True)
class _Tiff:
    """A TIFF structure (classic or BigTIFF) read straight from its bytes."""

    data: bytes
    endian: str
    big: bool

    @classmethod
    def parse(cls, data: bytes) -> _Tiff | None:
        layout = _TIFF_HEADERS.get(data[:4])
        return None if layout is None else cls(data, *layout)

    @property
    def first_ifd(self) -> int:
        return self._offset_at(8 if self.big else 4)

    def ifd(self, offset: int) -> _Ifd | None:
        """The IFD at ``offset``; entries that would run past the data are left out."""
        if self.big:
            count_code, value_code, entry_size = "Q", "Q", 20
        else:
            count_code, value_code, entry_size = "H", "I", 12
        start = offset + struct.calcsize(count_code)
        if offset < 8 or start > len(self.data):
            return None
        (declared,) = struct.unpack_from(self.endian + count_code, self.data, offset)
        count = min(declared, (len(self.data) - start) // entry_size)
        entries: dict[int, _Entry] = {}
        for index in range(count):
            entry = start + index * entry_size
            tag, kind, number = struct.unpack_from(
                self.endian + "HH" + value_code, self.data, entry
            )
            value_at = entry + 4 + struct.calcsize(value_code)
            entries[tag] = _Entry(kind, number, self.data[value_at : entry + entry_size])
        return _Ifd(entries, self._offset_at(start + count * entry_size))

    def integer(self, entry: _Entry) -> int | None:
        """The first value of an integer-typed entry, else None."""
        code = _INTEGER_TYPES.get(entry.type)
        if code is None or entry.count < 1 or struct.calcsize(code) > len(entry.field):
            return None
        return int(struct.unpack_from(self.endian + code, entry.field)[0])

    def blob(self, entry: _Entry) -> bytes:
        """The raw bytes of an entry's value (clipped to the data)."""
        size = _TYPE_SIZES.get(entry.type, 1) * entry.count
        if size <= len(entry.field):
            return entry.field[:size]
        start = self.pointer(entry)
        return self.data[start : start + size]

    def sub_ifd(self, parent: _Ifd, tag: int) -> _Ifd | None:
        entry = parent.entries.get(tag)
        return None if entry is None else self.ifd(self.pointer(entry))

    def pointer(self, entry: _Entry) -> int:
        """The entry's value read as an offset into the data."""
        return self._unsigned(entry.field)

    def _unsigned(self, value_field: bytes) -> int:
        return int(struct.unpack_from(self.endian + ("Q" if self.big else "I"), value_field)[0])

    def _offset_at(self, position: int) -> int:
        size = 8 if self.big else 4
        if position + size > len(self.data):
            return 0
        return self._unsigned(self.data[position : position + size])


def _strip_exif_header(block: bytes) -> bytes:
    return block[len(EXIF_HEADER) :] if block.startswith(EXIF_HEADER) else block


def exif_orientation(block: bytes) -> int | None:
    """The Orientation tag of an EXIF block; None when no tag can be read at all.

    Raises :class:`CorruptImage` when the tag is there but holds no valid orientation (1-8):
    the file then asks for a rotation redactor cannot honour.
    """
    tiff = _Tiff.parse(_strip_exif_header(block))
    ifd0 = None if tiff is None else tiff.ifd(tiff.first_ifd)
    if tiff is None or ifd0 is None or ORIENTATION_TAG not in ifd0.entries:
        return None
    value = tiff.integer(ifd0.entries[ORIENTATION_TAG])
    if value is None or not 1 <= value <= 8:
        shown = "a non-integer value" if value is None else str(value)
        raise CorruptImage(f"the EXIF Orientation tag holds {shown}; expected 1 to 8")
    return value


def _count_exif(block: bytes, groups: Counter[str]) -> None:
    tiff = _Tiff.parse(_strip_exif_header(block))
    ifd0 = None if tiff is None else tiff.ifd(tiff.first_ifd)
    if tiff is None or ifd0 is None:
        groups["exif"] += 1  # present but unreadable: still metadata
        return
    exif_ifd = tiff.sub_ifd(ifd0, EXIF_IFD_TAG)
    tags = len(ifd0.entries.keys() - _EXIF_POINTERS) + (len(exif_ifd.entries) if exif_ifd else 0)
    if tags:
        groups["exif"] += tags
    if exif_ifd is not None and MAKERNOTE_TAG in exif_ifd.entries:
        groups["makernote"] += 1
    if GPS_IFD_TAG in ifd0.entries:
        gps = tiff.sub_ifd(ifd0, GPS_IFD_TAG)
        groups["gps"] += max(1, len(gps.entries) if gps else 0)
    thumbnail = tiff.ifd(ifd0.next_offset)
    if thumbnail is not None and thumbnail.entries:
        groups["exif_thumbnail"] += 1


#: TIFF tags that only describe how pixels are stored; every other tag counts as metadata.
_TIFF_STRUCTURAL_TAGS = frozenset(
    {
        254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281, 282,
        283, 284, 286, 287, 290, 291, 292, 293, 296, 297, 301, 317, 318, 319, 320, 322,
        323, 324, 325, 338, 339, 340, 341, 347, 529, 530, 531, 532,
    }
)  # fmt: skip
_TIFF_BLOB_GROUPS = {700: "xmp", 330: "tiff_subifds"}
_TIFF_IPTC_TAG, _TIFF_PHOTOSHOP_TAG, _TIFF_ICC_TAG = 33723, 34377, 34675


def tiff_metadata(data: bytes) -> ContainerMetadata:
    """Metadata in a TIFF file, following every page (IFD) of the chain."""
    found = ContainerMetadata()
    tiff = _Tiff.parse(data)
    if tiff is None:
        return found
    offset, seen = tiff.first_ifd, set[int]()
    while offset and offset not in seen and len(seen) < _MAX_TIFF_PAGES:
        seen.add(offset)
        page = tiff.ifd(offset)
        if page is None:
            break
        _count_tiff_page(tiff, page, found.groups, found.icc_profiles)
        offset = page.next_offset
    return found


def _count_tiff_page(tiff: _Tiff, page: _Ifd, groups: Counter[str], profiles: list[bytes]) -> None:
    for tag, entry in page.entries.items():
        if tag in _TIFF_STRUCTURAL_TAGS:
            continue
        if tag == EXIF_IFD_TAG:
            exif_ifd = tiff.ifd(tiff.pointer(entry))
            groups["exif"] += max(1, len(exif_ifd.entries) if exif_ifd else 0)
            if exif_ifd is not None and MAKERNOTE_TAG in exif_ifd.entries:
                groups["makernote"] += 1
        elif tag == GPS_IFD_TAG:
            gps = tiff.ifd(tiff.pointer(entry))
            groups["gps"] += max(1, len(gps.entries) if gps else 0)
        elif tag == _TIFF_IPTC_TAG:
            _count_iptc(tiff.blob(entry), groups)
        elif tag == _TIFF_PHOTOSHOP_TAG:
            _count_photoshop_irb(tiff.blob(entry), groups)
        elif tag == _TIFF_ICC_TAG:
            groups["icc"] += 1
            profiles.append(tiff.blob(entry))
        else:
            groups[_TIFF_BLOB_GROUPS.get(tag, "exif")] += 1


# --- Photoshop image resources and IPTC ------------------------------------------------------

_IPTC_RESOURCE = 0x0404
_THUMBNAIL_RESOURCES = frozenset({0x0409, 0x040C})


def _count_photoshop_irb(blob: bytes, groups: Counter[str]) -> None:
    """Count ``8BIM`` resources; IPTC and thumbnails inside them get their own groups."""
    position, resources = 0, 0
    while position + 12 <= len(blob) and blob[position : position + 4] == b"8BIM":
        (resource_id,) = struct.unpack_from(">H", blob, position + 4)
        name_field = 1 + blob[position + 6]
        size_at = position + 6 + name_field + (name_field & 1)
        if size_at + 4 > len(blob):
            break
        (size,) = struct.unpack_from(">I", blob, size_at)
        body = blob[size_at + 4 : size_at + 4 + size]
        resources += 1
        if resource_id == _IPTC_RESOURCE:
            _count_iptc(body, groups)
        elif resource_id in _THUMBNAIL_RESOURCES:
            groups["photoshop_thumbnail"] += 1
        position = size_at + 4 + size + (size & 1)
    groups["photoshop_irb"] += max(1, resources)


def _count_iptc(blob: bytes, groups: Counter[str]) -> None:
    """Count IPTC-IIM datasets (each starts with 0x1C, record, dataset, size)."""
    position, datasets = 0, 0
    while position + 5 <= len(blob) and blob[position] == 0x1C:
        (size,) = struct.unpack_from(">H", blob, position + 3)
        header = 5
        if size & 0x8000:  # extended dataset: the size is in the next (size & 0x7FFF) bytes
            header += size & 0x7FFF
            size = int.from_bytes(blob[position + 5 : position + header], "big")
        datasets += 1
        position += header + size
    groups["iptc"] += max(1, datasets)


# --- JPEG ------------------------------------------------------------------------------------

_SOS, _EOI, _COM, _APP0 = 0xDA, 0xD9, 0xFE, 0xE0
_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})
_XMP_SIGNATURES = (b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00")
#: APP2 ICC segments: this signature, the segment's sequence number and count, a chunk.
_JPEG_ICC_SIGNATURE = b"ICC_PROFILE\x00"


def jpeg_metadata(data: bytes) -> ContainerMetadata:
    """Metadata in a JPEG: APPn and COM segments, and anything after the end of the image."""
    found = ContainerMetadata()
    icc_chunks: list[tuple[int, bytes]] = []
    for marker, payload in _jpeg_segments(data):
        if marker == _APP0 + 2 and payload.startswith(_JPEG_ICC_SIGNATURE):
            icc_chunks.append(
                (payload[len(_JPEG_ICC_SIGNATURE)], payload[len(_JPEG_ICC_SIGNATURE) + 2 :])
            )
        if marker == _EOI:
            if payload:
                found.groups["trailing_data"] += 1
        elif marker == _COM:
            found.groups["jpeg_comment"] += 1
        elif _APP0 <= marker <= _APP0 + 15:
            _classify_app_segment(marker - _APP0, payload, found)
    if icc_chunks:
        found.icc_profiles.append(b"".join(chunk for _, chunk in sorted(icc_chunks)))
    return found


def _jpeg_segments(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield (marker, payload) for each segment; EOI comes with the bytes that follow it."""
    for marker, payload, _ in _jpeg_markers(data):
        yield marker, payload


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


#: Frame headers of Huffman-coded DCT JPEGs (baseline, extended, progressive).
_HUFFMAN_DCT_FRAMES = frozenset({0xC0, 0xC1, 0xC2})
_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # not DHT, JPG, DAC


@dataclass(frozen=True)
class JpegFrame:
    """A JPEG's first frame header (SOFn) and the entropy-coded bytes of its scans."""

    marker: int
    width: int
    height: int
    #: (horizontal, vertical) sampling factors, one pair per component.
    sampling: tuple[tuple[int, int], ...]
    scan_bytes: int

    @property
    def huffman(self) -> bool:
        return self.marker in _HUFFMAN_DCT_FRAMES

    def minimum_scan_bits(self) -> int:
        """The fewest bits Huffman-coded scans can hold for this frame: one per 8x8 block.

        Every block of every component has its DC coefficient coded in some scan, with a
        code of at least one bit. A file with fewer bits has lost data that libjpeg would
        silently fill with grey ("premature end of data segment") instead of failing.
        """
        if not self.sampling or any(h < 1 or v < 1 for h, v in self.sampling):
            return 0
        h_max = max(h for h, _ in self.sampling)
        v_max = max(v for _, v in self.sampling)
        return sum(
            _blocks(self.width * h, h_max) * _blocks(self.height * v, v_max)
            for h, v in self.sampling
        )


def _blocks(scaled_size: int, max_factor: int) -> int:
    """8-pixel blocks along one side of a component (its size rounded up, then its blocks)."""
    pixels = -(-scaled_size // max_factor)
    return -(-pixels // 8)


def jpeg_frame(data: bytes) -> JpegFrame | None:
    """The first frame header of a JPEG and the size of all its scans; None if it has none."""
    frame: JpegFrame | None = None
    scan_bytes = 0
    for marker, payload, scanned in _jpeg_markers(data):
        if frame is None and marker in _FRAME_MARKERS and len(payload) >= 6:
            frame = _frame_header(marker, payload)
        scan_bytes += scanned
    return None if frame is None else replace(frame, scan_bytes=scan_bytes)


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


def _classify_app_segment(number: int, payload: bytes, found: ContainerMetadata) -> None:
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
    elif number == 2 and payload.startswith(_JPEG_ICC_SIGNATURE):
        groups["icc"] = 1  # one profile, however many segments carry it
    elif number == 2 and payload.startswith(b"MPF\x00"):
        groups["mpf"] += 1
    elif number == 13 and payload.startswith(b"Photoshop 3.0\x00"):
        _count_photoshop_irb(payload[len(b"Photoshop 3.0\x00") :], groups)
    elif not (number == 14 and payload.startswith(b"Adobe")):  # Adobe: colour transform only
        groups[f"jpeg_app{number}"] += 1


# --- PNG -------------------------------------------------------------------------------------

_PNG_SIGNATURE_SIZE = 8
_PNG_PIXEL_CHUNKS = frozenset(
    b"IHDR PLTE IDAT IEND tRNS cHRM gAMA sBIT sRGB cICP mDCV mDCv cLLI cLLi bKGD hIST pHYs "
    b"sPLT acTL fcTL fdAT oFFs sCAL pCAL sTER".split()
)
_PNG_XMP_KEYWORD = b"XML:com.adobe.xmp\x00"
#: The profile name Pillow writes in ``iCCP``; any other name is text from the upload.
_PNG_ICC_NAME = b"ICC Profile"
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


def png_metadata(data: bytes) -> ContainerMetadata:
    """Metadata chunks in a PNG (or APNG), and anything after IEND."""
    found = ContainerMetadata()
    for chunk_type, body, end in _png_chunks(data):
        _classify_png_chunk(chunk_type, body, found)
        if chunk_type == b"IEND" and end < len(data):
            found.groups["trailing_data"] += 1
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


def _classify_png_chunk(chunk_type: bytes, body: bytes, found: ContainerMetadata) -> None:
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
        if name != _PNG_ICC_NAME:
            groups["icc_name"] += 1
        found.icc_profiles.append(_inflate(compressed[1:]) if compressed[:1] == b"\x00" else b"")
    elif chunk_type not in _PNG_PIXEL_CHUNKS:
        groups["png_unknown_chunks"] += 1


# --- WebP (RIFF) -----------------------------------------------------------------------------

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


def webp_metadata(data: bytes) -> ContainerMetadata:
    """Metadata chunks in a WebP RIFF container, and anything after the RIFF end."""
    found = ContainerMetadata()
    end = _riff_end(data)
    for fourcc, body in _riff_chunks(data, _RIFF_HEADER_SIZE, end):
        if fourcc == b"EXIF":
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
    return found


def webp_is_lossless(data: bytes) -> bool:
    """True when every bitstream in the WebP, animation frames included, is VP8L (lossless)."""
    end = _riff_end(data)
    codecs: set[bytes] = set()
    for fourcc, body in _riff_chunks(data, _RIFF_HEADER_SIZE, end):
        if fourcc == b"ANMF":
            codecs.update(sub for sub, _ in _riff_chunks(body, _ANMF_HEADER_SIZE, len(body)))
        codecs.add(fourcc)
    return b"VP8L" in codecs and b"VP8 " not in codecs


# --- GIF -------------------------------------------------------------------------------------

_GIF_HEADER_SIZE = 13
_GIF_EXTENSION, _GIF_IMAGE, _GIF_TRAILER = 0x21, 0x2C, 0x3B
_GIF_LOOP_APPLICATIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")
_GIF_EXTENSION_GROUPS = {0xFE: "gif_comment", 0x01: "gif_plain_text"}


def gif_metadata(data: bytes) -> ContainerMetadata:
    """Comment, plain-text and application extensions in a GIF, and data after the trailer."""
    found = ContainerMetadata()
    position = _GIF_HEADER_SIZE + _colour_table_size(data[10:11])
    while position < len(data):
        block = data[position]
        if block == _GIF_TRAILER:
            if position + 1 < len(data):
                found.groups["trailing_data"] += 1
            break
        if block == _GIF_EXTENSION and position + 1 < len(data):
            _classify_gif_extension(
                data[position + 1], data[position + 2 : position + 14], found.groups
            )
            position = _skip_sub_blocks(data, position + 2)
        elif block == _GIF_IMAGE:
            descriptor_end = position + 10
            position = descriptor_end + _colour_table_size(data[position + 9 : descriptor_end])
            position = _skip_sub_blocks(data, position + 1)  # +1: LZW minimum code size
        else:
            break  # not a GIF block: the decoder would stop here too
    return found


def _colour_table_size(flags: bytes) -> int:
    if not flags or not flags[0] & 0x80:
        return 0
    return 3 << ((flags[0] & 0x07) + 1)


def _skip_sub_blocks(data: bytes, position: int) -> int:
    while position < len(data) and data[position]:
        position += 1 + data[position]
    return position + 1


def _classify_gif_extension(label: int, first_block: bytes, groups: Counter[str]) -> None:
    if label in _GIF_EXTENSION_GROUPS:
        groups[_GIF_EXTENSION_GROUPS[label]] += 1
    elif label == 0xFF:
        application = first_block[1:12]  # after the block size byte: identifier + auth code
        if application.startswith(b"XMP Data"):
            groups["xmp"] += 1
        elif application.startswith(b"ICCRGBG1"):
            groups["icc"] += 1
        elif application not in _GIF_LOOP_APPLICATIONS:
            groups["gif_application_data"] += 1


# --- HEIF ------------------------------------------------------------------------------------

_HEIF_ERRORS = (OSError, ValueError, SyntaxError, EOFError, RuntimeError, KeyError)


def heif_metadata(data: bytes) -> ContainerMetadata:
    """Metadata of every top-level image in a HEIF, as pillow-heif reads it (no pixels)."""
    found = ContainerMetadata()
    try:
        images = list(pillow_heif.open_heif(io.BytesIO(data)))
    except _HEIF_ERRORS as error:
        raise CorruptImage("the HEIF container cannot be parsed") from error
    for image in images:
        _count_heif_image(image.info, found)
    return found


def _count_heif_image(info: Mapping[str, object], found: ContainerMetadata) -> None:
    groups = found.groups
    exif = info.get("exif")
    if isinstance(exif, bytes) and exif:
        groups["heif_exif"] += 1
        found.add_exif(exif)
    if info.get("xmp"):
        groups["heif_xmp"] += 1
    profile = info.get("icc_profile")
    if profile:
        groups["icc"] = 1
        found.icc_profiles.append(profile if isinstance(profile, bytes) else b"")
    for key, group in (
        ("metadata", "heif_metadata"),
        ("thumbnails", "heif_thumbnail"),
        ("depth_images", "heif_depth"),
        ("aux", "heif_aux"),
    ):
        value = info.get(key)
        if isinstance(value, list | dict) and value:
            groups[group] += len(value)


# --- Inspection API ----------------------------------------------------------------------------


def _no_metadata(_data: bytes) -> ContainerMetadata:
    return ContainerMetadata()


_INSPECTORS: dict[ImageFormat, Callable[[bytes], ContainerMetadata]] = {
    ImageFormat.JPEG: jpeg_metadata,
    ImageFormat.PNG: png_metadata,
    ImageFormat.WEBP: webp_metadata,
    ImageFormat.TIFF: tiff_metadata,
    ImageFormat.GIF: gif_metadata,
    ImageFormat.HEIF: heif_metadata,
    ImageFormat.BMP: _no_metadata,  # BMP has no metadata blocks that Pillow or we keep
}


def inspect_container(data: bytes, image_format: ImageFormat) -> ContainerMetadata:
    """Metadata groups and first EXIF block of ``data``, already sniffed as ``image_format``."""
    try:
        return _INSPECTORS[image_format](data)
    except (struct.error, IndexError, ValueError) as error:  # fail closed on a walker bug
        raise CorruptImage(f"the {image_format.label} container cannot be parsed") from error


def metadata_in(data: bytes) -> dict[str, int]:
    """Metadata groups present in encoded bytes: group name -> count, never values."""
    groups = inspect_container(data, sniff_format(data)).groups
    return {name: count for name, count in sorted(groups.items()) if count > 0}


def assert_metadata_free(data: bytes, *, icc_profile: bytes | None) -> None:
    """Raise :class:`MetadataLeak` if ``data`` carries any metadata but ``icc_profile``.

    Every profile in ``data`` must be exactly ``icc_profile`` and, read tag by tag, hold
    nothing but colour data and the text redactor writes.
    """
    found = inspect_container(data, sniff_format(data))
    leaked = [name for name, count in sorted(found.groups.items()) if count and name != "icc"]
    if leaked:
        raise MetadataLeak(f"the encoded image still carries metadata: {', '.join(leaked)}")
    if not found.groups["icc"]:
        return
    if icc_profile is None:
        raise MetadataLeak("the encoded image still carries metadata: icc")
    if not found.icc_profiles or any(profile != icc_profile for profile in found.icc_profiles):
        raise MetadataLeak("the encoded image carries a colour profile redactor did not write")
    problems = {problem for p in found.icc_profiles for problem in written_profile_problems(p)}
    if problems:
        raise MetadataLeak(
            f"the encoded image's colour profile is not clean: {'; '.join(sorted(problems))}"
        )
