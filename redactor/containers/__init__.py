"""Image containers, read without decoding pixels: the format, the metadata, the facts.

:func:`inspect` names the format from the magic bytes alone (and says what non-images
look like), then walks the container with the walker for its format: JPEG segments
(:mod:`.jpeg`), PNG chunks (:mod:`.png`), RIFF chunks (:mod:`.webp`), GIF blocks
(:mod:`.gif`), TIFF IFDs (:mod:`.tiff`, on the structure reader :mod:`.tiff_structure`
that EXIF blocks share, :mod:`.exif`), HEIF boxes through pillow-heif (:mod:`.heif`).
A walk counts the metadata groups the container holds (names and counts, never values),
collects every ICC profile, and reads what decoding needs: the EXIF orientation, whether
the compression is lossless, a JPEG's frame header and scan size, 16-bit colour, each
TIFF page's size, orientation and depth. Decoding (:mod:`redactor.imaging`) calls
:func:`inspect` once per image and parses no bytes itself.

The walkers are written by hand so that they see exactly what is in the bytes (a decoder
skips what it does not understand) and so that every loop is bounded by the length of the
data: malformed input ends a walk early, it never hangs it.

ICC profiles are read and written tag by tag in :mod:`.icc` and :mod:`.icc_types`: the
output check (:func:`assert_metadata_free`) reads every profile in an output, since a
profile's own tags can hold text.

Group names: ``exif`` (IFD0 and Exif IFD tags), ``gps``, ``exif_thumbnail`` (IFD1),
``makernote``, ``xmp``, ``iptc``, ``photoshop_irb``, ``photoshop_thumbnail``, ``icc``,
``jpeg_comment``, ``jpeg_app<n>`` (APPn segments of no known kind), ``mpf``,
``jfif_thumbnail``, ``png_text``, ``png_time``, ``png_exif``, ``png_unknown_chunks``,
``webp_exif``, ``webp_xmp``, ``webp_unknown_chunks``, ``gif_comment``, ``gif_plain_text``,
``gif_application_data``, ``tiff_subifds``, ``heif_exif``, ``heif_xmp``, ``heif_metadata``,
``heif_thumbnail``, ``heif_depth``, ``heif_aux``, ``icc_name`` (a PNG ``iCCP`` profile
name other than the neutral one) and ``trailing_data`` (bytes after the end of the
image, where cameras put extra pictures).
"""

from redactor.containers.facts import ContainerFacts, JpegFrame, TiffPage
from redactor.containers.formats import ImageFormat, sniff_format
from redactor.containers.inspection import (
    MetadataLeak,
    assert_metadata_free,
    inspect,
    metadata_in,
)

__all__ = [
    "ContainerFacts",
    "ImageFormat",
    "JpegFrame",
    "MetadataLeak",
    "TiffPage",
    "assert_metadata_free",
    "inspect",
    "metadata_in",
    "sniff_format",
]
