"""Settings for the queue processes (client, worker, ``redactor up``), from ``REDACTOR_*``.

Read once at each entry point and passed down. Secrets have no default outside dev
mode; a test-only knob is refused outside dev mode rather than silently ignored.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from redactor import retention_defaults
from redactor.durations import Duration, PositiveDuration
from redactor.errors import ConfigError
from redactor.options import PipelineOptions
from redactor.retention import RetentionPolicy, Windows
from redactor.service.redis_audit import SEGMENT_EVENTS, SEGMENT_SPAN
from redactor.storage import Storage, keys, open_storage
from redactor.storage.keyring import Keyring
from redactor.text.ocr import Precision

if TYPE_CHECKING:
    from redactor.storage.s3 import S3Config

#: Used only with REDACTOR_DEV_MODE=1; text hashes made with it are not secret.
DEV_HASH_KEY = b"redactor-dev-mode-hash-key-not-secret"


class TenantLimits(BaseModel):
    """One tenant's maximum windows (ISO 8601 durations or seconds); absent: the default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    original: Duration | None = None
    result: PositiveDuration | None = None


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
    #: If set, jobs that read text (text policy not ``off``) go to this queue instead,
    #: so OCR-heavy work can have workers of its own (e.g. on GPU hosts).
    ocr_queue: str | None = None
    #: Where OCR engines run: ``auto`` uses CUDA where the engine and host have it, else
    #: the CPU (with a log line); ``cuda`` logs a warning when it has to fall back.
    ocr_device: Literal["auto", "cpu", "cuda"] = "auto"
    #: ``REDACTOR_OCR_PRECISION``: shorthand for ``REDACTOR_PIPELINE__OCR_PRECISION``, the
    #: default jobs get (``PipelineOptions.ocr_precision``); merged into :attr:`pipeline`
    #: when the settings are read, never read on its own. Both given must agree.
    ocr_precision: Precision | None = None
    #: ``local`` (a folder or shared mount) or ``s3`` (an S3-compatible bucket).
    storage_backend: str = "local"
    #: The local backend's folder, shared by every client and worker.
    storage_dir: Path = Path("var/storage")
    #: The s3 backend: bucket, key prefix inside it, endpoint (MinIO, Ceph...; unset for
    #: AWS), region and credentials (unset: boto3's chain, e.g. an instance role).
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    #: ``path`` for stores without virtual-host style buckets.
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    #: Bytes above which uploads go in parts (of this size; at least 5 MiB).
    s3_multipart_threshold: int = Field(default=16 * 1024 * 1024, ge=5 * 1024 * 1024)
    #: Master keys for encryption at rest, JSON ``{"key-id": "<base64 of 32 bytes>"}``.
    #: Empty: nothing is encrypted. Keep retired keys until their objects have expired.
    encryption_keys: dict[str, SecretStr] = Field(default_factory=dict)
    #: The key id new objects are encrypted with.
    encryption_active_key: str | None = None
    #: Per-tenant keys, JSON ``{"tenant": "<base64 of 32 bytes>"}``; deleting one makes
    #: that tenant's stored objects unreadable (crypto-shredding).
    encryption_tenant_keys: dict[str, SecretStr] = Field(default_factory=dict)
    #: Also encrypt results and reports (originals always are, when there are keys).
    encrypt_results: bool = False
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
    #: Let workers answer ``celery inspect ping`` (container health checks). Off by
    #: default: with it, a Redis crash can end a worker (docs/reliability.md).
    worker_remote_control: bool = False
    #: Seconds between a pool process's heartbeats; three missed ones and the sweep sends
    #: the task of the job it held again (see redactor/service/heartbeat.py).
    heartbeat_interval: float = Field(default=5.0, gt=0)
    #: Worker processes per host; default: one per CPU core.
    worker_concurrency: int | None = Field(default=None, gt=0)
    #: Key for hashing matched text in reports. Required outside dev mode.
    hash_key: SecretStr | None = None
    #: Originals are deleted this long after upload (0: as soon as the job is finished).
    original_retention: Duration = retention_defaults.ORIGINAL_RETENTION
    #: Results and reports are deleted this long after the job finished.
    result_retention: PositiveDuration = retention_defaults.RESULT_RETENTION
    #: Per-tenant maximums, as JSON: ``{"acme": {"original": "PT24H", "result": "P30D"}}``.
    #: A tenant not listed may only shorten the defaults.
    tenant_limits: dict[str, TenantLimits] = Field(default_factory=dict)
    #: Window 0: an original whose job has not finished after this long is deleted anyway.
    original_pending_limit: PositiveDuration = retention_defaults.PENDING_LIMIT
    #: A record whose objects are all deleted is kept this long (404/410 for clients,
    #: answers for support), then removed by a sweep.
    tombstone_grace: Duration = retention_defaults.TOMBSTONE_GRACE
    #: Archived audit segments are deleted this long after they were written.
    audit_retention: PositiveDuration = retention_defaults.AUDIT_RETENTION
    #: The live audit tail is archived in segments of at most this many events...
    audit_segment_events: int = Field(default=SEGMENT_EVENTS, gt=0)
    #: ...or of this time span, once it is over.
    audit_segment_span: PositiveDuration = SEGMENT_SPAN
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
    def _merge_ocr_precision(self) -> Self:
        """``REDACTOR_OCR_PRECISION`` becomes the pipeline's default precision."""
        shorthand = self.ocr_precision
        if shorthand is None:
            return self
        given = self.pipeline.ocr_precision
        if "ocr_precision" in self.pipeline.model_fields_set and given != shorthand:
            raise ValueError(
                f"REDACTOR_OCR_PRECISION={shorthand} and REDACTOR_PIPELINE__OCR_PRECISION={given} "
                "disagree; give only one of them"
            )
        try:
            merged = PipelineOptions.model_validate(
                {**self.pipeline.model_dump(), "ocr_precision": shorthand}
            )
        except ValidationError as exc:
            problems = "; ".join(
                str(error["msg"]).removeprefix("Value error, ")
                for error in exc.errors(include_input=False)
            )
            raise ValueError(f"REDACTOR_OCR_PRECISION={shorthand}: {problems}") from None
        # Frozen settings: validation is the one moment a field may still be replaced.
        self.__dict__["pipeline"] = merged
        return self

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
        if self.storage_backend == "s3" and not self.s3_bucket:
            raise ValueError("REDACTOR_STORAGE_BACKEND=s3 needs REDACTOR_S3_BUCKET")
        if self.ocr_queue in {self.queue, self.retention_queue}:
            raise ValueError("REDACTOR_OCR_QUEUE must differ from the other queues")
        try:  # bad keys or bucket settings fail here, at start-up, not on the first upload
            self.keyring()
            self.s3_config()
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
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

    def keyring(self) -> Keyring | None:
        """The encryption keys, or ``None`` when encryption at rest is off."""
        if not self.encryption_keys:
            if self.encryption_tenant_keys or self.encryption_active_key:
                raise ConfigError(
                    "encryption settings are given but REDACTOR_ENCRYPTION_KEYS is empty"
                )
            return None
        if self.encryption_active_key is None:
            raise ConfigError("REDACTOR_ENCRYPTION_ACTIVE_KEY must name one of the encryption keys")
        return Keyring.from_base64(
            _secrets(self.encryption_keys),
            self.encryption_active_key,
            _secrets(self.encryption_tenant_keys),
        )

    def s3_config(self) -> S3Config | None:
        """The bucket settings, or ``None`` when no bucket is configured."""
        if not self.s3_bucket:
            return None
        from redactor.storage.s3 import S3Config  # boto3 loads only where S3 is used

        secret = self.s3_secret_access_key
        return S3Config(
            bucket=self.s3_bucket,
            prefix=self.s3_prefix,
            endpoint_url=self.s3_endpoint_url,
            region=self.s3_region,
            access_key_id=self.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            addressing_style=self.s3_addressing_style,
            multipart_threshold=self.s3_multipart_threshold,
        )

    def build_storage(self) -> Storage:
        """The storage of this installation, the same in every process that opens it:
        the configured backend, wrapped in encryption when there are keys."""
        backend = open_storage(self.storage_backend, str(self.storage_dir), s3=self.s3_config())
        keyring = self.keyring()
        if keyring is None:
            return backend
        from redactor.storage.encrypted import EncryptedStorage

        kinds = (
            (keys.ORIGINALS, keys.RESULTS, keys.REPORTS)
            if self.encrypt_results
            else (keys.ORIGINALS,)
        )
        return EncryptedStorage(backend, keyring, kinds)

    def queue_for(self, options: PipelineOptions) -> str:
        """The Celery queue for a job: the OCR queue if it reads text and one is set."""
        if self.ocr_queue is not None and options.text != "off":
            return self.ocr_queue
        return self.queue

    def redaction_queues(self) -> tuple[str, ...]:
        """Every queue redaction tasks may be routed to."""
        return (self.queue,) if self.ocr_queue is None else (self.queue, self.ocr_queue)

    def concurrency(self) -> int:
        return self.worker_concurrency or os.cpu_count() or 1

    def cpu_threads_per_process(self) -> int:
        """Native threads each worker process may use: the cores shared out, at least one."""
        return max(1, (os.cpu_count() or 1) // self.concurrency())


def _secrets(values: dict[str, SecretStr]) -> dict[str, str]:
    return {name: secret.get_secret_value() for name, secret in values.items()}
