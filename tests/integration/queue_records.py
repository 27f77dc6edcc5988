"""Job records made the way the client makes them, so a test can send its own task message."""

from __future__ import annotations

import uuid

from redactor.clock import utcnow
from redactor.jobs import JobRecord, JobState
from redactor.service.client import RedactorClient
from redactor.storage import keys
from testkit.services import FAST_OPTIONS
from tests.support import shared_image

FACE = "face_group_selfie.jpg"


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def create_queued_record(client: RedactorClient, tenant_id: str, *, store_original: bool) -> str:
    """What the client does before sending the task, so a test can send its own message."""
    job_id = keys.new_upload_id()
    record = JobRecord.new(
        job_id,
        tenant_id,
        FAST_OPTIONS,
        now=utcnow(),
        original_retention=client.settings.original_retention,
    )
    if store_original:
        client.storage.put(record.original_key, shared_image(FACE).read_bytes())
    client.jobs.create(record)
    client.jobs.transition(job_id, JobState.QUEUED, expected={JobState.RECEIVED})
    return job_id
