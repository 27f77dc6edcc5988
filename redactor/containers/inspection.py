"""One call reads a container: :func:`inspect` sniffs the format, runs its walker and returns
everything decoding needs; :func:`assert_metadata_free` is the output check built on it."""

from __future__ import annotations

import struct
from collections.abc import Callable

from redactor.containers.exif import Orientation, exif_orientation
from redactor.containers.facts import ContainerFacts, Found
from redactor.containers.formats import ImageFormat, sniff_format
from redactor.containers.gif import walk_gif
from redactor.containers.heif import walk_heif
from redactor.containers.icc import written_profile_problems
from redactor.containers.jpeg import walk_jpeg
from redactor.containers.png import walk_png
from redactor.containers.tiff import walk_tiff
from redactor.containers.webp import walk_webp
from redactor.errors import CorruptImage, RedactorError


class MetadataLeak(RedactorError):
    """Encoded output still carries metadata; it must not be published."""

    code = "metadata_leak"


def _walk_bmp(_data: bytes) -> Found:
    return Found()  # BMP has no metadata blocks that Pillow or we keep


_WALKERS: dict[ImageFormat, Callable[[bytes], Found]] = {
    ImageFormat.JPEG: walk_jpeg,
    ImageFormat.PNG: walk_png,
    ImageFormat.WEBP: walk_webp,
    ImageFormat.TIFF: walk_tiff,
    ImageFormat.GIF: walk_gif,
    ImageFormat.HEIF: walk_heif,
    ImageFormat.BMP: _walk_bmp,
}
#: Formats whose decoding applies the first EXIF block's Orientation (TIFF pages carry
#: their own; libheif turns HEIF images itself).
_EXIF_ORIENTED = frozenset({ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.WEBP, ImageFormat.GIF})


def inspect(data: bytes) -> ContainerFacts:
    """The format of ``data`` (from its magic bytes), its metadata and its decoding facts.

    Raises :class:`~redactor.errors.UnsupportedImage` for anything but an accepted image
    and :class:`~redactor.errors.CorruptImage` for a container that cannot be walked.
    """
    image_format = sniff_format(data)
    try:
        found = _WALKERS[image_format](data)
    except (struct.error, IndexError, ValueError) as error:  # fail closed on a walker bug
        raise CorruptImage(f"the {image_format.label} container cannot be parsed") from error
    orientation = Orientation()
    if found.exif is not None and image_format in _EXIF_ORIENTED:
        orientation = exif_orientation(found.exif)
    page_notes = [page.orientation_note for page in found.tiff_pages if page.orientation_note]
    return ContainerFacts(
        format=image_format,
        groups={name: count for name, count in sorted(found.groups.items()) if count > 0},
        icc_profiles=tuple(found.icc_profiles),
        orientation=orientation.value,
        lossless=found.lossless,
        jpeg_frame=found.jpeg_frame,
        sixteen_bit_colour=found.sixteen_bit_colour,
        tiff_pages=tuple(found.tiff_pages),
        notes=tuple(dict.fromkeys(n for n in (orientation.note, *page_notes) if n)),
    )


def metadata_in(data: bytes) -> dict[str, int]:
    """Metadata groups present in encoded bytes: group name -> count, never values."""
    return inspect(data).groups


def assert_metadata_free(data: bytes, *, icc_profile: bytes | None) -> None:
    """Raise :class:`MetadataLeak` if ``data`` carries any metadata but ``icc_profile``.

    Every profile in ``data`` must be exactly ``icc_profile`` and, read tag by tag, hold
    nothing but colour data and the text redactor writes.
    """
    facts = inspect(data)
    leaked = [name for name in facts.groups if name != "icc"]
    if leaked:
        raise MetadataLeak(f"the encoded image still carries metadata: {', '.join(leaked)}")
    if "icc" not in facts.groups:
        return
    if icc_profile is None:
        raise MetadataLeak("the encoded image still carries metadata: icc")
    if not facts.icc_profiles or any(profile != icc_profile for profile in facts.icc_profiles):
        raise MetadataLeak("the encoded image carries a colour profile redactor did not write")
    problems = {problem for p in facts.icc_profiles for problem in written_profile_problems(p)}
    if problems:
        raise MetadataLeak(
            f"the encoded image's colour profile is not clean: {'; '.join(sorted(problems))}"
        )
