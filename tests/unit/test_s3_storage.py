"""The S3 backend against a hand-written fake client: configuration, keys, and how every
kind of boto3 failure maps onto ``ObjectMissing`` or a retried ``StorageError``.

The same backend against a real S3-compatible server is in tests/integration/test_s3.py.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from pydantic import ValidationError

from redactor.errors import ConfigError, StorageError
from redactor.service.settings import ServiceSettings
from redactor.storage import LocalStorage, ObjectMissing, keys, open_storage
from redactor.storage.encrypted import EncryptedStorage
from redactor.storage.keys import InvalidKey
from redactor.storage.s3 import MIN_PART_BYTES, S3Config, S3Storage

BUCKET = "redactor-test"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
KEY = keys.original_key("acme", "A" * 22)


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "..."}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "Operation",
    )


class FakeS3:
    """The few client calls S3Storage makes, on a dict; ``fail`` makes every call raise."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, datetime]] = {}
        self.uploads: list[dict[str, Any]] = []
        self.calls: list[str] = []
        self.fail: Exception | None = None
        self.deletes_are_ignored = False

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.fail is not None:
            raise self.fail

    def upload_fileobj(self, fileobj: io.BytesIO, bucket: str, key: str, Config: Any) -> None:
        self._call("upload")
        self.objects[key] = (fileobj.read(), NOW)

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        self._call("get")
        if Key not in self.objects:
            raise client_error("NoSuchKey", 404)
        return {"Body": io.BytesIO(self.objects[Key][0])}

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        self._call("head")
        if Key not in self.objects:
            raise client_error("404", 404)
        return {}

    def delete_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        self._call("delete")
        if not self.deletes_are_ignored:
            self.objects.pop(Key, None)
        return {}

    def abort_multipart_upload(self, Bucket: str, Key: str, UploadId: str) -> None:
        self._call("abort")
        if UploadId == "finished-meanwhile":
            raise client_error("NoSuchUpload", 404)

    def get_paginator(self, name: str) -> FakePaginator:
        return FakePaginator(self, name)


class FakePaginator:
    def __init__(self, fake: FakeS3, name: str) -> None:
        self.fake, self.name = fake, name

    def paginate(self, Bucket: str, Prefix: str) -> list[dict[str, Any]]:
        self.fake._call(self.name)
        if self.name == "list_multipart_uploads":
            return [{"Uploads": self.fake.uploads}]
        contents = [
            {"Key": key, "Size": len(data), "LastModified": mtime}
            for key, (data, mtime) in sorted(self.fake.objects.items())
            if key.startswith(Prefix)
        ]
        half = len(contents) // 2  # two pages, as a real listing would have
        return [{"Contents": contents[:half]}, {"Contents": contents[half:]}, {}]


@pytest.fixture
def fake() -> FakeS3:
    return FakeS3()


def storage_on(fake: FakeS3, prefix: str = "") -> S3Storage:
    return S3Storage(S3Config(bucket=BUCKET, prefix=prefix), client=fake)


# --- configuration ---


@pytest.mark.parametrize(
    "changes",
    [
        {"bucket": "ab"},
        {"bucket": "Upper-Case"},
        {"bucket": "under_score"},
        {"bucket": "-leading-dash"},
        {"prefix": "no-trailing-slash"},
        {"prefix": "/absolute/"},
        {"prefix": "../up/"},
        {"multipart_threshold": MIN_PART_BYTES - 1},
        {"access_key_id": "only-the-id"},
        {"secret_access_key": "only-the-secret"},
    ],
)
def test_given_invalid_bucket_settings_then_config_error(changes: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        S3Config(**{"bucket": BUCKET, **changes})


def test_secret_is_not_in_the_config_repr() -> None:
    config = S3Config(bucket=BUCKET, access_key_id="AKIDEXAMPLE", secret_access_key="s3cr3t")
    assert "s3cr3t" not in repr(config)


def test_given_s3_backend_then_registry_needs_bucket_settings() -> None:
    with pytest.raises(ConfigError, match="REDACTOR_S3_BUCKET"):
        open_storage("s3")
    config = S3Config(bucket=BUCKET, region="eu-west-1", access_key_id="x", secret_access_key="y")
    assert isinstance(open_storage("s3", s3=config), S3Storage)


def test_given_settings_then_every_process_builds_the_same_storage(tmp_path: Path) -> None:
    local = ServiceSettings(storage_dir=tmp_path)
    assert isinstance(local.build_storage(), LocalStorage)
    s3 = ServiceSettings(
        storage_backend="s3",
        s3_bucket=BUCKET,
        s3_prefix="prod/",
        s3_region="eu-west-1",
        s3_access_key_id="x",
        s3_secret_access_key="y",  # type: ignore[arg-type]
        s3_addressing_style="path",
    )
    built = s3.build_storage()
    assert isinstance(built, S3Storage)
    assert (built.config.bucket, built.config.prefix) == (BUCKET, "prod/")
    assert built.config.secret_access_key == "y"
    with pytest.raises(ValidationError, match="REDACTOR_S3_BUCKET"):
        ServiceSettings(storage_backend="s3")
    with pytest.raises(ValidationError, match="prefix"):
        ServiceSettings(storage_backend="s3", s3_bucket=BUCKET, s3_prefix="no-slash")


def test_given_encryption_keys_then_the_backend_is_wrapped(tmp_path: Path) -> None:
    settings = ServiceSettings(
        storage_dir=tmp_path,
        encryption_keys={"k1": "A" * 43 + "="},  # type: ignore[dict-item]
        encryption_active_key="k1",
    )
    built = settings.build_storage()
    assert isinstance(built, EncryptedStorage)
    assert isinstance(built.inner, LocalStorage)
    assert built.kinds == {keys.ORIGINALS}


# --- keys ---


def test_given_a_prefix_then_it_is_put_before_every_key(fake: FakeS3) -> None:
    storage = storage_on(fake, prefix="prod/redactor/")
    storage.put(KEY, b"x")
    assert list(fake.objects) == [f"prod/redactor/{KEY}"]
    assert storage.get(KEY) == b"x"
    assert [o.key for o in storage.list("originals/")] == [KEY]


@pytest.mark.parametrize("key", ["../etc/passwd", "originals/acme", "originals/acme/x/../y", ""])
def test_given_key_outside_layout_then_refused_before_any_request(fake: FakeS3, key: str) -> None:
    storage = storage_on(fake)
    for operation in (storage.get, storage.exists, storage.delete):
        with pytest.raises(InvalidKey):
            operation(key)
    with pytest.raises(InvalidKey):
        storage.put(key, b"x")
    assert fake.calls == []


# --- missing objects and failures ---


def test_given_missing_key_then_object_missing_and_exists_false(fake: FakeS3) -> None:
    storage = storage_on(fake)
    with pytest.raises(ObjectMissing):
        storage.get(KEY)
    assert storage.exists(KEY) is False


@pytest.mark.parametrize(
    "failure",
    [
        client_error("NoSuchBucket", 404),
        client_error("AccessDenied", 403),
        client_error("SlowDown", 503),
        client_error("InternalError", 500),
        EndpointConnectionError(endpoint_url="https://s3.example"),
        ReadTimeoutError(endpoint_url="https://s3.example"),
    ],
    ids=["no-bucket", "denied", "throttled", "server-error", "unreachable", "timeout"],
)
def test_given_any_other_failure_then_a_retried_storage_error_never_missing(
    fake: FakeS3, failure: Exception
) -> None:
    storage = storage_on(fake)
    fake.fail = failure
    operations: list[Callable[[], object]] = [
        lambda: storage.get(KEY),
        lambda: storage.exists(KEY),
        lambda: storage.delete(KEY),
        lambda: list(storage.list("originals/")),
        lambda: storage.purge_partial_writes(NOW),
    ]
    for operation in operations:
        with pytest.raises(StorageError) as raised:
            operation()
        assert not isinstance(raised.value, ObjectMissing)
        assert BUCKET in str(raised.value)


def test_given_a_failed_upload_then_storage_error(fake: FakeS3) -> None:
    fake.fail = S3UploadFailedError("Failed to upload: SlowDown")
    with pytest.raises(StorageError, match="SlowDown"):
        storage_on(fake).put(KEY, b"x")


# --- verified deletion ---


def test_given_object_when_deleted_then_verified_gone(fake: FakeS3) -> None:
    storage = storage_on(fake)
    storage.put(KEY, b"x")
    fake.calls.clear()
    assert storage.delete(KEY) is True
    assert fake.calls == ["head", "delete", "head"]


def test_given_absent_object_then_delete_is_still_sent_and_answers_false(fake: FakeS3) -> None:
    assert storage_on(fake).delete(KEY) is False
    assert fake.calls == ["head", "delete", "head"]


def test_given_object_still_there_after_delete_then_storage_error(fake: FakeS3) -> None:
    storage = storage_on(fake)
    storage.put(KEY, b"x")
    fake.deletes_are_ignored = True
    with pytest.raises(StorageError, match="still present"):
        storage.delete(KEY)


# --- listing and unfinished uploads ---


def test_list_skips_strangers_converts_times_to_utc_and_filters_by_age(fake: FakeS3) -> None:
    storage = storage_on(fake)
    old_key, new_key = keys.original_key("acme", "B" * 22), keys.original_key("acme", "C" * 22)
    local_time = timezone(timedelta(hours=2))
    fake.objects[old_key] = (b"old", (NOW - timedelta(days=2)).astimezone(local_time))
    fake.objects[new_key] = (b"new!", NOW.astimezone(local_time))
    fake.objects["originals/acme/notes.txt"] = (b"?", NOW - timedelta(days=9))
    fake.objects["originals/acme/.tmp-partial"] = (b"?", NOW - timedelta(days=9))

    listed = list(storage.list("originals/"))

    assert [(o.key, o.size) for o in listed] == [(old_key, 3), (new_key, 4)]
    assert [o.mtime for o in listed] == [NOW - timedelta(days=2), NOW]
    assert all(o.mtime.tzinfo is UTC for o in listed)
    older = storage.list("originals/", older_than=NOW - timedelta(days=1))
    assert [o.key for o in older] == [old_key]


def test_purge_aborts_only_uploads_started_before_the_cutoff(fake: FakeS3) -> None:
    fake.uploads = [
        {"Key": KEY, "UploadId": "old", "Initiated": NOW - timedelta(hours=2)},
        {"Key": KEY, "UploadId": "finished-meanwhile", "Initiated": NOW - timedelta(hours=2)},
        {"Key": KEY, "UploadId": "running", "Initiated": NOW},
    ]
    assert storage_on(fake).purge_partial_writes(NOW - timedelta(hours=1)) == 2
    assert fake.calls.count("abort") == 2
