"""``/v1/jobs/{id}``: a job's state, its redacted image and its report.

``?wait=N`` holds the request until the job is finished or N seconds have passed
(at most :data:`MAX_WAIT`), so a small client can upload and then fetch its result in
one more round trip instead of polling.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.concurrency import run_in_threadpool

from redactor.http.deps import Context, OwnedJob
from redactor.http.routes.errors import error_responses
from redactor.http.schemas import JobOut
from redactor.jobs import JobRecord, JobState
from redactor.storage import ObjectMissing, keys

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

MAX_WAIT = 30
_POLL_SECONDS = 0.25
MEDIA_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "gif": "image/gif",
}

Wait = Annotated[
    int,
    Query(ge=0, le=MAX_WAIT, description="Seconds to wait for the job to finish (long poll)."),
]


@router.get("/{job_id}", summary="A job's state", responses=error_responses(401, 404, 429))
async def get_job(job: OwnedJob, context: Context, wait: Wait = 0) -> JobOut:
    return JobOut.from_record(await _finished(job, context, wait))


@router.get(
    "/{job_id}/result",
    summary="The redacted image",
    response_class=Response,
    responses={
        200: {
            "description": "The redacted image, without metadata.",
            "content": {
                media_type: {"schema": {"type": "string", "format": "binary"}}
                for media_type in MEDIA_TYPES.values()
            },
        },
        **error_responses(401, 404, 409, 410, 429),
    },
)
async def get_result(job: OwnedJob, context: Context, wait: Wait = 0) -> Response:
    record = await _finished(job, context, wait)
    if record.result_deleted_at is not None:
        raise HTTPException(status.HTTP_410_GONE, "the result was deleted after its retention")
    if record.state is not JobState.DONE or record.result_key is None:
        raise _not_available(record, "result")
    try:
        data = await run_in_threadpool(context.client.storage.get, record.result_key)
    except ObjectMissing:  # erased or expired since the record was read
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such job") from None
    output_format = record.output_format or ""
    name = f"{record.job_id}.{keys.extension_for(output_format)}"
    return Response(
        data,
        media_type=MEDIA_TYPES.get(output_format, "application/octet-stream"),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/{job_id}/report",
    summary="What was found and redacted (kinds, boxes, scores; never text or pixels)",
    responses=error_responses(401, 404, 409, 410, 429),
)
async def get_report(job: OwnedJob, context: Context, wait: Wait = 0) -> dict[str, Any]:
    record = await _finished(job, context, wait)
    if record.result_deleted_at is not None:
        raise HTTPException(status.HTTP_410_GONE, "the report was deleted after its retention")
    if record.report_key is None:
        raise _not_available(record, "report")
    try:
        data = await run_in_threadpool(context.client.storage.get, record.report_key)
    except ObjectMissing:  # erased or expired since the record was read
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such job") from None
    report: dict[str, Any] = json.loads(data)
    return report


async def _finished(record: JobRecord, context: Context, wait: int) -> JobRecord:
    """The record once finished, or as it is after ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while not record.finished and time.monotonic() < deadline:
        await asyncio.sleep(_POLL_SECONDS)
        fresh = await run_in_threadpool(context.client.jobs.get, record.job_id)
        if fresh is None or fresh.state is JobState.ERASED:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such job")
        record = fresh
    return record


def _not_available(record: JobRecord, what: str) -> HTTPException:
    if record.state is JobState.FAILED:
        detail = f"job failed ({record.failure_code}): no {what}"
    else:
        detail = f"job is {record.state}: no {what} yet; retry, or pass ?wait=N"
    return HTTPException(status.HTTP_409_CONFLICT, detail)
