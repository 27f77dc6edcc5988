"""Image I/O: decode uploads to upright pixels and encode them again without metadata.

Containers are read by :mod:`redactor.containers` (one :func:`~redactor.containers.inspect`
call per decoded image); this package decodes (:mod:`.decode`), converts pixels
(:mod:`.pixels`), encodes (:mod:`.encode`, GIF palettes in :mod:`.palette`) and decides
what becomes of the upload's ICC profile (:mod:`.profiles`).

Decisions, and why:

* **Format** comes from the magic bytes only; file names and content types are never read.
* **Strict decoding.** ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` must stay False (a partial
  decode would be published as if it were the whole image); if anything in the process set
  it, :func:`decode` refuses with :class:`ConfigError`. Every limit is checked from the
  header, frame by frame, before that frame's pixels are decoded, whatever
  ``Image.MAX_IMAGE_PIXELS`` says; Pillow's own ``DecompressionBombError`` maps to
  :class:`ImageTooLarge` too. The OpenCV (16-bit) and HEIF paths are checked the same way.
* **Orientation.** The EXIF Orientation of the first EXIF block is applied to the pixels
  exactly once (TIFF: each page's own tag). XMP ``tiff:Orientation`` is ignored, as browsers
  ignore it. When an EXIF block is present but no Orientation can be read from it at all
  (garbage payload), the orientation is 1: that is also what every viewer shows, so the
  output looks as the upload did. A tag that holds anything other than 1-8 (0, 9, 65535,
  text) is treated as 1 too, as browsers, Pillow and exiftool do, and the report's
  ``notes`` say so: the image is never refused for it.
* **HEIF.** libheif (through pillow-heif) applies the ``irot``/``imir`` transforms and
  pillow-heif resets the EXIF Orientation to 1, so HEIF pixels are never rotated again;
  ``orientation`` reports the original tag. Only the primary image is decoded: the output is
  one JPEG, so other images, thumbnails and depth maps are dropped, never passed through.
  HEIF alpha is kept in the decoded frames and composited over white when encoding JPEG.
* **JPEG** files with an MPF trailer (MPO) are decoded and re-encoded as their first image;
  the secondary pictures (gain maps, depth, second views) are dropped.
* **Colour.** CMYK converts to sRGB through its embedded CMYK profile when ImageCms can use
  it (plain conversion otherwise). The upload's profile is never written as it came: the
  output gets the profile :func:`redactor.imaging.profiles.choose_profile` makes of it
  (colour kept, text never), or none; GIF output never holds one.
* **16 bits.** Pillow cannot hold 16-bit colour, so 16-bit colour PNGs (not APNGs) and TIFFs
  are decoded and re-encoded with OpenCV, keeping ``uint16``. OpenCV cannot write an ICC
  profile: one is added to 16-bit PNG output by hand, and is dropped from 16-bit TIFF output.
* **Frames** are read-only arrays: copy a frame before drawing on it.
* **GIF output** keeps each frame's exact colours when they fit a 256-colour palette (with
  one entry for transparency); a composited frame with more colours is re-quantised
  (median cut, no dithering), the one lossy step in the lossless formats. GIF has one
  transparent index, so colours under fully transparent pixels are not kept.
* Identical consecutive animation frames are merged by Pillow's writers (their durations
  add up), so an output animation can have fewer frames than its input, never other pixels.
"""

from redactor.imaging.decode import DecodedImage, decode
from redactor.imaging.encode import EncodedImage, encode, output_format_for
from redactor.imaging.pixels import Frame, detection_view, detection_views

__all__ = [
    "DecodedImage",
    "EncodedImage",
    "Frame",
    "decode",
    "detection_view",
    "detection_views",
    "encode",
    "output_format_for",
]
