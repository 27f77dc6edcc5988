"""Images built in memory for the imaging and metadata tests.

Metadata is written with Pillow where it can (EXIF IFD0/Exif/GPS, PNG text, WebP EXIF/XMP,
HEIF EXIF/XMP) and by hand where it cannot (the EXIF thumbnail IFD1, XMP/IPTC/COM JPEG
segments, a CMYK ICC profile, oversized PNG headers). Every secret is a string the tests
look for in the output bytes.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, PngImagePlugin

from redactor.imaging import DecodedImage, decode, encode
from redactor.options import Limits
from testkit.badfiles import png_chunk

SECRET_SERIAL = "SN-4242-SECRET"
SECRET_ARTIST = "Jane Q. Photographer"
SECRET_GPS_DATUM = "GPS-DATUM-MARKER"
SECRET_COMMENT = b"secret comment from the camera"
SECRET_CITY = b"Secretville"
THUMBNAIL_MARKER = b"THUMBNAIL-MARKER"
XMP_PACKET = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>XMP-CREATOR-MARKER</dc:creator>'
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)
XMP_JPEG_SIGNATURE = b"http://ns.adobe.com/xap/1.0/\x00"
SRGB_ICC: bytes = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

#: Byte strings that must never reach an output built from the images below.
SECRETS = (
    SECRET_SERIAL.encode(),
    SECRET_ARTIST.encode(),
    SECRET_GPS_DATUM.encode(),
    SECRET_COMMENT,
    SECRET_CITY,
    THUMBNAIL_MARKER,
    b"XMP-CREATOR-MARKER",
    b"Exif\x00\x00",
    b"http://ns.adobe.com/xap",
    b"Photoshop 3.0",
    b"8BIM",
)


def gradient(
    height: int = 48, width: int = 64, channels: int = 3, dtype: Any = np.uint8
) -> np.ndarray:
    """A smooth, asymmetric test picture (JPEG-friendly), values spanning the dtype."""
    top = np.iinfo(dtype).max
    y, x = np.mgrid[0:height, 0:width]
    planes = [x / max(width - 1, 1), y / max(height - 1, 1), (x + y) / max(width + height - 2, 1)]
    if channels == 4:
        planes.append(0.25 + 0.75 * x / max(width - 1, 1))
    return (np.stack(planes, axis=2) * top).round().astype(dtype)


def noise(
    height: int, width: int, channels: int = 3, dtype: Any = np.uint8, seed: int = 1
) -> np.ndarray:
    top = int(np.iinfo(dtype).max)
    rng = np.random.default_rng(seed)
    return rng.integers(0, top, size=(height, width, channels), endpoint=True).astype(dtype)


def marker_image() -> np.ndarray:
    """Upright 48x32 (W x H) picture with a distinct colour block in each corner."""
    image = np.full((32, 48, 3), 128, np.uint8)
    image[:16, :16] = (255, 0, 0)
    image[:16, -16:] = (0, 255, 0)
    image[-16:, :16] = (0, 0, 255)
    image[-16:, -16:] = (255, 255, 0)
    return image


def set_tiff_orientation_of_page(data: bytes, page: int, orientation: int) -> bytes:
    """``data`` with the Orientation tag of TIFF page ``page`` (0-based) set to ``orientation``."""
    buffer = bytearray(data)
    endian = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack_from(endian + "I", data, 4)
    for _ in range(page):
        (count,) = struct.unpack_from(endian + "H", data, offset)
        (offset,) = struct.unpack_from(endian + "I", data, offset + 2 + 12 * count)
    (count,) = struct.unpack_from(endian + "H", data, offset)
    for index in range(count):
        entry = offset + 2 + 12 * index
        if struct.unpack_from(endian + "H", data, entry)[0] == 274:
            struct.pack_into(endian + "H", buffer, entry + 8, orientation)
    return bytes(buffer)


def stored_for_orientation(upright: np.ndarray, orientation: int) -> np.ndarray:
    """How a camera stores ``upright`` when it tags it with ``orientation``."""
    stored = {
        1: upright,
        2: upright[:, ::-1],
        3: upright[::-1, ::-1],
        4: upright[::-1],
        5: upright.swapaxes(0, 1),
        6: np.rot90(upright, 1),  # the viewer turns it 90° clockwise back
        7: np.rot90(upright, 2).swapaxes(0, 1),
        8: np.rot90(upright, -1),
    }[orientation]
    return np.ascontiguousarray(stored)


# --- Encoding helpers -------------------------------------------------------------------------


def encoded(array: np.ndarray | Image.Image, fmt: str, **options: Any) -> bytes:
    if fmt == "HEIF":
        pillow_heif.register_heif_opener()  # for Pillow's HEIF writer
    image = array if isinstance(array, Image.Image) else Image.fromarray(array)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def animation(frames: list[np.ndarray], fmt: str, **options: Any) -> bytes:
    images = [Image.fromarray(frame) for frame in frames]
    buffer = io.BytesIO()
    images[0].save(buffer, fmt, save_all=True, append_images=images[1:], **options)
    return buffer.getvalue()


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def with_segments(jpeg: bytes, *segments: bytes) -> bytes:
    """Insert JPEG segments right after SOI."""
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def with_png_chunks(png: bytes, *chunks: bytes) -> bytes:
    """Insert PNG chunks right after IHDR."""
    end_of_ihdr = 8 + 12 + 13
    return png[:end_of_ihdr] + b"".join(chunks) + png[end_of_ihdr:]


# --- Metadata ----------------------------------------------------------------------------------


def camera_exif(orientation: int | None = None, *, thumbnail: bool = False) -> bytes:
    """EXIF with Artist, body serial number and GPS (by Pillow), optionally an IFD1 thumbnail."""
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[0x013B] = SECRET_ARTIST
    if orientation is not None:
        exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0xA431] = SECRET_SERIAL
    gps = exif.get_ifd(0x8825)
    gps[0x0001] = "N"
    gps[0x0002] = (52.0, 31.0, 12.5)
    gps[0x0012] = SECRET_GPS_DATUM
    data = exif.tobytes()
    return _with_thumbnail(data) if thumbnail else data


def thumbnail_jpeg() -> bytes:
    return with_segments(encoded(noise(16, 16), "JPEG"), segment(0xFE, THUMBNAIL_MARKER))


def _with_thumbnail(exif: bytes) -> bytes:
    """Append an IFD1 pointing at a JPEG thumbnail (Pillow does not write IFD1)."""
    header, tiff = exif[:6], bytearray(exif[6:])
    endian = "<" if tiff[:2] == b"II" else ">"
    (ifd0,) = struct.unpack_from(endian + "I", tiff, 4)
    (entries,) = struct.unpack_from(endian + "H", tiff, ifd0)
    ifd1 = len(tiff) + len(tiff) % 2
    tiff += b"\x00" * (ifd1 - len(tiff))
    struct.pack_into(endian + "I", tiff, ifd0 + 2 + 12 * entries, ifd1)
    thumbnail = thumbnail_jpeg()
    thumbnail_at = ifd1 + 2 + 2 * 12 + 4
    tiff += struct.pack(endian + "H", 2)
    tiff += struct.pack(endian + "HHII", 0x0201, 4, 1, thumbnail_at)
    tiff += struct.pack(endian + "HHII", 0x0202, 4, 1, len(thumbnail))
    tiff += struct.pack(endian + "I", 0) + thumbnail
    return header + bytes(tiff)


def iptc_datasets() -> bytes:
    def dataset(number: int, value: bytes) -> bytes:
        return struct.pack(">BBBH", 0x1C, 2, number, len(value)) + value

    return dataset(80, SECRET_ARTIST.encode()) + dataset(90, SECRET_CITY)


def photoshop_irb() -> bytes:
    body = iptc_datasets()
    resource = (
        b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(body)) + body
    )
    return b"Photoshop 3.0\x00" + resource + b"\x00" * (len(body) % 2)


def jpeg_full_of_metadata(pixels: np.ndarray | None = None) -> bytes:
    """A JPEG with EXIF (GPS, serial, Artist, IFD1 thumbnail), XMP, IPTC, COM and an ICC profile."""
    jpeg = encoded(
        gradient() if pixels is None else pixels, "JPEG", quality=95, icc_profile=SRGB_ICC
    )
    return with_segments(
        jpeg,
        segment(0xE1, camera_exif(thumbnail=True)),
        segment(0xE1, XMP_JPEG_SIGNATURE + XMP_PACKET),
        segment(0xED, photoshop_irb()),
        segment(0xFE, SECRET_COMMENT),
    )


def png_full_of_metadata(pixels: np.ndarray | None = None) -> bytes:
    """A PNG with tEXt, zTXt, iTXt, XMP, tIME, eXIf and iCCP chunks."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", SECRET_ARTIST)
    info.add_text("Comment", SECRET_COMMENT.decode(), zip=True)
    info.add_itxt("Description", "about " + SECRET_CITY.decode())
    info.add_itxt("XML:com.adobe.xmp", XMP_PACKET.decode())
    info.add(b"tIME", struct.pack(">HBBBBB", 2024, 5, 6, 7, 8, 9))
    source = gradient(channels=4) if pixels is None else pixels
    return encoded(
        source, "PNG", pnginfo=info, exif=camera_exif(thumbnail=True), icc_profile=SRGB_ICC
    )


def webp_full_of_metadata(*, lossless: bool) -> bytes:
    return encoded(
        gradient(),
        "WEBP",
        lossless=lossless,
        exif=camera_exif(thumbnail=True),
        xmp=XMP_PACKET,
        icc_profile=SRGB_ICC,
    )


def heic_with_metadata(pixels: np.ndarray | None = None) -> bytes:
    return encoded(
        gradient(64, 96) if pixels is None else pixels,
        "HEIF",
        quality=90,
        exif=camera_exif(thumbnail=True),
        xmp=XMP_PACKET,
        icc_profile=SRGB_ICC,
    )


def tiff_full_of_metadata() -> bytes:
    """A TIFF with Artist, a description, Exif (serial) and GPS IFDs, XMP, IPTC and ICC tags."""
    tags: dict[int, Any] = {315: SECRET_ARTIST, 270: "about " + SECRET_CITY.decode()}
    tags |= {700: XMP_PACKET, 33723: iptc_datasets()}
    tags |= {0x8769: {0xA431: SECRET_SERIAL}, 0x8825: {0x0001: "N", 0x0012: SECRET_GPS_DATUM}}
    return encoded(gradient(), "TIFF", tiffinfo=tags, icc_profile=SRGB_ICC)


def gif_with_comment_and_xmp() -> bytes:
    gif = encoded(gradient().astype(np.uint8)[..., 0], "GIF", comment=SECRET_COMMENT)
    xmp = b"\x21\xff\x0bXMP DataXMP" + _gif_sub_blocks(XMP_PACKET)
    return gif[:-1] + xmp + gif[-1:]  # before the trailer


def _gif_sub_blocks(data: bytes) -> bytes:
    blocks = b"".join(
        bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255)
    )
    return blocks + b"\x00"


def cmyk_icc_profile() -> bytes:
    """A minimal ICC v2 CMYK printer profile whose table sends every ink mix to a red Lab.

    Any CMYK converted through it comes out red, which no plain CMYK->RGB conversion does.
    """
    ramp = bytes(range(256))
    identity = b"".join(
        struct.pack(">i", 0x10000 if r == c else 0) for r in range(3) for c in range(3)
    )
    red_lab = bytes([136, 208, 195])  # L*=53, a*=80, b*=67 in lut8 encoding
    lut = (
        b"mft1\x00\x00\x00\x00"
        + bytes([4, 3, 2, 0])
        + identity
        + ramp * 4
        + red_lab * 16
        + ramp * 3
    )
    white = b"XYZ \x00\x00\x00\x00" + struct.pack(">iii", 0xF6D6, 0x10000, 0xD32D)
    tags = [(b"A2B0", lut), (b"wtpt", white)]
    table = struct.pack(">I", len(tags))
    body = b""
    first = 128 + 4 + 12 * len(tags)
    for signature, data in tags:
        table += signature + struct.pack(">II", first + len(body), len(data))
        body += data + b"\x00" * (-len(data) % 4)
    header = struct.pack(
        ">I4sI4s4s4s", first + len(body), b"lcms", 0x02100000, b"prtr", b"CMYK", b"Lab "
    )
    header += b"\x00" * 12 + b"acsp" + b"\x00" * 28 + struct.pack(">iii", 0xF6D6, 0x10000, 0xD32D)
    return header.ljust(128, b"\x00") + table + body


# --- Hostile inputs ------------------------------------------------------------------------------


def png_header_only(
    width: int, height: int, idat: bytes, *, bit_depth: int = 8, colour: int = 0
) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def bilevel_bomb_png(side: int = 20_000) -> bytes:
    """A complete, valid 1-bit PNG of ``side``² zero pixels: tens of KB on disk, 400 MP decoded."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return png_header_only(side, side, body, bit_depth=1)


LIMITS = Limits()


def round_trip(data: bytes) -> tuple[DecodedImage, DecodedImage, bytes]:
    """Decode, encode the frames unchanged, decode the output: (input, output, output bytes)."""
    source = decode(data, LIMITS)
    output = encode(source.frames, source, icc="keep", jpeg_quality=92)
    return source, decode(output.data, LIMITS), output.data


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else 10 * np.log10(255**2 / error)


def distinct_frames(count: int, channels: int = 3) -> list[np.ndarray]:
    """``count`` small frames that differ (colour, a moving square, with ``channels`` 4 a
    growing transparent band)."""
    frames = []
    for index in range(count):
        frame = np.zeros((20, 24, channels), np.uint8)
        frame[..., :3] = (40 * index, 255 - 40 * index, 90)
        frame[2 + index : 8 + index, 3:9, :3] = (250, 250, 250)
        if channels == 4:
            frame[..., 3] = 255
            frame[:, : 4 + index, 3] = 0
        frames.append(frame)
    return frames
