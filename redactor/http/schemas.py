"""Request and response bodies of the HTTP API: what the OpenAPI schema publishes.

Requests and responses have separate models: a response carries server-made fields
(ids, times, links) a client can never send, and a request model forbids unknown
fields so a typo is an error rather than a silently ignored option.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from redactor.jobs import JobRecord, JobState
from redactor.options import IccMode, TextPolicy
from redactor.styles import STYLE_KIND_PATTERN, STYLES
from redactor.text.ocr import Precision

#: ``kind=style`` pairs, comma-separated: a family (face, text, code) or a precise kind,
#: and a style of the registry; both from :mod:`redactor.styles`.
_STYLE_PAIR = f"{STYLE_KIND_PATTERN}=(?:{'|'.join(STYLES)})"
STYLES_PATTERN = f"^{_STYLE_PAIR}(?:,{_STYLE_PAIR}){{0,19}}$"


#: Retention asked for per upload is capped by the tenant's maximum; this only keeps the
#: numbers sane (about ten years).
_MAX_SECONDS = 3650 * 24 * 3600


class UploadOptionsForm(BaseModel):
    """The form fields of ``POST /v1/uploads`` besides the files. Omitted: defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: TextPolicy | None = Field(
        default=None, description="Text to redact: personal text only, all text, or none."
    )
    codes: bool | None = Field(default=None, description="Redact barcodes and QR codes.")
    styles: str | None = Field(
        default=None,
        pattern=STYLES_PATTERN,
        description=f"Styles per kind, e.g. `face=pixelate,text=fill`; styles: "
        f"{', '.join(STYLES)}.",
        examples=["face=pixelate"],
    )
    icc: IccMode | None = Field(
        default=None,
        description="The colour profile: `sanitise` (its colour tags only, with neutral "
        "text; sRGB and Display P3 become redactor's own copies), `keep` (its own colour "
        "tags, never a copy; text is still never kept) or `drop`.",
    )
    ocr_precision: Precision | None = Field(
        default=None,
        description="RapidOCR's text detector: `int8-proposal` (quantised in the first "
        "pass that chooses where to look only), `fp32` (the float network) or `int8` "
        "(quantised: faster, but it may miss small print). Omitted: the server's default "
        "(`int8-proposal` unless `REDACTOR_OCR_PRECISION` says otherwise).",
    )
    original_retention: int | None = Field(
        default=None,
        ge=0,
        le=_MAX_SECONDS,
        description="Seconds to keep the original (0: until the job is finished), within "
        "the tenant's maximum.",
    )
    result_retention: int | None = Field(
        default=None,
        ge=1,
        le=_MAX_SECONDS,
        description="Seconds to keep the result and report after the job finished, within "
        "the tenant's maximum.",
    )

    def windows(self) -> tuple[timedelta | None, timedelta | None]:
        """``(original, result)`` retention asked for; ``None``: the tenant's default."""
        return _seconds(self.original_retention), _seconds(self.result_retention)

    def style_map(self) -> dict[str, str]:
        if self.styles is None:
            return {}
        return dict(pair.split("=", 1) for pair in self.styles.split(","))


def _seconds(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def upload_request_schema() -> dict[str, Any]:
    """The multipart body's JSON Schema (the route parses the stream itself, see deps)."""
    options = UploadOptionsForm.model_json_schema()
    return {
        "type": "object",
        "required": ["files"],
        "properties": {
            "files": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "format": "binary"},
                "description": "One or more images (JPEG, PNG, WebP, TIFF, BMP, GIF, HEIC), "
                "sniffed from their bytes; file names are ignored.",
            },
            **{name: _without_null(field) for name, field in options["properties"].items()},
        },
        "additionalProperties": False,
    }


def _without_null(field: dict[str, Any]) -> dict[str, Any]:
    """A form field is present or absent, never ``null``: drop the null branch."""
    branches = [branch for branch in field.get("anyOf", []) if branch.get("type") != "null"]
    if len(branches) != 1:
        return field
    rest = {key: value for key, value in field.items() if key not in {"anyOf", "default"}}
    return {**rest, **branches[0]}


class Links(BaseModel):
    job: str
    result: str
    report: str
    upload: str

    @classmethod
    def for_job(cls, job_id: str) -> Links:
        return cls(
            job=f"/v1/jobs/{job_id}",
            result=f"/v1/jobs/{job_id}/result",
            report=f"/v1/jobs/{job_id}/report",
            upload=f"/v1/uploads/{job_id}",
        )


class JobAccepted(BaseModel):
    id: str
    state: JobState
    original_deadline: datetime
    links: Links


class UploadAccepted(BaseModel):
    jobs: list[JobAccepted]


class FailureOut(BaseModel):
    code: str
    message: str


class JobOut(BaseModel):
    id: str
    state: JobState
    created_at: datetime
    updated_at: datetime
    #: When the job entered each state it has been in.
    timestamps: dict[JobState, datetime]
    original_deadline: datetime
    result_deadline: datetime | None
    #: When the original was verifiably deleted (retention); ``null`` while it is kept.
    original_deleted_at: datetime | None = None
    #: When the result and report were deleted (retention); ``null`` while they are kept.
    result_deleted_at: datetime | None = None
    output_format: str | None
    failure: FailureOut | None
    links: Links

    @classmethod
    def from_record(cls, record: JobRecord) -> JobOut:
        failure = None
        if record.failure_code is not None:
            failure = FailureOut(code=record.failure_code, message=record.failure_message or "")
        return cls(
            id=record.job_id,
            state=record.state,
            created_at=record.timestamps[JobState.RECEIVED],
            updated_at=max(record.timestamps.values()),
            timestamps=record.timestamps,
            original_deadline=record.original_deadline,
            result_deadline=record.result_deadline,
            original_deleted_at=record.original_deleted_at,
            result_deleted_at=record.result_deleted_at,
            output_format=record.output_format,
            failure=failure,
            links=Links.for_job(record.job_id),
        )


class JobPage(BaseModel):
    items: list[JobOut]
    #: Pass as ``cursor`` for the next (older) page; ``null`` on the last page.
    next_cursor: str | None


class ErrorOut(BaseModel):
    detail: str


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str
    #: The offending value when it is a single one, cut to 64 characters.
    input: str | int | float | bool | None = None


class ValidationErrorOut(BaseModel):
    """422: which fields were wrong and why (FastAPI's own shape)."""

    detail: list[FieldError]


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, bool]
