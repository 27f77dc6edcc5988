"""Bad inputs built by the tests themselves (no file of these is committed).

Each builder makes one hostile construct from bytes, by hand where a library would
refuse to write it: containers whose headers promise far more pixels than their bodies
hold, decompression bombs, endless frame and page chains, EXIF directories that loop or
declare huge counts, polyglots and XML entity bombs. ``testkit/hostile``
combines them into a named corpus with the outcome each must have.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Iterator

# --- PNG -------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk with a correct CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_declared_size(width: int, height: int, body: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", body)
        + png_chunk(b"IEND", b"")
    )


def _zeros_deflated(total: int, chunk: int = 1 << 20) -> bytes:
    """``total`` zero bytes, deflated as they stream (never all in memory at once)."""
    compressor = zlib.compressobj(9)
    block = b"\x00" * chunk
    parts = [compressor.compress(block) for _ in range(total // chunk)]
    parts.append(compressor.compress(b"\x00" * (total % chunk)))
    return b"".join(parts) + compressor.flush()


def decompression_bomb_png(side: int = 20_000) -> bytes:
    """A few hundred KB that would decode to ``side``² pixels of zeros."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return png_with_declared_size(side, side, body)


def huge_dimensions_tiny_body() -> bytes:
    return png_with_declared_size(100_000, 100_000, zlib.compress(b"\x00" * 64))


def png_with_chunk_before_idat(png: bytes, kind: bytes, body: bytes) -> bytes:
    """``png`` with one more chunk right after IHDR (ancillary chunks may go there)."""
    end_of_ihdr = 8 + 12 + 13
    return png[:end_of_ihdr] + png_chunk(kind, body) + png[end_of_ihdr:]


def png_ztxt_bomb(megabytes: int = 64) -> bytes:
    """A 1x1 PNG whose compressed text chunk inflates to ``megabytes`` MiB."""
    body = b"Comment\x00\x00" + _zeros_deflated(megabytes << 20)
    tiny = png_with_declared_size(1, 1, zlib.compress(b"\x00\x00"))
    return png_with_chunk_before_idat(tiny, b"zTXt", body)


def png_iccp_bomb(megabytes: int = 64) -> bytes:
    """A 1x1 PNG whose compressed ICC profile inflates to ``megabytes`` MiB."""
    body = b"bomb\x00\x00" + _zeros_deflated(megabytes << 20)
    tiny = png_with_declared_size(1, 1, zlib.compress(b"\x00\x00"))
    return png_with_chunk_before_idat(tiny, b"iCCP", body)


def apng_declaring_frames(frames: int) -> bytes:
    """A 1x1 PNG whose animation control chunk claims ``frames`` frames (it has one)."""
    tiny = png_with_declared_size(1, 1, zlib.compress(b"\x00\x00"))
    control = png_chunk(b"acTL", struct.pack(">II", frames, 0))
    frame = png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, 1, 1, 0, 0, 1, 10, 0, 0))
    end_of_ihdr = 8 + 12 + 13
    return tiny[:end_of_ihdr] + control + frame + tiny[end_of_ihdr:]


# --- GIF -------------------------------------------------------------------------------------

#: LZW data (minimum code size 2) for one pixel of colour 0: clear, 0, end.
_ONE_PIXEL_LZW = b"\x02\x02\x44\x01\x00"


def _gif_header(width: int, height: int) -> bytes:
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0)  # 2-colour global table
    return b"GIF89a" + screen + b"\x00\x00\x00\xff\xff\xff"


def _gif_frame(width: int, height: int, lzw: bytes = _ONE_PIXEL_LZW) -> bytes:
    control = b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 10 ms
    return control + b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + lzw


def gif_many_frames(count: int) -> bytes:
    """An animated GIF of ``count`` one-pixel frames (a few bytes each)."""
    return _gif_header(1, 1) + _gif_frame(1, 1) * count + b"\x3b"


def gif_huge_frame_tiny_body(side: int = 65_535) -> bytes:
    """A GIF whose screen and only frame are ``side``² pixels, with one pixel of data."""
    return _gif_header(side, side) + _gif_frame(side, side) + b"\x3b"


def gif_bomb(side: int = 7_500) -> bytes:
    """A real ``side``² single-colour GIF: LZW shrinks it a few hundred times."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("P", (side, side), 0).save(buffer, "GIF")
    return buffer.getvalue()


# --- TIFF ------------------------------------------------------------------------------------

_SHORT, _LONG = 3, 4


def _ifd(entries: list[tuple[int, int, int, int]], next_offset: int) -> bytes:
    """A little-endian IFD; entries are (tag, type, count, value-or-offset)."""
    packed = b"".join(
        struct.pack("<HHI", tag, kind, count)
        + (struct.pack("<HH", value, 0) if kind == _SHORT else struct.pack("<I", value))
        for tag, kind, count, value in sorted(entries)
    )
    return struct.pack("<H", len(entries)) + packed + struct.pack("<I", next_offset)


def _ifd_size(entries: int) -> int:
    return 2 + 12 * entries + 4


def _grey_page(
    width: int, height: int, strip: int, strip_bytes: int, compression: int
) -> list[tuple[int, int, int, int]]:
    return [
        (256, _LONG, 1, width),
        (257, _LONG, 1, height),
        (258, _SHORT, 1, 8),
        (259, _SHORT, 1, compression),
        (262, _SHORT, 1, 1),
        (273, _LONG, 1, strip),
        (277, _SHORT, 1, 1),
        (278, _LONG, 1, height),
        (279, _LONG, 1, strip_bytes),
    ]


def tiff_deflate_bomb(side: int = 12_000) -> bytes:
    """A grey TIFF of ``side``² pixels in one deflated strip of zeros (~1000:1)."""
    body = _zeros_deflated(side * side)
    strip = 8 + _ifd_size(9)
    page = _ifd(_grey_page(side, side, strip, len(body), compression=8), 0)
    return b"II*\x00" + struct.pack("<I", 8) + page + body


def tiff_huge_dimensions_tiny_body(side: int = 100_000) -> bytes:
    """An uncompressed TIFF that declares ``side``² pixels and holds one byte."""
    strip = 8 + _ifd_size(9)
    page = _ifd(_grey_page(side, side, strip, 1, compression=1), 0)
    return b"II*\x00" + struct.pack("<I", 8) + page + b"\x00"


def tiff_many_pages(count: int) -> bytes:
    """``count`` one-pixel pages chained IFD after IFD, all sharing one strip byte."""
    size = _ifd_size(9)
    strip = 8 + count * size
    pages = [
        _ifd(_grey_page(1, 1, strip, 1, compression=1), 8 + (i + 1) * size if i + 1 < count else 0)
        for i in range(count)
    ]
    return b"II*\x00" + struct.pack("<I", 8) + b"".join(pages) + b"\x00"


def tiff_ifd_loop() -> bytes:
    """A one-pixel TIFF whose first IFD names itself as the next one."""
    strip = 8 + _ifd_size(9)
    return b"II*\x00" + struct.pack("<I", 8) + _ifd(_grey_page(1, 1, strip, 1, 1), 8) + b"\x00"


def tiff_huge_tag_count() -> bytes:
    """A one-pixel TIFF with a description tag claiming 2 GiB of text past the end."""
    strip = 8 + _ifd_size(10)
    entries = [*_grey_page(1, 1, strip, 1, 1), (270, 2, 0x7FFF_FFFF, 0xFFFF_FF00)]
    return b"II*\x00" + struct.pack("<I", 8) + _ifd(entries, 0) + b"\x00"


# --- WebP ------------------------------------------------------------------------------------


class _Bits:
    """Least-significant-bit-first writer, as VP8L reads its bitstream."""

    def __init__(self) -> None:
        self.value, self.count = 0, 0

    def put(self, value: int, bits: int) -> None:
        self.value |= value << self.count
        self.count += bits

    def bytes(self) -> bytes:
        return self.value.to_bytes((self.count + 7) // 8, "little")


def riff_webp(*chunks: tuple[bytes, bytes]) -> bytes:
    body = b"".join(
        fourcc + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")
        for fourcc, data in chunks
    )
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def _vp8l_single_colour(width: int, height: int) -> bytes:
    """A lossless bitstream in which every prefix code has one symbol: zero bits a pixel."""
    bits = _Bits()
    bits.put(width - 1, 14)
    bits.put(height - 1, 14)
    bits.put(0, 1)  # alpha unused
    bits.put(0, 3)  # version 0
    bits.put(0, 1)  # no transform
    bits.put(0, 1)  # no colour cache
    bits.put(0, 1)  # no meta prefix codes
    for _ in range(5):  # green, red, blue, alpha, distance: "simple", 1 symbol, 1-bit, 0
        bits.put(1, 1)
        bits.put(0, 1)
        bits.put(0, 1)
        bits.put(0, 1)
    return b"\x2f" + bits.bytes()


def webp_lossless(width: int, height: int) -> bytes:
    return riff_webp((b"VP8L", _vp8l_single_colour(width, height)))


def webp_bomb(side: int = 16_383) -> bytes:
    """A lossless WebP of ``side``² black pixels in about 40 bytes (the format's maximum)."""
    return webp_lossless(side, side)


def webp_huge_canvas(side: int = 16_384) -> bytes:
    """An extended WebP whose canvas is ``side``² with a one-pixel image inside."""
    canvas = struct.pack("<I", 0)[:4] + (side - 1).to_bytes(3, "little") * 2
    return riff_webp((b"VP8X", canvas), (b"VP8L", _vp8l_single_colour(1, 1)))


# --- BMP, JPEG, HEIF -------------------------------------------------------------------------


def bmp_huge_dimensions_tiny_body(side: int = 30_000) -> bytes:
    """A 24-bit BMP header declaring ``side``² pixels, followed by 16 bytes."""
    info = struct.pack("<IiiHHIIiiII", 40, side, side, 1, 24, 0, 0, 2835, 2835, 0, 0)
    body = b"\x00" * 16
    return b"BM" + struct.pack("<IHHI", 14 + len(info) + len(body), 0, 0, 54) + info + body


def jpeg_with_declared_size(jpeg: bytes, width: int, height: int) -> bytes:
    """``jpeg`` with its frame header (SOF0/SOF2) rewritten to ``width`` x ``height``."""
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = jpeg.find(marker)
        if at > 0:
            return jpeg[: at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9 :]
    raise ValueError("no baseline or progressive frame header in this JPEG")


def heif_with_declared_size(heif: bytes, width: int, height: int) -> bytes:
    """``heif`` with every image spatial extent (``ispe``) box rewritten."""
    patched = bytearray(heif)
    at = patched.find(b"ispe")
    while at >= 0:
        patched[at + 8 : at + 16] = struct.pack(">II", width, height)
        at = patched.find(b"ispe", at + 4)
    return bytes(patched)


def jpeg_with_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """``jpeg`` with one more segment (``0xFFEn``, ``0xFFFE``...) right after SOI."""
    segment = struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def jpeg_with_corrupt_exif(jpeg: bytes) -> bytes:
    """A valid JPEG whose APP1 Exif segment is garbage (bad byte order, loops)."""
    payload = b"Exif\x00\x00" + b"MM\x00\x2a\x00\x00\x00\x08" + b"\xff\xff" + b"\x00\x08" * 40
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


# --- EXIF directories ------------------------------------------------------------------------

_EXIF_IFD, _GPS_IFD, _ORIENTATION, _MAKE = 0x8769, 0x8825, 0x0112, 0x010F


def _exif(entries: list[tuple[int, int, int, int]], declared: int, next_offset: int) -> bytes:
    """A big-endian EXIF block with one IFD at offset 8 that declares ``declared`` entries."""
    packed = b"".join(struct.pack(">HHII", *entry) for entry in entries)
    ifd = struct.pack(">H", declared) + packed + struct.pack(">I", next_offset)
    return b"Exif\x00\x00MM\x00\x2a" + struct.pack(">I", 8) + ifd


def exif_huge_counts() -> bytes:
    """IFD0 declares 65,535 entries (it has two), each claiming gigabytes of values."""
    entries = [
        (_MAKE, 2, 0x7FFF_FFFF, 0xFFFF_FF00),
        (_ORIENTATION, 3, 0xFFFF_FFFF, 0x0001_0000),
    ]
    return _exif(entries, declared=0xFFFF, next_offset=0xFFFF_FFF0)


def exif_ifd_loops() -> bytes:
    """IFD0 points its Exif IFD, its GPS IFD and its next IFD back at itself."""
    entries = [(_EXIF_IFD, 4, 1, 8), (_GPS_IFD, 4, 1, 8), (_ORIENTATION, 3, 1, 0x0001_0000)]
    return _exif(entries, declared=len(entries), next_offset=8)


# --- Non-images, polyglots, XML --------------------------------------------------------------


def svg() -> bytes:
    return (
        b'<?xml version="1.0"?>'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    )


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def billion_laughs(root: bytes = b"svg") -> bytes:
    """An XML document whose entities expand to 10^9 copies of "lol" if ever parsed."""
    entities = [b'<!ENTITY lol "lol">'] + [
        b'<!ENTITY lol%d "%s">'
        % (level, (b"&lol%d;" % (level - 1) if level > 1 else b"&lol;") * 10)
        for level in range(1, 10)
    ]
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE '
        + root
        + b" ["
        + b"".join(entities)
        + b"]>\n<"
        + root
        + b' xmlns="http://www.w3.org/2000/svg">&lol9;</'
        + root
        + b">\n"
    )


def xxe_svg() -> bytes:
    """An SVG that would read a local file through an external entity if parsed."""
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>\n'
    )


def xmp_entity_bomb() -> bytes:
    """An APP1 XMP payload whose packet is a billion-laughs document."""
    return b"http://ns.adobe.com/xap/1.0/\x00" + billion_laughs(b"x:xmpmeta")


def zip_archive() -> bytes:
    """A small ZIP holding a script, as appended to images to smuggle files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload/run.sh", "#!/bin/sh\necho SMUGGLED-ZIP-PAYLOAD\n")
    return buffer.getvalue()


HTML_PAYLOAD = b"<html><body><script>alert('SMUGGLED-HTML-PAYLOAD')</script></body></html>"


# --- Mutations -------------------------------------------------------------------------------


def truncations(data: bytes, step: int) -> Iterator[tuple[int, bytes]]:
    """``data`` cut after every ``step`` bytes (and after one byte less than all of it)."""
    for length in [*range(0, len(data), step), len(data) - 1]:
        yield length, data[:length]


def header_bit_flips(data: bytes, span: int, seed: int) -> Iterator[tuple[int, bytes]]:
    """One random bit flipped in each of the first ``span`` bytes, one copy per byte."""
    generator = random.Random(seed)
    for position in range(min(span, len(data))):
        flipped = bytearray(data)
        flipped[position] ^= 1 << generator.randrange(8)
        yield position, bytes(flipped)
