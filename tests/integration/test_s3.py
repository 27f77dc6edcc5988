"""The storage contract on both backends, and what only object storage has to get right.

``storage`` is a fresh local folder or a fresh bucket on moto's standalone S3 server
(a real HTTP server process on loopback, what CI uses in place of AWS, MinIO or Ceph).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from redactor.errors import StorageError
from redactor.storage import ObjectMissing, Storage, keys
from redactor.storage.encrypted import EncryptedStorage, is_sealed
from redactor.storage.keyring import Keyring, Undecryptable
from redactor.storage.s3 import MIN_PART_BYTES, S3Config, S3Storage, connect
from testkit.services import free_port
from tests.integration.conftest import MotoServer

pytestmark = pytest.mark.slow

MINUTE = timedelta(minutes=1)


def new_key(kind: str = keys.ORIGINALS, tenant: str = "acme") -> str:
    upload_id = keys.new_upload_id()
    if kind == keys.RESULTS:
        return keys.result_key(tenant, upload_id, "jpeg")
    if kind == keys.REPORTS:
        return keys.report_key(tenant, upload_id)
    return keys.original_key(tenant, upload_id)


# --- the contract, on each backend ---


def test_given_bytes_when_put_then_get_returns_them_whole(storage: Storage) -> None:
    key = new_key()
    storage.put(key, b"first version, longer")
    storage.put(key, b"second")
    assert storage.get(key) == b"second"
    assert storage.exists(key)


def test_given_missing_key_then_get_raises_object_missing_and_exists_is_false(
    storage: Storage,
) -> None:
    key = new_key()
    with pytest.raises(ObjectMissing):
        storage.get(key)
    assert not storage.exists(key)


def test_given_object_when_deleted_then_gone_and_a_second_delete_is_false(
    storage: Storage,
) -> None:
    key = new_key()
    storage.put(key, b"x")
    assert storage.delete(key) is True
    assert not storage.exists(key)
    assert storage.delete(key) is False


def test_list_by_prefix_sorted_with_size_and_utc_mtime_and_by_age(storage: Storage) -> None:
    original, result, report = new_key(), new_key(keys.RESULTS), new_key(keys.REPORTS)
    other = new_key(tenant="other")
    for key in (original, result, report, other):
        storage.put(key, b"12345")

    listed = list(storage.list("originals/"))

    assert [item.key for item in listed] == sorted([original, other])
    assert all(item.size == 5 and item.mtime.tzinfo is not None for item in listed)
    assert abs(listed[0].mtime - datetime.now(UTC)) < MINUTE
    assert [item.key for item in storage.list("results/acme/")] == [result]
    assert {item.key for item in storage.list("")} == {original, result, report, other}
    assert list(storage.list("originals/", older_than=datetime.now(UTC) - MINUTE)) == []
    assert len(list(storage.list("originals/", older_than=datetime.now(UTC) + MINUTE))) == 2


def test_given_encryption_then_stored_bytes_are_ciphertext_and_read_back_plain(
    storage: Storage,
) -> None:
    keyring = Keyring.from_base64({"k1": "A" * 43 + "="}, "k1")
    encrypted = EncryptedStorage(storage, keyring)
    original, result = new_key(), new_key(keys.RESULTS)
    encrypted.put(original, b"the original photo")
    encrypted.put(result, b"the redacted photo")

    assert is_sealed(storage.get(original))
    assert b"original photo" not in storage.get(original)
    assert storage.get(result) == b"the redacted photo"  # results: not asked for
    assert encrypted.get(original) == b"the original photo"
    assert [o.key for o in encrypted.list("originals/")] == [original]
    assert encrypted.delete(original) is True and not encrypted.exists(original)


def test_given_ciphertext_moved_to_another_key_then_it_is_refused(storage: Storage) -> None:
    keyring = Keyring.from_base64({"k1": "A" * 43 + "="}, "k1")
    encrypted = EncryptedStorage(storage, keyring)
    mine, theirs = new_key(tenant="acme"), new_key(tenant="acme")
    encrypted.put(mine, b"acme's photo")
    storage.put(theirs, storage.get(mine))

    with pytest.raises(Undecryptable, match="failed authentication"):
        encrypted.get(theirs)


# --- object storage only ---


@pytest.fixture
def bucket(moto_server: MotoServer) -> S3Config:
    return moto_server.new_bucket()


def test_given_a_large_file_then_it_is_uploaded_in_parts_and_read_back_exactly(
    bucket: S3Config,
) -> None:
    storage = S3Storage(replace(bucket, multipart_threshold=MIN_PART_BYTES))
    key = new_key()
    data = bytes(range(256)) * (MIN_PART_BYTES * 2 // 256 + 1000)  # three parts

    storage.put(key, data)

    assert storage.get(key) == data
    head = connect(bucket).head_object(Bucket=bucket.bucket, Key=key)
    assert head["ETag"].strip('"').endswith("-3")  # the ETag of a three-part upload


def test_given_an_unfinished_multipart_upload_then_it_is_never_listed_and_purge_aborts_it(
    bucket: S3Config,
) -> None:
    storage = S3Storage(bucket)
    key = new_key()
    raw = connect(bucket)
    upload = raw.create_multipart_upload(Bucket=bucket.bucket, Key=key)
    raw.upload_part(
        Bucket=bucket.bucket,
        Key=key,
        UploadId=upload["UploadId"],
        PartNumber=1,
        Body=b"part of a photo",
    )

    assert not storage.exists(key)
    assert list(storage.list("")) == []
    assert storage.purge_partial_writes(datetime.now(UTC) + MINUTE) == 1
    assert raw.list_multipart_uploads(Bucket=bucket.bucket).get("Uploads", []) == []
    assert storage.purge_partial_writes(datetime.now(UTC) + MINUTE) == 0


def test_given_a_prefix_then_installations_share_a_bucket_without_seeing_each_other(
    bucket: S3Config,
) -> None:
    ours = S3Storage(replace(bucket, prefix="prod/redactor/"))
    theirs = S3Storage(bucket)
    key = new_key()
    ours.put(key, b"ours")
    raw = connect(bucket)
    raw.put_object(Bucket=bucket.bucket, Key="prod/redactor/originals/acme/notes.txt", Body=b"?")

    assert [o.key for o in ours.list("")] == [key]
    assert not theirs.exists(key)
    assert list(theirs.list("")) == []
    assert raw.head_object(Bucket=bucket.bucket, Key=f"prod/redactor/{key}")["ContentLength"] == 4


def test_given_the_store_is_down_then_every_operation_is_a_storage_error(
    bucket: S3Config,
) -> None:
    down = S3Storage(replace(bucket, endpoint_url=f"http://127.0.0.1:{free_port()}"))
    key = new_key()
    started = time.monotonic()
    for operation in (lambda: down.put(key, b"x"), lambda: down.get(key), lambda: down.delete(key)):
        with pytest.raises(StorageError):
            operation()
    with pytest.raises(StorageError):
        list(down.list("originals/"))
    assert time.monotonic() - started < 30


def test_given_a_bucket_that_does_not_exist_then_writes_fail_as_storage_errors(
    bucket: S3Config,
) -> None:
    missing = S3Storage(replace(bucket, bucket="no-such-bucket-here"))
    with pytest.raises(StorageError, match="no-such-bucket-here"):
        missing.put(new_key(), b"x")
    with pytest.raises(StorageError, match="NoSuchBucket"):
        missing.get(new_key())
