"""Job records as flat ``str -> str`` fields: the hash the Redis job store keeps.

Readable by any language: times are ISO 8601 UTC, windows are seconds, options JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from redactor.jobs import JobRecord, JobState

_SCALARS = ("job_id", "tenant", "original_key", "result_key", "report_key", "output_format")
_FAILURE = ("failure_code", "failure_message")


def to_fields(record: JobRecord) -> dict[str, str]:
    """Flat ``str -> str`` fields; absent values are left out. Readable by any language."""
    fields: dict[str, str] = {
        name: value
        for name in (*_SCALARS, *_FAILURE)
        if (value := getattr(record, name)) is not None
    }
    fields["state"] = record.state.value
    fields["attempts"] = str(record.attempts)
    if record.options:
        fields["options"] = _json(record.options)
    fields["original_deadline"] = _iso(record.original_deadline)
    if record.result_deadline is not None:
        fields["result_deadline"] = _iso(record.result_deadline)
    if record.counts:
        fields["counts"] = _json(record.counts)
    fields.update({f"at_{state.value}": _iso(at) for state, at in record.timestamps.items()})
    fields.update(_retention_fields(record))
    return fields


def _retention_fields(record: JobRecord) -> dict[str, str]:
    fields: dict[str, str] = {}
    if record.result_retention is not None:
        fields["result_retention"] = str(record.result_retention.total_seconds())
    if record.original_until_finished:
        fields["original_until_finished"] = "1"
    for name in ("original_deleted_at", "result_deleted_at"):
        if (at := getattr(record, name)) is not None:
            fields[name] = _iso(at)
    return fields


def from_fields(fields: Mapping[str, str]) -> JobRecord:
    result_retention = fields.get("result_retention")
    return JobRecord(
        job_id=fields["job_id"],
        tenant=fields["tenant"],
        state=JobState(fields["state"]),
        original_key=fields["original_key"],
        options=json.loads(fields.get("options", "{}")),
        original_deadline=datetime.fromisoformat(fields["original_deadline"]),
        timestamps={
            state: datetime.fromisoformat(at)
            for state in JobState
            if (at := fields.get(f"at_{state.value}")) is not None
        },
        attempts=int(fields["attempts"]),
        result_deadline=_optional_time(fields.get("result_deadline")),
        result_key=fields.get("result_key"),
        report_key=fields.get("report_key"),
        output_format=fields.get("output_format"),
        counts=json.loads(fields.get("counts", "{}")),
        failure_code=fields.get("failure_code"),
        failure_message=fields.get("failure_message"),
        result_retention=timedelta(seconds=float(result_retention)) if result_retention else None,
        original_until_finished=fields.get("original_until_finished") == "1",
        original_deleted_at=_optional_time(fields.get("original_deleted_at")),
        result_deleted_at=_optional_time(fields.get("result_deleted_at")),
    )


def _json(data: Mapping[str, object]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _optional_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()
