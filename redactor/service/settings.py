"""Settings for the queue processes (client, worker, ``redactor up``), from ``REDACTOR_*``.

Read once at each entry point and passed down. Secrets have no default outside dev
mode; a test-only knob is refused outside dev mode rather than silently ignored.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from redactor.errors import ConfigError
from redactor.jobs import DEFAULT_PENDING_LIMIT, DEFAULT_RESULT_RETENTION
from redactor.options import PipelineOptions
from redactor.retention import RetentionPolicy, Windows
from redactor.storage import keys

#: Used only with REDACTOR_DEV_MODE=1; text hashes made with it are not secret.
DEV_HASH_KEY = b"redactor-dev-mode-hash-key-not-secret"


class TenantLimits(BaseModel):
    """One tenant's maximum windows (ISO 8601 durations or seconds); absent: the default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    original: timedelta | None = Field(default=None, ge=timedelta(0))
    result: timedelta | None = Field(default=None, gt=timedelta(0))


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REDACTOR_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    #: Local development and tests: allows the dev hash key and the test delay.
    dev_mode: bool = False
    #: Broker, job records and Celery results all live in this one Redis.
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: The Celery queue the tasks go to and workers consume.
    queue: str = "redactor"
    storage_backend: str = "local"
    #: Shared by every client and worker (a shared mount until object storage lands).
    storage_dir: Path = Path("var/storage")
    #: Private temp folder for each worker process (libraries' temp files land here).
    scratch_dir: Path = Path("var/scratch")
    #: Seconds before a task is asked to stop (the job fails with ``timeout``).
    task_soft_time_limit: int = Field(default=120, gt=0)
    #: Seconds before the worker process running a task is killed.
    task_time_limit: int = Field(default=150, gt=0)
    #: Seconds an unacknowledged task stays invisible before Redis hands it to another
    #: worker. Must exceed the hard limit, or a slow task would run twice at once.
    visibility_timeout: int = Field(default=600, gt=0)
    #: How often (seconds) a worker looks for tasks whose worker died.
    restore_interval: int = Field(default=10, gt=0)
    #: Worker processes per host; default: one per CPU core.
    worker_concurrency: int | None = Field(default=None, gt=0)
    #: Key for hashing matched text in reports. Required outside dev mode.
    hash_key: SecretStr | None = None
    #: Originals are deleted this long after upload (0: as soon as the job is finished).
    original_retention: timedelta = Field(default=timedelta(hours=24), ge=timedelta(0))
    #: Results and reports are deleted this long after the job finished.
    result_retention: timedelta = Field(default=DEFAULT_RESULT_RETENTION, gt=timedelta(0))
    #: Per-tenant maximums, as JSON: ``{"acme": {"original": "PT24H", "result": "P30D"}}``.
    #: A tenant not listed may only shorten the defaults.
    tenant_limits: dict[str, TenantLimits] = Field(default_factory=dict)
    #: Window 0: an original whose job has not finished after this long is deleted anyway.
    original_pending_limit: timedelta = Field(default=DEFAULT_PENDING_LIMIT, gt=timedelta(0))
    #: Seconds between two retention sweeps (Celery beat).
    sweep_interval: float = Field(default=60.0, gt=0)
    #: Seconds between two backstop scans of storage for objects no record tracks.
    orphan_scan_interval: float = Field(default=3600.0, gt=0)
    #: Seconds a sweeper's claim on an item lasts; a killed sweeper's items return after it.
    sweep_lease: float = Field(default=300.0, gt=0)
    #: The Celery queue for sweeps, kept apart so slow images never delay a deletion.
    retention_queue: str = "redactor-retention"
    #: Seconds Celery keeps its own (tiny) task results; job records are the real status.
    result_expires: int = Field(default=24 * 3600, gt=0)
    #: Clients and workers keep retrying Redis for about this long during a restart.
    redis_outage_seconds: float = Field(default=30.0, gt=0)
    #: Dev mode only: seconds every task sleeps mid-run, to test killing a worker.
    test_task_delay: float = Field(default=0.0, ge=0)
    #: Pipeline options for jobs submitted without options of their own.
    pipeline: PipelineOptions = Field(default_factory=PipelineOptions)

    @field_validator("tenant_limits")
    @classmethod
    def _tenants_are_valid_ids(cls, limits: dict[str, TenantLimits]) -> dict[str, TenantLimits]:
        for tenant in limits:
            if not keys.TENANT_PATTERN.fullmatch(tenant):
                raise ValueError("REDACTOR_TENANT_LIMITS names a tenant that is not a valid id")
        return limits

    @model_validator(mode="after")
    def _limits_are_consistent(self) -> Self:
        if self.task_soft_time_limit >= self.task_time_limit:
            raise ValueError("REDACTOR_TASK_SOFT_TIME_LIMIT must be below REDACTOR_TASK_TIME_LIMIT")
        if self.visibility_timeout <= self.task_time_limit:
            raise ValueError(
                "REDACTOR_VISIBILITY_TIMEOUT must exceed REDACTOR_TASK_TIME_LIMIT, or Redis "
                "redelivers tasks that are still running"
            )
        if self.test_task_delay and not self.dev_mode:
            raise ValueError("REDACTOR_TEST_TASK_DELAY is only allowed with REDACTOR_DEV_MODE=1")
        return self

    def hash_key_bytes(self) -> bytes:
        """The text-hash key; raises unless it is set (or dev mode supplies a public one)."""
        if self.hash_key is not None:
            return self.hash_key.get_secret_value().encode()
        if self.dev_mode:
            return DEV_HASH_KEY
        raise ConfigError(
            "REDACTOR_HASH_KEY is not set: give workers a long random secret "
            "(e.g. `openssl rand -hex 32`), the same on every host"
        )

    def retention_policy(self) -> RetentionPolicy:
        defaults = Windows(self.original_retention, self.result_retention)
        return RetentionPolicy(
            defaults=defaults,
            limits={
                tenant: Windows(
                    limit.original if limit.original is not None else defaults.original,
                    limit.result if limit.result is not None else defaults.result,
                )
                for tenant, limit in self.tenant_limits.items()
            },
            pending_limit=self.original_pending_limit,
        )

    def concurrency(self) -> int:
        return self.worker_concurrency or os.cpu_count() or 1

    def cpu_threads_per_process(self) -> int:
        """Native threads each worker process may use: the cores shared out, at least one."""
        return max(1, (os.cpu_count() or 1) // self.concurrency())
