"""The retention sweep task: a thin Celery adapter over :class:`redactor.retention.Sweeper`.

Celery beat sends ``redactor.sweep`` every ``REDACTOR_SWEEP_INTERVAL`` seconds (and with
``orphans=True`` every ``REDACTOR_ORPHAN_SCAN_INTERVAL``; see the one beat table in
:mod:`workers.celery_app`) to the retention queue, which ``redactor worker --retention``
consumes. Sweeps are safe to run concurrently and to repeat, so a duplicate beat or a
redelivered sweep only costs a little time.
"""

from __future__ import annotations

from celery import current_app, shared_task

from redactor.clock import utcnow
from redactor.retention import Sweeper
from redactor.service.requeue import Requeuer, open_requeuer

SWEEP_TASK = "redactor.sweep"

_sweeper: Sweeper | None = None
_requeuer: Requeuer | None = None


def _get_sweeper() -> Sweeper:
    global _sweeper
    if _sweeper is None:
        from redactor.service.retention_setup import open_retention

        _sweeper = open_retention(current_app.settings).sweeper()
    return _sweeper


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
    sweeps instead of leaving it queued for ever.
    """
    summary = _get_sweeper().sweep(orphans=orphans).as_dict()
    summary["requeued"] = _get_requeuer().requeue_lost(utcnow())
    return summary
