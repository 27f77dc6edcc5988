"""Pixel arrays: modes to RGB(A), orientation, uniform frames, and what detectors see."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageCms

from redactor.errors import UnsupportedImage
from redactor.findings import RGBImage

#: One frame: H x W x 3 (RGB) or H x W x 4 (RGBA), ``uint8`` or ``uint16``, upright.
Frame = npt.NDArray[Any]


_GREY_16BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})

#: Modes Pillow converts to RGB(A) without losing what a viewer shows. 32-bit integer and
#: float pixels ("I", "F") would be clipped to 8 bits, so they are refused instead.
_CONVERTIBLE_MODES = frozenset(
    {"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "YCbCr"}
)


def to_array(image: Image.Image, icc: bytes | None) -> Frame:
    """RGB or RGBA pixels of the current frame (``uint16`` for 16-bit grey)."""
    if image.mode in _GREY_16BIT_MODES:
        grey = np.asarray(image).astype(np.uint16)
        return np.repeat(grey[..., np.newaxis], 3, axis=2)
    if image.mode == "CMYK":
        return np.asarray(_cmyk_to_rgb(image, icc))
    if image.mode not in _CONVERTIBLE_MODES:
        raise UnsupportedImage(f"{image.mode} pixels are not supported; send 8- or 16-bit images")
    target = "RGBA" if image.has_transparency_data else "RGB"
    return np.asarray(image if image.mode == target else image.convert(target))


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _cmyk_to_rgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Through the embedded profile when LittleCMS reads it as a CMYK one, else plainly."""
    converted = None
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if source.profile.xcolor_space.strip() == "CMYK":
                converted = ImageCms.profileToProfile(
                    image, source, _srgb_profile(), outputMode="RGB"
                )
        except (ImageCms.PyCMSError, OSError):
            converted = None  # an unusable profile: fall back to the plain conversion
    return image.convert("RGB") if converted is None else converted


_ORIENT: dict[int, Callable[[Frame], Frame]] = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, -1)[::-1],
    8: lambda a: np.rot90(a, 1),
}


def upright(frame: Frame, orientation: int) -> Frame:
    """Apply an EXIF orientation (1-8) so the pixels are as a viewer shows them."""
    return np.ascontiguousarray(_ORIENT[orientation](frame))


def uniform(frames: list[Frame]) -> list[Frame]:
    """Give all frames one channel count and one dtype (alpha and 16 bits win, losslessly)."""
    sixteen = any(frame.dtype == np.uint16 for frame in frames)
    alpha = any(frame.shape[2] == 4 for frame in frames)
    if sixteen:
        frames = [_to_uint16(frame) for frame in frames]
    if alpha:
        frames = [_with_alpha(frame) for frame in frames]
    return frames


def _to_uint16(frame: Frame) -> Frame:
    return frame if frame.dtype == np.uint16 else frame.astype(np.uint16) * 257


def _with_alpha(frame: Frame) -> Frame:
    if frame.shape[2] == 4:
        return frame
    opaque = np.full((*frame.shape[:2], 1), np.iinfo(frame.dtype).max, frame.dtype)
    return np.concatenate([frame, opaque], axis=2)


def read_only(frame: Frame) -> Frame:
    frame.setflags(write=False)
    return frame


def detection_view(frame: Frame) -> RGBImage:
    """A ``uint8`` RGB copy for detectors: alpha dropped, 16 bits scaled to 8.

    Dropping (not compositing) alpha lets detectors see colours under transparent pixels
    too: lossless output keeps them, so they must be redacted like visible ones.
    """
    return np.array(to_uint8(frame[..., :3]), order="C")  # np.array copies


def detection_views(frame: Frame) -> list[RGBImage]:
    """Every view detectors must see: the colour channels, plus, when some pixels are
    not fully opaque, the frame composited on white as a viewer shows it.

    Both matter: colours under transparent pixels survive in lossless output (a cut-out
    product may still hold the original background), and content drawn only in the
    alpha channel (a black signature on transparent black) is visible only composited.
    """
    views = [detection_view(frame)]
    if frame.shape[2] == 4:
        alpha = frame[..., 3]
        top = np.iinfo(frame.dtype).max
        if int(alpha.min()) < top:
            weight = alpha.astype(np.float32)[..., None] / top
            colour = frame[..., :3].astype(np.float32)
            composite = colour * weight + top * (1.0 - weight)
            views.append(to_uint8(np.clip(composite, 0, top).astype(frame.dtype)).copy(order="C"))
    return views


def to_uint8(frame: Frame) -> npt.NDArray[np.uint8]:
    if frame.dtype == np.uint8:
        return frame
    return ((frame.astype(np.uint32) + 128) // 257).astype(np.uint8)


def from_opencv(array: Frame) -> Frame:
    if array.ndim == 2 or array.shape[2] == 1:
        return np.repeat(array.reshape(array.shape[0], array.shape[1], 1), 3, axis=2)
    return array[..., [2, 1, 0, 3]] if array.shape[2] == 4 else array[..., ::-1]


def to_opencv(frame: Frame) -> Frame:
    return frame[..., [2, 1, 0, 3]] if frame.shape[2] == 4 else frame[..., ::-1]
