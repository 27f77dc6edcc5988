"""``/v1/uploads``: submit images, list the tenant's uploads, erase one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from redactor.containers import sniff_format
from redactor.errors import UnsupportedImage
from redactor.http.deps import Context, CurrentKey, OwnedJob, Upload
from redactor.http.listing import InvalidCursor, decode_cursor, encode_cursor
from redactor.http.multipart import SpooledFile, UploadBody
from redactor.http.routes.errors import error_responses
from redactor.http.schemas import (
    JobAccepted,
    JobOut,
    JobPage,
    Links,
    UploadAccepted,
    UploadOptionsForm,
    upload_request_schema,
)
from redactor.options import PipelineOptions
from redactor.retention import RetentionLimitExceeded, RetentionPolicy
from redactor.service.client import RedactorClient
from redactor.service.erasure import erase

router = APIRouter(prefix="/v1/uploads", tags=["uploads"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Upload images for redaction",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": upload_request_schema()}},
        }
    },
    responses=error_responses(400, 401, 413, 415, 422, 429, 503),
)
async def create_upload(key: CurrentKey, context: Context, body: Upload) -> UploadAccepted:
    """Queue each image as one job; poll the links, or long-poll with ``?wait=N``."""
    form = _options_form(body)
    options = _pipeline_options(context.settings.pipeline, form)
    _check_retention(context.client.policy, key.tenant, form)
    _check_formats(body)
    accepted = []
    for spooled in body.files:
        job_id = await run_in_threadpool(
            _submit, context.client, spooled, key.tenant, form, options
        )
        record = await run_in_threadpool(context.client.status, job_id)
        context.metrics.uploads.inc()
        accepted.append(
            JobAccepted(
                id=job_id,
                state=record.state,
                original_deadline=record.original_deadline,
                links=Links.for_job(job_id),
            )
        )
    return UploadAccepted(jobs=accepted)


@router.get(
    "", summary="List this tenant's uploads, newest first", responses=error_responses(401, 429)
)
def list_uploads(
    key: CurrentKey,
    context: Context,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor`")] = None,
) -> JobPage:
    try:
        after = decode_cursor(cursor) if cursor is not None else None
    except InvalidCursor as exc:
        raise _invalid(("query", "cursor"), str(exc)) from None
    page = context.client.jobs.page(key.tenant, limit=limit, after=after)
    return JobPage(
        items=[JobOut.from_record(record) for record in page.records],
        next_cursor=encode_cursor(page.next) if page.next else None,
    )


@router.delete(
    "/{job_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase an upload: its original, result and report",
    responses=error_responses(401, 404, 429),
)
def erase_upload(job: OwnedJob, context: Context) -> Response:
    """Deletes every stored object of the upload; its id answers 404 from then on."""
    erase(context.client.jobs, context.client.storage, job.tenant, job.job_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _submit(
    client: RedactorClient,
    spooled: SpooledFile,
    tenant: str,
    form: UploadOptionsForm,
    options: PipelineOptions,
) -> str:
    original, result = form.windows()
    return client.submit(
        spooled.read(),
        tenant=tenant,
        options=options,
        original_retention=original,
        result_retention=result,
    )


def _options_form(body: UploadBody) -> UploadOptionsForm:
    if not body.files:
        raise _invalid(("body", "files"), "at least one image is required")
    repeated = [name for name, values in body.fields.items() if len(values) > 1]
    if repeated:
        raise _invalid(("body", repeated[0]), "give each option once")
    try:
        return UploadOptionsForm.model_validate({k: v[0] for k, v in body.fields.items()})
    except ValidationError as exc:
        raise _body_errors(exc) from None


def _body_errors(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError(
        [
            {**error, "loc": ("body", *error["loc"])}
            for error in exc.errors(include_url=False, include_context=False)
        ]
    )


def _pipeline_options(defaults: PipelineOptions, form: UploadOptionsForm) -> PipelineOptions:
    """The server's defaults with the form's choices (already checked by its schema)."""
    changes = {
        "text": form.text or defaults.text,
        "codes": defaults.codes if form.codes is None else form.codes,
        "icc": form.icc or defaults.icc,
        "ocr_precision": form.ocr_precision or defaults.ocr_precision,
        "styles": {**defaults.styles, **form.style_map()},
    }
    try:
        return PipelineOptions.model_validate({**defaults.model_dump(), **changes})
    except ValidationError as exc:  # a choice the server's defaults cannot take
        raise _body_errors(exc) from None


def _check_formats(body: UploadBody) -> None:
    """415 unless every file is an image format we decode, judged from its bytes."""
    for number, spooled in enumerate(body.files, start=1):
        try:
            sniff_format(spooled.head())
        except UnsupportedImage as exc:
            raise HTTPException(
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"file {number}: {exc}"
            ) from None


def _check_retention(policy: RetentionPolicy, tenant: str, form: UploadOptionsForm) -> None:
    """422 naming the field if a window is over the tenant's maximum (before storing)."""
    original, result = form.windows()
    for field, windows in (
        ("original_retention", {"original": original}),
        ("result_retention", {"result": result}),
    ):
        try:
            policy.resolve(tenant, **windows)
        except RetentionLimitExceeded as exc:
            raise _invalid(("body", field), str(exc)) from None


def _invalid(loc: tuple[str, ...], message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": loc, "msg": message, "type": "value_error"}])
