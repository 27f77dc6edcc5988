"""Liveness, readiness and metrics: unauthenticated, for orchestrators and Prometheus.

Expose them to the internal network only (see docs/http.md): they carry no tenant data,
but queue depth and job counts are nobody else's business.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from redactor.http.deps import Context
from redactor.http.metrics import CONTENT_TYPE
from redactor.http.schemas import HealthOut, ReadyOut
from redactor.storage import LocalStorage, Storage

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> HealthOut:
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    summary="Redis and storage are reachable",
    responses={503: {"model": ReadyOut, "description": "Redis or storage is unreachable."}},
)
def readyz(context: Context, response: Response) -> ReadyOut:
    checks = {"redis": _redis_ok(context), "storage": _storage_ok(context.client.storage)}
    ready = all(checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return ReadyOut(status="ok" if ready else "unavailable", checks=checks)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}}},
)
def metrics(context: Context) -> Response:
    return Response(context.metrics.render(), media_type=CONTENT_TYPE)


def _redis_ok(context: Context) -> bool:
    try:
        return bool(context.redis.ping())
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False


def _storage_ok(storage: Storage) -> bool:
    """A local (or mounted) folder must exist; other backends answer a cheap lookup."""
    try:
        if isinstance(storage, LocalStorage):
            return storage.root.is_dir()
        next(iter(storage.list("originals/")), None)
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False
    return True
