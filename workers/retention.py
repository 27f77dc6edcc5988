"""The retention sweep task: a thin Celery adapter over :class:`redactor.retention.Sweeper`.

Celery beat sends ``redactor.sweep`` every ``REDACTOR_SWEEP_INTERVAL`` seconds (and with
``orphans=True`` every ``REDACTOR_ORPHAN_SCAN_INTERVAL``; see the one beat table in
:mod:`workers.celery_app`) to the retention queue, which ``redactor worker --retention``
consumes. Sweeps are safe to run concurrently and to repeat, so a duplicate beat or a
redelivered sweep only costs a little time.
"""

from __future__ import annotations

from celery import current_app, shared_task

from redactor.retention import Sweeper

SWEEP_TASK = "redactor.sweep"

_sweeper: Sweeper | None = None


def _get_sweeper() -> Sweeper:
    global _sweeper
    if _sweeper is None:
        from redactor.service.retention_setup import open_retention

        _sweeper = open_retention(current_app.settings).sweeper()
    return _sweeper


@shared_task(name=SWEEP_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
def sweep(orphans: bool = False) -> dict[str, int]:
    """Delete what is due now; with ``orphans``, also scan storage for untracked objects."""
    return _get_sweeper().sweep(orphans=orphans).as_dict()
