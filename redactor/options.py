"""Options for one redaction run, validated once when a pipeline is built."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from redactor.text.engines import ENGINES

TextPolicy = Literal["pii", "all", "off"]


def _known_engine(name: str) -> str:
    if name not in ENGINES:
        raise ValueError(f"unknown OCR engine {name!r}; choose one of: {', '.join(ENGINES)}")
    return name


#: A name in the engine registry (:data:`redactor.text.engines.ENGINES`).
OcrEngineName = Annotated[
    str, AfterValidator(_known_engine), WithJsonSchema({"type": "string", "enum": list(ENGINES)})
]

#: Kinds of finding that can be given their own style: a family (``face``, ``text``,
#: ``code``) or one precise kind such as ``pii.email``.
DEFAULT_STYLES: dict[str, str] = {"face": "blur", "text": "fill", "code": "fill"}


class Limits(BaseModel):
    """Input limits. Anything above them is refused before or while decoding."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Decoded pixels per frame (decompression bombs). About 50 MP by default.
    max_pixels: int = Field(default=50_000_000, gt=0)
    #: Size of the encoded file in bytes.
    max_file_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    #: Frames in a multi-frame file (animated GIF/WebP/PNG, multi-page TIFF).
    max_frames: int = Field(default=200, gt=0)
    #: Decoded pixels summed over all frames.
    max_total_pixels: int = Field(default=200_000_000, gt=0)


class PipelineOptions(BaseModel):
    """What to find and how to redact it. Unknown fields are an error, never ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    faces: bool = True
    #: Minimum MediaPipe score for a face. Low on purpose: a missed face is a leak,
    #: an extra blurred patch is only a cosmetic cost.
    face_threshold: float = Field(default=0.35, ge=0.05, le=0.99)
    #: Smallest face width (px) the tile pyramid is built to find; the pyramid's cost
    #: grows with the square of 1 / this (see ``docs/benchmarks.md`` for the trade-off).
    min_face_px: int = Field(default=20, ge=12, le=200)
    #: The redacted ellipse is the detection box grown by this factor.
    face_mask_scale: float = Field(default=1.35, ge=1.0, le=3.0)
    text: TextPolicy = "pii"
    ocr_engine: OcrEngineName = next(iter(ENGINES))
    #: Longest side text detection runs at (``None``: the image's own size, up to the
    #: OCR bound of 2400 px); recognition still reads full-resolution crops. 1280 found
    #: as much personal text as the full size on every set measured, in 0.6x the time at
    #: 1600x1200 and 0.45x at 4000x3000 (docs/benchmarks.md). RapidOCR only: EasyOCR
    #: detects at the image's own size.
    ocr_detection_side: int | None = Field(default=1280, ge=320, le=4000)
    codes: bool = True
    allow_terms: tuple[str, ...] = ()
    deny_terms: tuple[str, ...] = ()
    #: Style per family or per precise kind, e.g. ``{"face": "pixelate", "pii.email": "blur"}``.
    styles: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_STYLES))
    keep_icc: bool = True
    jpeg_quality: int = Field(default=92, ge=90, le=100)
    limits: Limits = Field(default_factory=Limits)

    @field_validator("styles")
    @classmethod
    def _fill_default_styles(cls, value: dict[str, str]) -> dict[str, str]:
        return {**DEFAULT_STYLES, **value}

    def style_for(self, kind: str) -> str:
        """The style for ``kind``: its own entry, else its family's."""
        from redactor.findings import kind_family

        return self.styles.get(kind) or self.styles[kind_family(kind)]
