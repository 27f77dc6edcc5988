"""Encryption at rest as a wrapper around any storage backend (AES-256-GCM).

Objects of the chosen kinds (``originals``, and ``results`` and ``reports`` if asked)
are encrypted before they reach the backend. Each starts with a small header:

======  =====  ==============================================================
offset  bytes  field
======  =====  ==============================================================
0       4      magic ``RDXE``
4       1      format version, 2 (1 is still read)
5       1      key scope: 0 master key, 1 master key + tenant key
6       1      length *n* of the key id
7       *n*    master key id (ASCII)
7+n     16     random salt of this object's data key (version 2 only)
23+n    12     random nonce
35+n    ...    ciphertext followed by the 16-byte GCM tag
======  =====  ==============================================================

Version 2 gives every object a data key of its own, derived from the tenant's key and
the object's salt (:meth:`Keyring.object_key`), so AES-GCM's limit of 2^32 random
nonces per key never applies however much a tenant uploads. Version 1 objects (the
tenant's key used directly) still decrypt.

The associated data is the header followed by the storage key, so the tag also
authenticates the header and *where* the object lives: bytes copied to another key
(another upload, another tenant) fail to decrypt instead of being served there.

Reading never falls back to plaintext: an object of an encrypted kind without the
header is refused, as is one whose key is gone. Objects of other kinds are stored as
they are; any object that carries the header is decrypted whatever its kind, so turning
result encryption off leaves earlier results readable.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Collection, Iterator
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from redactor.errors import ConfigError
from redactor.storage.base import Storage, StoredObject
from redactor.storage.keyring import Keyring, KeyScope, Undecryptable
from redactor.storage.keys import ORIGINALS, REPORTS, RESULTS, validate_key

log = logging.getLogger(__name__)

MAGIC = b"RDXE"
VERSION = 2
#: Versions that still decrypt: 1 (a data key per tenant), 2 (a data key per object).
READABLE_VERSIONS = frozenset({1, 2})
SALT_BYTES = 16
NONCE_BYTES = 12
_FIXED = struct.Struct(">4sBBB")  # magic, version, scope, key id length

#: Kinds that may be encrypted, by their key prefix.
KINDS = frozenset({ORIGINALS, RESULTS, REPORTS})


def seal(keyring: Keyring, key: str, plaintext: bytes) -> bytes:
    """``plaintext`` encrypted for storage under ``key`` with the active master key."""
    tenant = _tenant(key)
    scope = keyring.scope_for(tenant)
    key_id = keyring.active.encode()
    salt = os.urandom(SALT_BYTES)
    header = (
        _FIXED.pack(MAGIC, VERSION, scope, len(key_id)) + key_id + salt + os.urandom(NONCE_BYTES)
    )
    aead = AESGCM(keyring.object_key(keyring.active, tenant, scope, salt, for_object=key))
    return header + aead.encrypt(header[-NONCE_BYTES:], plaintext, header + key.encode())


def unseal(keyring: Keyring, key: str, blob: bytes) -> bytes:
    """The plaintext of an object stored under ``key``; :class:`Undecryptable` if it
    cannot be had (unknown format, key gone, altered or moved)."""
    header, key_id, scope, salt = parse_header(key, blob)
    aead = AESGCM(
        keyring.data_key(key_id, _tenant(key), scope, for_object=key)
        if salt is None
        else keyring.object_key(key_id, _tenant(key), scope, salt, for_object=key)
    )
    try:
        return aead.decrypt(header[-NONCE_BYTES:], blob[len(header) :], header + key.encode())
    except InvalidTag:
        raise Undecryptable(
            f"{key} failed authentication: it was altered, copied from another key, or "
            f"written with a different key that has the id {key_id!r}"
        ) from None


def is_sealed(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


class EncryptedStorage:
    """Encrypts objects of ``kinds`` on their way into ``inner`` and decrypts them back.

    Listing, existence, deletion and partial-write cleanup pass straight through: they
    never need the plaintext (retention can delete what it cannot read).
    """

    def __init__(
        self, inner: Storage, keyring: Keyring, kinds: Collection[str] = (ORIGINALS,)
    ) -> None:
        unknown = set(kinds) - KINDS
        if unknown:
            raise ConfigError(
                f"cannot encrypt {', '.join(sorted(unknown))}; kinds are {', '.join(sorted(KINDS))}"
            )
        self.inner = inner
        self.keyring = keyring
        self.kinds = frozenset(kinds)

    def put(self, key: str, data: bytes) -> None:
        if _prefix(key) in self.kinds:
            data = seal(self.keyring, key, data)
        self.inner.put(key, data)

    def get(self, key: str) -> bytes:
        data = self.inner.get(key)
        try:
            if is_sealed(data):
                return unseal(self.keyring, key, data)
            if _prefix(key) in self.kinds:
                raise Undecryptable(
                    f"{key} is stored unencrypted although {_prefix(key)} must be encrypted; "
                    "it is not served"
                )
        except Undecryptable as exc:
            log.warning("refused to serve a stored object: %s", exc)
            raise
        return data

    def delete(self, key: str) -> bool:
        return self.inner.delete(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def list(self, prefix: str, older_than: datetime | None = None) -> Iterator[StoredObject]:
        return self.inner.list(prefix, older_than)

    def purge_partial_writes(self, older_than: datetime) -> int:
        return self.inner.purge_partial_writes(older_than)


def parse_header(key: str, blob: bytes) -> tuple[bytes, str, KeyScope, bytes | None]:
    """``(header, master key id, scope, salt)`` of an object; no salt in version 1."""
    if len(blob) < _FIXED.size:
        raise Undecryptable(f"{key} is too short to be an encrypted object")
    magic, version, scope, id_length = _FIXED.unpack_from(blob)
    salt_end = _FIXED.size + id_length + (SALT_BYTES if version == 2 else 0)
    end = salt_end + NONCE_BYTES
    if (
        magic != MAGIC
        or version not in READABLE_VERSIONS
        or scope not in set(KeyScope)
        or len(blob) < end
    ):
        raise Undecryptable(f"{key} does not have a known encryption header (version {version})")
    key_id = blob[_FIXED.size : _FIXED.size + id_length].decode("ascii", errors="replace")
    salt = blob[_FIXED.size + id_length : salt_end] if version == 2 else None
    return blob[:end], key_id, KeyScope(scope), salt


def _prefix(key: str) -> str:
    return validate_key(key).split("/", 1)[0]


def _tenant(key: str) -> str:
    return validate_key(key).split("/", 2)[1]
