"""What inspecting a container finds: metadata groups, profiles and the facts decoding needs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from redactor.containers.exif import count_exif
from redactor.containers.formats import ImageFormat

#: Frame headers of Huffman-coded DCT JPEGs (baseline, extended, progressive).
HUFFMAN_DCT_FRAMES = frozenset({0xC0, 0xC1, 0xC2})


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
        return self.marker in HUFFMAN_DCT_FRAMES

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


@dataclass(frozen=True)
class TiffPage:
    """One page (IFD) of a TIFF as its tags describe it."""

    #: (width, height) as stored, before the page's orientation is applied.
    stored_size: tuple[int, int]
    #: The page's Orientation tag (1-8; 1 if none).
    orientation: int
    #: 16-bit RGB(A) or grey+alpha samples, which Pillow would reduce to 8 bits.
    sixteen_bit_colour: bool
    #: Why the orientation is 1 although the page has an Orientation tag (an invalid value).
    orientation_note: str | None = None


@dataclass
class Found:
    """What one walk over a container found; each walker fills in what its format has."""

    groups: Counter[str] = field(default_factory=Counter)
    #: The first EXIF block (TIFF structure), the one a viewer reads the orientation from.
    exif: bytes | None = None
    #: Every ICC profile found, as stored (``b""`` for one that cannot be extracted).
    icc_profiles: list[bytes] = field(default_factory=list)
    #: Compressed losslessly (WebP: only when every bitstream is VP8L).
    lossless: bool = True
    jpeg_frame: JpegFrame | None = None
    #: A still PNG with 16-bit colour samples, which Pillow would reduce to 8 bits.
    sixteen_bit_colour: bool = False
    tiff_pages: list[TiffPage] = field(default_factory=list)

    def add_exif(self, block: bytes) -> None:
        if self.exif is None:
            self.exif = block
        count_exif(block, self.groups)


@dataclass(frozen=True)
class ContainerFacts:
    """Everything :func:`redactor.containers.inspect` reads from a container."""

    format: ImageFormat
    #: Metadata groups present: name -> count of entries (never values), sorted by name.
    groups: dict[str, int]
    #: Every ICC profile in the container, as stored.
    icc_profiles: tuple[bytes, ...]
    #: The Orientation of the first EXIF block (1-8; 1 if none or invalid), which JPEG, PNG,
    #: WebP and GIF decoding applies. TIFF pages carry their own; HEIF is turned by libheif.
    orientation: int
    lossless: bool
    jpeg_frame: JpegFrame | None
    sixteen_bit_colour: bool
    tiff_pages: tuple[TiffPage, ...]
    #: What a reader of the report should know: an invalid Orientation treated as 1.
    notes: tuple[str, ...] = ()
