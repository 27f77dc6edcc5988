"""Storage in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW...) through boto3.

How each promise of the :class:`~redactor.storage.base.Storage` protocol holds here:

* **Atomic publish.** S3 makes an object visible only once its PUT has completed, whole.
  Above ``multipart_threshold`` boto3 uploads in parts, and a multipart upload becomes
  an object only at CompleteMultipartUpload. Readers see the old object or all of the
  new one, never part of it.
* **Verified delete.** DeleteObject answers 204 whether or not the key existed, so the
  key is looked up (HEAD) before, to answer "did it exist", and after, to prove it is
  gone. The delete is sent even when the first HEAD saw nothing: a "not found" is never
  taken as proof of deletion.
* **Listing by prefix and age** for the sweeper: ListObjectsV2 pages, in key order,
  with LastModified as the modification time.
* **Unfinished writes.** The only partial state S3 keeps is an incomplete multipart
  upload: its parts hold image bytes but are never readable as an object.
  :meth:`S3Storage.purge_partial_writes` aborts those.
* **Errors.** A missing key is :class:`ObjectMissing`; anything else (network, timeouts,
  throttling that outlasted botocore's own retries, 5xx, refused credentials) is a
  :class:`StorageError`, which the tasks retry.

The bucket must not keep old versions: with versioning on, a deleted object survives
as a noncurrent version (see docs/deploy.md for the lifecycle rules).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from redactor.errors import ConfigError, StorageError
from redactor.storage.base import ObjectMissing, StoredObject
from redactor.storage.keys import KEY_PATTERN, validate_key, validate_prefix

#: S3's smallest part (except the last): the multipart threshold cannot go below it.
MIN_PART_BYTES = 5 * 1024 * 1024
#: Error codes meaning "no such key" (HEAD answers with a bare status code).
_MISSING_CODES = frozenset({"NoSuchKey", "NotFound", "404"})
#: DNS-style bucket names, the form every S3-compatible store accepts.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
#: A key prefix inside the bucket: empty, or path segments (not '.' or '..') ending in '/'.
_PREFIX = re.compile(r"(?:(?!\.\.?/)[A-Za-z0-9._-]+/)*")

AddressingStyle = Literal["auto", "path", "virtual"]


@dataclass(frozen=True, slots=True)
class S3Config:
    """Where the bucket is and how to reach it. Credentials left out: boto3's own chain
    (``AWS_*`` variables, instance or pod roles, ``~/.aws``) supplies them."""

    bucket: str
    #: Put before every key (``redactor/``), so installations can share a bucket.
    prefix: str = ""
    #: ``None`` for AWS; the store's URL otherwise (``https://minio.internal:9000``).
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    #: ``path`` for stores without virtual-host buckets (many MinIO and Ceph setups).
    addressing_style: AddressingStyle = "auto"
    #: Uploads above this size go in parts of this size.
    multipart_threshold: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        if not _BUCKET.fullmatch(self.bucket):
            raise ConfigError(
                f"S3 bucket name {self.bucket!r} is not valid: 3-63 characters of a-z, "
                "0-9, '.' and '-'"
            )
        if not _PREFIX.fullmatch(self.prefix):
            raise ConfigError(
                "the S3 key prefix must be empty or end with '/' (e.g. 'redactor/'), "
                "using a-z, A-Z, 0-9, '.', '_' and '-'"
            )
        if self.multipart_threshold < MIN_PART_BYTES:
            raise ConfigError(f"the S3 multipart threshold must be at least {MIN_PART_BYTES}")
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ConfigError("give both the S3 access key id and its secret, or neither")


def connect(config: S3Config) -> Any:
    """A boto3 S3 client for ``config``; its own session, as sessions are not thread-safe.

    botocore retries throttling and 5xx itself (standard mode) before we see an error;
    the timeouts keep a hung store from holding a task until its time limit.
    """
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=config.endpoint_url,
        region_name=config.region,
        aws_access_key_id=config.access_key_id,
        aws_secret_access_key=config.secret_access_key,
        config=Config(
            s3={"addressing_style": config.addressing_style},
            retries={"mode": "standard", "max_attempts": 4},
            connect_timeout=5,
            read_timeout=30,
        ),
    )


class S3Storage:
    def __init__(self, config: S3Config, client: Any = None) -> None:
        """``client``: a boto3 S3 client to use instead of one built from ``config``."""
        self.config = config
        self._client = client if client is not None else connect(config)
        self._transfer = TransferConfig(
            multipart_threshold=config.multipart_threshold,
            multipart_chunksize=config.multipart_threshold,
            max_concurrency=4,
        )

    def put(self, key: str, data: bytes) -> None:
        name = self._name(key)
        with self._errors("write", key):
            self._client.upload_fileobj(
                io.BytesIO(data), self.config.bucket, name, Config=self._transfer
            )

    def get(self, key: str) -> bytes:
        name = self._name(key)
        with self._errors("read", key):
            response = self._client.get_object(Bucket=self.config.bucket, Key=name)
            data: bytes = response["Body"].read()
        return data

    def delete(self, key: str) -> bool:
        existed = self.exists(key)
        with self._errors("delete", key):
            self._client.delete_object(Bucket=self.config.bucket, Key=self._name(key))
        if self.exists(key):
            raise StorageError(f"{key} is still present after deleting it")
        return existed

    def exists(self, key: str) -> bool:
        name = self._name(key)
        try:
            with self._errors("look up", key):
                self._client.head_object(Bucket=self.config.bucket, Key=name)
        except ObjectMissing:
            return False
        return True

    def list(self, prefix: str, older_than: datetime | None = None) -> Iterator[StoredObject]:
        start = self.config.prefix + validate_prefix(prefix)
        with self._errors("list", prefix or "the bucket"):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.config.bucket, Prefix=start
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    found = self._stored(item)
                    if found is not None and (older_than is None or found.mtime < older_than):
                        yield found

    def purge_partial_writes(self, older_than: datetime) -> int:
        """Abort multipart uploads started before ``older_than`` and never completed."""
        with self._errors("list unfinished uploads in", "the bucket"):
            pages = self._client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.config.bucket, Prefix=self.config.prefix
            )
            stale = [
                (upload["Key"], upload["UploadId"])
                for page in pages
                for upload in page.get("Uploads", ())
                if upload["Initiated"] < older_than
            ]
        for name, upload_id in stale:
            self._abort(name, upload_id)
        return len(stale)

    def _abort(self, name: str, upload_id: str) -> None:
        try:
            self._client.abort_multipart_upload(
                Bucket=self.config.bucket, Key=name, UploadId=upload_id
            )
        except ClientError as exc:
            if _code(exc) != "NoSuchUpload":  # completed or aborted meanwhile
                raise StorageError(f"could not abort an unfinished upload: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"could not abort an unfinished upload: {exc}") from exc

    def _stored(self, item: dict[str, Any]) -> StoredObject | None:
        key = str(item["Key"])[len(self.config.prefix) :]
        if not KEY_PATTERN.fullmatch(key):  # strangers in a shared bucket are never listed
            return None
        modified: datetime = item["LastModified"]
        return StoredObject(key, int(item["Size"]), modified.astimezone(UTC))

    def _name(self, key: str) -> str:
        return self.config.prefix + validate_key(key)

    @contextmanager
    def _errors(self, action: str, key: str) -> Iterator[None]:
        """boto3's errors as ours: a missing key, or a storage failure worth a retry."""
        try:
            yield
        except ClientError as exc:
            if _code(exc) in _MISSING_CODES:
                raise ObjectMissing(f"no object stored under {key}") from exc
            raise StorageError(
                f"could not {action} {key} in bucket {self.config.bucket}: S3 answered {_code(exc)}"
            ) from exc
        except (BotoCoreError, Boto3Error) as exc:
            raise StorageError(
                f"could not {action} {key} in bucket {self.config.bucket}: {exc}"
            ) from exc


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))
