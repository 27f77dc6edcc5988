"""Encryption at rest: the header, key rotation, crypto-shredding, and never plaintext.

The wrapper is backend-independent; a local folder stands in for the backend here
(tests/integration/test_s3.py runs it on S3 too).
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import ValidationError

from redactor.errors import ConfigError, StorageError
from redactor.service.settings import ServiceSettings
from redactor.storage import LocalStorage, ObjectMissing, keys
from redactor.storage.encrypted import (
    MAGIC,
    NONCE_BYTES,
    SALT_BYTES,
    EncryptedStorage,
    parse_header,
    seal,
    unseal,
)
from redactor.storage.keyring import Keyring, KeyScope, Undecryptable

PHOTO = b"\xff\xd8\xff\xe0 an original photo with a face in it"


def b64(seed: int) -> str:
    return base64.b64encode(bytes([seed]) * 32).decode()


K1, K2, ACME_KEY, GLOBEX_KEY = b64(1), b64(2), b64(3), b64(4)


def original(tenant: str = "acme") -> str:
    return keys.original_key(tenant, keys.new_upload_id())


@pytest.fixture
def backend(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "store")


def keyring(active: str = "k1", tenant_keys: dict[str, str] | None = None, **keys_: str) -> Keyring:
    return Keyring.from_base64(keys_ or {"k1": K1}, active, tenant_keys)


# --- the format ---


def test_header_is_magic_version_scope_key_id_salt_and_nonce_then_ciphertext_and_tag() -> None:
    key = original()
    blob = seal(keyring(), key, PHOTO)

    magic, version, scope, id_length = struct.unpack_from(">4sBBB", blob)
    assert (magic, version, scope, id_length) == (MAGIC, 2, KeyScope.MASTER, 2)
    assert blob[7:9] == b"k1"
    assert len(blob) == 7 + 2 + SALT_BYTES + NONCE_BYTES + len(PHOTO) + 16
    assert PHOTO not in blob
    assert unseal(keyring(), key, blob) == PHOTO


def test_every_write_gets_a_fresh_salt_and_nonce() -> None:
    key = original()
    first, second = seal(keyring(), key, PHOTO), seal(keyring(), key, PHOTO)
    assert first[9 : 9 + SALT_BYTES] != second[9 : 9 + SALT_BYTES]
    nonce = slice(9 + SALT_BYTES, 9 + SALT_BYTES + NONCE_BYTES)
    assert first[nonce] != second[nonce]
    assert first != second


def test_two_objects_of_one_tenant_use_different_data_keys() -> None:
    ring = keyring(tenant_keys={"acme": ACME_KEY})
    first, second = original("acme"), original("acme")
    blobs = {key: seal(ring, key, PHOTO) for key in (first, second)}
    derived = {}
    for key, blob in blobs.items():
        _, key_id, scope, salt = parse_header(key, blob)
        assert salt is not None
        derived[key] = ring.object_key(key_id, "acme", scope, salt, for_object=key)
    assert derived[first] != derived[second]
    assert derived[first] != ring.data_key("k1", "acme", KeyScope.TENANT, for_object=first)
    # Each object opens with its own key only.
    header, *_ = parse_header(second, blobs[second])
    with pytest.raises(InvalidTag):
        AESGCM(derived[first]).decrypt(
            header[-NONCE_BYTES:], blobs[second][len(header) :], header + second.encode()
        )


def seal_v1(ring: Keyring, key: str, tenant: str, plaintext: bytes) -> bytes:
    """An object as version 1 wrote it: the tenant's data key itself, no salt."""
    scope = ring.scope_for(tenant)
    header = struct.pack(">4sBBB", MAGIC, 1, scope, 2) + b"k1" + bytes(range(NONCE_BYTES))
    data_key = ring.data_key("k1", tenant, scope, for_object=key)
    return header + AESGCM(data_key).encrypt(
        header[-NONCE_BYTES:], plaintext, header + key.encode()
    )


@pytest.mark.parametrize("tenant_keys", [{}, {"acme": ACME_KEY}], ids=["master", "tenant"])
def test_given_a_version_1_object_then_it_still_decrypts_and_still_shreds(
    backend: LocalStorage, tenant_keys: dict[str, str]
) -> None:
    ring = keyring(tenant_keys=tenant_keys)
    key = original("acme")
    backend.put(key, seal_v1(ring, key, "acme", PHOTO))
    assert EncryptedStorage(backend, ring).get(key) == PHOTO
    if tenant_keys:
        with pytest.raises(Undecryptable, match="crypto-shredded"):
            EncryptedStorage(backend, keyring()).get(key)


@pytest.mark.parametrize(
    ("where", "what"),
    [
        (0, "magic"),
        (4, "version"),
        (5, "scope"),
        (8, "key id"),
        (12, "salt"),
        (9 + SALT_BYTES + 2, "nonce"),
        (-1, "tag"),
    ],
)
def test_given_any_byte_changed_then_undecryptable(where: int, what: str) -> None:
    key = original()
    blob = bytearray(seal(keyring(), key, PHOTO))
    blob[where] ^= 0x01
    with pytest.raises(Undecryptable):
        unseal(keyring(k1=K1, k0=K1), key, bytes(blob))


def test_given_ciphertext_copied_to_another_key_then_refused() -> None:
    ring = keyring()
    blob = seal(ring, original("acme"), PHOTO)
    for elsewhere in (original("acme"), original("globex")):
        with pytest.raises(Undecryptable, match="failed authentication"):
            unseal(ring, elsewhere, blob)


def test_given_truncated_or_foreign_bytes_then_refused() -> None:
    key = original()
    for blob in (b"RDX", MAGIC + b"\x01", MAGIC + b"\x02\x00\x02k1" + bytes(40)):
        with pytest.raises(Undecryptable):
            unseal(keyring(), key, blob)


def test_undecryptable_is_final_never_a_retried_storage_error() -> None:
    assert issubclass(Undecryptable, ObjectMissing)
    assert not issubclass(Undecryptable, StorageError)


# --- the wrapper ---


def test_given_originals_encrypted_then_backend_holds_ciphertext_results_stay_plain(
    backend: LocalStorage,
) -> None:
    storage = EncryptedStorage(backend, keyring())
    photo, result = original(), keys.result_key("acme", keys.new_upload_id(), "png")
    storage.put(photo, PHOTO)
    storage.put(result, b"\x89PNG redacted")

    assert backend.get(photo).startswith(MAGIC)
    assert backend.get(result) == b"\x89PNG redacted"
    assert storage.get(photo) == PHOTO
    assert storage.get(result) == b"\x89PNG redacted"


def test_given_results_encrypted_then_turned_off_then_old_results_still_read(
    backend: LocalStorage,
) -> None:
    kinds = (keys.ORIGINALS, keys.RESULTS, keys.REPORTS)
    result = keys.result_key("acme", keys.new_upload_id(), "jpeg")
    EncryptedStorage(backend, keyring(), kinds).put(result, b"redacted")

    assert backend.get(result).startswith(MAGIC)
    assert EncryptedStorage(backend, keyring()).get(result) == b"redacted"


def test_given_plaintext_original_when_encryption_is_on_then_refused_never_served(
    backend: LocalStorage, caplog: pytest.LogCaptureFixture
) -> None:
    key = original()
    backend.put(key, PHOTO)
    with pytest.raises(Undecryptable, match="stored unencrypted"):
        EncryptedStorage(backend, keyring()).get(key)
    assert "refused to serve" in caplog.text
    assert "face" not in caplog.text


def test_given_unknown_kind_then_config_error(backend: LocalStorage) -> None:
    with pytest.raises(ConfigError, match="thumbnails"):
        EncryptedStorage(backend, keyring(), kinds=("originals", "thumbnails"))


# --- rotation ---


def test_given_rotation_then_old_objects_read_with_old_key_and_new_ones_use_the_new(
    backend: LocalStorage,
) -> None:
    before, after = original(), original()
    EncryptedStorage(backend, keyring("k1", k1=K1)).put(before, b"before")
    rotated = EncryptedStorage(backend, keyring("k2", k1=K1, k2=K2))
    rotated.put(after, b"after")

    assert backend.get(after)[7:9] == b"k2"
    assert (rotated.get(before), rotated.get(after)) == (b"before", b"after")


def test_given_the_key_of_an_object_is_lost_then_a_clear_error_never_plaintext(
    backend: LocalStorage,
) -> None:
    key = original()
    EncryptedStorage(backend, keyring("k1", k1=K1)).put(key, PHOTO)
    with pytest.raises(Undecryptable, match="'k1', which is not in the keyring") as raised:
        EncryptedStorage(backend, keyring("k2", k2=K2)).get(key)
    assert "REDACTOR_ENCRYPTION_KEYS" in str(raised.value)


def test_given_a_different_key_under_the_same_id_then_authentication_fails(
    backend: LocalStorage,
) -> None:
    key = original()
    EncryptedStorage(backend, keyring("k1", k1=K1)).put(key, PHOTO)
    with pytest.raises(Undecryptable, match="failed authentication"):
        EncryptedStorage(backend, keyring("k1", k1=K2)).get(key)


# --- crypto-shredding ---


def test_given_a_tenant_key_removed_then_its_originals_are_unreadable_and_others_are_not(
    backend: LocalStorage,
) -> None:
    tenant_keys = {"acme": ACME_KEY, "globex": GLOBEX_KEY}
    before = EncryptedStorage(backend, keyring(tenant_keys=tenant_keys))
    stored = {tenant: original(tenant) for tenant in ("acme", "globex", "initech")}
    for tenant, key in stored.items():
        before.put(key, f"{tenant}'s photo".encode())
    assert backend.get(stored["acme"])[5] == KeyScope.TENANT
    assert backend.get(stored["initech"])[5] == KeyScope.MASTER  # no key of its own

    after = EncryptedStorage(backend, keyring(tenant_keys={"globex": GLOBEX_KEY}))

    with pytest.raises(Undecryptable, match="crypto-shredded"):
        after.get(stored["acme"])
    assert after.get(stored["globex"]) == b"globex's photo"
    assert after.get(stored["initech"]) == b"initech's photo"
    assert after.delete(stored["acme"]) is True  # retention still removes the noise


def test_given_a_shredded_tenant_then_its_scope_cannot_be_downgraded_to_the_master_key(
    backend: LocalStorage,
) -> None:
    key = original("acme")
    EncryptedStorage(backend, keyring(tenant_keys={"acme": ACME_KEY})).put(key, PHOTO)
    blob = bytearray(backend.get(key))
    blob[5] = KeyScope.MASTER
    backend.put(key, bytes(blob))
    with pytest.raises(Undecryptable, match="failed authentication"):
        EncryptedStorage(backend, keyring()).get(key)


def test_tenants_get_distinct_data_keys_even_without_keys_of_their_own() -> None:
    ring = keyring(tenant_keys={"acme": ACME_KEY})
    derived = {
        ring.data_key("k1", tenant, scope, for_object="x")
        for tenant, scope in [
            ("acme", KeyScope.TENANT),
            ("acme", KeyScope.MASTER),
            ("globex", KeyScope.MASTER),
        ]
    }
    assert len(derived) == 3


# --- configuration ---


@pytest.mark.parametrize(
    ("keys_", "active", "tenant_keys", "message"),
    [
        ({"k1": base64.b64encode(bytes(16)).decode()}, "k1", {}, "16 bytes"),
        ({"k1": "not base64!"}, "k1", {}, "not valid base64"),
        ({"k1": K1}, "k2", {}, "not among the keys"),
        ({"bad id": K1}, "bad id", {}, "key id"),
        ({"k1": K1}, "k1", {"acme": "c2hvcnQ="}, "tenant 'acme'"),
    ],
)
def test_given_bad_keys_then_config_error_that_says_what(
    keys_: dict[str, str], active: str, tenant_keys: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        Keyring.from_base64(keys_, active, tenant_keys)


def test_keys_never_appear_in_reprs() -> None:
    ring = keyring(tenant_keys={"acme": ACME_KEY})
    assert K1 not in repr(ring) and "\\x01" not in repr(ring)


def test_given_settings_from_the_environment_then_keyring_and_kinds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REDACTOR_ENCRYPTION_KEYS", json.dumps({"k1": K1, "k2": K2}))
    monkeypatch.setenv("REDACTOR_ENCRYPTION_ACTIVE_KEY", "k2")
    monkeypatch.setenv("REDACTOR_ENCRYPTION_TENANT_KEYS", json.dumps({"acme": ACME_KEY}))
    monkeypatch.setenv("REDACTOR_ENCRYPT_RESULTS", "1")
    settings = ServiceSettings(storage_dir=tmp_path)

    storage = settings.build_storage()

    assert isinstance(storage, EncryptedStorage)
    assert storage.keyring.active == "k2" and set(storage.keyring.keys) == {"k1", "k2"}
    assert storage.kinds == {keys.ORIGINALS, keys.RESULTS, keys.REPORTS}
    assert K1 not in repr(settings)


@pytest.mark.parametrize(
    "fields",
    [
        {"encryption_keys": {"k1": K1}},
        {"encryption_keys": {"k1": "short"}, "encryption_active_key": "k1"},
        {"encryption_tenant_keys": {"acme": ACME_KEY}},
    ],
)
def test_given_incomplete_encryption_settings_then_refused_at_start_up(
    fields: dict[str, object],
) -> None:
    with pytest.raises(ValidationError):
        ServiceSettings(**fields)  # type: ignore[arg-type]


def test_given_no_keys_then_storage_is_not_wrapped(tmp_path: Path) -> None:
    assert isinstance(ServiceSettings(storage_dir=tmp_path).build_storage(), LocalStorage)
