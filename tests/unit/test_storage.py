"""Local storage: atomic writes, strict keys, listing, verified deletes; the key layout."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from redactor.errors import ConfigError, StorageError
from redactor.storage import LocalStorage, ObjectMissing, keys, open_storage
from redactor.storage.keys import InvalidKey

TENANT = "acme"


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "store")


def new_original() -> str:
    return keys.original_key(TENANT, keys.new_upload_id())


def test_given_bytes_when_put_then_get_returns_them(storage: LocalStorage) -> None:
    key = new_original()
    storage.put(key, b"image bytes")
    assert storage.get(key) == b"image bytes"
    assert storage.exists(key)


def test_given_existing_object_when_put_again_then_it_is_replaced_whole(
    storage: LocalStorage,
) -> None:
    key = new_original()
    storage.put(key, b"first version, longer")
    storage.put(key, b"second")
    assert storage.get(key) == b"second"


def test_given_put_then_no_temp_file_is_left_and_file_is_private(storage: LocalStorage) -> None:
    key = new_original()
    storage.put(key, b"x")
    folder = (storage.root / key).parent
    assert [p.name for p in folder.iterdir()] == [key.rsplit("/", 1)[1]]
    assert (storage.root / key).stat().st_mode & 0o777 == 0o600


def test_given_write_fails_then_storage_error_and_no_object(
    storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    key = new_original()
    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(StorageError):
        storage.put(key, b"x")
    monkeypatch.undo()
    assert not storage.exists(key)
    assert list(storage.root.rglob(".tmp-*")) == []


def test_given_missing_key_when_get_then_object_missing(storage: LocalStorage) -> None:
    with pytest.raises(ObjectMissing):
        storage.get(new_original())


def test_missing_object_is_not_a_transient_storage_error() -> None:
    assert not issubclass(ObjectMissing, StorageError)


def test_given_object_when_deleted_then_gone_and_second_delete_is_false(
    storage: LocalStorage,
) -> None:
    key = new_original()
    storage.put(key, b"x")
    assert storage.delete(key) is True
    assert not storage.exists(key)
    assert storage.delete(key) is False


@pytest.mark.parametrize(
    "key",
    [
        "../etc/passwd",
        "originals/acme/../../etc/passwd",
        "/etc/passwd",
        "originals/acme",
        "originals/ACME/AAAAAAAAAAAAAAAAAAAAAA",
        "originals/acme/AAAAAAAAAAAAAAAAAAAAAA/x",
        "originals/acme/short",
        "originals/acme/AAAAAAAAAAAAAAAAAAAAAA.jpg",
        "results/acme/AAAAAAAAAAAAAAAAAAAAAA",
        "reports/acme/AAAAAAAAAAAAAAAAAAAAAA.jpg",
        "other/acme/AAAAAAAAAAAAAAAAAAAAAA",
        "originals/acme/.tmp-AAAAAAAAAAAAAAAAA",
        "originals/acme/AAAAAAAAAAAAAAAAAAAAAA\n",
        "",
    ],
)
def test_given_key_outside_layout_then_every_operation_refuses_it(
    storage: LocalStorage, key: str
) -> None:
    for operation in (storage.get, storage.exists, storage.delete):
        with pytest.raises(InvalidKey):
            operation(key)
    with pytest.raises(InvalidKey):
        storage.put(key, b"x")


@pytest.mark.parametrize("prefix", ["../", "originals", "originals/acme", "x/", "/"])
def test_given_bad_prefix_then_list_refuses_it(storage: LocalStorage, prefix: str) -> None:
    with pytest.raises(InvalidKey):
        list(storage.list(prefix))


def test_list_returns_objects_under_prefix_sorted_with_size_and_utc_mtime(
    storage: LocalStorage,
) -> None:
    upload_id = keys.new_upload_id()
    original = keys.original_key(TENANT, upload_id)
    result = keys.result_key(TENANT, upload_id, "jpeg")
    other = keys.original_key("other", keys.new_upload_id())
    for key in (original, result, other):
        storage.put(key, b"12345")
    (storage.root / "originals" / TENANT / ".tmp-partial").write_bytes(b"partial")
    (storage.root / "originals" / TENANT / "stranger.txt").write_bytes(b"?")

    listed = list(storage.list("originals/"))

    assert [item.key for item in listed] == sorted([original, other])
    assert all(item.size == 5 for item in listed)
    assert all(item.mtime.tzinfo is not None for item in listed)
    assert [item.key for item in storage.list(f"results/{TENANT}/")] == [result]
    assert {item.key for item in storage.list("")} == {original, result, other}


def test_list_older_than_keeps_only_old_objects(storage: LocalStorage) -> None:
    old, new = new_original(), new_original()
    storage.put(old, b"old")
    storage.put(new, b"new")
    day_ago = time.time() - 86_400
    os.utime(storage.root / old, (day_ago, day_ago))

    cutoff = datetime.now(UTC) - timedelta(hours=1)

    assert [item.key for item in storage.list("originals/", older_than=cutoff)] == [old]


def test_list_of_empty_storage_is_empty(storage: LocalStorage) -> None:
    assert list(storage.list("reports/")) == []


def test_open_storage_by_name_and_unknown_name(tmp_path: Path) -> None:
    assert isinstance(open_storage("local", str(tmp_path)), LocalStorage)
    with pytest.raises(ConfigError, match="local"):
        open_storage("s4", str(tmp_path))


# --- key layout ---


def test_upload_ids_are_random_22_char_url_safe() -> None:
    ids = {keys.new_upload_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(keys.UPLOAD_ID_PATTERN.fullmatch(i) for i in ids)


def test_keys_have_separate_prefixes_per_kind_and_tenant() -> None:
    upload_id = "A" * 22
    assert keys.original_key("t1", upload_id) == f"originals/t1/{upload_id}"
    assert keys.result_key("t1", upload_id, "jpeg") == f"results/t1/{upload_id}.jpg"
    assert keys.result_key("t1", upload_id, "png") == f"results/t1/{upload_id}.png"
    assert keys.result_key("t1", upload_id, "tiff") == f"results/t1/{upload_id}.tif"
    assert keys.report_key("t1", upload_id) == f"reports/t1/{upload_id}.json"


@pytest.mark.parametrize(
    ("tenant", "valid"),
    [
        ("acme", True),
        ("a", True),
        ("0-team_b", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("", False),
        ("-acme", False),
        ("_acme", False),
        ("Acme", False),
        ("acme/other", False),
        ("..", False),
        ("acme\n", False),
        ("ac me", False),
    ],
)
def test_tenant_validation(tenant: str, valid: bool) -> None:
    if valid:
        assert keys.validate_tenant(tenant) == tenant
    else:
        with pytest.raises(InvalidKey):
            keys.validate_tenant(tenant)


@pytest.mark.parametrize("output_format", ["../x", "jp/g", "", "toolongext"])
def test_output_format_must_be_a_short_name(output_format: str) -> None:
    with pytest.raises(InvalidKey):
        keys.result_key("acme", "A" * 22, output_format)


def test_given_many_new_ids_then_none_looks_like_a_command_line_option() -> None:
    ids = {keys.new_upload_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert not any(upload_id.startswith("-") for upload_id in ids)
