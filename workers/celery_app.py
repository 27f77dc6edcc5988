"""The Celery app for redaction workers, configured from :class:`ServiceSettings`.

``celery -A workers.celery_app worker`` finds ``app`` here; it is built on first access
(from the environment), so importing this module reads no settings. ``redactor worker``
builds its own app with :func:`create_app` from settings it was given.

The periodic jobs are in one table, :func:`beat_schedule`; ``celery beat`` (or
``redactor beat``, or ``redactor up``) sends them.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.signals import setup_logging

from redactor.errors import ConfigError
from redactor.logs import configure_logging, log_format
from redactor.service.settings import ServiceSettings
from redactor.service.settings_errors import load_settings
from workers.retention import SWEEP_TASK


class RedactorCelery(Celery):  # type: ignore[misc]
    """A Celery app that carries the settings it was built from, for the worker signals."""

    settings: ServiceSettings


@setup_logging.connect  # type: ignore[untyped-decorator]
def _configure_logging(loglevel: int | str | None = None, **_: Any) -> None:
    """Celery's processes log as ours do (JSON lines unless REDACTOR_LOG_FORMAT=text):
    with a receiver here, Celery leaves the logging set-up to us."""
    try:
        chosen = log_format("json")
    except ConfigError as exc:
        raise SystemExit(f"redactor: {exc}") from None
    configure_logging(chosen, loglevel or logging.INFO)


def create_app(settings: ServiceSettings) -> RedactorCelery:
    settings.hash_key_bytes()  # fail at start-up, not on the first image, if it is missing
    app = RedactorCelery("redactor", include=["workers.tasks", "workers.retention"])
    app.settings = settings
    app.conf.update(celery_config(settings))
    return app


def celery_config(settings: ServiceSettings) -> dict[str, Any]:
    return {
        # One Redis for the queue, the job records and Celery's results.
        "broker_url": settings.redis_url,
        # Celery's own results are a status string per task; job records are the real status.
        "result_backend": settings.redis_url,
        # ...and they expire, so Redis does not fill up with them.
        "result_expires": settings.result_expires,
        # JSON only: a pickled message from anyone who can reach Redis would run code.
        "accept_content": ["json"],
        "task_serializer": "json",
        "result_serializer": "json",
        # Ack after the task ran, so a task whose worker dies is delivered again.
        "task_acks_late": True,
        # ...including when the pool process running it is killed (OOM, SIGKILL).
        "task_reject_on_worker_lost": True,
        # One task at a time per process: images are slow, prefetching would starve peers.
        "worker_prefetch_multiplier": 1,
        # A new pool process loads the models before it reports up: 10-15 s on a busy
        # two-core host. Celery's default of 4 s killed every replacement of a killed
        # pool process as it loaded, for ever (seen in the worker-kill test).
        "worker_proc_alive_timeout": 120,
        # Processes per host when the command line does not say (``celery -A ... worker``
        # under systemd): REDACTOR_WORKER_CONCURRENCY, else one per core.
        "worker_concurrency": settings.concurrency(),
        # The task is asked to stop here and fails its job with reason ``timeout``.
        "task_soft_time_limit": settings.task_soft_time_limit,
        # A task stuck in native code is killed here.
        "task_time_limit": settings.task_time_limit,
        "broker_transport_options": {
            # Redelivery of unacked tasks; above the hard limit so no task runs twice at once.
            "visibility_timeout": settings.visibility_timeout,
            # How often a worker looks for such tasks (once per interval, not every tenth).
            "unacked_restore_interval": settings.restore_interval,
            "unacked_restore_throttle": 1,
            # Notice a dead Redis connection instead of waiting on it forever.
            "health_check_interval": 10,
        },
        # ``started`` in Celery's results helps operators tell queued from running tasks.
        "task_track_started": True,
        # Keep retrying the broker forever, at start-up as well as after a Redis restart.
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        # No remote control (``celery inspect``/``control``; nothing here uses them). Its
        # broadcasts arrive on a Redis pub/sub connection, and when that connection dies
        # in a Redis crash kombu 5.7 can end the worker's main process ("Unrecoverable
        # error: AttributeError: 'NoneType' object has no attribute 'hostname'", raised
        # while restoring unacked messages): 3 worker deaths in 160 Redis kills with it,
        # none in 160 without (docs/reliability.md). Containers whose health check is
        # ``celery inspect ping`` turn it on and let their restart policy cover that.
        "worker_enable_remote_control": settings.worker_remote_control,
        # Tasks go to our queue only, never to Celery's default ``celery`` queue.
        "task_default_queue": settings.queue,
        # Tasks running when Redis drops finish their job; if their ack is lost the task
        # comes back after the visibility timeout and is a no-op for a finished job.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        # Sweeps go to their own queue: behind slow images they would delete late.
        "task_routes": {SWEEP_TASK: {"queue": settings.retention_queue}},
        "beat_schedule": beat_schedule(settings),
    }


def beat_schedule(settings: ServiceSettings) -> dict[str, dict[str, Any]]:
    """Every periodic job, in one table.

    Each sweep expires after one interval: if no retention worker takes it in time, the
    next one replaces it instead of sweeps piling up behind each other.
    """
    return {
        "retention-sweep": {
            "task": SWEEP_TASK,
            "schedule": settings.sweep_interval,
            "options": {"expires": settings.sweep_interval},
        },
        "retention-orphan-scan": {
            "task": SWEEP_TASK,
            "schedule": settings.orphan_scan_interval,
            "kwargs": {"orphans": True},
            "options": {"expires": settings.orphan_scan_interval},
        },
    }


def __getattr__(name: str) -> Any:
    """``app`` for ``celery -A workers.celery_app``, built from the environment on access."""
    if name != "app":
        raise AttributeError(name)
    try:
        app = create_app(load_settings(ServiceSettings))
    except ConfigError as exc:  # one line for the operator, not Celery's traceback
        raise SystemExit(f"redactor: {exc}") from None
    globals()["app"] = app
    return app
