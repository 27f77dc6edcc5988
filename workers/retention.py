"""The retention sweep task: a thin Celery adapter over :class:`redactor.retention.Sweeper`.

Celery beat sends ``redactor.sweep`` every ``REDACTOR_SWEEP_INTERVAL`` seconds (and with
``orphans=True`` every ``REDACTOR_ORPHAN_SCAN_INTERVAL``; see the one beat table in
:mod:`workers.celery_app`) to the retention queue, which ``redactor worker --retention``
consumes. Sweeps are safe to run concurrently and to repeat, so a duplicate beat or a
redelivered sweep only costs a little time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from celery import current_app, shared_task

from redactor.clock import utcnow
from redactor.service.requeue import Requeuer, open_requeuer

if TYPE_CHECKING:
    from redactor.service.retention_setup import Retention

SWEEP_TASK = "redactor.sweep"

_retention: Retention | None = None
_requeuer: Requeuer | None = None


def _get_retention() -> Retention:
    global _retention
    if _retention is None:
        from redactor.service.retention_setup import open_retention

        _retention = open_retention(current_app.settings)
    return _retention


def _get_requeuer() -> Requeuer:
    global _requeuer
    if _requeuer is None:
        _requeuer = open_requeuer(current_app.settings)
    return _requeuer


@shared_task(name=SWEEP_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
def sweep(orphans: bool = False) -> dict[str, int]:
    """Delete what is due now; with ``orphans``, also scan storage for untracked objects.

    Each sweep also sends the task again for jobs whose message was lost
    (:mod:`redactor.service.requeue`), so a lost message delays a job by at most a few
    sweeps instead of leaving it queued for ever. Then the audit log's tail is archived.
    """
    summary = _get_retention().sweep(orphans=orphans)
    summary["requeued"] = _get_requeuer().requeue_lost(utcnow())
    return summary
