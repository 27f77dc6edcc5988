"""Decoding: an upload to upright frames, under limits, from the facts inspection gives."""

from __future__ import annotations

import functools
import io
import struct
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np
import pillow_heif
from PIL import ExifTags, Image, ImageFile

from redactor.containers import ContainerFacts, ImageFormat, JpegFrame, TiffPage, inspect
from redactor.containers.png import MAX_INFLATED_PROFILE
from redactor.errors import ConfigError, CorruptImage, ImageTooLarge
from redactor.imaging.pixels import Frame, from_opencv, read_only, to_array, uniform, upright
from redactor.options import Limits


@dataclass(frozen=True)
class DecodedImage:
    """An upload decoded to upright pixels, with what was found in its container."""

    frames: tuple[Frame, ...]
    format: ImageFormat
    #: The upload's ICC profile as it came (any colour space); never written as it is.
    icc_profile: bytes | None
    #: Metadata groups in the input: name -> count of entries (never values).
    metadata_found: dict[str, int]
    #: The EXIF orientation that was applied (1-8; 1 if none).
    orientation: int
    frame_durations_ms: tuple[int, ...] | None
    loop: int | None
    #: The input was compressed losslessly; decides lossless or lossy WebP output.
    lossless: bool = False
    #: What the report should say about decoding (an invalid Orientation treated as 1).
    notes: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        return int(self.frames[0].shape[1])

    @property
    def height(self) -> int:
        return int(self.frames[0].shape[0])

    @property
    def has_alpha(self) -> bool:
        return int(self.frames[0].shape[2]) == 4

    @property
    def bit_depth(self) -> int:
        return 16 if self.frames[0].dtype == np.uint16 else 8

    @property
    def frame_count(self) -> int:
        return len(self.frames)


@dataclass
class _Pixels:
    frames: list[Frame]
    orientation: int = 1
    icc_profile: bytes | None = None
    durations: list[int] | None = None
    loop: int | None = None


@dataclass
class _PixelBudget:
    """Checks frame counts and sizes against the limits, from headers, before decoding."""

    limits: Limits
    image_format: ImageFormat
    used: int = 0

    def check_frame_count(self, count: int) -> None:
        if count > self.limits.max_frames:
            raise ImageTooLarge(
                f"the {self.image_format.label} has {count} frames, "
                f"above the limit of {self.limits.max_frames}"
            )

    def take(self, index: int, size: tuple[int, int]) -> None:
        width, height = size
        pixels = width * height
        if pixels > self.limits.max_pixels:
            raise ImageTooLarge(
                f"{self.image_format.label} frame {index} is {width}x{height} ({pixels} pixels), "
                f"above the limit of {self.limits.max_pixels} pixels per frame"
            )
        self.used += pixels
        if self.used > self.limits.max_total_pixels:
            raise ImageTooLarge(
                f"the {self.image_format.label} frames add up to more than the limit of "
                f"{self.limits.max_total_pixels} pixels"
            )


_DECODER_ERRORS = (
    AssertionError,  # Pillow asserts on some malformed palettes
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    RuntimeError,
    struct.error,
    zlib.error,
    cv2.error,
)


def _corrupt(image_format: ImageFormat) -> CorruptImage:
    return CorruptImage(
        f"the {image_format.label} data is truncated or corrupt and cannot be decoded completely"
    )


@contextmanager
def _decoder_errors(image_format: ImageFormat) -> Iterator[None]:
    """Map decoder failures to our errors, with messages that carry no bytes or names."""
    try:
        yield
    except Image.DecompressionBombError as error:
        raise ImageTooLarge(
            f"the {image_format.label} image is larger than the decoder's safety limit"
        ) from error
    except _DECODER_ERRORS as error:
        raise _corrupt(image_format) from error


def decode(data: bytes, limits: Limits) -> DecodedImage:
    """Decode an upload to upright frames, refusing anything over ``limits``."""
    if len(data) > limits.max_file_bytes:
        raise ImageTooLarge(
            f"the file is {len(data)} bytes, above the limit of {limits.max_file_bytes}"
        )
    facts = inspect(data)
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise ConfigError(
            "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True in this process; partial images "
            "could pass as whole ones. Remove whatever sets it."
        )
    budget = _PixelBudget(limits, facts.format)
    if facts.format is ImageFormat.HEIF:
        pixels = _decode_heif(data, budget)
    else:
        pixels = _decode_with_pillow(data, facts, budget)
    return DecodedImage(
        frames=tuple(read_only(frame) for frame in uniform(pixels.frames)),
        format=facts.format,
        icc_profile=pixels.icc_profile if isinstance(pixels.icc_profile, bytes) else None,
        metadata_found=dict(facts.groups),
        orientation=pixels.orientation,
        frame_durations_ms=None if pixels.durations is None else tuple(pixels.durations),
        loop=pixels.loop,
        lossless=facts.lossless,
        notes=facts.notes,
    )


def _decode_with_pillow(data: bytes, facts: ContainerFacts, budget: _PixelBudget) -> _Pixels:
    image_format = facts.format
    if image_format is ImageFormat.PNG:
        _check_png_profile_size(facts.icc_profiles)
        _verify_png(data)
    if facts.jpeg_frame is not None:
        _verify_jpeg_scans(facts.jpeg_frame)
    with (
        _decoder_errors(image_format),
        Image.open(io.BytesIO(data), formats=[image_format.label]) as image,
    ):
        if image_format is ImageFormat.TIFF:
            return _decode_tiff(image, data, facts, budget)
        if facts.sixteen_bit_colour:
            return _decode_16bit_png(image, data, budget, facts.orientation)
        return _read_pillow_frames(image, image_format, budget, facts.orientation)


def _check_png_profile_size(profiles: tuple[bytes, ...]) -> None:
    """Pillow refuses to inflate an ``iCCP`` past its limit; say why plainly."""
    if any(len(profile) > MAX_INFLATED_PROFILE for profile in profiles):
        raise ImageTooLarge(
            f"the PNG's colour profile inflates to more than {MAX_INFLATED_PROFILE} bytes, "
            "the decoder's limit"
        )


def _verify_png(data: bytes) -> None:
    """Check every chunk's CRC up to IEND: decoders accept a PNG cut after its last row."""
    with (
        _decoder_errors(ImageFormat.PNG),
        Image.open(io.BytesIO(data), formats=["PNG"]) as image,
    ):
        image.verify()


def _verify_jpeg_scans(frame: JpegFrame) -> None:
    """Refuse a JPEG whose scans are too short for its frame (libjpeg would fill in grey).

    A scan that meets a marker early is padded by libjpeg with a warning Pillow never
    sees, so a header promising 2500x2500 pixels over a few hundred bytes of data would
    decode "whole". Arithmetic-coded JPEGs (rare) can use under a bit a block: not checked.
    """
    if not frame.huffman or frame.height == 0:
        return
    if frame.scan_bytes * 8 < frame.minimum_scan_bits():
        raise CorruptImage(
            f"the JPEG's scans hold {frame.scan_bytes} bytes, too few for its "
            f"{frame.width}x{frame.height} frame: the data is truncated or corrupt"
        )


def _decode_16bit_png(
    image: Image.Image, data: bytes, budget: _PixelBudget, orientation: int
) -> _Pixels:
    budget.take(0, image.size)
    icc = image.info.get("icc_profile")
    frames = _decode_with_opencv(data, ImageFormat.PNG, [image.size])
    return _Pixels([upright(frames[0], orientation)], orientation, icc)


def _read_pillow_frames(
    image: Image.Image, image_format: ImageFormat, budget: _PixelBudget, orientation: int
) -> _Pixels:
    # A JPEG's further "frames" are MPF pictures (gain maps, depth, stereo), not what is shown.
    count = 1 if image_format is ImageFormat.JPEG else int(getattr(image, "n_frames", 1))
    budget.check_frame_count(count)
    icc = image.info.get("icc_profile")
    animated = count > 1 and image_format in (ImageFormat.GIF, ImageFormat.PNG, ImageFormat.WEBP)
    loop = image.info.get("loop") if animated else None
    frames, durations = [], []
    for index in range(count):
        image.seek(index)
        budget.take(index, image.size)
        image.load()
        frames.append(upright(to_array(image, icc), orientation))
        durations.append(round(image.info.get("duration", 0)))
    return _Pixels(frames, orientation, icc, durations if animated else None, loop)


def _decode_tiff(
    image: Image.Image, data: bytes, facts: ContainerFacts, budget: _PixelBudget
) -> _Pixels:
    """All pages of a TIFF, with the sizes, orientations and depths inspection read from
    every IFD, checked against the limits before any page is decoded."""
    pages = facts.tiff_pages
    count = int(getattr(image, "n_frames", 1))
    budget.check_frame_count(count)
    if count != len(pages):
        raise _corrupt(ImageFormat.TIFF)
    for index, page in enumerate(pages):
        budget.take(index, page.stored_size)
    icc = image.info.get("icc_profile")
    if any(page.sixteen_bit_colour for page in pages):
        arrays = _decode_with_opencv(data, ImageFormat.TIFF, [page.stored_size for page in pages])
        frames = [
            upright(array, page.orientation) for array, page in zip(arrays, pages, strict=True)
        ]
    else:
        frames = [_load_tiff_page(image, index, page, icc) for index, page in enumerate(pages)]
    return _Pixels(frames, pages[0].orientation, icc)


def _load_tiff_page(image: Image.Image, index: int, page: TiffPage, icc: bytes | None) -> Frame:
    """One page, upright: Pillow 13 applies the page's Orientation while loading and then
    deletes the tag; if a Pillow ever does not, the tag is still there and we apply it."""
    image.seek(index)
    width, height = page.stored_size
    if image.size != ((height, width) if page.orientation >= 5 else (width, height)):
        raise _corrupt(ImageFormat.TIFF)  # Pillow read other tags than inspection did
    image.load()
    array = to_array(image, icc)
    oriented_by_pillow = ExifTags.Base.Orientation not in image.tag_v2  # type: ignore[attr-defined]
    return array if oriented_by_pillow else upright(array, page.orientation)


def _decode_heif(data: bytes, budget: _PixelBudget) -> _Pixels:
    """The primary image, already turned upright by libheif (``irot``/``imir``)."""
    _register_heif_opener()
    with _decoder_errors(ImageFormat.HEIF), Image.open(io.BytesIO(data), formats=["HEIF"]) as image:
        budget.take(0, image.size)
        image.load()
        original = image.info.get("original_orientation")
        orientation = original if isinstance(original, int) and 1 <= original <= 8 else 1
        icc = image.info.get("icc_profile") or None
        return _Pixels([to_array(image, icc)], orientation, icc)


@functools.cache
def _register_heif_opener() -> None:
    """Teach Pillow HEIF once, on first use (not at import)."""
    pillow_heif.register_heif_opener()


def _decode_with_opencv(
    data: bytes, image_format: ImageFormat, sizes: Sequence[tuple[int, int]]
) -> list[Frame]:
    """16-bit colour pages through OpenCV, checked against the sizes the header declared."""
    buffer = np.frombuffer(data, np.uint8)
    if image_format is ImageFormat.TIFF:
        decoded, pages = cv2.imdecodemulti(buffer, cv2.IMREAD_UNCHANGED)
        arrays = list(pages) if decoded else []
    else:
        single = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
        arrays = [] if single is None else [single]
    if [(array.shape[1], array.shape[0]) for array in arrays] != list(sizes):
        raise _corrupt(image_format)
    return [from_opencv(array) for array in arrays]
