"""Settings for the queue processes (client, worker, ``redactor up``), from ``REDACTOR_*``.

Read once at each entry point and passed down. Secrets have no default outside dev
mode; a test-only knob is refused outside dev mode rather than silently ignored.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from redactor.errors import ConfigError
from redactor.options import PipelineOptions

#: Used only with REDACTOR_DEV_MODE=1; text hashes made with it are not secret.
DEV_HASH_KEY = b"redactor-dev-mode-hash-key-not-secret"


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
    #: Originals are deleted this long after upload.
    original_retention: timedelta = timedelta(hours=24)
    #: Results and reports are deleted this long after they are published.
    result_retention: timedelta = timedelta(days=30)
    #: Seconds Celery keeps its own (tiny) task results; job records are the real status.
    result_expires: int = Field(default=24 * 3600, gt=0)
    #: Clients and workers keep retrying Redis for about this long during a restart.
    redis_outage_seconds: float = Field(default=30.0, gt=0)
    #: Dev mode only: seconds every task sleeps mid-run, to test killing a worker.
    test_task_delay: float = Field(default=0.0, ge=0)
    #: Pipeline options for jobs submitted without options of their own.
    pipeline: PipelineOptions = Field(default_factory=PipelineOptions)

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

    def concurrency(self) -> int:
        return self.worker_concurrency or os.cpu_count() or 1

    def cpu_threads_per_process(self) -> int:
        """Native threads each worker process may use: the cores shared out, at least one."""
        return max(1, (os.cpu_count() or 1) // self.concurrency())
